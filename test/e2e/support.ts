export { firstBrokenTurn } from '../../src/conversations/turn-hash.ts';

import { callJson } from '../helpers/server-process.ts';

/** A turn as the API returns it. */
export interface Turn {
  number: number;
  role: 'user' | 'clinician' | 'assistant' | 'system';
  content: string;
  createdAt: string;
  hash: string;
}

/** The body of a `409 turn_conflict` (and of any other problem). */
export interface Problem {
  code: string;
  status: number;
  detail: string;
  currentTurn?: number;
  missed?: Turn[];
  missedTruncated?: boolean;
}

export interface Conversation {
  id: string;
  turn: number;
  status: string;
  subject: string;
}

/** Every turn of a conversation over HTTP, oldest first, paging with `after`. */
export async function allTurns(baseUrl: string, token: string, id: string): Promise<Turn[]> {
  const turns: Turn[] = [];
  for (;;) {
    const res = await callJson<{ items: Turn[] }>(
      baseUrl,
      'GET',
      `/v1/conversations/${id}/turns?after=${turns.length}&limit=500`,
      { token },
    );
    if (res.status !== 200) throw new Error(`GET turns: ${res.status} ${JSON.stringify(res.body)}`);
    turns.push(...res.body.items);
    if (res.body.items.length < 500) return turns;
  }
}
