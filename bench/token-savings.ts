/**
 * Token savings of the client SDK (issue 9), measured against a real
 * in-process server (`buildApp` on a temp SQLite file, loopback HTTP) whose
 * clock is a FakeClock shared with the clients, so hours pass in seconds:
 *
 * 1. **An 8-hour session of a busy client**, one request every 20 s
 *    (`GET /v1/conversations/{id}`): token requests made by the SDK (cached
 *    token, refreshed at 25 minutes) against minting a token for every
 *    request, as the original system effectively did. Target: ≥ 90 % fewer.
 * 2. **10,000 refreshes with races**: each cycle moves the clock to a
 *    refresh point and fires several concurrent callers at it, rotating
 *    three kinds of cycle — at the 25-minute boundary, late (a second before
 *    the server's expiry) and past expiry with the device clock behind (the
 *    server answers `401 token_expired` to every caller, who all renew at
 *    once). A refresh succeeds when the refresh grant returns a new pair;
 *    the run also checks that each cycle sent exactly one token request and
 *    that no error reached a caller. Target: 100 %.
 *
 *   node --import tsx bench/token-savings.ts [--quick] [--refreshes N] [--callers N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type ContinuumClient, createClient } from '../src/client/index.ts';
import { configWith } from '../src/config/index.ts';
import { FakeClock } from '../src/core/clock.ts';
import { createLocalKeyProvider } from '../src/crypto/local-key-provider.ts';
import { buildApp } from '../src/server/app.ts';
import { MASTER_KEY_FILE, SQLITE_FILE } from '../src/server/runtime.ts';
import { createSqliteStore } from '../src/store/adapters/sqlite/sqlite-store.ts';
import { int, mark, pct, table } from './lib/markdown.ts';

const ADMIN_TOKEN = 'bench-operator-token-0123456789';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const TARGETS = { reduction: 0.9, refreshSuccessRate: 1 };

export interface TokenSavingsOptions {
  /** Length of the simulated session (default 8). */
  hours?: number;
  /** Seconds between the busy client's requests (default 20). */
  intervalSeconds?: number;
  /** Refresh cycles of the race run (default 10,000). */
  refreshes?: number;
  /** Concurrent callers at each refresh point (default 5). */
  callers?: number;
  log?: (line: string) => void;
}

type CycleKind = 'boundary' | 'late' | 'expired';
const KINDS: readonly CycleKind[] = ['boundary', 'late', 'expired'];

interface CycleFigures {
  cycles: number;
  calls: number;
  tokenRequests: number;
  succeeded: number;
  refused: number;
  signIns: number;
  refusedBy401: number;
  surfaced: number;
  notSingleFlight: number;
}

export interface TokenSavingsFigures {
  session: {
    hours: number;
    intervalSeconds: number;
    requests: number;
    sdk: { tokenRequests: number; signIns: number; refreshes: number; responses401: number; seconds: number };
    perRequest: { tokenRequests: number; responses401: number; seconds: number };
    reduction: number;
  };
  races: {
    callers: number;
    byKind: Record<CycleKind, CycleFigures>;
    attempts: number;
    succeeded: number;
    successRate: number;
    seconds: number;
  };
}

/** A real app on a temp SQLite file with a fake clock, listening on a loopback port. */
async function startServer(clock: FakeClock) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-token-savings-'));
  const config = configWith({
    dataDir,
    rateLimitPerTenant: 0,
    rateLimitPerSubject: 0,
    maxSessionsPerTenant: 0,
    logLevel: 'silent',
    // 10,000 refreshes at 25 minutes span 174 days: keep them in one refresh family.
    refreshFamilyTtl: 365 * 24 * 3600,
  });
  const store = createSqliteStore({ filename: path.join(dataDir, SQLITE_FILE), synchronous: config.sqliteSync });
  await store.migrate();
  const keyProvider = await createLocalKeyProvider({ keyFile: path.join(dataDir, MASTER_KEY_FILE) });
  const { app } = await buildApp(config, { store, keyProvider, adminToken: ADMIN_TOKEN, clock, logger: false });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const res = await fetch(`${url}/v1/admin/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `token-savings-${process.pid}` }),
  });
  if (res.status !== 201) throw new Error(`create tenant: ${res.status} ${await res.text()}`);
  const { apiKey } = (await res.json()) as { apiKey: string };
  return {
    url,
    apiKey,
    async close() {
      await app.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fetch that counts the 401s the server sent. */
function counting() {
  const seen = { responses401: 0 };
  const fetchWith = async (input: string, init?: RequestInit) => {
    const response = await fetch(input, init);
    if (response.status === 401) seen.responses401 += 1;
    return response;
  };
  return { seen, fetch: fetchWith };
}

async function sdkSession(url: string, apiKey: string, clock: FakeClock, requests: number, intervalMs: number) {
  const tap = counting();
  const client = createClient({ baseUrl: url, apiKey, subject: 'busy-sdk', clock, fetch: tap.fetch });
  const { id } = await client.conversations.create({ title: 'busy day' });
  const started = performance.now();
  for (let n = 1; n < requests; n += 1) {
    clock.advance(intervalMs);
    await client.conversations.get(id);
  }
  return {
    tokenRequests: client.stats.tokenRequests,
    signIns: client.stats.signIns,
    refreshes: client.stats.refreshes,
    responses401: tap.seen.responses401,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The original behaviour: an `api_key` grant before every request. */
async function perRequestSession(url: string, apiKey: string, clock: FakeClock, requests: number, intervalMs: number) {
  let tokenRequests = 0;
  let responses401 = 0;
  const mint = async () => {
    tokenRequests += 1;
    const res = await fetch(`${url}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'api_key', api_key: apiKey, subject: 'busy-per-request' }),
    });
    if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const call = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${await mint()}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status === 401) responses401 += 1;
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string };
  };
  const { id } = await call('POST', '/v1/conversations', { title: 'busy day' });
  const started = performance.now();
  for (let n = 1; n < requests; n += 1) {
    clock.advance(intervalMs);
    await call('GET', `/v1/conversations/${id}`);
  }
  return { tokenRequests, responses401, seconds: (performance.now() - started) / 1000 };
}

const emptyCycle = (): CycleFigures => ({
  cycles: 0,
  calls: 0,
  tokenRequests: 0,
  succeeded: 0,
  refused: 0,
  signIns: 0,
  refusedBy401: 0,
  surfaced: 0,
  notSingleFlight: 0,
});

async function refreshRaces(url: string, apiKey: string, clock: FakeClock, refreshes: number, callers: number) {
  const tap = counting();
  let skewMs = 0;
  const deviceClock = { now: () => clock.now() - skewMs };
  const client: ContinuumClient = createClient({
    baseUrl: url,
    apiKey,
    subject: 'racing-client',
    clock: deviceClock,
    fetch: tap.fetch,
  });
  const { id } = await client.conversations.create({ title: 'races' });
  const byKind = { boundary: emptyCycle(), late: emptyCycle(), expired: emptyCycle() };
  const started = performance.now();
  for (let cycle = 0; cycle < refreshes; cycle += 1) {
    const kind = KINDS[cycle % KINDS.length]!;
    const figures = byKind[kind];
    const before = { ...client.stats, responses401: tap.seen.responses401 };
    // Each cycle starts right after the previous refresh: the token is as old as the advance.
    if (kind === 'boundary') {
      skewMs = 0;
      clock.advance(25 * MINUTE);
    } else if (kind === 'late') {
      skewMs = 0;
      clock.advance(30 * MINUTE - SECOND);
    } else {
      // The device's clock stands still: it believes its token fresh; the server finds it expired.
      const frozen = deviceClock.now();
      clock.advance(31 * MINUTE);
      skewMs = clock.now() - frozen;
    }
    const results = await Promise.allSettled(Array.from({ length: callers }, () => client.conversations.get(id)));
    const s = client.stats;
    figures.cycles += 1;
    figures.calls += callers;
    figures.tokenRequests += s.tokenRequests - before.tokenRequests;
    figures.succeeded += s.refreshes - before.refreshes;
    figures.refused += s.refreshFailures - before.refreshFailures;
    figures.signIns += s.signIns - before.signIns;
    figures.refusedBy401 += tap.seen.responses401 - before.responses401;
    figures.surfaced += results.filter((r) => r.status === 'rejected').length;
    if (s.tokenRequests - before.tokenRequests !== 1) figures.notSingleFlight += 1;
  }
  const all = Object.values(byKind);
  const succeeded = all.reduce((sum, f) => sum + f.succeeded, 0);
  const attempts = all.reduce((sum, f) => sum + f.succeeded + f.refused, 0);
  return {
    callers,
    byKind,
    attempts,
    succeeded,
    successRate: attempts === 0 ? 0 : succeeded / attempts,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Runs both measurements and returns the figures with a Markdown report.
 *
 * @example
 * const { figures, markdown } = await runTokenSavings({ refreshes: 1000 });
 * console.log(markdown);
 */
export async function runTokenSavings(
  options: TokenSavingsOptions = {},
): Promise<{ figures: TokenSavingsFigures; markdown: string }> {
  const hours = options.hours ?? 8;
  const intervalSeconds = options.intervalSeconds ?? 20;
  const refreshes = options.refreshes ?? 10_000;
  const callers = options.callers ?? 5;
  const log = options.log ?? (() => {});
  const clock = new FakeClock(Date.UTC(2026, 10, 25, 8));
  const server = await startServer(clock);
  try {
    const requests = Math.round((hours * 3600) / intervalSeconds);
    log(`session: ${requests} requests over ${hours} h with the SDK`);
    const sdk = await sdkSession(server.url, server.apiKey, clock, requests, intervalSeconds * SECOND);
    log('session: the same, minting a token per request');
    const perRequest = await perRequestSession(server.url, server.apiKey, clock, requests, intervalSeconds * SECOND);
    log(`races: ${refreshes} refresh cycles, ${callers} concurrent callers each`);
    const races = await refreshRaces(server.url, server.apiKey, clock, refreshes, callers);
    const figures: TokenSavingsFigures = {
      session: {
        hours,
        intervalSeconds,
        requests,
        sdk,
        perRequest,
        reduction: 1 - sdk.tokenRequests / perRequest.tokenRequests,
      },
      races,
    };
    return { figures, markdown: report(figures) };
  } finally {
    await server.close();
  }
}

/** The report: what was measured, two tables, and the verdicts. */
export function report(f: TokenSavingsFigures): string {
  const { session, races } = f;
  const sessionTable = table(
    ['client', 'requests', 'token requests', 'token requests per request', '401 responses', 'wall time s'],
    [
      [
        'SDK (cached, refreshed at 25 min)',
        int(session.requests),
        int(session.sdk.tokenRequests),
        (session.sdk.tokenRequests / session.requests).toFixed(4),
        int(session.sdk.responses401),
        session.sdk.seconds.toFixed(1),
      ],
      [
        'a token minted per request',
        int(session.requests),
        int(session.perRequest.tokenRequests),
        (session.perRequest.tokenRequests / session.requests).toFixed(4),
        int(session.perRequest.responses401),
        session.perRequest.seconds.toFixed(1),
      ],
    ],
  );
  const raceRows = KINDS.map((kind) => {
    const k = races.byKind[kind];
    return [
      kind,
      int(k.cycles),
      int(k.calls),
      int(k.tokenRequests),
      int(k.succeeded),
      int(k.refused),
      int(k.signIns),
      int(k.refusedBy401),
      int(k.surfaced),
      int(k.notSingleFlight),
    ];
  });
  const raceTable = table(
    [
      'cycle',
      'cycles',
      'calls',
      'token requests',
      'refreshes ok',
      'refreshes refused',
      'sign-ins',
      '401s (retried)',
      'errors to callers',
      'cycles ≠ 1 token request',
    ],
    raceRows,
  );
  const surfaced = KINDS.reduce((sum, kind) => sum + races.byKind[kind].surfaced, 0);
  return [
    '## Token savings of the client SDK',
    '',
    `A busy client, one \`GET /v1/conversations/{id}\` every ${session.intervalSeconds} s for ${session.hours} hours of fake time, against a real in-process server on loopback (SQLite, encryption and audit on). Access tokens live 30 minutes; the SDK refreshes at 25.`,
    '',
    sessionTable,
    '',
    `Refresh races: ${int(races.attempts)} refresh grants, each cycle firing ${races.callers} concurrent callers at the refresh point: *boundary* (exactly 25 minutes), *late* (1 s before the token expires on the server) and *expired* (31 minutes, the device clock stopped: every caller gets \`401 token_expired\` and renews at once). ${races.seconds.toFixed(0)} s.`,
    '',
    raceTable,
    '',
    '**Verdicts**',
    '',
    `- Token requests, SDK vs a token per request: ${int(session.sdk.tokenRequests)} vs ${int(session.perRequest.tokenRequests)}, ${pct(session.reduction)} fewer (target ≥ ${pct(TARGETS.reduction)}: ${mark(session.reduction >= TARGETS.reduction)}); 401 responses to the SDK in 8 hours: ${session.sdk.responses401} (target 0: ${mark(session.sdk.responses401 === 0)}).`,
    `- Refresh success rate: ${int(races.succeeded)} of ${int(races.attempts)}, ${(races.successRate * 100).toFixed(2)} % (target ${pct(TARGETS.refreshSuccessRate)}: ${mark(races.successRate >= TARGETS.refreshSuccessRate)}); errors surfaced to callers: ${surfaced}.`,
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      refreshes: { type: 'string' },
      callers: { type: 'string' },
    },
  });
  const refreshes = values.refreshes ? Number(values.refreshes) : values.quick ? 1000 : 10_000;
  const callers = values.callers ? Number(values.callers) : 5;
  const { figures, markdown } = await runTokenSavings({
    refreshes,
    callers,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${markdown}\n`);
  const ok = figures.session.reduction >= TARGETS.reduction && figures.races.successRate >= TARGETS.refreshSuccessRate;
  // Node's fetch keeps idle connections for a few seconds; exit now.
  process.exit(ok ? 0 : 1);
}
