/**
 * Token counting for context budgets, with gpt-tokenizer's `o200k_base`
 * encoding (GPT-4o, GPT-4.1, o-series and later OpenAI models).
 *
 * Why o200k_base: it is the encoding of the current OpenAI models, handles
 * non-English text (Spanish-speaking patients) with fewer tokens than
 * cl100k_base, and counted the shared clinical data about as fast. No
 * public tokenizer matches Anthropic/Bedrock models exactly; on these
 * transcripts o200k counts about 3 % fewer tokens than cl100k, so leave some
 * headroom in the budget for models whose tokenizer is denser.
 *
 * The encoding's ranks are bundled JavaScript (no download) and load once,
 * on first import of this module (about 0.3 s).
 */
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';

/** The encoding used by {@link countTokens}. */
export const TOKEN_ENCODING = 'o200k_base';

/**
 * Tokens added by each chat message on top of its role and content: the
 * `<|im_start|>`, separator and `<|im_end|>` framing (OpenAI's published
 * rule for gpt-3.5-turbo-0613 and later, including gpt-4o).
 */
export const MESSAGE_OVERHEAD_TOKENS = 3;

/** Tokens that prime the assistant's reply, counted once per message list. */
export const REPLY_PRIMING_TOKENS = 3;

/** Treat special-token text a user typed ("<|endoftext|>") as plain text instead of throwing. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * Strings longer than this are rare and would pin a lot of memory. Short ones are cached too: a role name or
 * block header is counted several times per prompt, and the tokenizer costs about 75 times a cache lookup even
 * for one word (0.6 µs against 0.008 µs, warm), more on a request's cold path.
 */
const MAX_CACHED_LENGTH = 64_000;
const MAX_CACHE_ENTRIES = 20_000;
const cache = new Map<string, number>();

/**
 * Count the tokens of a text with `o200k_base`. Repeated texts (system
 * prompts, recent turns re-counted on every build) are served from a bounded
 * in-process LRU cache.
 *
 * @example
 * countTokens('Lisinopril 20 mg once daily'); // → 9
 */
export function countTokens(text: string): number {
  if (typeof text !== 'string') throw new TypeError('countTokens expects a string');
  if (text.length === 0) return 0;
  if (text.length > MAX_CACHED_LENGTH) return countO200k(text, PLAIN_TEXT);
  const hit = cache.get(text);
  if (hit !== undefined) {
    // Refresh its place in the LRU order.
    cache.delete(text);
    cache.set(text, hit);
    return hit;
  }
  const n = countO200k(text, PLAIN_TEXT);
  cache.set(text, n);
  if (cache.size > MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  return n;
}

/** Tokens of one chat message: {@link MESSAGE_OVERHEAD_TOKENS} + role + content. */
export function countOneMessageTokens(message: { role: string; content: string }): number {
  return MESSAGE_OVERHEAD_TOKENS + countTokens(message.role) + countTokens(message.content);
}

/**
 * Count the tokens of a chat message list as a model receives it: for each
 * message {@link MESSAGE_OVERHEAD_TOKENS} (3) + its role's tokens (1 for
 * system/user/assistant) + its content's tokens, plus
 * {@link REPLY_PRIMING_TOKENS} (3) once for the whole list (so an empty list
 * counts 3). The sum is additive per message, which the prompt builder
 * relies on. `known` gives the exact counts of contents the caller has
 * already summed from their parts; other contents are counted here.
 *
 * @example
 * countMessageTokens([{ role: 'user', content: 'hello' }]); // → 3 + 1 + 1 + 3 = 8
 */
export function countMessageTokens(
  messages: readonly { role: string; content: string }[],
  known?: ReadonlyMap<string, number>,
): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const m of messages) {
    const content = known?.get(m.content);
    total += content === undefined ? countOneMessageTokens(m) : MESSAGE_OVERHEAD_TOKENS + countTokens(m.role) + content;
  }
  return total;
}

/** Empty the token-count cache (it holds message texts in memory; tests and memory-pressure hooks may clear it). */
export function clearTokenCountCache(): void {
  cache.clear();
}
