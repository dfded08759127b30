/**
 * Where a working context's tokens go (a diagnostic next to size reduction):
 * profile, summary, retrieved and recent turns, and the rest (system prompt,
 * block headers, message framing).
 */
import { renderProfile } from '../../src/context/profile/index.ts';
import { countTokens } from '../../src/context/tokens.ts';
import type { ContextBody } from './replay.ts';

/** Tokens of each part of a working context; they add up to its `tokens`. */
export interface TokenParts {
  profile: number;
  summary: number;
  retrieved: number;
  recent: number;
  /** System prompt, block headers, speaker labels and message framing. */
  other: number;
}

/** Split a final context's tokens into its parts (content tokens of each; framing goes to `other`). */
export function tokenParts(context: ContextBody): TokenParts {
  const recentNumbers = new Set(context.recent.map((t) => t.number));
  const sum = (texts: string[]) => texts.reduce((total, text) => total + countTokens(text), 0);
  const parts = {
    profile: countTokens(renderProfile(context.profile)),
    summary: countTokens(context.summary),
    // The prompt builder leaves out a retrieved turn that is also a recent one.
    retrieved: sum(context.retrieved.filter((t) => !recentNumbers.has(t.number)).map((t) => t.content)),
    recent: sum(context.recent.map((t) => t.content)),
  };
  return { ...parts, other: context.tokens - parts.profile - parts.summary - parts.retrieved - parts.recent };
}

/** The mean of each part over several contexts. */
export function meanParts(all: readonly TokenParts[]): TokenParts {
  const keys = ['profile', 'summary', 'retrieved', 'recent', 'other'] as const;
  const out = { profile: 0, summary: 0, retrieved: 0, recent: 0, other: 0 };
  if (all.length === 0) return out;
  for (const k of keys) out[k] = Math.round(all.reduce((t, p) => t + p[k], 0) / all.length);
  return out;
}
