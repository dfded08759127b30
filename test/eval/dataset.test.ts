import { describe, expect, it } from 'vitest';
import { DatasetError, parseDataset } from '../../bench/eval/dataset.ts';

const line = (row: Record<string, unknown>) => JSON.stringify(row);
const base = { id: 'c1', source: 'X', license: 'CC-BY-4.0', reference_summary: 'None.', meta: {} };

describe('evaluation data files', () => {
  it('maps every data-set speaker to its API role and drops empty turns', () => {
    const [c] = parseDataset(
      line({
        ...base,
        turns: [
          { role: 'doctor', text: 'Hi.' },
          { role: 'patient', text: '  ' },
          { role: 'guest_family', text: 'She is fine.' },
          { role: 'guest_clinician', text: 'Agreed.' },
          { role: 'patient_guest', text: 'Yes.' },
        ],
      }),
    );
    expect(c?.turns.map((t) => t.role)).toEqual(['clinician', 'user', 'clinician', 'user']);
    expect(c?.emptyTurns).toBe(1);
  });

  it('refuses an unknown role, a duplicate id or a missing reference, naming the line', () => {
    expect(() => parseDataset(line({ ...base, turns: [{ role: 'nurse', text: 'Hi.' }] }), 'f')).toThrow(
      /f line 1: turn 0 has role "nurse"/,
    );
    expect(() => parseDataset([line({ ...base, turns: [] }), line({ ...base, turns: [] })].join('\n'), 'f')).toThrow(
      /f line 2: duplicate id/,
    );
    const { reference_summary: _, ...noReference } = base;
    expect(() => parseDataset(line({ ...noReference, turns: [] }))).toThrow(DatasetError);
  });
});
