import { describe, expect, it } from 'vitest';
import { buildPrompt } from '../../src/context/prompt-builder.ts';
import { SYSTEM_PROMPT } from '../../src/context/system-prompt.ts';
import { countMessageTokens, countTokens } from '../../src/context/tokens.ts';
import { createLocalProvider, LOCAL_MODEL_ID } from '../../src/models/local-provider.ts';
import { composeLocalReply, parsePrompt } from '../../src/models/local-reply.ts';
import type { GenerateRequest, ModelMessage } from '../../src/models/port.ts';
import { ManualClock } from './fakes/manual-clock.ts';
import { drain } from './remote-provider-suite.ts';

const PROFILE = [
  'Medications: metformin 500 mg twice daily (active); lisinopril 20 mg once daily (active)',
  'Allergies: penicillin (hives)',
  'Conditions: type 2 diabetes (active), hypertension (active)',
].join('\n');

function prompt(nextMessage: string, extra: { profileText?: string; summaryText?: string } = {}): ModelMessage[] {
  return buildPrompt({
    systemPrompt: SYSTEM_PROMPT,
    profileText: extra.profileText ?? PROFILE,
    summaryText: extra.summaryText ?? '',
    retrieved: [],
    recent: [
      { number: 1, role: 'user', content: 'Hi, I have some questions.' },
      { number: 2, role: 'assistant', content: 'Of course, go ahead.' },
    ],
    nextMessage,
    budgetTokens: 4_000,
  }).messages;
}

function request(messages: ModelMessage[], extra: Partial<GenerateRequest> = {}): GenerateRequest {
  return { messages, maxTokens: 512, signal: new AbortController().signal, ...extra };
}

describe('local provider (offline responder)', () => {
  it('answers a dose question from the medications in the profile block', async () => {
    const model = createLocalProvider({ wordDelayMs: 0 });
    const messages = prompt('what dose of my diabetes medicine do I take?');
    const generation = model.generate(request(messages));
    const { text, error } = await drain(generation);
    expect(error).toBeUndefined();
    expect(text).toContain('metformin 500 mg');
    expect(text).toContain('You asked: "what dose of my diabetes medicine do I take?"');
    expect(text).toContain('offline responder');
    expect(text).toContain('consult a clinician');
    expect(await generation.result).toEqual({
      stopReason: 'end',
      usage: { inputTokens: countMessageTokens(messages), outputTokens: countTokens(text) },
      model: LOCAL_MODEL_ID,
      offline: true,
    });
  });

  it('is deterministic: the same prompt gives the same reply', () => {
    const messages = prompt('Am I allergic to anything?');
    expect(composeLocalReply(messages)).toBe(composeLocalReply(messages));
    expect(composeLocalReply(messages)).toContain('allergies: penicillin (hives)');
    expect(composeLocalReply(messages)).not.toContain('metformin');
  });

  it('restates facts that share a word with the question', () => {
    const reply = composeLocalReply(prompt('Is my hypertension under control?'));
    expect(reply).toContain('Your profile records, under conditions: hypertension (active).');
    expect(reply).not.toContain('penicillin');
  });

  it('gives an overview of the profile when nothing in it bears on the question', () => {
    const reply = composeLocalReply(prompt('Can you help me plan my week?'));
    expect(reply).toContain('What I have on record so far: Medications: metformin 500 mg twice daily (active)');
  });

  it('says so when there is no profile, and quotes a matching earlier turn', () => {
    const messages = buildPrompt({
      systemPrompt: SYSTEM_PROMPT,
      profileText: '',
      summaryText: 'Patient: I walk every morning. Doctor: Keep it up.',
      retrieved: [{ number: 2, role: 'user', content: 'I take warfarin 5 mg every evening.' }],
      recent: [],
      nextMessage: 'Should I keep taking the warfarin before surgery?',
      budgetTokens: 4_000,
    }).messages;
    const reply = composeLocalReply(messages);
    expect(reply).toContain('I do not have any details of your health on record yet.');
    expect(reply).toContain('Earlier in this conversation (turn 2), you said: "I take warfarin 5 mg every evening."');
  });

  it('reads the profile, summary and earlier turns the prompt builder wrote', () => {
    const parsed = parsePrompt(
      buildPrompt({
        systemPrompt: SYSTEM_PROMPT,
        profileText: PROFILE,
        summaryText: 'Patient: my knee hurts.',
        retrieved: [{ number: 4, role: 'clinician', content: 'Your A1c was 7.1.' }],
        recent: [],
        nextMessage: 'And my A1c?',
        budgetTokens: 4_000,
      }).messages,
    );
    expect(parsed.profile[0]).toEqual({
      label: 'Medications',
      items: ['metformin 500 mg twice daily (active)', 'lisinopril 20 mg once daily (active)'],
    });
    expect(parsed.profile[2]!.items).toEqual(['type 2 diabetes (active)', 'hypertension (active)']);
    expect(parsed.summary).toBe('Patient: my knee hurts.');
    expect(parsed.earlier).toEqual([{ turn: 4, speaker: 'Clinician', text: 'Your A1c was 7.1.' }]);
    expect(parsed.question).toBe('And my A1c?');
  });

  it('opens with emergency advice when the router marked the turn an emergency', () => {
    const reply = composeLocalReply(prompt('I have crushing chest pain'), { intent: 'emergency' });
    expect(reply.startsWith('If this may be an emergency, call your local emergency number')).toBe(true);
    expect(reply).toContain('You said: "I have crushing chest pain".');
  });

  it('streams word by word at wordDelayMs: each delta a word and its trailing space', async () => {
    const clock = new ManualClock();
    const model = createLocalProvider({ wordDelayMs: 15, clock });
    const messages = prompt('what dose of my diabetes medicine do I take?');
    const words = composeLocalReply(messages).match(/\S+\s*/g)!;
    const iterator = model.generate(request(messages)).deltas[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ value: words[0], done: false });
    expect(words[0]).toBe('You ');
    let second: IteratorResult<string> | undefined;
    const pending = iterator.next().then((r) => {
      second = r;
    });
    await clock.advance(14);
    expect(second).toBeUndefined();
    await clock.advance(1);
    await pending;
    expect(second).toEqual({ value: words[1], done: false });
  });

  it('stops promptly when the signal aborts, reporting stopReason aborted', async () => {
    const clock = new ManualClock();
    const model = createLocalProvider({ wordDelayMs: 1_000, clock });
    const controller = new AbortController();
    const generation = model.generate(request(prompt('what dose do I take?'), { signal: controller.signal }));
    const iterator = generation.deltas[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toBe('You ');
    expect(clock.pending).toBe(1);
    controller.abort();
    // No clock advance: the pending word timer is cancelled and the generation ends at once.
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(clock.pending).toBe(0);
    expect(await generation.result).toMatchObject({
      stopReason: 'aborted',
      usage: { outputTokens: countTokens('You ') },
      model: LOCAL_MODEL_ID,
      offline: true,
    });
  });

  it('cuts the reply at maxTokens', async () => {
    const model = createLocalProvider({ wordDelayMs: 0 });
    const generation = model.generate(request(prompt('what dose do I take?'), { maxTokens: 5 }));
    const { text } = await drain(generation);
    const result = await generation.result;
    expect(result.stopReason).toBe('max_tokens');
    expect(result.usage.outputTokens).toBeLessThanOrEqual(5);
    expect(countTokens(text)).toBe(result.usage.outputTokens);
  });

  it('refuses a malformed request with TypeError and a bad option eagerly', () => {
    const model = createLocalProvider();
    expect(() => model.generate(request([], {}))).toThrow(TypeError);
    expect(() => model.generate(request(prompt('hi'), { maxTokens: 0 }))).toThrow(/maxTokens/);
    expect(() => createLocalProvider({ wordDelayMs: -1 })).toThrow(/wordDelayMs/);
  });

  it('deltas can be read once', () => {
    const generation = createLocalProvider({ wordDelayMs: 0 }).generate(request(prompt('hi')));
    generation.deltas[Symbol.asyncIterator]();
    expect(() => generation.deltas[Symbol.asyncIterator]()).toThrow(/only once/);
  });

  it('probe answers at once', async () => {
    await expect(createLocalProvider().probe(new AbortController().signal)).resolves.toBeUndefined();
  });
});
