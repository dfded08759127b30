import type { AuditActor, AuditEvent } from './event.ts';

/** The half-open window `[from, to)` a report covers; either end may be open. */
export interface ReportRange {
  from?: Date;
  to?: Date;
}

/** What `GET /v1/audit/report` returns. Keys of each count map are sorted. */
export interface AuditSummary {
  from?: string;
  to?: string;
  total: number;
  byAction: Record<string, number>;
  /** Keyed `subject:<subject>` for subjects, else the actor kind (`operator`, `system`, `anonymous`). */
  byActor: Record<string, number>;
  byOutcome: Record<string, number>;
}

/** A running summary, for sources that deliver events one at a time (e.g. an async cursor). */
export interface AuditSummaryBuilder {
  /** Counts `event` if its `at` lies in the range; returns whether it did. */
  add(event: AuditEvent): boolean;
  result(): AuditSummary;
}

/**
 * Counts events by action, actor and outcome over `[range.from, range.to)`.
 * Events outside the range are skipped, whatever their order. Throws
 * `TypeError` for an invalid date or `from` after `to`.
 *
 * @example
 * summarize(events, { from: new Date('2026-01-01'), to: new Date('2026-02-01') });
 * // { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z', total: 3,
 * //   byAction: { 'token.issue': 1, 'turn.append': 2 }, byActor: { 'subject:patient-42': 3 }, byOutcome: { success: 3 } }
 */
export function summarize(events: Iterable<AuditEvent>, range: ReportRange = {}): AuditSummary {
  const builder = createSummaryBuilder(range);
  for (const event of events) builder.add(event);
  return builder.result();
}

/** Starts a running summary over `range`; see {@link summarize}. */
export function createSummaryBuilder(range: ReportRange = {}): AuditSummaryBuilder {
  const from = checkDate(range.from, 'from');
  const to = checkDate(range.to, 'to');
  if (from !== undefined && to !== undefined && from > to) {
    throw new TypeError('summarize: range.from is after range.to');
  }
  let total = 0;
  const byAction = new Map<string, number>();
  const byActor = new Map<string, number>();
  const byOutcome = new Map<string, number>();

  return {
    add(event) {
      const at = Date.parse(event.at);
      if (Number.isNaN(at) || (from !== undefined && at < from) || (to !== undefined && at >= to)) return false;
      total += 1;
      bump(byAction, event.action);
      bump(byActor, actorKey(event.actor));
      bump(byOutcome, event.outcome);
      return true;
    },
    result() {
      const summary: AuditSummary = {
        total,
        byAction: sortedRecord(byAction),
        byActor: sortedRecord(byActor),
        byOutcome: sortedRecord(byOutcome),
      };
      if (range.from !== undefined) summary.from = range.from.toISOString();
      if (range.to !== undefined) summary.to = range.to.toISOString();
      return summary;
    },
  };
}

/** The `byActor` key of an actor: `subject:<subject>` for a subject, else its kind. */
export function actorKey(actor: AuditActor): string {
  return actor.kind === 'subject' && actor.subject ? `subject:${actor.subject}` : actor.kind;
}

function checkDate(value: Date | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new TypeError(`summarize: range.${name} must be a valid Date`);
  }
  return value.getTime();
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

// Object.fromEntries defines own properties, so a key like `__proto__` stays a plain count.
function sortedRecord(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
