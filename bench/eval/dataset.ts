/**
 * Reads an evaluation data file: JSON Lines, one conversation a line, in the
 * format of ../shared/data/ (SOURCES.md). Any file of that format works.
 */
import { readFileSync } from 'node:fs';
import type { Role } from '../../src/core/types.ts';

/** Speaker roles of the data sets and the API role each one is replayed as (docs/EVALUATION.md §7). */
export const ROLE_OF: Readonly<Record<string, Role>> = {
  doctor: 'clinician',
  guest_clinician: 'clinician',
  patient: 'user',
  guest_family: 'user',
  patient_guest: 'user',
};

/** One turn to replay. */
export interface EvalTurn {
  /** The data set's speaker label. */
  speaker: string;
  role: Role;
  text: string;
}

/** One conversation of the file, checked and ready to replay and score. */
export interface EvalConversation {
  id: string;
  /** The `source` and `license` fields, for the citation. */
  source: string;
  license: string;
  /** Non-empty turns, in order. */
  turns: EvalTurn[];
  /** Turns left out because their text was empty. */
  emptyTurns: number;
  reference: string;
  meta: Record<string, unknown>;
}

/** A data file that is not in the expected format; the message says where and how. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse the text of a data file; `label` names it in errors. */
export function parseDataset(text: string, label = 'data file'): EvalConversation[] {
  const out: EvalConversation[] = [];
  const ids = new Set<string>();
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const where = `${label} line ${index + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (error) {
      throw new DatasetError(`${where}: not JSON (${(error as Error).message})`);
    }
    if (!isRecord(row)) throw new DatasetError(`${where}: expected an object`);
    const { id, turns, reference_summary: reference, meta } = row;
    if (typeof id !== 'string' || id === '') throw new DatasetError(`${where}: "id" must be a non-empty string`);
    if (ids.has(id)) throw new DatasetError(`${where}: duplicate id ${JSON.stringify(id)}`);
    ids.add(id);
    if (typeof reference !== 'string') throw new DatasetError(`${where}: "reference_summary" must be a string`);
    if (meta !== undefined && meta !== null && !isRecord(meta)) {
      throw new DatasetError(`${where}: "meta" must be an object`);
    }
    if (!Array.isArray(turns)) throw new DatasetError(`${where}: "turns" must be an array`);
    const kept: EvalTurn[] = [];
    let emptyTurns = 0;
    for (const [t, turn] of turns.entries()) {
      if (!isRecord(turn) || typeof turn.role !== 'string' || typeof turn.text !== 'string') {
        throw new DatasetError(`${where}: turn ${t} must be {"role": string, "text": string}`);
      }
      const role = ROLE_OF[turn.role];
      if (role === undefined) {
        throw new DatasetError(
          `${where}: turn ${t} has role ${JSON.stringify(turn.role)}; known roles: ${Object.keys(ROLE_OF).join(', ')}`,
        );
      }
      const text = turn.text.trim();
      if (text === '') emptyTurns++;
      else kept.push({ speaker: turn.role, role, text });
    }
    out.push({
      id,
      source: typeof row.source === 'string' ? row.source : 'unknown source',
      license: typeof row.license === 'string' ? row.license : 'unknown license',
      turns: kept,
      emptyTurns,
      reference,
      meta: isRecord(meta) ? meta : {},
    });
  }
  if (out.length === 0) throw new DatasetError(`${label}: no conversations`);
  return out;
}

/** Read and parse a data file. */
export function loadDataset(file: string): EvalConversation[] {
  return parseDataset(readFileSync(file, 'utf8'), file);
}
