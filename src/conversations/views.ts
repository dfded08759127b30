import type { Role } from '../core/types.ts';

/** A conversation as the API shows it. */
export interface ConversationView {
  id: string;
  tenantId: string;
  subject: string;
  title: string | null;
  metadata: Record<string, unknown> | null;
  startedAt: string;
  createdAt: string;
  turn: number;
  status: 'open' | 'closed';
  closedAt: string | null;
}

/** A turn as the API shows it. */
export interface TurnView {
  number: number;
  role: Role;
  content: string;
  createdAt: string;
  hash: string;
}
