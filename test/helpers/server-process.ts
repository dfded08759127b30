import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The operator token every server process of the e2e tests is started with. */
export const PROCESS_ADMIN_TOKEN = 'e2e-operator-token-0123456789abcdef';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(REPO_ROOT, 'bin/continuum.mjs');
/** Output kept for diagnostics, per process (the tail). */
const OUTPUT_LIMIT = 256 * 1024;

export interface ServerProcessOptions {
  /** The data dir (SQLite file, master key file). Two processes on one dir share both. */
  dataDir: string;
  /** Extra or overriding `CONTINUUM_*` settings. */
  env?: Record<string, string>;
  /** How long to wait for the "continuum listening" line (default 30 s). */
  startTimeoutMs?: number;
}

export interface ServerProcess {
  /** Base URL from the "continuum listening" log line, e.g. `http://127.0.0.1:41234`. */
  url: string;
  pid: number;
  /** Send `signal` (default SIGTERM) and wait for the exit; SIGKILL if it has not exited within 10 s. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** `kill -9` and wait for the exit. */
  kill9(): Promise<void>;
  /** Everything the process wrote to stdout and stderr so far (the last 256 KB). */
  output(): string;
  readonly exited: boolean;
}

const running = new Set<ChildProcess>();

// Last resort if a test file's worker exits without its afterAll running.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Spawn `continuum serve` as a real OS process on a free port of 127.0.0.1
 * and wait until it listens. Rate limits and the session pool are off.
 * Call `stopAllServerProcesses()` in `afterAll`.
 *
 * @example
 * const a = await startServerProcess({ dataDir });
 * const res = await fetch(`${a.url}/healthz`);
 * await a.stop();
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    // The child gets exactly the settings below, and none of the test runner's loader options.
    if (value !== undefined && !name.startsWith('CONTINUUM_') && name !== 'NODE_OPTIONS') env[name] = value;
  }
  Object.assign(env, {
    CONTINUUM_HOST: '127.0.0.1',
    CONTINUUM_PORT: '0',
    CONTINUUM_DATA_DIR: options.dataDir,
    CONTINUUM_ADMIN_TOKEN: PROCESS_ADMIN_TOKEN,
    CONTINUUM_RATE_LIMIT_PER_TENANT: '0',
    CONTINUUM_RATE_LIMIT_PER_SUBJECT: '0',
    CONTINUUM_MAX_SESSIONS_PER_TENANT: '0',
    CONTINUUM_LOG_LEVEL: 'info',
    ...options.env,
  });

  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const append = (chunk: string) => {
    output += chunk;
    if (output.length > OUTPUT_LIMIT * 2) output = output.slice(-OUTPUT_LIMIT);
  };
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  let exited = false;
  void exit.then(() => {
    exited = true;
  });

  const url = await new Promise<string>((resolve, reject) => {
    let pending = '';
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`continuum serve ${why}\n--- output ---\n${output.slice(-8000)}`));
    };
    const timer = setTimeout(
      () => fail(`did not log "continuum listening" within ${options.startTimeoutMs ?? 30_000} ms`),
      options.startTimeoutMs ?? 30_000,
    );
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', append);
    child.stdout!.on('data', (chunk: string) => {
      append(chunk);
      if (settled) return;
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
        const listening = parseListening(line);
        if (listening !== undefined && !settled) {
          settled = true;
          clearTimeout(timer);
          resolve(listening);
        }
      }
    });
    child.once('error', (error) => fail(`could not be spawned: ${error.message}`));
    void exit.then(({ code, signal }) => fail(`exited (code ${code}, signal ${signal}) before listening`));
  });

  const pid = child.pid!;
  return {
    url,
    pid,
    get exited() {
      return exited;
    },
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (!exited) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    },
    async kill9() {
      if (!exited) child.kill('SIGKILL');
      await exit;
    },
  };
}

/** SIGKILL every server process still running and wait for each to exit. For `afterAll`. */
export async function stopAllServerProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

function parseListening(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return entry.msg === 'continuum listening' && typeof entry.url === 'string' ? entry.url : undefined;
  } catch {
    return undefined;
  }
}

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** One JSON request with Node's fetch; the body is parsed when the response has one. */
export async function callJson<T = unknown>(
  baseUrl: string,
  method: string,
  route: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** Create a tenant through the operator route and get an access token for `subject`. */
export async function tenantWithToken(
  baseUrl: string,
  name: string,
  subject: string,
): Promise<{ tenantId: string; apiKey: string; token: string }> {
  const tenant = await callJson<{ tenantId: string; apiKey: string }>(baseUrl, 'POST', '/v1/admin/tenants', {
    token: PROCESS_ADMIN_TOKEN,
    body: { name },
  });
  if (tenant.status !== 201) throw new Error(`create tenant: ${tenant.status} ${JSON.stringify(tenant.body)}`);
  const token = await callJson<{ access_token: string }>(baseUrl, 'POST', '/v1/auth/token', {
    body: { grant_type: 'api_key', api_key: tenant.body.apiKey, subject, scope: 'conversations' },
  });
  if (token.status !== 200) throw new Error(`token: ${token.status} ${JSON.stringify(token.body)}`);
  return { tenantId: tenant.body.tenantId, apiKey: tenant.body.apiKey, token: token.body.access_token };
}
