/** The components `/readyz` checks, in the order it lists them. */
export const COMPONENTS = ['store', 'bus', 'keys', 'model', 'intentRouter'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** One component's check, as `/readyz` reports it. */
export interface Check {
  ok: boolean;
  /** Why it failed. */
  detail?: string;
  /** How long the probe took, in ms. */
  ms: number;
  /** How old this result is, in ms (results are reused for up to `cacheMs`). */
  age: number;
}

/** The `/readyz` body. */
export interface ReadinessReport {
  status: 'ok' | 'degraded' | 'unavailable';
  failing: ComponentName[];
  checks: Record<ComponentName, Check>;
}

/** A real round trip to one component; rejects (or throws) when it does not work. */
export type Probe = (signal: AbortSignal) => Promise<void> | void;

export interface ReadinessOptions {
  probes: Record<ComponentName, Probe>;
  /** Bound on each probe, in ms (default 2 000). */
  timeoutMs?: number;
  /** A result is reused for this long, in ms (default 1 000), so probes stay cheap under frequent polling. */
  cacheMs?: number;
  /** Monotonic ms; `performance.now` by default. */
  now?: () => number;
  /** Told of every fresh probe result. */
  onResult?: (name: ComponentName, check: Check) => void;
}

/**
 * Checks whose failure degrades the node rather than stopping it: without the
 * shared bus a node still serves every request, with node-local fan-out and
 * limits, so a load balancer must keep sending it traffic (status `degraded`,
 * HTTP 200, the check still reported failing).
 */
export const DEGRADABLE: ReadonlySet<ComponentName> = new Set(['bus']);

interface Entry {
  at: number;
  check: Omit<Check, 'age'>;
}

/**
 * Readiness: each component probed for real with a timeout, each result
 * reused for `cacheMs` so that many probes (load balancers, the alert
 * monitor, operators) cost one round trip per component per second. Probes
 * of one component never overlap: callers arriving while one runs share it.
 * A component that reports an error in between (`invalidate`) is probed
 * afresh on the next check, so a cached pass never hides a failure seen since.
 */
export class ReadinessChecker {
  readonly #probes: Record<ComponentName, Probe>;
  readonly #timeoutMs: number;
  readonly #cacheMs: number;
  readonly #now: () => number;
  readonly #onResult: ReadinessOptions['onResult'];
  readonly #cache = new Map<ComponentName, Entry>();
  readonly #running = new Map<ComponentName, Promise<Entry>>();

  constructor(options: ReadinessOptions) {
    this.#probes = options.probes;
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#cacheMs = options.cacheMs ?? 1_000;
    this.#now = options.now ?? (() => performance.now());
    this.#onResult = options.onResult;
  }

  /** The checks of `names` (default: all), probing those without a fresh result. */
  async check(names: readonly ComponentName[] = COMPONENTS): Promise<Partial<Record<ComponentName, Check>>> {
    const entries = await Promise.all(names.map((name) => this.#entry(name)));
    const now = this.#now();
    return Object.fromEntries(
      names.map((name, i) => [name, { ...entries[i]!.check, age: Math.max(0, Math.round(now - entries[i]!.at)) }]),
    );
  }

  /** Every component's check, the failing ones and the overall status. */
  async report(): Promise<ReadinessReport> {
    const checks = (await this.check()) as Record<ComponentName, Check>;
    const failing = COMPONENTS.filter((name) => !checks[name].ok);
    const down = failing.filter((name) => !DEGRADABLE.has(name));
    return {
      status: failing.length === 0 ? 'ok' : down.length === 0 ? 'degraded' : 'unavailable',
      failing,
      checks,
    };
  }

  /** Forget the cached result of `name`: something outside the probe saw it fail. */
  invalidate(name: ComponentName): void {
    this.#cache.delete(name);
  }

  #entry(name: ComponentName): Promise<Entry> {
    const cached = this.#cache.get(name);
    if (cached && this.#now() - cached.at < this.#cacheMs) return Promise.resolve(cached);
    const running = this.#running.get(name);
    if (running) return running;
    const probe = this.#probe(name).then((entry) => {
      this.#running.delete(name);
      this.#cache.set(name, entry);
      try {
        this.#onResult?.(name, { ...entry.check, age: 0 });
      } catch {
        // A listener's failure is not the component's.
      }
      return entry;
    });
    this.#running.set(name, probe);
    return probe;
  }

  async #probe(name: ComponentName): Promise<Entry> {
    const started = this.#now();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (async () => this.#probes[name](controller.signal))(),
        new Promise((_, reject) => {
          timer = setTimeout(() => {
            const error = new Error(`no answer within ${this.#timeoutMs} ms`);
            controller.abort(error);
            reject(error);
          }, this.#timeoutMs);
        }),
      ]);
      return { at: this.#now(), check: { ok: true, ms: Math.round(this.#now() - started) } };
    } catch (error) {
      return {
        at: this.#now(),
        check: {
          ok: false,
          detail: error instanceof Error ? error.message : String(error),
          ms: Math.round(this.#now() - started),
        },
      };
    } finally {
      clearTimeout(timer);
    }
  }
}
