import type { GenerationResult, ModelMessage } from './port.ts';

/** A prompt in the shape of APIs with a separate system parameter (Anthropic Messages, Bedrock Converse). */
export interface SplitPrompt {
  /** Every system message, in order, joined by a blank line; '' when there are none. */
  system: string;
  /** User and assistant turns, alternating, starting with a user turn. */
  turns: { role: 'user' | 'assistant'; content: string }[];
}

/** Stands in for the user turn those APIs require first when the prompt opens with an assistant turn. */
export const CONTINUATION_PLACEHOLDER = '(The conversation so far continues below.)';

/**
 * Split a prompt for APIs that take the system text apart and want turns
 * that alternate and start with the user: system messages (wherever they
 * are) join the system text; consecutive turns of one role merge, separated
 * by a blank line; a leading assistant turn gets a placeholder user turn
 * before it. Throws `TypeError` when there is no user or assistant turn.
 */
export function splitSystem(messages: readonly ModelMessage[]): SplitPrompt {
  const system: string[] = [];
  const turns: SplitPrompt['turns'] = [];
  for (const m of messages) {
    if (m.role === 'system') {
      if (m.content.length > 0) system.push(m.content);
      continue;
    }
    const last = turns.at(-1);
    if (last && last.role === m.role) last.content += `\n\n${m.content}`;
    else turns.push({ role: m.role, content: m.content });
  }
  if (turns.length === 0) throw new TypeError('the prompt needs at least one user or assistant message');
  if (turns[0]!.role === 'assistant') turns.unshift({ role: 'user', content: CONTINUATION_PLACEHOLDER });
  return { system: system.join('\n\n'), turns };
}

/** Claude's stop reasons, the same in the Anthropic Messages and Bedrock Converse APIs, in our terms. */
export function claudeStopReason(reason: string | null | undefined): GenerationResult['stopReason'] {
  switch (reason) {
    case 'end_turn':
      return 'end';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'max_tokens';
    case 'stop_sequence':
      return 'stop_sequence';
    default:
      return 'other';
  }
}
