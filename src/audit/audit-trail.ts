import { KeyObject } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { SigningKeyring } from '../auth/signing-keys.ts';
import type { Clock } from '../core/clock.ts';
import type { TenantId } from '../core/types.ts';
import type { AuditBatch, Store } from '../store/port.ts';
import { type AuditCheckpoint, signCheckpoint } from './checkpoint.ts';
import type { AuditEvent, AuditEventInput } from './event.ts';
import { type AuditSummary, createSummaryBuilder, type ReportRange } from './report.ts';
import { type VerifyResult, verifyChain } from './verify.ts';

export interface AuditTrailOptions {
  store: Store;
  clock: Clock;
  keyring: SigningKeyring;
  /** Sign a checkpoint after this many events written by this node to one tenant's chain. */
  checkpointEvery?: number;
  /** ...or when this long has passed since the last one, at the next write. */
  checkpointIntervalMs?: number;
  log?: Pick<FastifyBaseLogger, 'info' | 'error'>;
}

const PAGE = 1000;

/**
 * The audit trail (ADR-007): records events, signs checkpoints that make a
 * cut tail detectable, verifies chains and builds reports. The store writes
 * the rows; events of a change go through `batch()` so they commit with it.
 */
export class AuditTrail {
  #o: AuditTrailOptions;
  readonly #sinceCheckpoint = new Map<string, { count: number; at: number }>();

  constructor(options: AuditTrailOptions) {
    this.#o = options;
  }

  /** Log checkpoints and checkpoint failures here (set once the HTTP logger exists). */
  setLogger(log: NonNullable<AuditTrailOptions['log']>): void {
    this.#o = { ...this.#o, log };
  }

  /** Events for a store call's transaction; `events` sees the call's outcome. */
  batch<O>(tenantId: TenantId, events: (outcome: O) => AuditEventInput[]): AuditBatch<O> {
    return {
      at: new Date(this.#o.clock.now()),
      events: (outcome) => {
        const list = events(outcome);
        this.#written(tenantId, list.length);
        return list;
      },
    };
  }

  /** Append events on their own (reads, refusals); resolves once they are stored. */
  async record(tenantId: TenantId, events: AuditEventInput[]): Promise<void> {
    await this.#o.store.appendAudit(tenantId, events, new Date(this.#o.clock.now()));
    this.#written(tenantId, events.length);
  }

  /** Sign the tenant's current chain head. */
  async checkpoint(tenantId: TenantId): Promise<AuditCheckpoint | null> {
    const head = await this.#o.store.auditHead(tenantId);
    if (!head) return null;
    const key = await this.#o.keyring.current();
    const checkpoint = signCheckpoint({ tenantId, seq: head.seq, hash: head.hash }, new Date(this.#o.clock.now()), {
      kid: key.kid,
      privateKey: KeyObject.from(key.privateKey),
    });
    await this.#o.store.insertAuditCheckpoint(checkpoint);
    this.#sinceCheckpoint.set(tenantId, { count: 0, at: this.#o.clock.now() });
    // Logged so a copy of each checkpoint also lives outside the database.
    this.#o.log?.info({ auditCheckpoint: { tenantId, seq: head.seq, hash: head.hash } }, 'audit checkpoint');
    return checkpoint;
  }

  /** Walk the tenant's whole chain and its checkpoints; names the first bad event. */
  async verify(tenantId: TenantId): Promise<VerifyResult> {
    await this.#o.keyring.reload();
    const keyring = this.#o.keyring;
    const publicKeys = new Map<string, KeyObject>();
    for (const { kid } of keyring.jwks().keys as { kid: string }[]) {
      const key = await keyring.find(kid);
      if (key) publicKeys.set(kid, KeyObject.from(key.publicKey));
    }
    const checkpoints = await this.#o.store.listAuditCheckpoints(tenantId);
    return verifyChain(this.events(tenantId), checkpoints, (kid) => publicKeys.get(kid), { tenantId });
  }

  /** Every event of a tenant's chain, in order, a page at a time. */
  async *events(tenantId: TenantId, resourceId?: string): AsyncGenerator<AuditEvent> {
    let afterSeq = 0;
    for (;;) {
      const page = await this.#o.store.listAuditEvents(tenantId, {
        afterSeq,
        limit: PAGE,
        ...(resourceId === undefined ? {} : { resourceId }),
      });
      yield* page;
      if (page.length < PAGE) return;
      afterSeq = page.at(-1)!.seq;
    }
  }

  async list(
    tenantId: TenantId,
    query: { afterSeq: number; limit: number; resourceId?: string },
  ): Promise<AuditEvent[]> {
    return this.#o.store.listAuditEvents(tenantId, query);
  }

  /** Counts by action, actor and outcome over `[from, to)`. */
  async report(tenantId: TenantId, range: ReportRange): Promise<AuditSummary> {
    const builder = createSummaryBuilder(range);
    for await (const event of this.events(tenantId)) builder.add(event);
    return builder.result();
  }

  #written(tenantId: TenantId, count: number): void {
    if (count === 0) return;
    const now = this.#o.clock.now();
    const state = this.#sinceCheckpoint.get(tenantId) ?? { count: 0, at: now };
    state.count += count;
    this.#sinceCheckpoint.set(tenantId, state);
    const every = this.#o.checkpointEvery ?? 100;
    const interval = this.#o.checkpointIntervalMs ?? 60_000;
    if (state.count >= every || now - state.at >= interval) {
      state.count = 0;
      state.at = now;
      // After the current transaction: a checkpoint never delays or fails the request.
      setImmediate(() => {
        this.checkpoint(tenantId).catch((error: unknown) =>
          this.#o.log?.error({ err: error }, 'audit checkpoint failed'),
        );
      });
    }
  }
}
