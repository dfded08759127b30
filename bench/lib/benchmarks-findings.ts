/** The comparison's findings in words, computed from its figures (the top of docs/BENCHMARKS.md). */
import type { LangGraphComparison, SizeFigures, SystemFigures } from '../langgraph-compare.ts';
import { int, ms } from './markdown.ts';

const PAIRS = [
  ['langgraph-sqlite', 'continuum-sqlite', 'SQLite'],
  ['langgraph-postgres', 'continuum-postgres', 'PostgreSQL'],
] as const;

type Metric = 'save' | 'load';

const measured = (system: SystemFigures | undefined, metric: Metric) =>
  (system?.sizes ?? []).filter((f): f is SizeFigures & Required<Pick<SizeFigures, Metric>> => f[metric] !== undefined);

/** `× 1.23` below 10, `× 151` and `× 1,709` above. */
export const factor = (value: number) =>
  value >= 10 ? `× ${Math.round(value).toLocaleString('en-US')}` : `× ${value.toFixed(2)}`;

/** 1.2 kB, 53.5 kB, 2.2 MB, 203 MB. */
export const size = (bytes: number) =>
  bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

/** p50 at the largest size ÷ p50 at the smallest, with the two sizes. */
function growth(system: SystemFigures | undefined, metric: Metric) {
  const points = measured(system, metric);
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last || first === last) return undefined;
  return { from: first.turns, to: last.turns, ratio: last[metric].p50 / first[metric].p50 };
}

function metricFinding(results: LangGraphComparison, metric: Metric, pairs: typeof PAIRS): string | undefined {
  const system = (key: string) => results.systems.find((s) => s.key === key && !s.skipped);
  const lines: string[] = [];
  for (const [lg, cn, store] of pairs) {
    const l = system(lg);
    const c = system(cn);
    const both = measured(l, metric).filter((f) => measured(c, metric).some((g) => g.turns === f.turns));
    if (both.length === 0) continue;
    const ratios = both.map((f) => {
      const other = measured(c, metric).find((g) => g.turns === f.turns)!;
      return `${factor(f[metric].p50 / other[metric].p50)} at ${int(f.turns)}`;
    });
    const gl = growth(l, metric);
    const gc = growth(c, metric);
    const grew =
      gl && gc
        ? `from ${int(gl.from)} to ${int(gl.to)} turns LangGraph's p50 goes ${factor(gl.ratio)}, Continuum's ${factor(gc.ratio)}${gc.from === gl.from && gc.to === gl.to ? '' : ` (${int(gc.from)} to ${int(gc.to)})`}; `
        : '';
    lines.push(`${store}: ${grew}LangGraph ÷ Continuum ${ratios.join(', ')}`);
  }
  if (lines.length === 0) return undefined;
  const what = metric === 'save' ? 'Saving an exchange' : 'Loading what the next turn needs';
  return `**${what}**, p50 — ${lines.join('. ')}.`;
}

/** A few sentences: how each side scales, the ratios, storage, and where appending hit the cap. */
export function comparisonFindings(results: LangGraphComparison): string[] {
  const out: string[] = [];
  for (const metric of ['save', 'load'] as const) {
    const line = metricFinding(results, metric, PAIRS);
    if (line) out.push(line);
  }
  const stored = results.systems
    .filter((s) => s.key.startsWith('langgraph') && !s.skipped)
    .flatMap((s) => {
      const largest = s.sizes.filter((f) => f.storedBytes !== undefined).at(-1);
      return largest ? [{ label: s.label, f: largest }] : [];
    });
  for (const turns of [...new Set(stored.map(({ f }) => f.turns))]) {
    const at = stored.filter(({ f }) => f.turns === turns);
    out.push(
      `**Storage**: a ${int(turns)}-turn conversation (${size(at[0]!.f.textBytes)} of text) takes ${at
        .map(({ label, f }) => `${size(f.storedBytes!)} in LangGraph's ${label.replace(/^LangGraph, /, '')}`)
        .join(' and ')} — each checkpoint holds the whole message list.`,
    );
  }
  const capped = results.systems.flatMap((s) =>
    s.sizes.filter((f) => f.capped).map((f) => ({ label: s.label, f, seeded: f.seededTurns !== undefined })),
  );
  if (capped.length > 0) {
    out.push(
      `**Cap**: ${capped
        .map(
          ({ label, f, seeded }) =>
            `${label} did not reach ${int(f.turns)} turns by appending (its saves added up to ${int(f.capped!.seconds)} s at ${int(f.capped!.reachedTurns)} turns${seeded ? '; its figures there are from a seeded conversation, ‡' : ''})`,
        )
        .join('; ')}.`,
    );
  }
  return out;
}

/** The per-size verdict lines (p50, LangGraph vs Continuum, per store). */
export function comparisonSummary(results: LangGraphComparison): string[] {
  const lines: string[] = [];
  const find = (key: string) => results.systems.find((s) => s.key === key);
  const sizes = [...new Set(results.systems.flatMap((s) => s.sizes.map((f) => f.turns)))].sort((a, b) => a - b);
  for (const [a, b, store] of PAIRS) {
    const lg = find(a);
    const cn = find(b);
    if (!lg || !cn || lg.skipped || cn.skipped) continue;
    const parts = sizes.map((turns) => {
      const l = lg.sizes.find((f) => f.turns === turns);
      const c = cn.sizes.find((f) => f.turns === turns);
      const describe = (metric: Metric) =>
        l?.[metric] && c?.[metric]
          ? `${metric} ${ms(l[metric].p50)} vs ${ms(c[metric].p50)} ms (${factor(l[metric].p50 / c[metric].p50)})`
          : `${metric}: ${!l?.[metric] ? 'LangGraph' : 'Continuum'} did not reach it`;
      return `${int(turns)} turns: ${describe('save')}, ${describe('load')}${l?.seededTurns === undefined ? '' : ' ‡'}`;
    });
    lines.push(`**${store}**, p50, LangGraph vs Continuum — ${parts.join('; ')}.`);
  }
  return lines;
}
