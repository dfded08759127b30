import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  applyTurnWithModel,
  createModelExtractor,
  EXTRACTION_SYSTEM_PROMPT,
  extractWithFallback,
  parseExtraction,
} from '../../../src/context/model-extractor.ts';
import type { ModelFallbackReason } from '../../../src/context/model-summarizer.ts';
import { emptyProfile, extractFacts, type TurnInput } from '../../../src/context/profile/index.ts';
import { createModelProvider } from '../../../src/models/create-model-provider.ts';
import type { ModelMessage } from '../../../src/models/port.ts';
import type { FakeServer } from '../../models/fakes/fake-server.ts';
import { ManualClock } from '../../models/fakes/manual-clock.ts';
import { startOpenAIFake } from '../../models/fakes/openai-fake.ts';

const RICH: TurnInput = {
  number: 3,
  role: 'patient',
  text: "I take Eliquis 5 mg twice a day and I'm allergic to penicillin, it gives me hives. My mom had breast cancer. I'd prefer morning appointments.",
};
// The embedded extractor misses Qulipta and Ehlers-Danlos (not in its lexicon).
const MISSED: TurnInput = {
  number: 5,
  role: 'patient',
  text: 'I take metformin 500 mg twice a day, and Qulipta 60 mg daily for migraines. I was also diagnosed with Ehlers-Danlos syndrome.',
};

let fake: FakeServer;
beforeAll(async () => {
  fake = await startOpenAIFake();
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

function setup(options: { timeoutMs?: number; clock?: ManualClock } = {}) {
  const model = createModelProvider({
    kind: 'openai',
    openai: { apiKey: 'sk-test', baseURL: `${fake.url}/v1`, model: 'gpt-test' },
    resilience: { maxRetries: 0 },
  });
  return createModelExtractor({ model, ...options });
}

function answer(json: unknown): void {
  const text = typeof json === 'string' ? json : JSON.stringify(json);
  fake.setDefault({ kind: 'stream', chunks: [text.slice(0, 10), text.slice(10)] });
}

const ids = (mentions: { id: string }[]): string[] => mentions.map((x) => x.id).sort();

describe('createModelExtractor', () => {
  it("parses the model's JSON into mentions with the embedded extractor's ids and normal forms", async () => {
    const extractor = setup();
    answer({
      medications: [{ name: 'Eliquis', dose: '5mg', frequency: 'two times a day', status: 'active' }],
      allergies: [{ substance: 'penicillin', reaction: 'hives', status: 'active' }],
      conditions: [],
      people: [{ relation: 'mother', conditions: ['breast cancer'] }],
      preferences: [{ text: 'prefer morning appointments' }],
    });
    const previous: TurnInput = { number: 2, role: 'doctor', text: 'Tell me about your medications.' };
    const mentions = await extractor.extract(RICH, previous);
    expect(mentions).toEqual([
      expect.objectContaining({ id: 'med:apixaban', name: 'apixaban', dose: '5 mg', frequency: 'twice daily' }),
      expect.objectContaining({ id: 'allergy:penicillin', substance: 'penicillin', reaction: 'hives' }),
      expect.objectContaining({ id: 'person:mother', relation: 'mother', conditions: ['breast cancer'] }),
      expect.objectContaining({ id: 'pref:prefer-morning-appointments', text: 'prefer morning appointments' }),
    ]);
    for (const x of mentions) expect(x).toMatchObject({ source: { turn: 3, role: 'patient' }, explicit: false });
    expect(extractor.rejected).toBe(0);
    const [system, user] = (fake.requests[0]!.body as { messages: ModelMessage[] }).messages;
    expect(system!.content).toBe(EXTRACTION_SYSTEM_PROMPT);
    expect(user!.content).toContain('doctor: Tell me about your medications.');
    expect(user!.content).toContain(`TURN (patient):\n${RICH.text}`);
  });

  it('drops names the turn does not say, and doses and frequencies it does not state', async () => {
    const extractor = setup();
    answer({
      medications: [
        { name: 'warfarin', status: 'active' },
        { name: 'Eliquis', dose: '10 mg', frequency: 'once daily', status: 'active' },
      ],
      allergies: [{ substance: 'sulfa', reaction: 'rash' }],
      conditions: [{ name: 'atrial fibrillation', status: 'active' }],
      people: [
        { relation: 'father', conditions: ['diabetes'] },
        { relation: 'mother', name: 'Alice' },
        { relation: 'mother', conditions: ['breast cancer', 'stroke'] },
      ],
      preferences: [{ text: 'prefers evening calls' }],
    });
    const mentions = await extractor.extract(RICH);
    expect(mentions).toEqual([
      expect.objectContaining({ id: 'med:apixaban' }),
      expect.objectContaining({ id: 'person:mother', conditions: ['breast cancer'] }),
    ]);
    expect(mentions[0]).not.toHaveProperty('dose');
    expect(mentions[0]).not.toHaveProperty('frequency');
    expect(extractor.rejected).toBe(6);
  });

  it('drops malformed items and keeps the well-formed ones', () => {
    const { mentions, dropped } = parseExtraction(
      JSON.stringify({
        medications: [{ name: 42 }, { name: 'Eliquis', status: 'paused' }, 'Eliquis', null, { name: 'Eliquis' }],
        allergies: { substance: 'penicillin' },
        conditions: [{ name: 'medication' }],
        people: [
          { relation: 'mother', deceased: 'yes' },
          { relation: 'mother', conditions: 'cancer' },
        ],
        preferences: [{ text: 'morning' }],
        unknown: [1, 2],
      }),
      RICH,
    );
    expect(ids(mentions)).toEqual(['med:apixaban']);
    expect(mentions[0]).toMatchObject({ status: 'active' });
    expect(dropped).toBe(9);
  });

  it('rejects an answer that is not one JSON object as malformed, and an empty one as empty', () => {
    for (const bad of ['not json', '[{"name":"Eliquis"}]', '{"medications": [', 'null']) {
      expect(() => parseExtraction(bad, RICH)).toThrow(expect.objectContaining({ reason: 'malformed' }));
    }
    expect(() => parseExtraction('  ', RICH)).toThrow(expect.objectContaining({ reason: 'empty' }));
    expect(ids(parseExtraction('```json\n{"medications":[{"name":"Eliquis"}]}\n```', RICH).mentions)).toEqual([
      'med:apixaban',
    ]);
  });

  it('does not ask the model about assistant, system or empty turns', async () => {
    const extractor = setup();
    expect(await extractor.extract({ number: 1, role: 'assistant', text: 'You take Eliquis.' })).toEqual([]);
    expect(await extractor.extract({ number: 2, role: 'patient', text: '  ' })).toEqual([]);
    expect(fake.requests).toHaveLength(0);
    await expect(extractor.extract({ number: -1, role: 'patient', text: 'x' })).rejects.toThrow(TypeError);
  });
});

describe('extractWithFallback', () => {
  it('adds the model mentions the embedded extractor missed, without duplicates', async () => {
    const model = setup();
    answer({
      medications: [
        { name: 'metformin', dose: '500 mg', frequency: 'twice a day', status: 'active' },
        { name: 'Qulipta', dose: '60 mg', frequency: 'daily', status: 'active' },
      ],
      conditions: [
        { name: 'migraines', status: 'active' },
        { name: 'Ehlers-Danlos syndrome', status: 'active' },
      ],
    });
    const embedded = extractFacts(MISSED);
    const result = await extractWithFallback(MISSED, undefined, { model });
    expect(result.fallback).toBeNull();
    expect(result.mentions.slice(0, embedded.length)).toEqual(embedded);
    expect(ids(result.mentions)).toEqual(
      [...new Set([...ids(embedded), 'med:qulipta', 'condition:ehlers-danlos-syndrome'])].sort(),
    );
    expect(result.added).toBe(result.mentions.length - embedded.length);
    expect(result.mentions.find((x) => x.id === 'med:qulipta')).toMatchObject({
      dose: '60 mg',
      frequency: 'once daily',
    });
    expect(new Set(ids(result.mentions)).size).toBe(result.mentions.length);
  });

  it('treats the same preference or person in other words as a duplicate', async () => {
    const model = setup();
    answer({ people: [{ relation: 'mom' }], preferences: [{ text: 'prefer morning appointments' }] });
    const embedded = extractFacts(RICH);
    const result = await extractWithFallback(RICH, undefined, { model });
    expect(result.mentions).toEqual(embedded);
    expect(result.added).toBe(0);
  });

  it('returns the embedded mentions and reports the fallback on malformed JSON, HTTP 500 and the deadline', async () => {
    const reasons: ModelFallbackReason[] = [];
    const onFallback = (reason: ModelFallbackReason) => reasons.push(reason);
    const embedded = extractFacts(MISSED);

    answer('{"medications": [{"name": "Qulipta"');
    expect(await extractWithFallback(MISSED, undefined, { model: setup(), onFallback })).toEqual({
      mentions: embedded,
      added: 0,
      fallback: 'malformed',
    });

    fake.setDefault({ kind: 'status', status: 500 });
    expect((await extractWithFallback(MISSED, undefined, { model: setup(), onFallback })).mentions).toEqual(embedded);

    const clock = new ManualClock();
    fake.setDefault({ kind: 'hang' });
    const pending = extractWithFallback(MISSED, undefined, { model: setup({ timeoutMs: 2_000, clock }), onFallback });
    await fake.waitForRequests(3);
    await clock.advance(2_000);
    expect((await pending).mentions).toEqual(embedded);
    expect(reasons).toEqual(['malformed', 'error', 'timeout']);
  });
});

describe('applyTurnWithModel', () => {
  it('merges both extractors into the profile and reports no fallback', async () => {
    answer({ medications: [{ name: 'Qulipta', dose: '60 mg', status: 'active' }] });
    const before = emptyProfile();
    const result = await applyTurnWithModel(before, MISSED, { model: setup() });
    expect(result).toMatchObject({ changed: true, fallback: null });
    expect(result.profile.version).toBe(1);
    expect(result.profile.medications.map((x) => x.id)).toEqual(['med:metformin', 'med:qulipta']);
    expect(before.medications).toEqual([]);
  });
});
