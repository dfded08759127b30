import type { Clock } from '../../core/clock.ts';
import type { CheckpointFailure } from '../../store/adapters/sqlite/connection.ts';
import {
  ALERT_RULES,
  type AlertId,
  type AlertRule,
  type AlertSeverity,
  type AlertThresholds,
  DEFAULT_THRESHOLDS,
} from './rules.ts';
import { EventWindow, RequestWindow } from './windows.ts';

/** One alert: a rule that fired, from `firstSeen` until `resolvedAt`. */
export interface Alert {
  /** The rule's stable id; with `firstSeen` it names one occurrence. */
  id: AlertId;
  severity: AlertSeverity;
  summary: string;
  /** The figures behind the latest evaluation that saw it firing (or the one that resolved it). */
  detail: string;
  /** ISO 8601 UTC: when it started firing. */
  firstSeen: string;
  /** ISO 8601 UTC: the last evaluation that saw it firing. */
  lastSeen: string;
  /** ISO 8601 UTC, or null while it fires. */
  resolvedAt: string | null;
}

/** A state change of an alert, as logged and sent to the webhook. */
export interface AlertChange {
  event: 'alert.firing' | 'alert.resolved';
  alert: Alert;
}

export interface AlertEngineOptions {
  clock: Clock;
  thresholds?: Partial<AlertThresholds>;
  /** Resolved alerts stay listed this long (default 24 h)... */
  historyMs?: number;
  /** ...up to this many (default 100). */
  historyLimit?: number;
  /** Told of every change, in order (logging, webhook, metrics). A throwing listener never stops the others. */
  onChange?: (change: AlertChange) => void;
}

type Component = 'store' | 'bus';

/**
 * The in-process alert engine. Hooks feed it signals (each request's status
 * and latency, signing failures, `state_corrupt` answers, refresh-token
 * reuse, readiness results of the store and the bus); `evaluate()` runs every
 * rule of {@link ALERT_RULES} over sliding windows of the injected clock and
 * reports what started or stopped firing. Discrete signals evaluate at once;
 * request figures are evaluated by the caller's timer.
 *
 * @example
 * const alerts = new AlertEngine({ clock, onChange: (c) => log.warn(c, 'alert') });
 * alerts.request(0.012, 200);
 * alerts.evaluate();
 */
export class AlertEngine {
  readonly #clock: Clock;
  readonly #t: AlertThresholds;
  readonly #requests: RequestWindow;
  readonly #signing: EventWindow;
  readonly #corruptions: EventWindow;
  readonly #reuses: EventWindow;
  readonly #escalations: EventWindow;
  readonly #checkpointFailures: EventWindow;
  #checkpointsHandedBack: string | undefined;
  readonly #components: Partial<Record<Component, { ok: boolean; detail?: string }>> = {};
  readonly #firing = new Map<AlertId, Alert>();
  readonly #resolved: Alert[] = [];
  readonly #historyMs: number;
  readonly #historyLimit: number;
  readonly #onChange: ((change: AlertChange) => void) | undefined;

  constructor(options: AlertEngineOptions) {
    this.#clock = options.clock;
    this.#t = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
    this.#requests = new RequestWindow({
      windowMs: this.#t.requestWindowMs,
      bucketMs: Math.max(1000, Math.floor(this.#t.requestWindowMs / 30)),
      slowSeconds: this.#t.latencySeconds,
    });
    const keepMs = Math.max(
      this.#t.signingWindowMs,
      this.#t.corruptionWindowMs,
      this.#t.reuseWindowMs,
      this.#t.escalationWindowMs,
      this.#t.checkpointFailureWindowMs,
    );
    this.#signing = new EventWindow({ keepMs });
    this.#corruptions = new EventWindow({ keepMs });
    this.#reuses = new EventWindow({ keepMs });
    this.#escalations = new EventWindow({ keepMs });
    this.#checkpointFailures = new EventWindow({ keepMs });
    this.#historyMs = options.historyMs ?? 24 * 3_600_000;
    this.#historyLimit = options.historyLimit ?? 100;
    this.#onChange = options.onChange;
  }

  /** The thresholds in force (defaults merged with the options). */
  get thresholds(): Readonly<AlertThresholds> {
    return this.#t;
  }

  /** One finished request (operations routes and SSE streams are left out by the caller). */
  request(latencySeconds: number, status: number): void {
    this.#requests.record(this.#clock.now(), latencySeconds, status >= 500);
  }

  /** An access token could not be signed. */
  signingFailed(): AlertChange[] {
    this.#signing.record(this.#clock.now());
    return this.evaluate();
  }

  /** A request was answered `state_corrupt`. */
  stateCorrupt(): AlertChange[] {
    this.#corruptions.record(this.#clock.now());
    return this.evaluate();
  }

  /** A spent refresh token was presented again. */
  refreshReused(): AlertChange[] {
    this.#reuses.record(this.#clock.now());
    return this.evaluate();
  }

  /** A user turn was flagged as an emergency by the intent router. */
  escalated(): AlertChange[] {
    this.#escalations.record(this.#clock.now());
    return this.evaluate();
  }

  /**
   * A background checkpoint of the SQLite store failed (`handedBack: false`), or its thread is gone and checkpoints
   * went back to SQLite for good (`handedBack: true`, with the reason).
   */
  checkpointFailed(failure: CheckpointFailure): AlertChange[] {
    if (failure.handedBack) this.#checkpointsHandedBack = failure.reason;
    else this.#checkpointFailures.record(this.#clock.now());
    return this.evaluate();
  }

  /** A readiness result of the store or the bus. Evaluates only when the component's state changed. */
  component(name: Component, ok: boolean, detail?: string): AlertChange[] {
    const previous = this.#components[name];
    this.#components[name] = { ok, ...(detail === undefined ? {} : { detail }) };
    return previous?.ok === ok ? [] : this.evaluate();
  }

  /** Run every rule now; returns (and reports to `onChange`) what started or stopped firing. */
  evaluate(): AlertChange[] {
    const now = this.#clock.now();
    const at = new Date(now).toISOString();
    const signals = {
      requests: this.#requests.totals(now),
      signingFailures: this.#signing.count(now, this.#t.signingWindowMs),
      corruptions: this.#corruptions.count(now, this.#t.corruptionWindowMs),
      reuses: this.#reuses.count(now, this.#t.reuseWindowMs),
      escalations: this.#escalations.count(now, this.#t.escalationWindowMs),
      checkpoints: {
        failures: this.#checkpointFailures.count(now, this.#t.checkpointFailureWindowMs),
        ...(this.#checkpointsHandedBack === undefined ? {} : { handedBack: this.#checkpointsHandedBack }),
      },
      components: this.#components,
    };
    const changes: AlertChange[] = [];
    const resolved: Alert[] = [];
    for (const rule of ALERT_RULES) {
      const { firing, detail } = rule.check(signals, this.#t);
      const current = this.#firing.get(rule.id);
      if (firing && current) {
        current.lastSeen = at;
        current.detail = detail;
      } else if (firing) {
        const alert = newAlert(rule, detail, at);
        this.#firing.set(rule.id, alert);
        changes.push({ event: 'alert.firing', alert: { ...alert } });
      } else if (current) {
        this.#firing.delete(rule.id);
        const alert = { ...current, detail, resolvedAt: at };
        resolved.push(alert);
        changes.push({ event: 'alert.resolved', alert: { ...alert } });
      }
    }
    // Newest first; those resolved by one evaluation in rule order.
    this.#resolved.unshift(...resolved);
    this.#trimHistory(now);
    for (const change of changes) {
      try {
        this.#onChange?.(change);
      } catch {
        // A failing listener (a closed log stream) must not stop evaluation.
      }
    }
    return changes;
  }

  /** Alerts firing now (in rule order) and those resolved recently (newest first). */
  list(): { firing: Alert[]; resolved: Alert[] } {
    this.#trimHistory(this.#clock.now());
    const order = new Map(ALERT_RULES.map((rule, i) => [rule.id, i]));
    const firing = [...this.#firing.values()].sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    return { firing: firing.map((a) => ({ ...a })), resolved: this.#resolved.map((a) => ({ ...a })) };
  }

  #trimHistory(now: number): void {
    while (
      this.#resolved.length > this.#historyLimit ||
      (this.#resolved.length > 0 && Date.parse(this.#resolved.at(-1)!.resolvedAt!) < now - this.#historyMs)
    ) {
      this.#resolved.pop();
    }
  }
}

function newAlert(rule: AlertRule, detail: string, at: string): Alert {
  return {
    id: rule.id,
    severity: rule.severity,
    summary: rule.summary,
    detail,
    firstSeen: at,
    lastSeen: at,
    resolvedAt: null,
  };
}
