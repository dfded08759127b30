import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createModelSummarizer,
  type ModelFallbackReason,
  SUMMARY_SYSTEM_PROMPT,
} from '../../../src/context/model-summarizer.ts';
import { createExtractiveSummarizer, type RollingSummary, type SummaryTurn } from '../../../src/context/summarizer.ts';
import { countWords } from '../../../src/context/text.ts';
import { createModelProvider } from '../../../src/models/create-model-provider.ts';
import type { ModelMessage } from '../../../src/models/port.ts';
import type { FakeServer } from '../../models/fakes/fake-server.ts';
import { ManualClock } from '../../models/fakes/manual-clock.ts';
import { startOpenAIFake } from '../../models/fakes/openai-fake.ts';

const TURNS: SummaryTurn[] = [
  { number: 1, role: 'doctor', text: 'What medications are you taking?' },
  { number: 2, role: 'patient', text: 'Lisinopril 20 mg once daily. I am allergic to penicillin, it gives me hives.' },
  { number: 3, role: 'doctor', text: 'Any family history?' },
  { number: 4, role: 'patient', text: 'My mother had breast cancer.' },
];
const MODEL_TEXT =
  'Patient takes lisinopril 20 mg once daily. Allergic to penicillin (hives). Mother had breast cancer.';

let fake: FakeServer;
beforeAll(async () => {
  fake = await startOpenAIFake();
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

function setup(options: { maxWords?: number; timeoutMs?: number; clock?: ManualClock } = {}) {
  const model = createModelProvider({
    kind: 'openai',
    openai: { apiKey: 'sk-test', baseURL: `${fake.url}/v1`, model: 'gpt-test' },
    resilience: { maxRetries: 0 },
  });
  const fallback = createExtractiveSummarizer({ maxWords: options.maxWords ?? 100 });
  const reasons: ModelFallbackReason[] = [];
  const summarizer = createModelSummarizer({
    model,
    fallback,
    maxWords: options.maxWords ?? 100,
    onFallback: (reason) => reasons.push(reason),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return { summarizer, fallback, reasons };
}

function sentMessages(i = 0): ModelMessage[] {
  return (fake.requests[i]!.body as { messages: ModelMessage[] }).messages;
}

describe('createModelSummarizer', () => {
  it("returns the model's summary, with words, the last turn folded and the next version", async () => {
    const { summarizer, reasons } = setup();
    fake.setDefault({ kind: 'stream', chunks: ['Patient takes lisinopril 20 mg once daily. ', MODEL_TEXT.slice(43)] });
    const summary = await summarizer.fold(null, TURNS);
    expect(summary).toEqual({ text: MODEL_TEXT, words: countWords(MODEL_TEXT), throughTurn: 4, version: 1 });
    expect(summarizer.kind).toBe('model');
    expect(summarizer.fallbacks).toBe(0);
    expect(reasons).toEqual([]);
    const [system, user] = sentMessages();
    expect(system).toEqual({ role: 'system', content: SUMMARY_SYSTEM_PROMPT.replace('{maxWords}', '100') });
    expect(system!.content).toMatch(/Never invent/);
    expect(user!.content).toContain('Current summary:\n(empty)');
    expect(user!.content).toContain('[2] Patient: Lisinopril 20 mg once daily.');
    expect(user!.content).toContain('at most 100 words');
  });

  it('sends the previous summary and only the turns after it, and counts the version on', async () => {
    const { summarizer } = setup();
    const previous: RollingSummary = { text: 'Patient takes lisinopril.', words: 3, throughTurn: 2, version: 4 };
    fake.setDefault({ kind: 'stream', chunks: ['Patient takes lisinopril. Mother had breast cancer.'] });
    const summary = await summarizer.fold(previous, TURNS);
    expect(summary).toMatchObject({ throughTurn: 4, version: 5 });
    const user = sentMessages()[1]!.content;
    expect(user).toContain('Current summary:\nPatient takes lisinopril.');
    expect(user).toContain('[3] Doctor: Any family history?');
    expect(user).not.toContain('[2]');
  });

  it('returns the previous summary without asking the model when no turn is new', async () => {
    const { summarizer } = setup();
    const previous: RollingSummary = { text: 'Patient takes lisinopril.', words: 3, throughTurn: 4, version: 2 };
    expect(await summarizer.fold(previous, TURNS)).toBe(previous);
    expect(fake.requests).toHaveLength(0);
  });

  it('takes a code fence and a "Summary:" heading off the answer', async () => {
    const { summarizer } = setup();
    fake.setDefault({ kind: 'stream', chunks: ['```\nSummary: ', MODEL_TEXT, '\n```'] });
    expect((await summarizer.fold(null, TURNS)).text).toBe(MODEL_TEXT);
  });

  it('falls back to the embedded summarizer on HTTP 500', async () => {
    const { summarizer, fallback, reasons } = setup();
    fake.setDefault({ kind: 'status', status: 500 });
    const summary = await summarizer.fold(null, TURNS);
    expect(summary).toEqual(await fallback.fold(null, TURNS));
    expect(summary.text).toContain('penicillin');
    expect(summarizer.fallbacks).toBe(1);
    expect(reasons).toEqual(['error']);
  });

  it('falls back when the model does not answer before the deadline, and aborts the call', async () => {
    const clock = new ManualClock();
    const { summarizer, fallback, reasons } = setup({ timeoutMs: 5_000, clock });
    fake.setDefault({ kind: 'hang', afterHeaders: true });
    const folding = summarizer.fold(null, TURNS);
    await fake.waitForRequests(1);
    await clock.advance(4_999);
    expect(reasons).toEqual([]);
    await clock.advance(1);
    expect(await folding).toEqual(await fallback.fold(null, TURNS));
    expect(reasons).toEqual(['timeout']);
    expect(clock.pending).toBe(0);
  });

  it('falls back when the model answers with nothing', async () => {
    const { summarizer, reasons } = setup();
    fake.setDefault({ kind: 'stream', chunks: ['  ', '\n'] });
    const summary = await summarizer.fold(null, TURNS);
    expect(summary.text).toContain('penicillin');
    expect(summary.sentences).toBeDefined();
    expect(reasons).toEqual(['empty']);
  });

  it('falls back when the answer is over 1.5 × maxWords words, and accepts one just within', async () => {
    const { summarizer, reasons } = setup({ maxWords: 20 });
    const words = (n: number): string => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');
    fake.enqueue({ kind: 'stream', chunks: [words(31)] }, { kind: 'stream', chunks: [words(30)] });
    const long = await summarizer.fold(null, TURNS);
    expect(long.text).not.toContain('word0');
    expect(reasons).toEqual(['too_long']);
    const within = await summarizer.fold(null, TURNS);
    expect(within.words).toBe(30);
    expect(summarizer.fallbacks).toBe(1);
  });

  it('falls back when the answer is cut at the token limit', async () => {
    const { summarizer, reasons } = setup();
    fake.setDefault({ kind: 'stream', chunks: ['Patient takes'], stopReason: 'length' });
    await summarizer.fold(null, TURNS);
    expect(reasons).toEqual(['too_long']);
  });

  it('keeps the embedded fallback working on a summary the model wrote', async () => {
    const { summarizer, reasons } = setup();
    fake.enqueue({ kind: 'stream', chunks: [MODEL_TEXT] }, { kind: 'status', status: 500 });
    const byModel = await summarizer.fold(null, TURNS.slice(0, 2));
    expect(byModel.sentences).toBeUndefined();
    const next = await summarizer.fold(byModel, TURNS);
    expect(reasons).toEqual(['error']);
    expect(next).toMatchObject({ throughTurn: 4, version: 2 });
    expect(next.text).toContain('lisinopril 20 mg');
    expect(next.text).toContain('breast cancer');
    expect(next.words).toBe(countWords(next.text));
  });

  it('lets the model continue from a summary the fallback wrote', async () => {
    const { summarizer } = setup();
    fake.enqueue({ kind: 'status', status: 500 }, { kind: 'stream', chunks: [MODEL_TEXT] });
    const byFallback = await summarizer.fold(null, TURNS.slice(0, 2));
    const next = await summarizer.fold(byFallback, TURNS);
    expect(next).toEqual({ text: MODEL_TEXT, words: countWords(MODEL_TEXT), throughTurn: 4, version: 2 });
    expect(sentMessages(1)[1]!.content).toContain(`Current summary:\n${byFallback.text}`);
  });

  it('refuses bad options and bad turns with a TypeError', async () => {
    const { summarizer } = setup();
    const model = createModelProvider({ kind: 'local' });
    const fallback = createExtractiveSummarizer();
    expect(() => createModelSummarizer({ model, fallback, maxWords: 5 })).toThrow(TypeError);
    expect(() => createModelSummarizer({ model, fallback, timeoutMs: 0 })).toThrow(TypeError);
    expect(() => createModelSummarizer({ model, fallback: {} as never })).toThrow(/fallback/);
    await expect(summarizer.fold(null, [{ number: 1.5, role: 'patient', text: 'x' }])).rejects.toThrow(TypeError);
    expect(fake.requests).toHaveLength(0);
  });
});
