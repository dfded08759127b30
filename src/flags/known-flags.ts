/**
 * The feature flags this build knows: each switches one of the newer
 * capabilities per tenant, the first step of a rollback (turn it off, no
 * redeploy). Unset, every flag is on for every tenant: today's behaviour.
 */
export const KNOWN_FLAGS = {
  'model-context': {
    description:
      'Model-backed rolling summaries and profile extraction (with a real CONTINUUM_MODEL); off: the embedded summarizer and extractor.',
  },
  retrieval: {
    description: 'Older turns retrieved (BM25) into the working context for the next message; off: none are retrieved.',
  },
  sync: { description: 'WebSocket sync (GET /v1/conversations/{id}/sync); off: the socket is refused.' },
} as const satisfies Record<string, { description: string }>;

/** The name of a flag this build knows. */
export type FlagName = keyof typeof KNOWN_FLAGS;

/** Every known flag name, in a stable order. */
export const FLAG_NAMES = Object.keys(KNOWN_FLAGS) as FlagName[];

/** True when `name` is a flag this build knows. */
export function isFlagName(name: string): name is FlagName {
  return Object.hasOwn(KNOWN_FLAGS, name);
}
