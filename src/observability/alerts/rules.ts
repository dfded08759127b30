import type { RequestTotals } from './windows.ts';

/** The stable id of each alert rule (also the `id` of its alerts). */
export type AlertId =
  | 'latency_p99'
  | 'error_rate'
  | 'jwt_signing_failure'
  | 'state_corrupt'
  | 'refresh_token_reuse'
  | 'emergency_escalation'
  | 'bus_down'
  | 'store_down'
  | 'sqlite_checkpoints';

export type AlertSeverity = 'critical' | 'warning';

/** The thresholds and windows of the rules; every field has a default ({@link DEFAULT_THRESHOLDS}). */
export interface AlertThresholds {
  /** Window of the request-based rules (latency, error rate). */
  requestWindowMs: number;
  /** `latency_p99` fires when the p99 of the window is above this. */
  latencySeconds: number;
  /** ...and the window holds at least this many requests. */
  minRequestsForLatency: number;
  /** `error_rate` fires when 5xx ÷ requests in the window is above this fraction. */
  errorRate: number;
  /** ...and the window holds at least this many requests (one error in three requests is no rate). */
  minRequestsForErrorRate: number;
  /** `jwt_signing_failure` fires while a failure happened within this window. */
  signingWindowMs: number;
  /** `state_corrupt` fires while a corruption was seen within this window. */
  corruptionWindowMs: number;
  /** `refresh_token_reuse` fires while a reuse was seen within this window. */
  reuseWindowMs: number;
  /** `emergency_escalation` fires while a user turn was flagged as an emergency within this window. */
  escalationWindowMs: number;
  /** `sqlite_checkpoints` fires when background checkpoints of the SQLite store failed within this window... */
  checkpointFailureWindowMs: number;
  /** ...at least this many times (and, whatever the count, once checkpoints were handed back to SQLite). */
  checkpointFailures: number;
}

export const DEFAULT_THRESHOLDS: AlertThresholds = {
  requestWindowMs: 5 * 60_000,
  latencySeconds: 2,
  minRequestsForLatency: 20,
  errorRate: 0.001,
  minRequestsForErrorRate: 100,
  signingWindowMs: 5 * 60_000,
  corruptionWindowMs: 15 * 60_000,
  reuseWindowMs: 15 * 60_000,
  escalationWindowMs: 15 * 60_000,
  checkpointFailureWindowMs: 15 * 60_000,
  checkpointFailures: 3,
};

/** What the rules read, as of one evaluation. */
export interface AlertSignals {
  requests: RequestTotals;
  /** Events within each rule's window. */
  signingFailures: number;
  corruptions: number;
  reuses: number;
  escalations: number;
  /** The SQLite store's background checkpoints: failures within the window, and why they went back to SQLite, if they did. */
  checkpoints: { failures: number; handedBack?: string };
  /** Latest readiness of the store and the bus; `undefined` until first checked. */
  components: Partial<Record<'store' | 'bus', { ok: boolean; detail?: string }>>;
}

export interface AlertRule {
  id: AlertId;
  severity: AlertSeverity;
  /** One line saying what is wrong when it fires. */
  summary: string;
  /** Whether the rule fires now, and a line with the figures behind it. */
  check(signals: AlertSignals, t: AlertThresholds): { firing: boolean; detail: string };
}

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;
const seconds = (s: number | null) =>
  s === null ? 'n/a' : s === Number.POSITIVE_INFINITY ? `> 30 s` : `≤ ${s < 1 ? `${s * 1000} ms` : `${s} s`}`;

/** The rules, in the order alerts are listed. */
export const ALERT_RULES: readonly AlertRule[] = [
  {
    id: 'store_down',
    severity: 'critical',
    summary: 'The store does not answer: requests that read or write state fail',
    check: ({ components: { store } }) => ({
      firing: store?.ok === false,
      detail: store?.ok === false ? `store check failing: ${store.detail ?? 'no detail'}` : 'store check passing',
    }),
  },
  {
    id: 'state_corrupt',
    severity: 'critical',
    summary: 'Stored state failed its integrity check (hash chain or ciphertext)',
    check: ({ corruptions }, t) => ({
      firing: corruptions > 0,
      detail: `${corruptions} state_corrupt answer(s) in the last ${minutes(t.corruptionWindowMs)}`,
    }),
  },
  {
    id: 'jwt_signing_failure',
    severity: 'critical',
    summary: 'Access tokens could not be signed: clients cannot sign in or refresh',
    check: ({ signingFailures }, t) => ({
      firing: signingFailures > 0,
      detail: `${signingFailures} signing failure(s) in the last ${minutes(t.signingWindowMs)}`,
    }),
  },
  {
    id: 'error_rate',
    severity: 'critical',
    summary: 'More than 0.1 % of requests fail with a 5xx',
    check: ({ requests }, t) => {
      const rate = requests.requests === 0 ? 0 : requests.errors / requests.requests;
      return {
        firing: requests.requests >= t.minRequestsForErrorRate && rate > t.errorRate,
        detail: `${requests.errors} of ${requests.requests} requests failed with a 5xx in the last ${minutes(t.requestWindowMs)} (${(rate * 100).toFixed(2)} %, threshold ${(t.errorRate * 100).toFixed(2)} % over at least ${t.minRequestsForErrorRate} requests)`,
      };
    },
  },
  {
    id: 'latency_p99',
    severity: 'warning',
    summary: 'The p99 request latency is above 2 s',
    check: ({ requests }, t) => {
      // Nearest rank: the p99 is above the threshold when more requests exceed it than the top 1 % holds.
      const allowed = requests.requests - Math.ceil(0.99 * requests.requests);
      return {
        firing: requests.requests >= t.minRequestsForLatency && requests.slow > allowed,
        detail: `${requests.slow} of ${requests.requests} requests took over ${t.latencySeconds} s in the last ${minutes(t.requestWindowMs)} (p99 ${seconds(requests.p99UpperBound)}; needs at least ${t.minRequestsForLatency} requests)`,
      };
    },
  },
  {
    id: 'refresh_token_reuse',
    severity: 'warning',
    summary: 'A spent refresh token was presented again (possible token theft); its family was revoked',
    check: ({ reuses }, t) => ({
      firing: reuses > 0,
      detail: `${reuses} reuse(s) in the last ${minutes(t.reuseWindowMs)}`,
    }),
  },
  {
    id: 'emergency_escalation',
    severity: 'critical',
    summary:
      'A user turn was flagged as an emergency (chest pain, stroke signs, suicidal ideation, ...): a person should look at it now',
    check: ({ escalations }, t) => ({
      firing: escalations > 0,
      detail: `${escalations} emergency turn(s) in the last ${minutes(t.escalationWindowMs)}`,
    }),
  },
  {
    id: 'sqlite_checkpoints',
    severity: 'warning',
    summary:
      "The SQLite store's WAL checkpoints fail, or no longer run on their background thread: the WAL grows, or commits wait on disk I/O",
    check: ({ checkpoints: { failures, handedBack } }, t) => ({
      // Handed back is for the rest of the process's life: only a restart brings the thread back.
      firing: handedBack !== undefined || failures >= t.checkpointFailures,
      detail:
        handedBack === undefined
          ? `${failures} background checkpoint(s) failed in the last ${minutes(t.checkpointFailureWindowMs)} (fires at ${t.checkpointFailures})`
          : `checkpoints went back to SQLite, inside commits, until the server restarts: ${handedBack}`,
    }),
  },
  {
    id: 'bus_down',
    severity: 'warning',
    summary: 'The shared event bus does not answer: fan-out and limits are node-local',
    check: ({ components: { bus } }) => ({
      firing: bus?.ok === false,
      detail: bus?.ok === false ? `bus check failing: ${bus.detail ?? 'no detail'}` : 'bus check passing',
    }),
  },
];
