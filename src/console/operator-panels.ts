import { formatSeconds } from './chart-scale.ts';
import { byId as $, el } from './dom.ts';
import type { OperatorPoint } from './operator-series.ts';

/**
 * The operator page's panels beside the charts: the slowest route classes of
 * the last interval, each `/readyz` component, and the alerts firing. Each
 * reads what it shows and writes it into the page through `textContent` and
 * DOM APIs; the polling and the token live in operator.ts.
 */

const COMPONENT_NAMES: Record<string, string> = {
  store: 'Store',
  bus: 'Event bus',
  keys: 'Key provider',
  model: 'Model',
  intentRouter: 'Intent router',
};

interface ReadinessBody {
  status: 'ok' | 'degraded' | 'unavailable';
  checks: Record<string, { ok: boolean; detail?: string; ms: number }>;
}

interface AlertBody {
  id: string;
  severity: 'critical' | 'warning';
  summary: string;
  detail: string;
  firstSeen: string;
}

/** Local wall-clock time, 24-hour. */
export function clockTime(at: number): string {
  return new Date(at).toLocaleTimeString(undefined, { hour12: false });
}

/** The route classes of the latest point, slowest p99 first (eight at most), or the "none" line. */
export function showRoutes(latest: OperatorPoint): void {
  const seconds = (v: number | null) => (v === null ? '–' : formatSeconds(v));
  const rows = latest.routes.slice(0, 8).map((route) => {
    // Line breaks only after a slash, so a narrow screen wraps `/v1/conversations/:id` by segment.
    const parts = route.route.split(/(?<=\/)/).flatMap((part, i) => (i === 0 ? [part] : [el('wbr'), part]));
    return el(
      'tr',
      {},
      el('td', {}, ...parts),
      el('td', { class: 'op__num' }, String(route.requests)),
      el('td', { class: 'op__num' }, seconds(route.p50)),
      el('td', { class: 'op__num' }, seconds(route.p99)),
    );
  });
  $('op-routes-body').replaceChildren(...rows);
  $('op-routes').hidden = rows.length === 0;
  $('op-routes-empty').hidden = rows.length > 0;
}

/** Reads `/readyz` and lists each component, passing or failing; a failed read says so. */
export async function showReadiness(): Promise<void> {
  const status = $('op-ready-status');
  try {
    const response = await fetch('/readyz', { cache: 'no-store' });
    const body = (await response.json()) as ReadinessBody;
    const words = { ok: 'Ready', degraded: 'Degraded: serving, with node-local fallbacks', unavailable: 'Not ready' };
    status.textContent = `${words[body.status]} (HTTP ${response.status})`;
    status.dataset['status'] = body.status;
    const items = Object.entries(body.checks).map(([name, check]) =>
      el(
        'li',
        { class: 'op__check', 'data-ok': String(check.ok) },
        el('span', { class: 'op__check-name' }, COMPONENT_NAMES[name] ?? name),
        el(
          'span',
          { class: 'op__check-state' },
          check.ok ? `passing · ${check.ms} ms` : `failing · ${check.detail ?? 'no detail'}`,
        ),
      ),
    );
    $('op-checks').replaceChildren(...items);
  } catch (error) {
    status.textContent = `/readyz did not answer: ${(error as Error).message}`;
    status.dataset['status'] = 'unavailable';
    $('op-checks').replaceChildren();
  }
}

/**
 * Reads `GET /v1/admin/alerts` with the operator token and lists the alerts
 * firing. Resolves `false` when the server refused the token: the caller
 * must stop sending it, as every refusal is counted and logged as a failed
 * authentication.
 */
export async function showAlerts(operatorToken: string): Promise<boolean> {
  const status = $('op-alerts-status');
  try {
    const response = await fetch('/v1/admin/alerts', {
      cache: 'no-store',
      headers: { authorization: `Bearer ${operatorToken}` },
    });
    if (response.status === 401) {
      status.textContent = 'The server refused this operator token (401). Forget it and enter the right one.';
      $('op-alerts').replaceChildren();
      return false;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = (await response.json()) as { firing: AlertBody[]; resolved: AlertBody[] };
    status.textContent =
      body.firing.length === 0
        ? `No alerts firing. ${body.resolved.length} resolved in the last 24 h.`
        : `${body.firing.length} firing. ${body.resolved.length} resolved in the last 24 h.`;
    const items = body.firing.map((alert) =>
      el(
        'li',
        { class: `op__alert op__alert--${alert.severity}` },
        el('strong', {}, `${alert.severity === 'critical' ? 'Critical' : 'Warning'}: ${alert.summary}`),
        el('span', {}, `${alert.detail} (${alert.id}, since ${clockTime(Date.parse(alert.firstSeen))})`),
      ),
    );
    $('op-alerts').replaceChildren(...items);
  } catch (error) {
    status.textContent = `/v1/admin/alerts did not answer: ${(error as Error).message}`;
  }
  return true;
}
