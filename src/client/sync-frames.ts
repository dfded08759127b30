/** Reading the server's sync frames into the SDK's types, leaving out what does not fit. */
import type { SyncPresentMember, SyncSubscribed } from './sync-types.ts';

const isMember = (value: unknown): value is SyncPresentMember =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as SyncPresentMember).subject === 'string' &&
  typeof (value as SyncPresentMember).connection === 'string';

/** A `subscribed` frame as {@link SyncSubscribed}: an entry of `present` that is not a member is left out. */
export function subscribedOf(frame: Record<string, unknown>): SyncSubscribed {
  const present = Array.isArray(frame['present']) ? frame['present'].filter(isMember) : [];
  return { ...frame, after: typeof frame['after'] === 'string' ? frame['after'] : null, present };
}
