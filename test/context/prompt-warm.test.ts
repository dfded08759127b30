import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildPrompt, clearPromptCuts, PROMPT_HEADERS, warmPromptCounts } from '../../src/context/prompt-builder.ts';
import { clearTokenCountCache, countMessageTokens } from '../../src/context/tokens.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

// Every text the tokenizer itself is run over (a count the token-count cache did not answer).
const tokenized = vi.hoisted(() => [] as string[]);
vi.mock('gpt-tokenizer/encoding/o200k_base', async (importOriginal) => {
  const real = await importOriginal<typeof import('gpt-tokenizer/encoding/o200k_base')>();
  return {
    ...real,
    countTokens: (text: string, options?: Parameters<typeof real.countTokens>[1]) => {
      tokenized.push(text);
      return real.countTokens(text, options);
    },
  };
});

const profileText = [
  'Allergies: penicillin (hives).',
  'Medications: metformin 500 mg twice daily; lisinopril 10 mg once daily.',
  'Conditions: type 2 diabetes; hypertension.',
].join('\n');
const summaryText =
  'User: I take metformin for my diabetes. Assistant: Noted, twice daily with meals. ' +
  'User: Penicillin gives me hives. Assistant: I have recorded the allergy.';
/** A prompt over every kind of block, within `budgetTokens`. */
const promptInput = (budgetTokens: number) => ({
  systemPrompt: 'You are a careful clinical assistant.',
  profileText,
  summaryText,
  retrieved: [{ number: 3, role: 'user' as const, content: 'Penicillin gave me hives when I was a kid.' }],
  recent: [
    { number: 8, role: 'assistant' as const, content: 'Recorded: penicillin allergy (hives).' },
    { number: 9, role: 'user' as const, content: 'Can I take ibuprofen for my knee?' },
  ],
  nextMessage: 'And is paracetamol fine with metformin?',
  budgetTokens,
});
// A block's message: its header, a line break, its lines.
const blockOf = (header: string) => (text: string) => text.startsWith(`${header}\n`);

describe('token counts of the profile and summary blocks, ahead of the build', () => {
  afterEach(() => {
    tokenized.length = 0;
    clearTokenCountCache();
  });

  it('leaves a later build nothing to tokenize in those blocks, with the same result', () => {
    const input = {
      systemPrompt: 'You are a careful clinical assistant.',
      profileText,
      summaryText,
      retrieved: [],
      recent: [{ number: 9, role: 'user' as const, content: 'Can I take ibuprofen for my knee?' }],
      budgetTokens: 4_000,
    };
    const cold = buildPrompt(input);
    expect(tokenized.some(blockOf(PROMPT_HEADERS.profile))).toBe(true);
    expect(tokenized.some(blockOf(PROMPT_HEADERS.summary))).toBe(true);

    clearTokenCountCache();
    warmPromptCounts(profileText, summaryText);
    tokenized.length = 0;
    const warm = buildPrompt(input);
    expect(tokenized.filter(blockOf(PROMPT_HEADERS.profile))).toEqual([]);
    expect(tokenized.filter(blockOf(PROMPT_HEADERS.summary))).toEqual([]);
    expect(warm).toEqual(cold);
  });

  it('tokenizes nothing when the same prompt is built again, not even role names and block headers', () => {
    const first = buildPrompt(promptInput(4_000));
    expect(tokenized).toEqual(expect.arrayContaining(['user', 'assistant', 'system']));
    tokenized.length = 0;
    expect(buildPrompt(promptInput(4_000))).toEqual(first);
    expect(tokenized).toEqual([]);
  });

  it('counts the retrieved block from its lines, never tokenizing the block itself', () => {
    const retrieved = [
      { number: 3, role: 'user' as const, content: 'Penicillin gave me hives when I was a kid.' },
      { number: 5, role: 'clinician' as const, content: 'Your blood pressure was 150 over 90 today.' },
    ];
    const prompt = buildPrompt({
      systemPrompt: 'You are a careful clinical assistant.',
      profileText,
      summaryText,
      retrieved,
      recent: [{ number: 9, role: 'user', content: 'Can I take ibuprofen for my knee?' }],
      budgetTokens: 4_000,
    });
    expect(prompt.messages.some((m) => m.content.startsWith(`${PROMPT_HEADERS.retrieved}\n[turn 3]`))).toBe(true);
    // Its parts are tokenized (the header and its line break, each line), the block they make up is not.
    expect(tokenized).toContain(`${PROMPT_HEADERS.retrieved}\n`);
    expect(tokenized.filter((text) => text.startsWith(`${PROMPT_HEADERS.retrieved}\n[`))).toEqual([]);
    expect(prompt.tokens).toBe(countMessageTokens(prompt.messages));
  });

  it('gives every budget the prompt it gives on a fresh node, whatever was built from the same texts before', () => {
    const budgets = [4_000, 70, 95, 120, 150, 4_000, 110, 85];
    const fresh = budgets.map((budget) => {
      clearPromptCuts();
      clearTokenCountCache();
      return buildPrompt(promptInput(budget));
    });
    // Some budgets drop summary sentences or profile lines, so the cuts kept between builds are shared by builds
    // that keep all of a block and builds that keep part of it.
    expect(fresh.some((p) => p.dropped.some((d) => d.kind === 'summary'))).toBe(true);
    expect(fresh.some((p) => p.dropped.length === 0)).toBe(true);
    warmPromptCounts(profileText, summaryText);
    for (const [i, budget] of budgets.entries()) {
      const again = buildPrompt(promptInput(budget));
      expect(again).toEqual(fresh[i]);
      expect(again.tokens).toBe(countMessageTokens(again.messages));
    }
  });

  describe('on the append path', () => {
    let t: TestApp | undefined;
    afterEach(async () => t?.close());

    it('counts the new state’s blocks once a turn is taken in, so a reply’s build does not', async () => {
      t = await buildTestApp({ config: { contextRecentMessages: 4 } });
      const { apiKey } = await t.createTenant();
      const token = (await t.token(apiKey, 'patient-1')).access_token;
      const id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id;
      const said = [
        'I take metformin 500 mg twice a day for my diabetes.',
        'Noted: metformin 500 mg twice daily.',
        'I am allergic to penicillin, it gives me hives.',
        'Recorded: penicillin allergy (hives).',
        'My blood pressure has been high lately.',
        'How high has it been?',
        'Around 150 over 95 most mornings.',
        'Thank you, that helps.',
      ];
      for (const [i, content] of said.entries()) {
        const res = await t.request({
          method: 'POST',
          url: `/v1/conversations/${id}/turns`,
          token,
          body: { role: i % 2 === 0 ? 'user' : 'assistant', content, expectedTurn: i },
        });
        expect(res.statusCode, res.body).toBe(201);
      }
      // The working context takes the last turn in after the append's response: wait for the count of its summary
      // block (turns 1–4 once turn 8 is in, with a recent window of 4).
      await vi.waitFor(
        () => {
          const summaries = tokenized.filter(blockOf(PROMPT_HEADERS.summary));
          expect(summaries.at(-1)).toContain('Recorded: penicillin allergy');
        },
        { timeout: 5_000, interval: 20 },
      );
      tokenized.length = 0;
      const res = await t.request({
        method: 'GET',
        url: `/v1/conversations/${id}/context?q=${encodeURIComponent('Should I change my metformin dose?')}`,
        token,
      });
      expect(res.statusCode, res.body).toBe(200);
      const built = res.json();
      expect(built.summary).toContain('Recorded: penicillin allergy');
      expect(built.profile.allergies.map((a: { substance: string }) => a.substance)).toContain('penicillin');
      expect(tokenized.filter(blockOf(PROMPT_HEADERS.summary))).toEqual([]);
      expect(tokenized.filter(blockOf(PROMPT_HEADERS.profile))).toEqual([]);
    });
  });
});
