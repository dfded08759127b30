import { type Dialogue, visitTurns } from '../lib/dialogues.ts';
import type { ContinuumNode } from '../lib/node-process.ts';
import type { Patient, Turn } from '../lib/patients.ts';

/** `CONTINUUM_ACCESS_TOKEN_TTL` of the scenario's node. */
export const TOKEN_TTL_SECONDS = 30;
/** `CONTINUUM_CLOCK_TOLERANCE` of the scenario's node. */
export const CLOCK_TOLERANCE_SECONDS = 5;
/** `CONTINUUM_CONTEXT_MAX_AGE` of the scenario's node: 4 hours. */
export const MAX_AGE_SECONDS = 4 * 3600;
export const HOUR = 3_600_000;

/** What the visits saw, summed over every patient. */
export interface LongTally {
  steps: number;
  continuous: number;
  acked: number;
  lost: number;
  broken: number;
  contextReads: number;
  /** Acknowledged turns past the age window when a context was read (summed over reads). */
  pastWindow: number;
  /** Turns in a context's `recent` block older than the window: must be 0. */
  staleInContext: number;
  searchesFindingTurn1: number;
  searches: number;
}

export interface VisitPlan {
  /** Visits before this one (the first visit plants the marker). */
  visitIndex: number;
  /** Steps `from … to-1` of the visit's `turnsPerVisit` (a visit may be split by a pause). */
  from: number;
  to: number;
  turnsPerVisit: number;
  /** The node's `CONTINUUM_CLOCK_OFFSET` now, in ms: its clock is ours plus this. */
  offsetMs: number;
}

/** Steps `from … to-1` of one patient's visit, each followed by a context read; a search ends the visit. */
export async function visitSteps(
  node: ContinuumNode,
  p: Patient,
  dialogue: Dialogue,
  plan: VisitPlan,
  acked: Turn[],
  tally: LongTally,
): Promise<void> {
  if (p.conversationId === '') return;
  const turns = visitTurns(dialogue, plan.turnsPerVisit, plan.visitIndex * plan.turnsPerVisit);
  for (let i = plan.from; i < plan.to; i++) {
    const step = turns[i]!;
    const first = plan.visitIndex === 0 && i === 0;
    const content = first ? `My patient reference is ${p.marker}. ${step.content}` : step.content;
    const role = first ? 'user' : step.role;
    const respond = role === 'user';
    const expected = p.turn + 1;
    tally.steps++;
    const res = await p.append(node.url, { role, content }, respond);
    const stored = res.ok ? [res.body.turn, ...(res.body.reply ? [res.body.reply] : [])] : [];
    let continuous = stored.length === (respond ? 2 : 1) && stored.every((t, k) => t.number === expected + k);
    acked.push(...stored);
    tally.acked += stored.length;
    if (stored.length > 0) p.turn = stored.at(-1)!.number;
    else {
      const read = await p.send<{ turn: number }>(
        node.url,
        'conversation.read',
        `/v1/conversations/${p.conversationId}`,
        {},
        [200],
      );
      if (read.ok) p.turn = read.body.turn;
    }
    const context = await p.send<{ recent: Turn[] }>(
      node.url,
      'context',
      `/v1/conversations/${p.conversationId}/context?q=${p.marker}`,
      {},
      [200],
    );
    continuous &&= context.ok && context.text.includes(p.marker);
    if (context.ok) {
      tally.contextReads++;
      const oldest = Date.now() + plan.offsetMs - MAX_AGE_SECONDS * 1000;
      tally.pastWindow += acked.filter((t) => Date.parse(t.createdAt) < oldest).length;
      // A second of slack: the node's clock and ours read the same system time a moment apart.
      tally.staleInContext += context.body.recent.filter((t) => Date.parse(t.createdAt) < oldest - 1_000).length;
    }
    if (continuous) tally.continuous++;
  }
  if (plan.to < plan.turnsPerVisit) return;
  const search = await p.send<{ items: Turn[] }>(
    node.url,
    'search',
    `/v1/conversations/${p.conversationId}/search?q=${p.marker}&limit=5`,
    {},
    [200],
  );
  tally.searches++;
  if (search.ok && search.body.items.some((t) => t.number === 1 && t.content.includes(p.marker))) {
    tally.searchesFindingTurn1++;
  }
}
