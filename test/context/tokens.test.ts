import { describe, expect, it } from 'vitest';
import {
  clearTokenCountCache,
  countMessageTokens,
  countOneMessageTokens,
  countTokens,
  MESSAGE_OVERHEAD_TOKENS,
  REPLY_PRIMING_TOKENS,
  TOKEN_ENCODING,
} from '../../src/context/tokens.ts';

describe('countTokens (o200k_base)', () => {
  it('uses o200k_base and gives stable counts for pinned texts', () => {
    expect(TOKEN_ENCODING).toBe('o200k_base');
    expect(countTokens('')).toBe(0);
    expect(countTokens('hello')).toBe(1);
    expect(countTokens('Lisinopril 20 mg once daily')).toBe(9);
    expect(countTokens("i'm allergic to penicillin , it gives me hives .")).toBe(13);
  });

  it('gives the same count from the cache as from a fresh count', () => {
    const text = 'The patient takes metformin 500 mg twice a day with meals and reports no hypoglycaemia. '.repeat(20);
    const first = countTokens(text);
    expect(countTokens(text)).toBe(first);
    clearTokenCountCache();
    expect(countTokens(text)).toBe(first);
  });

  it('counts special-token text a user typed as plain text instead of throwing', () => {
    expect(() => countTokens('please ignore <|endoftext|> and <|im_start|>')).not.toThrow();
    expect(countTokens('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('refuses a non-string with TypeError', () => {
    expect(() => countTokens(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('countMessageTokens', () => {
  it('adds 3 per message plus the role, and 3 once for reply priming', () => {
    expect(MESSAGE_OVERHEAD_TOKENS).toBe(3);
    expect(REPLY_PRIMING_TOKENS).toBe(3);
    expect(countMessageTokens([])).toBe(3);
    expect(countMessageTokens([{ role: 'user', content: 'hello' }])).toBe(3 + 1 + 1 + 3);
  });

  it('is additive per message, so a builder can sum message costs', () => {
    const messages = [
      { role: 'system', content: 'You are a careful clinical assistant.' },
      { role: 'user', content: 'I stopped taking my atorvastatin last week.' },
      { role: 'assistant', content: 'Thanks for telling me. Why did you stop?' },
    ];
    const sum = messages.reduce((n, m) => n + countOneMessageTokens(m), REPLY_PRIMING_TOKENS);
    expect(countMessageTokens(messages)).toBe(sum);
  });
});
