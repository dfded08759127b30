import { describe, expect, it } from 'vitest';
import {
  type BuiltPrompt,
  buildPrompt,
  PROMPT_HEADERS,
  type PromptInput,
  type PromptTurn,
  promptTurnTokens,
  retrievedBlockTokens,
  retrievedTurnTokens,
} from '../../src/context/prompt-builder.ts';
import { countMessageTokens, countTokens } from '../../src/context/tokens.ts';

const SYSTEM = 'You are a careful clinical assistant. Answer briefly and never invent facts.';
const PROFILE = 'Allergies: penicillin (hives)\nMedications: lisinopril 20 mg once daily\nConditions: hypertension';
const SUMMARY =
  'Doctor: Any chest pain? Patient: No, not that I have noticed.\n' +
  'Patient: I stopped the metformin in March. It upset my stomach.\n' +
  'Doctor: We will recheck the A1c in three months.';
// Rank order, best first.
const RETRIEVED: PromptTurn[] = [
  { number: 12, role: 'user', content: 'Penicillin gave me hives when I was a kid.' },
  { number: 3, role: 'clinician', content: 'Your blood pressure was 150 over 90 today.' },
  { number: 7, role: 'assistant', content: 'Noted: you take lisinopril in the morning.' },
];
const RECENT: PromptTurn[] = [
  { number: 20, role: 'user', content: 'My knee still hurts when I climb stairs.' },
  { number: 21, role: 'assistant', content: 'How long has it hurt, and did anything start it?' },
  { number: 22, role: 'clinician', content: 'Please also mention any swelling.' },
  { number: 23, role: 'user', content: 'About two weeks, after a long hike. Some swelling at night.' },
  { number: 24, role: 'system', content: 'The clinician joined the conversation.' },
  { number: 25, role: 'assistant', content: 'Thanks. Ice and rest may help; I will let the clinician know.' },
];
const NEXT = 'Can I take ibuprofen with my blood pressure pill?';

function input(budgetTokens: number, extra: Partial<PromptInput> = {}): PromptInput {
  return {
    systemPrompt: SYSTEM,
    profileText: PROFILE,
    summaryText: SUMMARY,
    retrieved: RETRIEVED,
    recent: RECENT,
    nextMessage: NEXT,
    budgetTokens,
    ...extra,
  };
}

const full = buildPrompt(input(100_000));
const MANDATORY = countMessageTokens([
  { role: 'system', content: SYSTEM },
  { role: 'system', content: RECENT[4]!.content },
  { role: 'assistant', content: RECENT[5]!.content },
  { role: 'user', content: NEXT },
]);
const KIND_ORDER = ['retrieved', 'recent', 'summary', 'profile'];

describe('buildPrompt', () => {
  it('lays out system prompt, profile, summary, retrieved, recent and the next message', () => {
    expect(full.dropped).toEqual([]);
    expect(full.tokens).toBe(countMessageTokens(full.messages));
    expect(full.messages.map((m) => m.role)).toEqual([
      'system',
      'system',
      'system',
      'system',
      'user',
      'assistant',
      'user',
      'user',
      'system',
      'assistant',
      'user',
    ]);
    expect(full.messages[0]!.content).toBe(SYSTEM);
    expect(full.messages[1]!.content).toBe(`Patient profile:\n${PROFILE}`);
    expect(full.messages[2]!.content).toBe(`Summary of the conversation so far:\n${SUMMARY}`);
    expect(full.messages[3]!.content).toBe(
      'Earlier relevant turns (numbered as in this conversation):\n' +
        '[turn 3] Clinician: Your blood pressure was 150 over 90 today.\n' +
        '[turn 7] Assistant: Noted: you take lisinopril in the morning.\n' +
        '[turn 12] User: Penicillin gave me hives when I was a kid.',
    );
    expect(full.messages[6]!.content).toBe('Clinician: Please also mention any swelling.');
    expect(full.messages.at(-1)).toEqual({ role: 'user', content: NEXT });
  });

  it('drops one retrieved turn, the worst-ranked, when one token short', () => {
    const p = buildPrompt(input(full.tokens - 1));
    expect(p.dropped).toEqual([{ kind: 'retrieved', turn: 7 }]);
    expect(p.tokens).toBeLessThanOrEqual(full.tokens - 1);
  });

  it('at every budget: stays within it, keeps the last 2 turns and the next message, drops in order, never splits', () => {
    for (let budget = MANDATORY; budget <= full.tokens + 3; budget++) {
      const p = buildPrompt(input(budget));
      expect(p.tokens).toBe(countMessageTokens(p.messages));
      expect(p.tokens).toBeLessThanOrEqual(budget);
      expect(p.messages.slice(-3).map((m) => m.content)).toEqual([RECENT[4]!.content, RECENT[5]!.content, NEXT]);
      const kinds = p.dropped.map((d) => KIND_ORDER.indexOf(d.kind));
      expect(kinds).toEqual([...kinds].sort((a, b) => a - b));
      const droppedTurns = (kind: string) => p.dropped.filter((d) => d.kind === kind).map((d) => d.turn);
      expect(droppedTurns('retrieved')).toEqual([7, 3, 12].slice(0, droppedTurns('retrieved').length));
      expect(droppedTurns('recent')).toEqual([20, 21, 22, 23].slice(0, droppedTurns('recent').length));
      assertWhole(p);
    }
  });

  it('trims the summary by whole sentences from the oldest, a question and its answer together', () => {
    const small = { retrieved: [], recent: RECENT.slice(-2) };
    const whole = buildPrompt(input(100_000, small));
    const p = buildPrompt(input(whole.tokens - 1, small));
    expect(p.dropped).toEqual([{ kind: 'summary' }]);
    expect(p.messages[2]!.content).toBe(
      'Summary of the conversation so far:\n' +
        'Patient: I stopped the metformin in March. It upset my stomach.\n' +
        'Doctor: We will recheck the A1c in three months.',
    );
    const two = buildPrompt(input(p.tokens - 1, small));
    expect(two.dropped).toEqual([{ kind: 'summary' }, { kind: 'summary' }]);
    expect(two.messages[2]!.content).toMatch(/so far:\nIt upset my stomach\.\nDoctor: We will/);
  });

  it('when even the kept parts exceed the budget, drops everything else and reports tokens over budget', () => {
    const p = buildPrompt(input(MANDATORY - 1));
    expect(p.tokens).toBe(MANDATORY);
    expect(p.tokens).toBeGreaterThan(MANDATORY - 1);
    expect(p.messages.map((m) => m.content)).toEqual([SYSTEM, RECENT[4]!.content, RECENT[5]!.content, NEXT]);
    expect(p.dropped.filter((d) => d.kind === 'profile')).toHaveLength(3);
  });

  it('leaves out a retrieved turn already among the recent ones, and empty parts', () => {
    const p = buildPrompt(
      input(100_000, { retrieved: [RECENT[0]!], profileText: '', summaryText: '  \n', nextMessage: undefined }),
    );
    expect(p.messages.some((m) => m.content.startsWith('Earlier relevant turns'))).toBe(false);
    expect(p.messages.some((m) => m.content.startsWith('Patient profile'))).toBe(false);
    expect(p.messages.some((m) => m.content.startsWith('Summary'))).toBe(false);
    expect(p.messages.at(-1)!.content).toBe(RECENT[5]!.content);
  });

  it('promptTurnTokens and retrievedTurnTokens are what a turn adds to the prompt as a recent or a retrieved turn', () => {
    const base = input(100_000, { retrieved: [RETRIEVED[1]!], recent: RECENT.slice(-2) }); // turn 3; turn 12 joins after it
    const withRecent = buildPrompt({ ...base, recent: [RECENT[2]!, ...RECENT.slice(-2)] });
    expect(withRecent.tokens - buildPrompt(base).tokens).toBe(promptTurnTokens(RECENT[2]!));
    const withRetrieved = buildPrompt({ ...base, retrieved: [RETRIEVED[1]!, RETRIEVED[0]!] });
    // Counted alone, a line may cost one token more than where ".\n" merges into one token.
    const added = withRetrieved.tokens - buildPrompt(base).tokens;
    expect(added).toBeLessThanOrEqual(retrievedTurnTokens(RETRIEVED[0]!));
    expect(added).toBeGreaterThanOrEqual(retrievedTurnTokens(RETRIEVED[0]!) - 1);
  });

  it('sums the retrieved block exactly from its lines, whatever the lines end with', () => {
    // Endings that decide where the tokenizer's pre-tokenizing split falls: punctuation (".\n" is one piece),
    // spaces and tabs before the line break, line breaks, "/", digits, marks, emoji, special-token text.
    const endings = [
      '.',
      '?',
      ' ',
      '  ',
      '\t',
      '\n',
      '\n\n',
      '\r',
      '/',
      ' /',
      '123',
      '4567',
      'é',
      'e\u0301',
      '😊',
      '<|endoftext|>',
      "patient's",
      'http://example.org/',
      '—',
      '中文',
      '',
    ];
    const contents = RETRIEVED.map((t) => t.content).concat(
      'Take 1/2 tablet\nthen call us.',
      '  leading spaces',
      '[bracketed] text',
    );
    const lines: string[] = [];
    let n = 1;
    for (const content of contents) {
      for (const ending of endings) lines.push(`[turn ${n++}] User: ${content}${ending}`);
    }
    // Every line alone, then runs of 2 to 6 lines picked with a fixed stride (deterministic).
    const blocks = lines.map((l) => [l]);
    for (let size = 2; size <= 6; size++) {
      for (let start = 0; start < lines.length; start += 3) {
        blocks.push(Array.from({ length: size }, (_, i) => lines[(start + i * 7) % lines.length]!));
      }
    }
    for (const block of blocks) {
      expect(retrievedBlockTokens(block), JSON.stringify(block)).toBe(
        countTokens(`${PROMPT_HEADERS.retrieved}\n${block.join('\n')}`),
      );
    }
  });

  it('refuses a non-positive budget and an unknown role with TypeError', () => {
    expect(() => buildPrompt(input(0))).toThrow(TypeError);
    expect(() => buildPrompt(input(10.5))).toThrow(TypeError);
    const bad = { number: 1, role: 'doctor', content: 'x' } as unknown as PromptTurn;
    expect(() => buildPrompt(input(1000, { recent: [bad] }))).toThrow(TypeError);
  });
});

/** Every turn is either whole in the prompt or listed as dropped. */
function assertWhole(p: BuiltPrompt): void {
  const block = p.messages.find((m) => m.content.startsWith('Earlier relevant turns'))?.content ?? '';
  for (const t of RETRIEVED) {
    const gone = p.dropped.some((d) => d.kind === 'retrieved' && d.turn === t.number);
    expect(block.includes(`] ${t.content}`) || block.includes(`: ${t.content}`)).toBe(!gone);
  }
  for (const t of RECENT) {
    const gone = p.dropped.some((d) => d.kind === 'recent' && d.turn === t.number);
    expect(p.messages.some((m) => m.content.endsWith(t.content))).toBe(!gone);
  }
}
