/**
 * A `continuum serve` process for the load harness and the drills, on a
 * fixed free loopback port so that a restart (after `kill -9`, or with a new
 * clock offset) keeps its URL and clients simply retry. Ready when
 * `/healthz` answers. Rate limits and the session pool are off unless the
 * caller sets them; logs at `warn` (per-request info lines would cost the
 * node CPU that the figures should show going to requests).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '../../bench/lib/processes.ts';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(REPO_ROOT, 'bin/continuum.mjs');
const OUTPUT_LIMIT = 64 * 1024;

/** The operator token of every node the harness starts. */
export const LOAD_ADMIN_TOKEN = 'load-operator-token-0123456789abcdef';

/** Open files a node or the generator should be allowed (10,000 sockets plus the rest). */
export const WANTED_OPEN_FILES = 65_536;

export interface NodeOptions {
  /** For messages: `node-a`. */
  name: string;
  dataDir: string;
  /** `CONTINUUM_*` settings on top of the harness defaults. */
  env?: Record<string, string>;
  /** Default: a free port picked once and kept across restarts. */
  port?: number;
  /** Longest wait for `/healthz` (default 60 s). */
  startTimeoutMs?: number;
}

/** A node that can be stopped, killed and started again on the same port and data dir. */
export interface ContinuumNode {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The current process id (undefined when not running). */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** The soft limit on open files of the current process, as the kernel reports it. */
  readonly openFilesLimit: number | undefined;
  /** Start (again); `env` replaces the extra settings of the next starts (e.g. a new clock offset). */
  start(env?: Record<string, string>): Promise<void>;
  /** SIGTERM and wait (SIGKILL after 20 s). */
  stop(): Promise<void>;
  /** SIGKILL and wait: no chance to flush, close or checkpoint anything. */
  kill9(): Promise<void>;
  /** The last 64 KB the process wrote. */
  output(): string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Create a node (not started yet: call `start()`). */
export async function createNode(options: NodeOptions): Promise<ContinuumNode> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let extra = options.env ?? {};
  let child: ChildProcess | undefined;
  let exit: Promise<void> = Promise.resolve();
  let output = '';
  let openFiles: number | undefined;

  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > OUTPUT_LIMIT * 2) output = output.slice(-OUTPUT_LIMIT);
  };

  const waitExit = async (signal: NodeJS.Signals, graceMs: number) => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    current.kill(signal);
    const timer = setTimeout(() => current.kill('SIGKILL'), graceMs);
    await exit;
    clearTimeout(timer);
  };

  const node: ContinuumNode = {
    name: options.name,
    url,
    port,
    dataDir: options.dataDir,
    get pid() {
      return node.running ? child?.pid : undefined;
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    get openFilesLimit() {
      return openFiles;
    },
    output: () => output,
    async start(env) {
      if (node.running) throw new Error(`${options.name} is already running`);
      if (env !== undefined) extra = env;
      const settings: Record<string, string> = {
        CONTINUUM_HOST: '127.0.0.1',
        CONTINUUM_PORT: String(port),
        CONTINUUM_DATA_DIR: options.dataDir,
        CONTINUUM_ADMIN_TOKEN: LOAD_ADMIN_TOKEN,
        CONTINUUM_RATE_LIMIT_PER_TENANT: '0',
        CONTINUUM_RATE_LIMIT_PER_SUBJECT: '0',
        CONTINUUM_MAX_SESSIONS_PER_TENANT: '0',
        CONTINUUM_LOG_LEVEL: 'warn',
        ...extra,
      };
      const spawned = spawn(process.execPath, [BIN, 'serve'], {
        cwd: REPO_ROOT,
        env: { ...inheritedEnv(), ...settings },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = spawned;
      live.add(spawned);
      exit = new Promise((resolve) =>
        spawned.once('exit', () => {
          live.delete(spawned);
          resolve();
        }),
      );
      spawned.stdout?.on('data', keep);
      spawned.stderr?.on('data', keep);
      openFiles = spawned.pid === undefined ? undefined : await raiseOpenFiles(spawned.pid);
      const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
      for (;;) {
        if (!node.running) throw new Error(`${options.name} exited before it was ready:\n${output.slice(-4000)}`);
        if (Date.now() > deadline) {
          spawned.kill('SIGKILL');
          throw new Error(
            `${options.name} was not ready within ${options.startTimeoutMs ?? 60_000} ms:\n${output.slice(-4000)}`,
          );
        }
        if (await healthy(url)) return;
        await sleep(100);
      }
    },
    stop: () => waitExit('SIGTERM', 20_000),
    kill9: () => waitExit('SIGKILL', 10_000),
  };
  return node;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** The environment without `CONTINUUM_*` settings (the server warns about unknown ones) and loader options. */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('CONTINUUM_') && name !== 'NODE_OPTIONS') env[name] = value;
  }
  return env;
}

/** The soft and hard limits on open files of a process, from /proc. */
export function openFilesLimits(pid: number): { soft: number; hard: number } | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = (line ?? '').replace('Max open files', '').trim().split(/\s+/);
    const parse = (value: string | undefined) => (value === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(value));
    return line === undefined ? undefined : { soft: parse(soft), hard: parse(hard) };
  } catch {
    return undefined;
  }
}

/**
 * Raise a process's limit on open files to {@link WANTED_OPEN_FILES} with
 * `prlimit` (root may lift the hard limit too); where that is refused, to its
 * hard limit (Node already lifts its own soft limit to the hard one at start).
 * Returns the soft limit in force afterwards.
 */
export async function raiseOpenFiles(pid: number): Promise<number | undefined> {
  const before = openFilesLimits(pid);
  if (before === undefined) return undefined;
  if (before.soft >= WANTED_OPEN_FILES) return before.soft;
  try {
    await run('prlimit', ['--pid', String(pid), `--nofile=${WANTED_OPEN_FILES}:${WANTED_OPEN_FILES}`]);
  } catch {
    try {
      if (before.soft < before.hard) await run('prlimit', ['--pid', String(pid), `--nofile=${before.hard}`]);
    } catch {
      // prlimit missing or refused: the limit stays as it is, and the report says what it was.
    }
  }
  return openFilesLimits(pid)?.soft;
}

/**
 * The node's own account of what went wrong: its `warn` and worse log lines
 * (message, error and its cause), the most recent `limit` distinct ones.
 */
export function nodeProblems(node: ContinuumNode, limit = 10): string[] {
  const seen = new Set<string>();
  for (const line of node.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as {
        level?: number;
        msg?: string;
        err?: { message?: string; code?: string };
        alert?: { id?: string; summary?: string; detail?: string };
      };
      if ((entry.level ?? 0) < 40) continue;
      const err = entry.err === undefined ? '' : `: ${entry.err.code ?? ''} ${entry.err.message ?? ''}`.trimEnd();
      const alert = entry.alert === undefined ? '' : ` ${entry.alert.id ?? ''} (${entry.alert.summary ?? ''})`;
      const text = `${node.name}: ${entry.msg ?? ''}${alert}${err}`;
      seen.delete(text);
      seen.add(text);
    } catch {
      // Not a log line of the node (a stack trace, a warning of Node itself).
    }
  }
  return [...seen].slice(-limit);
}
