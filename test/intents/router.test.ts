import { describe, expect, it } from 'vitest';
import { createIntentRouter, normalizeText } from '../../src/intents/index.ts';
import { EMERGENCY, GENERAL, MEDICATION, NOT_EMERGENCY, SCHEDULING, TABLE } from './labelled-sentences.ts';

const router = createIntentRouter();

describe('intent router on the labelled table', () => {
  it('has at least 60 labelled sentences across every intent', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(60);
    for (const group of [EMERGENCY, NOT_EMERGENCY, MEDICATION, SCHEDULING, GENERAL]) {
      expect(group.length).toBeGreaterThan(5);
    }
  });

  it.each(TABLE.map((row) => [row.expected, row.text, row.note ?? ''] as const))('%s ← %j %s', (expected, text) => {
    expect(router.classify(text).intent).toBe(expected);
  });

  it('flags emergencies with 100 % precision and recall on the table', () => {
    let truePositive = 0;
    let falsePositive = 0;
    let falseNegative = 0;
    for (const { text, expected } of TABLE) {
      const isEmergency = router.classify(text).intent === 'emergency';
      if (isEmergency && expected === 'emergency') truePositive += 1;
      else if (isEmergency) falsePositive += 1;
      else if (expected === 'emergency') falseNegative += 1;
    }
    expect({ falsePositive, falseNegative }).toEqual({ falsePositive: 0, falseNegative: 0 });
    expect(truePositive).toBe(EMERGENCY.length);
  });
});

describe('classification result', () => {
  it('names the rules that voted and reports full confidence for an emergency sign', () => {
    expect(router.classify('i have chest pain .')).toEqual({
      intent: 'emergency',
      confidence: 1,
      matched: ['emergency.chest-pain'],
    });
  });

  it('lets emergency win over a stronger medication and scheduling vote', () => {
    const result = router.classify('Book an appointment to refill my metformin dose, also my chest hurts');
    expect(result.intent).toBe('emergency');
    expect(result.matched).toEqual(['emergency.chest-pain']);
  });

  it('combines medication cues so several weak ones beat one weak scheduling cue', () => {
    const result = router.classify('Missed my insulin dose before the appointment');
    expect(result.intent).toBe('medication');
    expect(result.matched).toEqual(['medication.dose', 'medication.missed-dose', 'medication.drug-name']);
    expect(result.confidence).toBeGreaterThan(0.9);
    expect(result.confidence).toBeLessThanOrEqual(1);
  });

  it('needs more than a lone weak cue: "pill" alone stays general', () => {
    const result = router.classify('That pill was huge');
    expect(result).toEqual({ intent: 'general', confidence: 0.55, matched: [] });
  });

  it('falls back to general with confidence 1 when nothing matches, including empty text', () => {
    expect(router.classify('')).toEqual({ intent: 'general', confidence: 1, matched: [] });
    expect(router.classify('What a lovely day')).toEqual({ intent: 'general', confidence: 1, matched: [] });
  });

  it('ignores a negated occurrence but fires on a later one in another clause', () => {
    expect(router.classify('No chest pain yesterday. Today I have chest pain.').intent).toBe('emergency');
    expect(router.classify('No chest pain yesterday. No chest pain today.').intent).toBe('general');
  });

  it('starts every text from its first character, whatever an earlier text left the shared regexes at', () => {
    // The rules' regexes are shared and stepped with `exec`: a call that returns on a late match, or that
    // scans past a negated one, must not make the next, shorter text start its search part way in.
    const late = `${'Thank you for the update on the clinic hours. '.repeat(4)}Today I have chest pain.`;
    const negated = 'No chest pain yesterday. No chest pain today, none at all, really none whatsoever.';
    for (const before of [late, negated]) {
      router.classify(before);
      expect(router.classify('Chest pain.').intent).toBe('emergency');
      expect(router.classify('chest pain').matched).toContain('emergency.chest-pain');
    }
    const custom = createIntentRouter({
      includeBuiltins: false,
      rules: [{ id: 'x.empty-ok', intent: 'medication', patterns: ['(?:)', 'refill'], weight: 0.9, negatable: true }],
    });
    // An empty match is stepped past, as matchAll does, instead of matching at the same place forever.
    expect(custom.classify('no').intent).toBe('medication');
  });

  it('rejects a non-string with a TypeError', () => {
    expect(() => router.classify(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('normalizeText', () => {
  it('lower-cases, straightens apostrophes and rejoins split contractions', () => {
    expect(normalizeText('I CAN’T   Breathe')).toBe("i can't breathe");
    expect(normalizeText("i ca n't breathe .")).toBe("i can't breathe .");
    expect(normalizeText("i don 't know , i 'm scared")).toBe("i don't know , i'm scared");
    expect(normalizeText('im sure i cant')).toBe("i'm sure i can't");
    expect(normalizeText('I can not walk')).toBe('i cannot walk');
  });
});
