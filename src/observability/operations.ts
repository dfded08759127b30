import { hostname } from 'node:os';
import type { Clock } from '../core/clock.ts';
import type { CheckpointFailure } from '../store/adapters/sqlite/connection.ts';
import type { RotateOutcome } from '../store/port.ts';
import { type AlertChange, AlertEngine } from './alerts/alert-engine.ts';
import { ALERT_RULES, type AlertThresholds } from './alerts/rules.ts';
import { AlertWebhook, type AlertWebhookOptions } from './alerts/webhook.ts';
import { EmfReporter } from './emf.ts';
import type { Metrics } from './metrics.ts';
import { type ComponentName, type Probe, ReadinessChecker, type ReadinessOptions } from './readiness.ts';

/** `CONTINUUM_METRICS`: where the figures go. */
export type MetricsMode = 'prometheus' | 'emf' | 'both';

/** How an appended turn fared against its prior context (see docs/OPERATIONS.md). */
export type ContinuityOutcome = 'whole' | 'context_failed' | 'corrupt';

/** The logging calls operations make (pino's shape). */
export interface OpsLog {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface OperationsOptions {
  clock: Clock;
  metrics: Metrics;
  /** `CONTINUUM_METRICS` (default `prometheus`). */
  metricsMode?: MetricsMode;
  /** `CONTINUUM_METRICS_INTERVAL` in ms: how often EMF lines are written (default 60 000). */
  metricsIntervalMs?: number;
  /** Where EMF lines go (stdout by default, beside the logs). */
  writeEmf?: (line: string) => void;
  /** `CONTINUUM_ALERT_WEBHOOK`: alert changes are POSTed here. */
  alertWebhook?: string;
  /** Delivery tuning of the webhook (tests shorten the backoff). */
  webhook?: Omit<AlertWebhookOptions, 'url' | 'onOutcome'>;
  thresholds?: Partial<AlertThresholds>;
  /** The logger, once it exists. */
  log?: () => OpsLog | undefined;
  /** How often request-based rules are evaluated, in ms (default 5 000). */
  evaluateEveryMs?: number;
  /** How often the store and the bus are probed in the background, in ms (default 10 000). */
  monitorEveryMs?: number;
}

/**
 * Operations of one node: the alert engine and what feeds it, readiness
 * with its background monitor of the store and the bus, the alert webhook
 * and the EMF reporter. Built before the services (which report into it);
 * `start` once the components it probes exist; `close` with the app.
 */
export class Operations {
  readonly alerts: AlertEngine;
  readonly emf: EmfReporter | undefined;
  readonly webhook: AlertWebhook | undefined;
  readonly metricsMode: MetricsMode;
  readonly #o: OperationsOptions;
  readonly #timers: NodeJS.Timeout[] = [];
  #readiness: ReadinessChecker | undefined;
  #rechecking = new Map<ComponentName, number>();

  constructor(options: OperationsOptions) {
    this.#o = options;
    const { metrics, clock } = options;
    this.metricsMode = options.metricsMode ?? 'prometheus';
    for (const rule of ALERT_RULES) metrics.alertsFiring.set({ alert: rule.id }, 0);
    this.webhook =
      options.alertWebhook === undefined
        ? undefined
        : new AlertWebhook({
            ...options.webhook,
            url: options.alertWebhook,
            onOutcome: (outcome, reason) => {
              metrics.alertWebhook.inc({ outcome });
              if (outcome !== 'delivered') this.#log()?.warn({ outcome, reason }, 'alert webhook delivery');
            },
          });
    this.alerts = new AlertEngine({
      clock,
      ...(options.thresholds === undefined ? {} : { thresholds: options.thresholds }),
      onChange: (change) => this.#changed(change),
    });
    this.emf =
      this.metricsMode === 'prometheus'
        ? undefined
        : new EmfReporter({
            registry: metrics.registry,
            clock,
            intervalMs: options.metricsIntervalMs ?? 60_000,
            write: options.writeEmf ?? ((line) => process.stdout.write(line)),
            onError: (error) => this.#log()?.error({ err: error }, 'EMF metrics could not be written'),
          });
  }

  /** Whether `GET /metrics` serves Prometheus text (`CONTINUUM_METRICS` is `prometheus` or `both`). */
  get servesPrometheus(): boolean {
    return this.metricsMode !== 'emf';
  }

  /** The readiness checker (after `start`). */
  get readiness(): ReadinessChecker {
    if (this.#readiness === undefined) throw new TypeError('Operations: call start() first');
    return this.#readiness;
  }

  /** Build readiness over `probes` and start the timers: rule evaluation, the store and bus monitor, EMF. */
  start(probes: Record<ComponentName, Probe>, options: Pick<ReadinessOptions, 'timeoutMs' | 'cacheMs'> = {}): void {
    const { metrics } = this.#o;
    this.#readiness = new ReadinessChecker({
      probes,
      ...options,
      onResult: (name, check) => {
        metrics.componentUp.set({ component: name }, check.ok ? 1 : 0);
        if (name === 'store' || name === 'bus') this.alerts.component(name, check.ok, check.detail);
      },
    });
    const every = (ms: number, run: () => unknown) => {
      const timer = setInterval(run, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(this.#o.evaluateEveryMs ?? 5_000, () => this.alerts.evaluate());
    every(this.#o.monitorEveryMs ?? 10_000, () => void this.#readiness?.check(['store', 'bus']));
    this.emf?.start();
  }

  /** An access token could not be signed. */
  readonly signingFailed = (error: unknown): void => {
    this.#o.metrics.signingFailures.inc();
    this.#log()?.error({ err: error }, 'access token signing failed');
    this.alerts.signingFailed();
  };

  /** A request was answered `state_corrupt`. */
  stateCorrupt(): void {
    this.#o.metrics.stateCorrupt.inc();
    this.alerts.stateCorrupt();
  }

  /** The intent router flagged a user turn as an emergency (the reply service escalated it). */
  readonly escalated = (): void => {
    this.alerts.escalated();
  };

  /** The SQLite store's background checkpoint failed, or checkpoints went back to SQLite (see `openStore`). */
  readonly checkpointFailed = (failure: CheckpointFailure): void => {
    this.alerts.checkpointFailed(failure);
  };

  /** The store answered a refresh-token rotation. */
  readonly refreshed = (outcome: RotateOutcome['kind']): void => {
    if (outcome === 'reused') this.alerts.refreshReused();
  };

  /** The store or the bus failed a real call: drop its cached readiness and check it again soon. */
  readonly componentFailed = (name: 'store' | 'bus'): void => {
    const readiness = this.#readiness;
    if (readiness === undefined) return;
    readiness.invalidate(name);
    // At most one background re-check per component per second, however many calls fail.
    const now = performance.now();
    if (now - (this.#rechecking.get(name) ?? Number.NEGATIVE_INFINITY) < 1_000) return;
    this.#rechecking.set(name, now);
    void readiness.check([name]);
  };

  /** How an appended turn fared against its prior context. */
  turnContinuity(outcome: ContinuityOutcome): void {
    this.#o.metrics.continuity.inc({ outcome });
  }

  /** Stop the timers, write the last EMF round, let the webhook finish its attempt in flight. */
  async close(): Promise<void> {
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    await this.emf?.close();
    await this.webhook?.close();
  }

  #changed(change: AlertChange): void {
    const { alert } = change;
    this.#o.metrics.alertsFiring.set({ alert: alert.id }, change.event === 'alert.firing' ? 1 : 0);
    const log = this.#log();
    if (change.event === 'alert.resolved') log?.info({ alert }, 'alert resolved');
    else if (alert.severity === 'critical') log?.error({ alert }, 'alert firing');
    else log?.warn({ alert }, 'alert firing');
    this.webhook?.send({
      ...change,
      service: 'continuum',
      host: hostname(),
      sentAt: new Date(this.#o.clock.now()).toISOString(),
    });
  }

  #log(): OpsLog | undefined {
    return this.#o.log?.();
  }
}
