import { randomBytes } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { sealEvent } from '../../../audit/chain.ts';
import type { AuditEvent } from '../../../audit/event.ts';
import { storeUnavailable } from '../../errors.ts';
import type { AuditBatch, AuditHead } from '../../port.ts';
import { type DynamoContext, errorName, jitter, wrapError } from './client.ts';
import { Expression } from './expression.ts';
import { key } from './keys.ts';
import { auditItem } from './mapping.ts';
import { absent, getItem, putAction, type TransactItem, type TransactResult, transactWrite } from './requests.ts';

/**
 * A tenant's audit chain is one sequence, so its writers take turns: each
 * audited write holds a short lease on the chain's head item, reads the state
 * it depends on, and commits its change, its audit events and the new head in
 * one transaction conditioned on still holding the lease. Holding the lease
 * while reading is what lets `AuditBatch.events` run once, on the outcome that
 * is committed; the conditions (not the lease) are what keep the chain whole
 * if a lease ever lapses.
 */

const LEASE_MS = 5_000;
/** A lease this close to its end is renewed before it is relied on. */
const LEASE_MARGIN_MS = 1_500;
/** How long a writer waits for another client's lease before giving up. */
const WAIT_MS = 3 * LEASE_MS;
/** Consecutive local writes the lease is handed to before it is released for other clients. */
const MAX_HANDOFFS = 32;
/** Plans tried before a write gives up (each retry follows a lost condition or a contended transaction). */
const MAX_ATTEMPTS = 8;

interface Lease {
  token: string;
  until: number;
  head: AuditHead | null;
}

interface TenantQueue {
  tail: Promise<void>;
  waiting: number;
  lease: Lease | null;
  handoffs: number;
}

/** One state write of a plan; `conflict` says what a failed condition means when planning again cannot fix it. */
export interface Write {
  action: TransactItem;
  conflict?: () => Error;
}

/** What an audited write decided from the state it read. */
export interface Plan<O> {
  outcome: O;
  writes: Write[];
}

/** A write holding the lease of one tenant's chain. */
export interface ChainSession {
  /** The chain's head (acquiring or renewing the lease). */
  head(): Promise<AuditHead | null>;
  /** Commit `writes` with `events` (sealed after the current head) and the new head, in one transaction. */
  commit(writes: TransactItem[], events: AuditEvent[]): Promise<TransactResult>;
}

/** Seal `inputs` one after another from `head`. */
export function sealAll(
  head: AuditHead | null,
  tenantId: string,
  inputs: Parameters<typeof sealEvent>[2][],
  at: Date,
): AuditEvent[] {
  let prev = head;
  return inputs.map((input) => {
    const event = sealEvent(prev, tenantId, input, at);
    prev = { seq: event.seq, hash: event.hash };
    return event;
  });
}

/** The audit chains of one client: a queue and a lease per tenant. */
export class AuditChains {
  readonly #ctx: DynamoContext;
  readonly #queues = new Map<string, TenantQueue>();

  constructor(ctx: DynamoContext) {
    this.#ctx = ctx;
  }

  /** The stored head of `tenantId`'s chain (strongly consistent), or null before its first event. */
  async head(tenantId: string, operation: string): Promise<AuditHead | null> {
    const item = await getItem(this.#ctx, operation, key.auditHead(tenantId), ['seq', 'hash']);
    return typeof item?.seq === 'number' ? { seq: item.seq, hash: item.hash as string } : null;
  }

  /**
   * Plan and commit one audited write: `plan` reads the state (under the lease) and returns the outcome and
   * the writes that make it so; `audit.events` gets that outcome. A failed condition means the state moved:
   * the write is planned again on fresh reads.
   */
  audited<O>(
    operation: string,
    tenantId: string,
    audit: AuditBatch<O> | undefined,
    plan: () => Promise<Plan<O>>,
  ): Promise<{ outcome: O; head: AuditHead | null }> {
    return this.exclusive(operation, tenantId, async (session) => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const head = await session.head();
        const planned = await plan();
        const inputs = audit === undefined ? [] : audit.events(planned.outcome);
        const events = audit === undefined ? [] : sealAll(head, tenantId, inputs, audit.at);
        if (planned.writes.length === 0 && events.length === 0) return { outcome: planned.outcome, head };
        const result = await session.commit(
          planned.writes.map((write) => write.action),
          events,
        );
        if (result.ok) {
          const last = events.at(-1);
          return { outcome: planned.outcome, head: last ? { seq: last.seq, hash: last.hash } : head };
        }
        for (const index of result.failed) {
          const conflict = planned.writes[index]?.conflict;
          if (conflict !== undefined) throw conflict();
        }
        if (result.contended) await jitter(10 * 2 ** attempt);
      }
      throw storeUnavailable(operation, new Error(`still conflicting after ${MAX_ATTEMPTS} attempts`));
    });
  }

  /** Run `fn` alone among this client's writes to `tenantId`'s chain, with the chain's lease. */
  async exclusive<T>(operation: string, tenantId: string, fn: (session: ChainSession) => Promise<T>): Promise<T> {
    let queue = this.#queues.get(tenantId);
    if (queue === undefined) {
      queue = { tail: Promise.resolve(), waiting: 0, lease: null, handoffs: 0 };
      this.#queues.set(tenantId, queue);
    }
    const q = queue;
    q.waiting += 1;
    const previous = q.tail;
    let done!: () => void;
    q.tail = new Promise((resolve) => {
      done = resolve;
    });
    await previous;
    q.waiting -= 1;
    try {
      return await fn({
        head: () => this.#acquire(operation, tenantId, q),
        commit: (writes, events) => this.#commit(operation, tenantId, q, writes, events),
      });
    } finally {
      if (q.lease !== null && q.waiting === 0) await this.#release(tenantId, q);
      if (q.waiting === 0 && q.lease === null && this.#queues.get(tenantId) === q) this.#queues.delete(tenantId);
      done();
    }
  }

  async #acquire(operation: string, tenantId: string, q: TenantQueue): Promise<AuditHead | null> {
    if (q.lease !== null && q.lease.until - Date.now() > LEASE_MARGIN_MS) return q.lease.head;
    // Keeping our token lets us take back a lease we may still hold (e.g. after a failed request).
    const token = q.lease?.token ?? randomBytes(12).toString('base64url');
    const deadline = Date.now() + WAIT_MS;
    for (let round = 0; ; round++) {
      const now = Date.now();
      const until = now + LEASE_MS;
      const e = new Expression();
      const by = e.name('lockedBy');
      const end = e.name('lockedUntil');
      const me = e.value(token);
      try {
        const out = await this.#ctx.doc.send(
          new UpdateCommand({
            TableName: this.#ctx.table,
            Key: key.auditHead(tenantId),
            UpdateExpression: `SET ${by} = ${me}, ${end} = ${e.value(until)}`,
            ConditionExpression: `attribute_not_exists(${by}) OR ${end} < ${e.value(now)} OR ${by} = ${me}`,
            ReturnValues: 'ALL_NEW',
            ...e.attributes(),
          }),
        );
        const item = out.Attributes ?? {};
        const head = typeof item.seq === 'number' ? { seq: item.seq, hash: item.hash as string } : null;
        q.lease = { token, until, head };
        return head;
      } catch (error) {
        if (errorName(error) !== 'ConditionalCheckFailedException') {
          // The lease may have been taken: remember the token so it is released (or taken back) later.
          q.lease = { token, until: 0, head: null };
          throw wrapError(operation, error);
        }
        if (Date.now() > deadline) {
          throw storeUnavailable(
            operation,
            new Error(`the audit chain of ${tenantId} stayed leased by another client`),
          );
        }
        await jitter(Math.min(100, 4 * 2 ** round));
      }
    }
  }

  async #commit(
    operation: string,
    tenantId: string,
    q: TenantQueue,
    writes: TransactItem[],
    events: AuditEvent[],
  ): Promise<TransactResult> {
    const lease = q.lease;
    if (lease === null) throw new TypeError(`${operation}: commit without the audit chain's lease`);
    const table = this.#ctx.table;
    const last = events.at(-1);
    const head = last === undefined ? lease.head : { seq: last.seq, hash: last.hash };
    // Hand the lease straight to the next local write of this tenant, if one waits.
    const keep = q.waiting > 0 && q.handoffs < MAX_HANDOFFS;
    const until = Date.now() + LEASE_MS;
    const headItem = {
      ...key.auditHead(tenantId),
      ...(head === null ? {} : { seq: head.seq, hash: head.hash }),
      ...(keep ? { lockedBy: lease.token, lockedUntil: until } : {}),
    };
    const actions = [
      ...writes,
      ...events.map((event) => putAction(table, auditItem(event), absent)),
      putAction(table, headItem, (e) => `${e.name('lockedBy')} = ${e.value(lease.token)}`),
    ];
    if (lease.head === null && last !== undefined) {
      actions.push(putAction(table, { ...key.auditTenant(tenantId), tenantId }));
    }
    let result: TransactResult;
    try {
      result = await transactWrite(this.#ctx, operation, actions);
    } catch (error) {
      // It may or may not have committed: read the head again (same token) before the next write.
      q.lease = { ...lease, until: 0 };
      throw error;
    }
    if (result.ok) {
      q.lease = keep ? { token: lease.token, until, head } : null;
      q.handoffs = keep ? q.handoffs + 1 : 0;
    } else if (result.failed.includes(writes.length + events.length)) {
      // The lease lapsed and another client took it.
      q.lease = null;
      q.handoffs = 0;
    }
    return result;
  }

  async #release(tenantId: string, q: TenantQueue): Promise<void> {
    const lease = q.lease;
    q.lease = null;
    q.handoffs = 0;
    if (lease === null) return;
    const e = new Expression();
    const by = e.name('lockedBy');
    try {
      await this.#ctx.doc.send(
        new UpdateCommand({
          TableName: this.#ctx.table,
          Key: key.auditHead(tenantId),
          UpdateExpression: `REMOVE ${by}, ${e.name('lockedUntil')}`,
          ConditionExpression: `${by} = ${e.value(lease.token)}`,
          ...e.attributes(),
        }),
      );
    } catch {
      // Best effort: a lease we could not release lapses on its own.
    }
  }
}
