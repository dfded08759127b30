import { describe, expect, it } from 'vitest';
import { ConversationIndex } from '../../src/context/search-index.ts';
import { AppError } from '../../src/errors/index.ts';

const FILLER = [
  'my knee has been sore after walking the dog',
  'we talked about the sleep schedule and the night shifts',
  'the blood pressure cuff at home reads a bit high in the morning',
  'i have been drinking more water and cutting down on coffee',
  'the physical therapy exercises are going fine',
  'my daughter drives me to the appointments on thursdays',
  'the cough is better since the weekend',
  'i would prefer a morning appointment next time',
];

/** 1,000 turns of ordinary clinical chat, deterministic, with one penicillin/hives turn at 437. */
function conversation(size = 1000): ConversationIndex {
  const index = new ConversationIndex();
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed >>> 16; // the low bits of this LCG cycle too fast
  };
  for (let n = 1; n <= size; n++) {
    const text =
      n === 437
        ? 'When I was a kid, penicillin gave me hives all over my arms.'
        : `${FILLER[next() % FILLER.length]}, and ${FILLER[next() % FILLER.length]}.`;
    index.add({ number: n, role: n % 2 ? 'user' : 'clinician', text });
  }
  return index;
}

describe('ConversationIndex', () => {
  const index = conversation();

  it('finds the one turn about penicillin hives among 1,000', () => {
    expect(index.size).toBe(1000);
    expect(index.lastTurn).toBe(1000);
    expect(index.search('penicillin hives')[0]?.number).toBe(437);
    expect(index.search('allergic reaction to PENICILLIN?!', { limit: 1 })).toEqual([
      { number: 437, score: expect.any(Number) },
    ]);
  });

  it('matches singular to plural and prefixes of 4+ characters, not of shorter terms', () => {
    expect(index.search('hive')[0]?.number).toBe(437);
    expect(index.search('penic')[0]?.number).toBe(437);
    expect(index.search('pen')).toEqual([]);
  });

  it('returns nothing for an empty or stop-word-only query', () => {
    expect(index.search('')).toEqual([]);
    expect(index.search('the and of it was')).toEqual([]);
  });

  it('honours limit and returns the best first', () => {
    const hits = index.search('blood pressure morning', { limit: 5 });
    expect(hits).toHaveLength(5);
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
  });

  it('ignores turns at or after excludeFrom (the recent window)', () => {
    const idx = conversation(200);
    idx.add({ number: 201, role: 'user', text: 'the penicillin hives are back' });
    expect(idx.search('penicillin hives').map((h) => h.number)).toEqual([201]);
    expect(idx.search('penicillin hives', { excludeFrom: 201 })).toEqual([]);
    idx.add({ number: 50, role: 'user', text: 'penicillin again' });
    expect(idx.search('penicillin', { excludeFrom: 201 }).map((h) => h.number)).toEqual([50]);
  });

  it('replaces a turn added twice instead of indexing it twice', () => {
    const idx = new ConversationIndex();
    idx.add({ number: 1, role: 'user', text: 'metformin' });
    idx.add({ number: 1, role: 'user', text: 'lisinopril' });
    expect(idx.size).toBe(1);
    expect(idx.search('metformin')).toEqual([]);
    expect(idx.search('lisinopril').map((h) => h.number)).toEqual([1]);
  });

  it('round-trips through toJSON/fromJSON with the same results', () => {
    const copy = ConversationIndex.fromJSON(index.toJSON());
    expect(copy.size).toBe(index.size);
    expect(copy.lastTurn).toBe(index.lastTurn);
    for (const q of ['penicillin hives', 'daughter thursdays', 'coff']) {
      expect(copy.search(q, { limit: 20 })).toEqual(index.search(q, { limit: 20 }));
    }
    copy.add({ number: 1001, role: 'user', text: 'new rash on my back' });
    expect(copy.search('rash')[0]?.number).toBe(1001);
  });

  it('refuses stored garbage with state_corrupt and a bad turn number with TypeError', () => {
    for (const bad of ['not json', '{"format":99}', '{"format":1,"lastTurn":3,"index":{"nope":true}}']) {
      expect(() => ConversationIndex.fromJSON(bad)).toThrow(AppError);
      try {
        ConversationIndex.fromJSON(bad);
      } catch (err) {
        expect((err as AppError).code).toBe('state_corrupt');
      }
    }
    expect(() => new ConversationIndex().add({ number: 0, role: 'user', text: 'x' })).toThrow(TypeError);
    expect(() => new ConversationIndex().add({ number: 1.5, role: 'user', text: 'x' })).toThrow(TypeError);
  });
});
