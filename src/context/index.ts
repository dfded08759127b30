/**
 * The working context: token counting, the rolling summarizer, the
 * per-conversation search index and the prompt builder (ADR-004).
 */

export type { BuiltPrompt, PromptInput, PromptTurn } from './prompt-builder.ts';
export { buildPrompt, clearPromptCuts, PROMPT_HEADERS } from './prompt-builder.ts';
export { clinicalSalience, isMedicationWord, isPleasantry, isShortAnswer } from './salience.ts';
export type { ConversationSearchOptions, IndexedTurn, SearchHit } from './search-index.ts';
export { ConversationIndex } from './search-index.ts';
export type {
  ExtractiveSummarizerOptions,
  RollingSummary,
  Summarizer,
  SummarySentence,
  SummaryTurn,
} from './summarizer.ts';
export { createExtractiveSummarizer } from './summarizer.ts';
export { countWords, detokenize, splitSentences } from './text.ts';
export {
  clearTokenCountCache,
  countMessageTokens,
  countOneMessageTokens,
  countTokens,
  MESSAGE_OVERHEAD_TOKENS,
  REPLY_PRIMING_TOKENS,
  TOKEN_ENCODING,
} from './tokens.ts';
