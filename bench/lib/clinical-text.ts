import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Role } from '../../src/core/types.ts';

/** The public clinical conversations (see /work/shared/data/SOURCES.md). */
export const DATA_DIR = path.resolve(import.meta.dirname, '../../../shared/data');
export const DATA_FILES = ['aci_bench.dev.jsonl', 'mts_dialog.dev.jsonl'] as const;

export const DATA_CITATION = [
  'ACI-Bench — Yim, Fu, Ben Abacha, Snider, Lin, Yetisgen. "ACI-BENCH: a Novel Ambient Clinical Intelligence Dataset for Benchmarking Automatic Visit Note Generation." Scientific Data, 2023. github.com/wyim/aci-bench @ b909b2b, CC BY 4.0.',
  'MTS-Dialog — Ben Abacha, Yim, Fan, Lin. "An Empirical Study of Clinical Note Generation from Doctor-Patient Encounters." EACL 2023. github.com/abachaa/MTS-Dialog @ 3ff0801, CC BY 4.0.',
];

export interface ClinicalTurn {
  role: Role;
  content: string;
}

interface SourceConversation {
  id: string;
  turns: { role: string; text: string }[];
}

// Doctors and visiting clinicians speak as `clinician`; patients and their family as `user`.
const ROLE_OF: Record<string, Role> = {
  doctor: 'clinician',
  guest_clinician: 'clinician',
  patient: 'user',
  guest_family: 'user',
  patient_guest: 'user',
};

/**
 * Every speaker turn of both data sets, in file order (ACI-Bench first: whole
 * visits, the longer turns). Benchmarks cycle through it.
 */
export function loadClinicalTurns(dataDir = DATA_DIR): ClinicalTurn[] {
  const turns: ClinicalTurn[] = [];
  for (const file of DATA_FILES) {
    const lines = readFileSync(path.join(dataDir, file), 'utf8').split('\n');
    for (const line of lines) {
      if (line.trim() === '') continue;
      const conversation = JSON.parse(line) as SourceConversation;
      for (const turn of conversation.turns) {
        const content = turn.text.trim();
        if (content === '') continue;
        turns.push({ role: ROLE_OF[turn.role] ?? 'user', content });
      }
    }
  }
  if (turns.length === 0) throw new Error(`No turns found in ${dataDir}`);
  return turns;
}

/** Mean turn length in characters (reported next to the figures). */
export function meanLength(turns: readonly ClinicalTurn[]): number {
  return turns.reduce((total, turn) => total + turn.content.length, 0) / turns.length;
}
