/**
 * Per-turn extraction time over 1,000 real turns (every 7th turn of
 * ACI-Bench then MTS-Dialog, with the six previous turns as context).
 * Prints figures; asserts nothing. Run:
 *   node --import tsx test/context/profile/bench-extract.ts
 */
import { readFileSync } from 'node:fs';
import { extractFacts, type TurnInput } from '../../../src/context/profile/index.ts';

const DATA = new URL('../../../../shared/data/', import.meta.url);
const turns: { turn: TurnInput; previous: TurnInput[] }[] = [];
for (const file of ['aci_bench.dev.jsonl', 'mts_dialog.dev.jsonl']) {
  for (const line of readFileSync(new URL(file, DATA), 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const conv = JSON.parse(line) as { turns: { role: string; text: string }[] };
    const history: TurnInput[] = [];
    conv.turns.forEach((t, i) => {
      const turn = { number: i + 1, role: t.role, text: t.text };
      turns.push({ turn, previous: history.slice(-6) });
      history.push(turn);
    });
  }
}
const sample = turns.filter((_, i) => i % 7 === 3).slice(0, 1000);
const t0 = performance.now();
extractFacts({ number: 1, role: 'patient', text: 'I saw Dr. Kumar last Tuesday about my metformin.' });
const coldMs = performance.now() - t0;
// Warm up the JIT on other turns, so no sampled turn finds its dates already cached.
for (const x of turns.filter((_, i) => i % 7 === 0).slice(0, 300)) extractFacts(x.turn, { previous: x.previous });

const times: number[] = [];
for (const x of sample) {
  const start = performance.now();
  extractFacts(x.turn, { previous: x.previous });
  times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
const at = (q: number): string => (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(3);
const mean = times.reduce((a, b) => a + b, 0) / times.length;
const chars = sample.reduce((n, x) => n + x.turn.text.length, 0) / sample.length;
console.log(`first call (lexicons + compromise load): ${coldMs.toFixed(0)} ms`);
console.log(
  `${times.length} turns (mean ${chars.toFixed(0)} chars): mean ${mean.toFixed(3)} ms, p50 ${at(0.5)} ms, ` +
    `p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`,
);
