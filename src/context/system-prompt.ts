/**
 * The system prompt every model prompt starts with; the working context follows it.
 * Kept short on purpose: it is sent with every turn of every conversation.
 */
export const SYSTEM_PROMPT =
  'You are a careful clinical assistant. Rely on the profile, summary and turns below; ' +
  'never invent medications, doses, allergies or diagnoses; say what is unknown. Be brief.';
