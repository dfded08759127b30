import type { AuditTrail } from '../audit/audit-trail.ts';
import { type AuditActor, SYSTEM_TENANT } from '../audit/event.ts';
import { systemActor } from '../audit/events.ts';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../errors/index.ts';
import type { FlagRecord, Store } from '../store/port.ts';
import { type FlagInput, type FlagSeed, ruleOf } from './flag-input.ts';
import { FLAG_NAMES, type FlagName, isFlagName, KNOWN_FLAGS } from './known-flags.ts';
import { type FlagRule, isOnFor } from './rollout.ts';

export interface FlagServiceOptions {
  store: Pick<Store, 'listFlags' | 'putFlag'>;
  clock: Clock;
  audit: Pick<AuditTrail, 'batch'>;
  /** Flags from `CONTINUUM_FLAGS`: written to the store at start when it has no record of them yet. */
  seeds?: readonly FlagSeed[];
  /** How long this node trusts its copy of the store's flags, in ms (default 5 000). */
  cacheMs?: number;
  /** A failed background re-read (the node keeps its last copy and tries again an interval later). */
  onError?: (error: unknown) => void;
}

/** A flag as `GET /v1/admin/flags` shows it. */
export interface FlagView extends FlagRule {
  name: FlagName;
  description: string;
  tenants: string[];
  /** When it was last set; `null` while it has its default (on for every tenant). */
  updatedAt: string | null;
}

const DEFAULT_RULE: FlagRule = { enabled: true, tenants: [], percent: 100 };

/**
 * Feature flags, shared by every node through the store: the first level of
 * rolling back a release. `isEnabled` is synchronous and answers from this node's
 * copy; the copy is re-read when a request finds it older than `cacheMs`
 * (`refreshIfStale`), and updated at once on the node that changes a flag.
 * Precedence: `CONTINUUM_FLAGS` seeds flags the store does not have yet;
 * after that the store wins. A flag nobody set is on for every tenant.
 *
 * @example
 * const flags = new FlagService({ store, clock, audit, seeds: config.flags });
 * await flags.start();
 * if (flags.isEnabled('retrieval', tenantId)) …
 */
export class FlagService {
  readonly #o: FlagServiceOptions;
  readonly #cacheMs: number;
  #records = new Map<FlagName, FlagRecord>();
  #loadedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;
  /** Bumped by every local write: a re-read that started before one is stale and dropped. */
  #generation = 0;

  constructor(options: FlagServiceOptions) {
    const cacheMs = options.cacheMs ?? 5000;
    if (!Number.isFinite(cacheMs) || cacheMs < 0) throw new TypeError('FlagService: cacheMs must be 0 or more');
    this.#o = options;
    this.#cacheMs = cacheMs;
  }

  /** Read the store's flags and write the configured ones it does not have (audited as `flag.update`). */
  async start(): Promise<void> {
    await this.refresh();
    for (const seed of this.#o.seeds ?? []) {
      if (!this.#records.has(seed.name)) await this.#put(seed.name, seed, systemActor, 'config');
    }
  }

  /** Whether flag `name` is on for `tenantId`, from this node's copy. */
  isEnabled(name: FlagName, tenantId: string): boolean {
    if (!isFlagName(name)) throw new TypeError(`isEnabled: unknown flag ${JSON.stringify(name)}`);
    return isOnFor(name, this.#records.get(name) ?? DEFAULT_RULE, tenantId);
  }

  /** Every known flag as this node applies it. */
  list(): FlagView[] {
    return FLAG_NAMES.map((name) => this.#view(name));
  }

  /** Re-read the store's flags when this node's copy is older than `cacheMs`; never throws. */
  async refreshIfStale(): Promise<void> {
    if (this.#o.clock.now() - this.#loadedAt < this.#cacheMs) return;
    try {
      await this.refresh();
    } catch (error) {
      // Keep the last copy; the next try is an interval away, so a store outage is not hammered per request.
      this.#loadedAt = this.#o.clock.now();
      this.#o.onError?.(error);
    }
  }

  /** Re-read the store's flags now (concurrent callers share one read). */
  refresh(): Promise<void> {
    this.#loading ??= this.#read().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /**
   * Replace flag `name` (`PUT /v1/admin/flags/{name}`): stored, audited as
   * `flag.update` on the system chain, and applied on this node at once.
   * Unknown flag → `not_found`; a bad tenant id or percentage → `invalid_request`.
   */
  async set(name: string, input: FlagInput, actor: AuditActor): Promise<FlagView> {
    if (!isFlagName(name)) {
      throw new AppError('not_found', `No flag ${JSON.stringify(name)}; known flags: ${FLAG_NAMES.join(', ')}`);
    }
    const rule = ruleOf(input, (problem) => {
      throw new AppError('invalid_request', problem);
    });
    await this.#put(name, rule, actor, 'api');
    return this.#view(name);
  }

  async #read(): Promise<void> {
    const generation = this.#generation;
    const records = await this.#o.store.listFlags();
    if (generation !== this.#generation) return;
    this.#records = new Map(
      records.filter((r): r is FlagRecord & { name: FlagName } => isFlagName(r.name)).map((r) => [r.name, r]),
    );
    this.#loadedAt = this.#o.clock.now();
  }

  async #put(name: FlagName, rule: FlagRule, actor: AuditActor, source: 'config' | 'api'): Promise<void> {
    const record: FlagRecord = {
      name,
      enabled: rule.enabled,
      tenants: [...rule.tenants],
      percent: rule.percent,
      updatedAt: new Date(this.#o.clock.now()).toISOString(),
    };
    await this.#o.store.putFlag(
      record,
      this.#o.audit.batch(SYSTEM_TENANT, () => [
        {
          action: 'flag.update',
          actor,
          resource: { type: 'flag', id: name },
          outcome: 'success',
          detail: { enabled: record.enabled, percent: record.percent, tenants: record.tenants.length, source },
        },
      ]),
    );
    this.#generation++;
    this.#records.set(name, record);
  }

  #view(name: FlagName): FlagView {
    const record = this.#records.get(name);
    return {
      name,
      description: KNOWN_FLAGS[name].description,
      enabled: (record ?? DEFAULT_RULE).enabled,
      tenants: [...(record ?? DEFAULT_RULE).tenants],
      percent: (record ?? DEFAULT_RULE).percent,
      updatedAt: record?.updatedAt ?? null,
    };
  }
}
