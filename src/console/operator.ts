import { formatRatio, formatSeconds } from './chart-scale.ts';
import { LineChart } from './charts.ts';
import { byId as $ } from './dom.ts';
import { parseMetricsText } from './metrics-text.ts';
import { clockTime, showAlerts, showReadiness, showRoutes } from './operator-panels.ts';
import { type OperatorPoint, OperatorSeries } from './operator-series.ts';

/**
 * The operator page (`/console/operator`): polls `/metrics` and `/readyz`
 * (and `/v1/admin/alerts` once an operator token is given), charts the
 * figures of {@link OperatorSeries} and shows the latest as big numbers;
 * the routes, readiness and alerts panels are drawn by operator-panels.ts.
 * Everything goes into the page through `textContent` and DOM APIs.
 */

/** Points kept per chart: 4 minutes at 2 s, 10 minutes at 5 s. */
const CAPACITY = 120;
/** The first interval is short, so the charts have a point a second after the page opens. */
const FIRST_INTERVAL_MS = 1_000;

const count = (n: number) => String(Math.round(n));
const plural = (n: number, noun: string) => `${count(n)} ${noun}${Math.round(n) === 1 ? '' : 's'}`;
/** The charts, each with the values of a point it draws. */
const charts: { chart: LineChart; values: (p: OperatorPoint) => (number | null)[] }[] = [
  {
    chart: new LineChart({
      title: 'API latency',
      series: [{ label: 'p50' }, { label: 'p99' }],
      format: formatSeconds,
      scale: { log: true, minTop: 0.01 },
      emptyText: 'No API requests in this window',
    }),
    values: (p) => [p.latency?.p50 ?? null, p.latency?.p99 ?? null],
  },
  {
    chart: new LineChart({
      title: 'Error rate',
      series: [{ label: '5xx' }, { label: '4xx' }],
      format: formatRatio,
      scale: { minTop: 0.01 },
      emptyText: 'No API requests in this window',
    }),
    values: (p) => [p.errorRate, p.clientErrorRate],
  },
  {
    chart: new LineChart({
      title: 'Conversation continuity',
      series: [{ label: 'interval' }, { label: 'since start' }],
      format: formatRatio,
      scale: { fixedTop: 1 },
      emptyText: 'No turns appended in this window',
    }),
    values: (p) => [p.continuity.interval, p.continuity.cumulative],
  },
  {
    chart: new LineChart({
      title: 'Open connections',
      series: [{ label: 'SSE streams' }, { label: 'WebSockets' }],
      format: count,
      scale: { integer: true },
    }),
    values: (p) => [p.sseStreams, p.websockets],
  },
];

const series = new OperatorSeries({ capacity: CAPACITY });
let intervalMs = Number($<HTMLSelectElement>('op-interval').value);
let paused = false;
let timer: ReturnType<typeof setTimeout> | undefined;
let inFlight = false;
let operatorToken: string | undefined;
let lastAt = 0;

/** Monotonic ms since the epoch: a wall clock stepping back must not reorder scrapes. */
const now = () => Math.max(Math.round(performance.timeOrigin + performance.now()), lastAt + 1);

/** How long the restart notice stays up after the scrape that saw it. */
const RESTART_NOTICE_MS = 60_000;
let restartedAt: number | undefined;

/** Show (or clear) the status line; unchanged text is left alone so a screen reader does not hear it again. */
function notice(message: string | undefined): void {
  const element = $('op-notice');
  element.hidden = message === undefined;
  if (element.textContent !== (message ?? '')) element.textContent = message ?? '';
}

/** Without Prometheus metrics the numbers and charts have nothing to show: hide them rather than show dashes. */
function metricsShown(shown: boolean): void {
  $('op-now').hidden = !shown;
  $('op-over-time').hidden = !shown;
}

function setState(state: 'open' | 'connecting' | 'closed', text: string): void {
  const element = $('op-state');
  element.dataset['state'] = state;
  element.textContent = text;
}

async function scrapeMetrics(): Promise<void> {
  let response: Response;
  try {
    response = await fetch('/metrics', { cache: 'no-store', headers: { accept: 'text/plain' } });
  } catch (error) {
    setState('closed', 'Unreachable');
    notice(`Cannot reach the server (${(error as Error).message}); trying again every ${intervalMs / 1000} s.`);
    return;
  }
  if (response.status === 404) {
    setState('closed', 'No metrics');
    metricsShown(false);
    notice(
      'This server sends its metrics as CloudWatch EMF log lines (CONTINUUM_METRICS=emf), so /metrics answers 404 ' +
        'and there is nothing to chart here. Readiness and alerts below still work.',
    );
    return;
  }
  if (!response.ok) {
    setState('closed', 'Scrape failed');
    notice(`/metrics answered ${response.status}; trying again every ${intervalMs / 1000} s.`);
    return;
  }
  const at = now();
  const text = await response.text();
  let point: OperatorPoint | undefined;
  try {
    point = series.push(at, parseMetricsText(text));
  } catch (error) {
    setState('closed', 'Unreadable');
    notice(`/metrics sent text this page cannot read: ${(error as Error).message}`);
    return;
  }
  lastAt = at;
  setState('open', 'Live');
  metricsShown(true);
  $('op-last').textContent = `Last scrape ${clockTime(at)}, every ${intervalMs / 1000} s.`;
  if (!point) {
    notice(undefined);
    return;
  }
  if (point.restarted) restartedAt = at;
  notice(
    restartedAt !== undefined && at - restartedAt < RESTART_NOTICE_MS
      ? `The server restarted (or its counters were reset) before ${clockTime(restartedAt)}: figures start over from there.`
      : point.missing.length > 0
        ? `This server's /metrics lacks ${point.missing.join(', ')}: those figures stay empty.`
        : undefined,
  );
  render(point);
}

function render(latest: OperatorPoint): void {
  const points = series.points();
  for (const { chart, values } of charts) {
    chart.update(
      points.map((p) => ({ at: p.at, values: values(p) })),
      CAPACITY * intervalMs,
    );
  }

  const seconds = `${Math.round(latest.intervalMs / 1000)} s`;
  const set = (id: string, text: string) => {
    $(id).textContent = text;
  };
  const requests = latest.requests?.total ?? 0;
  set('stat-latency', latest.latency?.p99 == null ? '–' : formatSeconds(latest.latency.p99));
  set(
    'stat-latency-note',
    latest.latency?.p50 == null
      ? `No API requests in the last ${seconds}`
      : `p50 ${formatSeconds(latest.latency.p50)} · ${plural(latest.latency.requests, 'request')} in the last ${seconds}`,
  );
  set('stat-errors', latest.errorRate === null ? '–' : formatRatio(latest.errorRate));
  set(
    'stat-errors-note',
    latest.requests && requests > 0
      ? `${latest.requests.serverErrors} 5xx, ${latest.requests.clientErrors} 4xx of ${requests} in the last ${seconds}`
      : `No API requests in the last ${seconds}`,
  );
  set('stat-continuity', latest.continuity.cumulative === null ? '–' : formatRatio(latest.continuity.cumulative));
  set(
    'stat-continuity-note',
    latest.continuity.interval === null
      ? `No turns in the last ${seconds}`
      : `${formatRatio(latest.continuity.interval)} of ${plural(latest.continuity.turns, 'turn')} in the last ${seconds}`,
  );
  set('stat-sse', latest.sseStreams === null ? '–' : count(latest.sseStreams));
  const sockets = latest.websockets;
  set('stat-sockets-note', sockets === null ? '' : plural(sockets, 'WebSocket connection'));
  showRoutes(latest);
}

/** The alerts, while an operator token is held; a refused token is dropped. */
async function loadAlerts(): Promise<void> {
  const token = operatorToken;
  if (token === undefined) return;
  const accepted = await showAlerts(token);
  // (Unless it was replaced while the request was out.)
  if (!accepted && operatorToken === token) operatorToken = undefined;
}

async function tick(): Promise<void> {
  timer = undefined;
  inFlight = true;
  try {
    await Promise.all([scrapeMetrics(), showReadiness(), loadAlerts()]);
  } finally {
    inFlight = false;
  }
  // Paused while this scrape was out: it said "Live"; say what holds now.
  if (paused) setState('closed', 'Paused');
  schedule(series.points().length === 0 && lastAt > 0 ? FIRST_INTERVAL_MS : intervalMs);
}

function schedule(delay: number): void {
  if (paused || inFlight || timer !== undefined) return;
  timer = setTimeout(() => void tick(), delay);
}

$('op-pause').addEventListener('click', () => {
  paused = !paused;
  $('op-pause').textContent = paused ? 'Resume' : 'Pause';
  if (paused) {
    clearTimeout(timer);
    timer = undefined;
    setState('closed', 'Paused');
  } else if (!inFlight) {
    // (A scrape still in flight schedules the next one itself.)
    void tick();
  }
});

$<HTMLSelectElement>('op-interval').addEventListener('change', (event) => {
  intervalMs = Number((event.target as HTMLSelectElement).value);
  if (paused) return;
  clearTimeout(timer);
  timer = undefined;
  schedule(intervalMs);
});

$<HTMLFormElement>('op-token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('op-token');
  if (input.value.trim() === '') return;
  operatorToken = input.value.trim();
  input.value = '';
  $('op-token-form').hidden = true;
  $('op-alerts-view').hidden = false;
  $('op-alerts-status').textContent = 'Loading alerts…';
  void loadAlerts();
});

$('op-token-forget').addEventListener('click', () => {
  operatorToken = undefined;
  $('op-alerts').replaceChildren();
  $('op-alerts-view').hidden = true;
  $('op-token-form').hidden = false;
  $('op-token').focus();
});

$('op-charts').append(...charts.map(({ chart }) => chart.element));
void tick();
