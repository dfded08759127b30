/**
 * The server side of bench/first-delta.ts, in a process of its own: a
 * Continuum instance on loopback (production wiring: the `openai` SDK adapter
 * behind `withResilience`, real SQLite, encryption and audit), calling the
 * fake provider in a third process (bench/first-delta-fake.ts). The load
 * generator — the clients of both sides and their garbage — stays in the
 * parent, as it would on a real deployment.
 *
 * Driven over the IPC channel of `child_process.fork`, one request at a time
 * (see {@link HostRequest}); every time it reports is `performance.timeOrigin
 * + performance.now()`, comparable with the parent's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseFlags } from '../src/flags/flag-input.ts';
import { createOpenAIProvider } from '../src/models/openai-provider.ts';
import { withResilience } from '../src/models/resilience.ts';
import { serveBenchParent } from './lib/bench-child.ts';
import { type CpuWaitClock, openCpuWaitClock } from './lib/cpu-wait.ts';
import { STREAM_FAKE_MODEL } from './lib/openai-stream-fake.ts';
import { epochOf, type GenerationTiming, tapProvider } from './lib/provider-tap.ts';
import { createBenchTenantWithKey, type Instance, issueBenchToken, openInstance } from './state-load.ts';

export type HostRequest =
  | {
      type: 'start';
      /** The tenant's stream limit. */
      concurrency: number;
      /** One list of seed turns per conversation to create. */
      seeds: { role: string; content: string }[][];
      /** The fake provider's base URL (bench/first-delta-fake.ts). */
      fakeBaseURL: string;
    }
  /** Hand over (and forget) the timings of the generations recorded since the last call. */
  | { type: 'timings' }
  | { type: 'close' };

/**
 * A generation's timing in epoch milliseconds (see {@link GenerationTiming}), with the reply request's as this
 * server saw it: when it arrived (the HTTP parser had its headers) and when the first `event: delta` was written
 * to its socket. Requests are matched to generations by time (the newest reply request that arrived before the
 * model was called), which holds when one request is in flight at a time.
 */
export interface HostTiming {
  tag: number;
  calledAt: number;
  firstDeltaAt?: number;
  arrivedAt?: number;
  deltaWrittenAt?: number;
  /**
   * How long, within Continuum's own part (arrival → model called, and the adapter's first delta → the delta
   * written), the server's main thread waited for a CPU held by another task (bench/lib/cpu-wait.ts), in ms;
   * absent where the kernel does not keep the figure.
   */
  ownCpuWaitMs?: number;
}

/** A reply request (`POST …/turns` over SSE) as this server saw it, in `performance.now()` time. */
interface SeenRequest {
  arrivedAt: number;
  deltaWrittenAt?: number;
  /** The main thread's wait for a CPU so far (ms) at those two times. */
  arrivedWait?: number;
  deltaWrittenWait?: number;
}

/**
 * Note when each reply request arrives and when its first delta event is written to the socket: a listener put
 * before Fastify's on the node HTTP server, wrapping the response's `write`. Measurement only; the response is
 * untouched. With `cpuWait`, the main thread's wait for a CPU is read beside both times.
 */
function watchReplyRequests(server: Server, seen: SeenRequest[], cpuWait: CpuWaitClock | undefined): void {
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    const arrivedAt = performance.now();
    const sse = request.method === 'POST' && (request.headers.accept ?? '').includes('text/event-stream');
    if (!sse || !request.url?.endsWith('/turns')) return;
    const entry: SeenRequest = { arrivedAt };
    if (cpuWait) entry.arrivedWait = cpuWait.read();
    seen.push(entry);
    const write = response.write.bind(response) as (...args: unknown[]) => boolean;
    response.write = ((...args: unknown[]) => {
      const chunk = args[0];
      if (entry.deltaWrittenAt === undefined && typeof chunk === 'string' && chunk.includes('\nevent: delta\n')) {
        entry.deltaWrittenAt = performance.now();
        if (cpuWait) entry.deltaWrittenWait = cpuWait.read();
      }
      return write(...args);
    }) as ServerResponse['write'];
  });
}

/** The newest request that arrived at or before `at`. */
function arrivedBefore(seen: readonly SeenRequest[], at: number): SeenRequest | undefined {
  for (let i = seen.length - 1; i >= 0; i--) if (seen[i]!.arrivedAt <= at) return seen[i];
  return undefined;
}

/** {@link HostTiming.ownCpuWaitMs} of a request and its generation, when all four readings were taken. */
function ownCpuWait(request: SeenRequest | undefined, t: GenerationTiming): { ownCpuWaitMs?: number } {
  const readings = [request?.arrivedWait, t.calledWait, t.firstDeltaWait, request?.deltaWrittenWait];
  if (readings.some((reading) => reading === undefined)) return {};
  const [arrived, called, firstDelta, written] = readings as [number, number, number, number];
  return { ownCpuWaitMs: called - arrived + (written - firstDelta) };
}

export type HostReply =
  | { type: 'started'; baseUrl: string; token: string; conversations: { id: string; turn: number }[] }
  | { type: 'timings'; timings: HostTiming[] }
  | { type: 'closed' };

type Running = { close(): Promise<void>; take(): HostTiming[] };

async function start(
  request: Extract<HostRequest, { type: 'start' }>,
): Promise<{ running: Running; reply: HostReply }> {
  const timings: GenerationTiming[] = [];
  const seen: SeenRequest[] = [];
  // Opened here, on the main thread: the thread whose wait it reads.
  const cpuWait = openCpuWaitClock();
  // Production wiring (createModelProvider): the adapter behind deadlines, retries and a circuit breaker.
  const model = withResilience(
    tapProvider(
      createOpenAIProvider({ baseURL: request.fakeBaseURL, model: STREAM_FAKE_MODEL, apiKey: 'bench' }),
      (t) => timings.push(t),
      cpuWait?.read,
    ),
  );
  const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-bench-first-delta-'));
  let instance: Instance | undefined;
  const close = async () => {
    cpuWait?.close();
    await instance?.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // Model-backed summaries and extraction off (flag `model-context`): their background calls to the same fake
    // provider would be timed as if they were the replies'.
    instance = await openInstance(
      dataDir,
      { model },
      { maxStreamsPerTenant: request.concurrency, flags: parseFlags('model-context=off') },
    );
    const { app } = instance;
    const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    watchReplyRequests(app.server, seen, cpuWait);
    const { apiKey } = await createBenchTenantWithKey(app, 'bench-first-delta');
    const token = await issueBenchToken(app, apiKey);
    const conversations: { id: string; turn: number }[] = [];
    for (const seed of request.seeds) {
      const created = await app.inject({
        method: 'POST',
        url: '/v1/conversations',
        headers: { authorization: `Bearer ${token}` },
        payload: { title: 'bench first delta' },
      });
      const id = (created.json() as { id: string }).id;
      for (const [turn, source] of seed.entries()) {
        const appended = await app.inject({
          method: 'POST',
          url: `/v1/conversations/${id}/turns`,
          headers: { authorization: `Bearer ${token}` },
          payload: { role: source.role, content: source.content, expectedTurn: turn },
        });
        if (appended.statusCode !== 201) throw new Error(`seed turn: ${appended.statusCode} ${appended.body}`);
      }
      conversations.push({ id, turn: seed.length });
    }
    const running: Running = {
      take: () => {
        const taken = timings.splice(0).flatMap((t): HostTiming[] => {
          if (t.tag === undefined) return [];
          const request = arrivedBefore(seen, t.calledAt);
          return [
            {
              tag: t.tag,
              calledAt: epochOf(t.calledAt),
              ...(t.firstDeltaAt === undefined ? {} : { firstDeltaAt: epochOf(t.firstDeltaAt) }),
              ...(request === undefined ? {} : { arrivedAt: epochOf(request.arrivedAt) }),
              ...(request?.deltaWrittenAt === undefined ? {} : { deltaWrittenAt: epochOf(request.deltaWrittenAt) }),
              ...ownCpuWait(request, t),
            },
          ];
        });
        seen.splice(0);
        return taken;
      },
      close,
    };
    return { running, reply: { type: 'started', baseUrl, token, conversations } };
  } catch (error) {
    // A start that fails half way leaves nothing behind either.
    await close();
    throw error;
  }
}

let running: Running | undefined;
serveBenchParent<HostRequest, HostReply>(
  async (request) => {
    switch (request.type) {
      case 'start': {
        const started = await start(request);
        running = started.running;
        return started.reply;
      }
      case 'timings':
        return { type: 'timings', timings: running?.take() ?? [] };
    }
  },
  // On `close`, and when the parent stops it before (its run failed): leave no server or data folder behind.
  async () => {
    await running?.close();
    running = undefined;
  },
);
