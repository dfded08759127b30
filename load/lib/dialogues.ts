/**
 * The public clinical dialogues of `../shared/data/` (ACI-Bench and
 * MTS-Dialog, see its SOURCES.md), kept as whole conversations so that a
 * simulated client replays one visit in order. Doctors speak as
 * `clinician`; patients and their family as `user`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DATA_DIR, DATA_FILES } from '../../bench/lib/clinical-text.ts';
import { SAMPLE_DIALOGUES } from './sample-dialogues.ts';

export interface DialogueTurn {
  role: 'user' | 'clinician';
  content: string;
}

export interface Dialogue {
  id: string;
  turns: DialogueTurn[];
}

const CLINICIANS = new Set(['doctor', 'guest_clinician']);

/** Whether the public data sets are beside the checkout. */
export function publicDataPresent(dataDir = DATA_DIR): boolean {
  return DATA_FILES.every((file) => existsSync(path.join(dataDir, file)));
}

/**
 * Every dialogue of both data sets with at least `minTurns` turns and a patient turn, in file order; when the
 * data sets are absent, the project's few sample visits (said on stderr).
 */
export function loadDialogues(minTurns = 2, dataDir = DATA_DIR): Dialogue[] {
  if (!publicDataPresent(dataDir)) {
    process.stderr.write(`note: ${dataDir} is absent; replaying the built-in sample visits instead\n`);
    // Short as they are, visitTurns cycles through each, so any visit length can be replayed.
    return [...SAMPLE_DIALOGUES];
  }
  const dialogues: Dialogue[] = [];
  for (const file of DATA_FILES) {
    for (const line of readFileSync(path.join(dataDir, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const source = JSON.parse(line) as { id: string; turns: { role: string; text: string }[] };
      const turns: DialogueTurn[] = source.turns
        .map((t) => ({
          role: CLINICIANS.has(t.role) ? ('clinician' as const) : ('user' as const),
          content: t.text.trim(),
        }))
        .filter((t) => t.content !== '');
      if (turns.length >= minTurns && turns.some((t) => t.role === 'user')) dialogues.push({ id: source.id, turns });
    }
  }
  if (dialogues.length === 0) throw new Error(`No dialogues with ${minTurns} turns in ${dataDir}`);
  return dialogues;
}

/**
 * The turns a simulated visit sends: `count` turns of the dialogue from its
 * first patient turn on (so the visit opens with the patient), cycling
 * through the dialogue if it is shorter.
 */
export function visitTurns(dialogue: Dialogue, count: number, offset = 0): DialogueTurn[] {
  const first = Math.max(
    0,
    dialogue.turns.findIndex((t) => t.role === 'user'),
  );
  const turns = dialogue.turns.slice(first);
  return Array.from({ length: count }, (_, i) => turns[(offset + i) % turns.length]!);
}
