/**
 * The node's own view, from `GET /metrics`: a cross-check of what the
 * clients measured (the server counts turn continuity itself).
 */
import { call } from './http.ts';

/** Every sample of the metrics whose names start with one of `prefixes`, keyed `name{labels}`. */
export async function scrapeMetrics(url: string, prefixes: readonly string[]): Promise<Record<string, number>> {
  const res = await call(`${url}/metrics`, { timeoutMs: 10_000 });
  const out: Record<string, number> = {};
  if (res.status !== 200) return out;
  for (const line of res.text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    if (!prefixes.some((prefix) => line.startsWith(prefix))) continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (Number.isFinite(value)) out[line.slice(0, space)] = value;
  }
  return out;
}

/** The continuity counters, and how long the node's event loop was held up (since its start). */
export const CONTINUITY_METRICS = [
  'continuum_turn_continuity_total',
  'continuum_conversation_continuity_ratio',
  'continuum_process_nodejs_eventloop_lag_p99_seconds',
  'continuum_process_nodejs_eventloop_lag_max_seconds',
];

/** The node's continuity and event-loop figures, keyed `<label>: <metric>` for a report. */
export async function serverFigures(url: string, label = 'server'): Promise<Record<string, number>> {
  const metrics = await scrapeMetrics(url, CONTINUITY_METRICS);
  return Object.fromEntries(Object.entries(metrics).map(([name, value]) => [`${label}: ${name}`, value]));
}
