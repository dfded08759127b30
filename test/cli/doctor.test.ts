import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { type PrivateService, privatePostgresUnavailable, startPrivatePostgres } from '../helpers/private-services.ts';
import {
  callJson,
  PROCESS_ADMIN_TOKEN,
  type ServerProcess,
  startServerProcess,
  stopAllServerProcesses,
} from '../helpers/server-process.ts';
import { uniqueName } from '../helpers/services.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { env: {}, out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

async function newTenant(url: string, name: string): Promise<string> {
  const res = await callJson<{ apiKey: string }>(url, 'POST', '/v1/admin/tenants', {
    token: PROCESS_ADMIN_TOKEN,
    body: { name },
  });
  expect(res.status).toBe(201);
  return res.body.apiKey;
}

async function doctor(url: string, apiKey: string, ...extra: string[]) {
  const c = capture();
  const code = await main(['doctor', '--url', url, '--api-key', apiKey, '--timeout', '30', ...extra], c.io);
  return { code, out: c.out.join('\n'), err: c.err.join('\n') };
}

/** The printed line of one check. */
const lineOf = (out: string, check: string) => out.split('\n').find((line) => line.includes(check)) ?? '';

describe('continuum doctor: the post-deploy validations over HTTP', () => {
  let server: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-doctor-'));
    server = await startServerProcess({ dataDir, env: { CONTINUUM_LOCAL_WORD_DELAY_MS: '1' } });
  });
  afterAll(async () => {
    await stopAllServerProcesses();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('passes all four checks against a running server, each printed with its timing; exit 0', async () => {
    const { code, out } = await doctor(server.url, await newTenant(server.url, 'doctor-ok'));
    expect(code, out).toBe(0);
    for (const check of ['token generation', 'state persistence', 'conversation continuity', 'streaming response']) {
      expect(lineOf(out, check)).toMatch(new RegExp(`^  ok +${check} +\\d+ ms  \\S`));
    }
    expect(lineOf(out, 'token generation')).toContain('verifies against /.well-known/jwks.json');
    expect(lineOf(out, 'state persistence')).toContain('hash chain verified from genesis');
    expect(lineOf(out, 'conversation continuity')).toContain('metformin');
    expect(lineOf(out, 'streaming response')).toContain('done (assistant turn 2)');
    expect(out).toContain('all 4 checks passed');
  });

  it('prints JSON with --json, and leaves its conversations closed', async () => {
    const apiKey = await newTenant(server.url, 'doctor-json');
    const { code, out } = await doctor(server.url, apiKey, '--json', '--subject', 'doctor-json-subject');
    expect(code).toBe(0);
    const report = JSON.parse(out) as { ok: boolean; checks: { name: string; ok: boolean; ms: number }[] };
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['token generation', true],
      ['state persistence', true],
      ['conversation continuity', true],
      ['streaming response', true],
    ]);
    const { token } = await tokenFor(server.url, apiKey, 'doctor-json-subject');
    const list = await callJson<{ items: { status: string }[] }>(server.url, 'GET', '/v1/conversations', { token });
    expect(list.body.items.map((c) => c.status)).toEqual(['closed', 'closed', 'closed']);
  });

  it('fails naming the check: a wrong API key fails token generation, and the rest cannot run; exit 1', async () => {
    const { code, out } = await doctor(server.url, 'ck.tnt_aaaaaaaaaaaaaaaa.not-a-key');
    expect(code).toBe(1);
    expect(lineOf(out, 'token generation')).toMatch(/^ {2}FAIL +token generation .*401 invalid_grant/);
    expect(lineOf(out, 'state persistence')).toContain('not run: it needs an access token');
    expect(out).toContain('0 of 4 checks passed; failed: token generation');
  });

  it('fails every check when nothing answers at the URL', async () => {
    const { code, out } = await doctor('http://127.0.0.1:9', 'ck.x.y');
    expect(code).toBe(1);
    expect(lineOf(out, 'token generation')).toContain('got no answer from http://127.0.0.1:9');
  });

  it('exits 2 on a usage error', async () => {
    expect(await main(['doctor', '--api-key', 'x'], capture().io)).toBe(2);
    expect(await main(['doctor', '--url', 'http://127.0.0.1:1'], capture().io)).toBe(2);
    expect(await main(['doctor', '--url', 'not a url', '--api-key', 'x'], capture().io)).toBe(2);
  });
});

async function tokenFor(url: string, apiKey: string, subject: string) {
  const res = await callJson<{ access_token: string }>(url, 'POST', '/v1/auth/token', {
    body: { grant_type: 'api_key', api_key: apiKey, subject },
  });
  return { token: res.body.access_token };
}

/**
 * A store made read-only for real: the server's PostgreSQL is switched to
 * read-only transactions (`ALTER SYSTEM SET default_transaction_read_only`,
 * then a configuration reload, as after a failover onto a replica). Its
 * queries still answer; every write fails with `store_unavailable` (and so
 * does every API read, since each read appends an audit event).
 */
describe.skipIf(privatePostgresUnavailable() !== undefined)('continuum doctor against a read-only store', () => {
  let postgres: PrivateService;
  let server: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-doctor-pg-'));
    server = await startServerProcess({
      dataDir,
      env: {
        CONTINUUM_STORE: 'postgres',
        CONTINUUM_DATABASE_URL: postgres.url,
        CONTINUUM_DATABASE_SCHEMA: uniqueName('doctor'),
        CONTINUUM_DATABASE_POOL_SIZE: '4',
        CONTINUUM_LOCAL_WORD_DELAY_MS: '1',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await stopAllServerProcesses();
    await postgres?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('passes before, and fails naming the checks that write once the store turned read-only; exit 1', async () => {
    const apiKey = await newTenant(server.url, 'doctor-pg');
    const before = await doctor(server.url, apiKey);
    expect(before.code, before.out).toBe(0);

    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    try {
      await admin.query('ALTER SYSTEM SET default_transaction_read_only = on');
      await admin.query('SELECT pg_reload_conf()');
    } finally {
      await admin.end();
    }
    // The reload reaches each pooled connection before its next statement. The process lives on.
    expect((await callJson(server.url, 'GET', '/healthz')).status).toBe(200);

    const after = await doctor(server.url, apiKey);
    expect(after.code).toBe(1);
    expect(lineOf(after.out, 'token generation')).toMatch(
      /^ {2}FAIL +token generation .*POST \/v1\/auth\/token answered 503 store_unavailable/,
    );
    for (const check of ['state persistence', 'conversation continuity', 'streaming response']) {
      expect(lineOf(after.out, check)).toMatch(/^ {2}FAIL /);
    }
    expect(after.out).toContain('0 of 4 checks passed; failed: token generation, state persistence');
    // Readiness tells the truth too: the store answers reads but refuses writes.
    const ready = await callJson<{ failing: string[] }>(server.url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.failing).toEqual(['store']);
  }, 120_000);
});
