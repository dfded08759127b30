/**
 * The time Continuum adds to the first delta of a reply (issue 5), over a
 * fake OpenAI-compatible provider (bench/lib/openai-stream-fake.ts) whose
 * first content chunk comes a fixed delay after the request, driven by the
 * real `openai` SDK adapter of src/models. Continuum (bench/first-delta-host.ts)
 * and the fake (bench/first-delta-fake.ts) each run in a process of their
 * own; this process is the load generator. So the clients' work and garbage
 * stay out of the server's heap, the server's work (a reply's upkeep, its
 * garbage collection) cannot delay the fake's answers to side (a), and both
 * sides below cross the same process boundaries:
 *
 * - (a) the provider alone: `generate` on the adapter here, timed to its
 *   first delta (the fake sends the same first chunk after the same delay,
 *   without the rest of the reply, so nothing else differs);
 * - (b) through Continuum: `POST …/turns` with `respond: true` over SSE on
 *   loopback (production wiring in the host: the adapter behind
 *   `withResilience`, real SQLite, encryption and audit), timed from the
 *   request to the first `event: delta` received;
 * - added = b − a, at p50 and at p99; and per request, from timestamps taken
 *   around the adapter in the host (bench/lib/provider-tap.ts, compared as
 *   epoch milliseconds): time before the model is called, the provider's own
 *   part, and the time from the adapter's first delta to the client's; and,
 *   on Linux, how long the server's main thread waited for a CPU within its
 *   own part (bench/lib/cpu-wait.ts): on two shared cores, the tail of that
 *   part is mostly such waits;
 * - (c), one request at a time only: a user turn appended without a reply
 *   (JSON), to show how much of the time before the model call the append
 *   path alone takes;
 * - (d), one request at a time only: the same request through a server that
 *   does nothing of its own (bench/first-delta-proxy.ts, a process of its
 *   own): d − a is what any server between the client and the provider adds
 *   on this machine, the yardstick for b − a.
 *
 * Sides (b) and (d) send and read with `node:http` by default, a client light
 * enough that the figures are the servers'; `FIRST_DELTA_CLIENT=fetch` uses
 * Node's fetch instead (see {@link FirstDeltaOptions.client}).
 *
 * Node options for the host process can be added in `FIRST_DELTA_HOST_ARGS`
 * (say `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the server side alone).
 *
 * Two provider replies: small chunks 10 ms apart, and a first chunk of more
 * than 1,024 bytes (the coalescer's size flush). Continuum sends the first
 * delta at once in both (ADR-005); the coalescer shapes what follows. (a) and
 * (b) take turns, one request at a time, then in waves of `concurrency`
 * requests.
 */
import path from 'node:path';
import { createOpenAIProvider } from '../src/models/openai-provider.ts';
import type { ModelProvider } from '../src/models/port.ts';
import type { FakeReply, FakeRequest } from './first-delta-fake.ts';
import type { HostReply, HostRequest, HostTiming } from './first-delta-host.ts';
import type { ProxyReply, ProxyRequest } from './first-delta-proxy.ts';
import { forkBenchChild } from './lib/bench-child.ts';
import type { ClinicalTurn } from './lib/clinical-text.ts';
import { STREAM_FAKE_MODEL, type StreamScript } from './lib/openai-stream-fake.ts';
import { epochOf, TAG_FORM, tagText } from './lib/provider-tap.ts';
import { failureLabel, postReply, type StreamedReply } from './lib/sse-client.ts';
import { type LatencySummary, summarize } from './lib/stats.ts';

export type ScenarioName = 'coalesced' | 'size-flush';

export interface FirstDeltaOptions {
  /** The fake's delay before the first content chunk, in ms. */
  firstChunkDelayMs: number;
  /** Sequential (a, b) pairs per scenario. */
  requests: number;
  /** Requests in flight at once in the concurrent runs (also the tenant's stream limit). */
  concurrency: number;
  /** Requests of each side per scenario in the concurrent runs (waves of `concurrency`). */
  concurrentRequests: number;
  /** Untimed pairs before each scenario. */
  warmupRequests: number;
  /** Conversations the requests rotate over, each seeded with `seedTurns` clinical turns. */
  conversations: number;
  seedTurns: number;
  turns: readonly ClinicalTurn[];
  /**
   * The HTTP client of sides (b) and (d): `http` (default) is `node:http` with a keep-alive agent, light enough
   * that the figures are the server's; `fetch` is Node's fetch, which adds about half a millisecond per round
   * trip after an idle pause on the 2-core machine (`FIRST_DELTA_CLIENT=fetch npm run bench`).
   */
  client?: 'fetch' | 'http';
  log?: (line: string) => void;
}

/** One run (sequential or concurrent) of one scenario; every figure in ms. */
export interface FirstDeltaRun {
  scenario: ScenarioName;
  concurrency: number;
  /** (a): the adapter alone, request to first delta. */
  provider: LatencySummary;
  /** (b): through Continuum, request sent to first `event: delta` received. */
  continuum: LatencySummary;
  /** b − a at p50 and at p99. */
  addedP50: number;
  addedP99: number;
  /** Per request (b only): from the request to the model call (append, stream slot, context, intent). */
  beforeModel: LatencySummary;
  /** Per request (b only): the adapter's own time to its first delta. */
  providerInRequest: LatencySummary;
  /** Per request (b only): the adapter's first delta to the client's (coalescing, event store, SSE write). */
  afterProvider: LatencySummary;
  /** Per request (b only): total − the provider's own part. */
  addedPerRequest: LatencySummary;
  /** Request to the user turn's `event: turn` (the turn stored, the stream open). */
  userTurn: LatencySummary;
  /** (c), one request at a time only: a user turn appended without a reply, request to 201 (the append path alone). */
  appendAlone?: LatencySummary;
  /** (d), one request at a time only: through a server that does nothing of its own, request to first delta. */
  passThrough?: LatencySummary;
  /** d − a at p50 and at p99: what any server in between adds. */
  passThroughAddedP50?: number;
  passThroughAddedP99?: number;
  /** Per request (b, one at a time only), as the server saw it; see {@link ServerSplit}. */
  server?: ServerSplit;
  /** Requests that failed (by kind); they are left out of the figures. */
  failures: Record<string, number>;
}

/**
 * A request through Continuum split at the server's socket (durations, each taken within one process):
 * Continuum's own part is from the request's arrival to its first delta written to the socket, less the
 * provider's part; the transport is the rest of the added time (the request reaching the server, the delta
 * reaching the client and being parsed).
 */
export interface ServerSplit {
  /** Arrival → model called. */
  beforeModel: LatencySummary;
  /** The adapter's first delta → the delta event written to the socket. */
  afterProvider: LatencySummary;
  /** beforeModel + afterProvider. */
  own: LatencySummary;
  /** Added per request − own. */
  transport: LatencySummary;
  /**
   * Of `own`, the time the server's main thread waited for a CPU, queued behind other tasks (Linux run-queue
   * delay, bench/lib/cpu-wait.ts): the machine's share of the own part, whoever held the CPU — the server's own
   * helper threads (garbage collection, the checkpointer), the clients, the fake, the pass-through, the kernel.
   * Absent where the kernel does not keep the figure, and in results from before it was measured.
   */
  cpuWait?: LatencySummary;
  /** Per request, own − cpuWait: the own part while the main thread had a CPU. */
  ownLessCpuWait?: LatencySummary;
}

export interface FirstDeltaFigures {
  firstChunkDelayMs: number;
  /** The client of sides (b) and (d); see {@link FirstDeltaOptions.client}. Absent from older results: fetch. */
  client?: 'fetch' | 'http';
  /**
   * How each message of side (b) is tagged so the server's timings can be matched to it (bench/lib/provider-tap.ts).
   * Absent from older results, whose tag was `[bench-request n]`: two words in every message, so every query
   * matched every earlier request.
   */
  requestTag?: string;
  scripts: Record<ScenarioName, { chunks: number; firstChunkBytes: number; intervalMs: number; tailMs: number }>;
  runs: FirstDeltaRun[];
}

function scriptOf(scenario: ScenarioName, delayMs: number): StreamScript {
  const words = 'Your metformin dose stays at five hundred milligrams twice daily with meals for now .'.split(' ');
  if (scenario === 'coalesced') {
    // 12 small deltas 10 ms apart: the reply is still streaming when the coalescer's 100 ms timer fires.
    return { firstChunkDelayMs: delayMs, chunks: words.slice(0, 12).map((w) => `${w} `), intervalMs: 10 };
  }
  // A first delta past 1,024 bytes is flushed by size at once; a short tail follows.
  const first = `${'The medication list is unchanged since your last visit. '.repeat(20)}`;
  return { firstChunkDelayMs: delayMs, chunks: [first, 'Take ', 'care.'], intervalMs: 2 };
}

const firstOnly = (script: StreamScript): StreamScript => ({ ...script, chunks: script.chunks.slice(0, 1) });

/** (a): one generation on the adapter, timed to its first delta; drained so the connection is reused. */
async function providerAlone(adapter: ModelProvider, content: string): Promise<number> {
  const started = performance.now();
  const generation = adapter.generate({
    messages: [{ role: 'user', content }],
    maxTokens: 256,
    signal: new AbortController().signal,
  });
  let first: number | undefined;
  for await (const _delta of generation.deltas) first ??= performance.now();
  await generation.result;
  if (first === undefined) throw new Error('the fake provider sent no delta');
  return first - started;
}

export async function runFirstDelta(options: FirstDeltaOptions): Promise<FirstDeltaFigures> {
  const log = options.log ?? (() => {});
  const client = options.client ?? 'http';
  const scenarios: ScenarioName[] = ['coalesced', 'size-flush'];
  const fake = forkBenchChild<FakeRequest, FakeReply>(
    'first-delta fake provider',
    path.join(import.meta.dirname, 'first-delta-fake.ts'),
  );
  const host = forkBenchChild<HostRequest, HostReply>(
    'first-delta host',
    path.join(import.meta.dirname, 'first-delta-host.ts'),
    (process.env.FIRST_DELTA_HOST_ARGS ?? '').split(' ').filter(Boolean),
  );
  const proxy = forkBenchChild<ProxyRequest, ProxyReply>(
    'first-delta pass-through',
    path.join(import.meta.dirname, 'first-delta-proxy.ts'),
  );
  try {
    let cursor = 0;
    const seeds = Array.from({ length: options.conversations }, () =>
      Array.from({ length: options.seedTurns }, () => {
        const { role, content } = options.turns[cursor++ % options.turns.length]!;
        return { role, content };
      }),
    );
    const fakeStarted = await fake.ask({ type: 'start', script: scriptOf('coalesced', options.firstChunkDelayMs) });
    if (fakeStarted.type !== 'started') throw new Error(`first-delta fake: unexpected ${fakeStarted.type}`);
    const { baseURL: fakeBaseURL } = fakeStarted;
    const started = await host.ask({
      type: 'start',
      concurrency: options.concurrency,
      seeds,
      fakeBaseURL,
    });
    if (started.type !== 'started') throw new Error(`first-delta host: unexpected ${started.type}`);
    const { baseUrl, token, conversations } = started;
    const proxyStarted = await proxy.ask({ type: 'start', fakeBaseURL });
    if (proxyStarted.type !== 'started') throw new Error(`first-delta pass-through: unexpected ${proxyStarted.type}`);
    const adapter = createOpenAIProvider({ baseURL: fakeBaseURL, model: STREAM_FAKE_MODEL, apiKey: 'bench' });
    const script = async (next: StreamScript) => void (await fake.ask({ type: 'script', script: next }));
    const userTurns = options.turns.filter((t) => t.role === 'user');
    log(
      `  ${options.conversations} conversations of ${options.seedTurns} clinical turns; Continuum and the fake provider (${fakeBaseURL}) each in a process of its own; the client of (b) and (d): ${client === 'http' ? 'node:http' : 'fetch'}`,
    );

    let tag = 0;
    let next = 0;
    /** (b): one reply through Continuum on the next conversation. */
    const throughContinuum = async (): Promise<{ reply: StreamedReply; tag: number }> => {
      const conversation = conversations[next++ % conversations.length]!;
      const mine = ++tag;
      const source = userTurns[mine % userTurns.length]!;
      const reply = await postReply({
        baseUrl,
        token,
        conversationId: conversation.id,
        content: `${source.content} ${tagText(mine)}`,
        expectedTurn: conversation.turn,
        signal: AbortSignal.timeout(30_000),
        client,
      });
      if (reply.replyTurn !== undefined) conversation.turn = reply.replyTurn;
      return { reply, tag: mine };
    };
    const askProvider = (i: number) => providerAlone(adapter, userTurns[i % userTurns.length]!.content);
    /** (d): the same kind of request through the pass-through server; the fake sends the first chunk alone. */
    const passThrough = (i: number) =>
      postReply({
        baseUrl: proxyStarted.baseUrl,
        token,
        conversationId: 'pass-through',
        content: userTurns[i % userTurns.length]!.content,
        expectedTurn: i,
        signal: AbortSignal.timeout(30_000),
        client,
      });
    /** (c): the same kind of user turn appended without a reply (JSON 201), on the conversation (b) just used. */
    const appendAlone = async (): Promise<number> => {
      const conversation = conversations[(next - 1) % conversations.length]!;
      const source = userTurns[(tag + 1) % userTurns.length]!;
      const started = performance.now();
      const response = await fetch(`${baseUrl}/v1/conversations/${conversation.id}/turns`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'user', content: source.content, expectedTurn: conversation.turn }),
      });
      const body = (await response.json()) as { turn?: { number: number } };
      const ms = performance.now() - started;
      if (response.status !== 201 || body.turn === undefined) throw new Error(`append: ${response.status}`);
      conversation.turn = body.turn.number;
      return ms;
    };

    const runs: FirstDeltaRun[] = [];
    for (const scenario of scenarios) {
      const scenarioScript = scriptOf(scenario, options.firstChunkDelayMs);
      for (let i = 0; i < options.warmupRequests; i++) {
        await script(firstOnly(scenarioScript));
        await askProvider(i);
        await passThrough(i);
        await script(scenarioScript);
        await throughContinuum();
      }
      for (const concurrency of [1, options.concurrency]) {
        const total = concurrency === 1 ? options.requests : options.concurrentRequests;
        const alone: number[] = [];
        const appends: number[] = [];
        const proxied: StreamedReply[] = [];
        const through: { reply: StreamedReply; tag: number }[] = [];
        for (let done = 0; done < total; done += concurrency) {
          const wave = Math.min(concurrency, total - done);
          // The sides take turns, wave by wave, so drift in machine load hits them alike.
          await script(firstOnly(scenarioScript));
          alone.push(...(await Promise.all(Array.from({ length: wave }, (_, i) => askProvider(done + i)))));
          if (concurrency === 1) proxied.push(await passThrough(done));
          await script(scenarioScript);
          through.push(...(await Promise.all(Array.from({ length: wave }, () => throughContinuum()))));
          if (concurrency === 1) appends.push(await appendAlone());
        }
        const taken = await host.ask({ type: 'timings' });
        const timings = new Map(taken.type === 'timings' ? taken.timings.map((t) => [t.tag, t]) : []);
        const run = figuresOf(scenario, concurrency, alone, through, timings);
        if (appends.length > 0) run.appendAlone = summarize(appends);
        if (proxied.length > 0) passThroughFigures(run, proxied);
        runs.push(run);
        const failed = Object.values(run.failures).reduce((a, b) => a + b, 0);
        log(
          `  ${scenario}, ${concurrency === 1 ? 'sequential' : `${concurrency} at once`}: provider p50 ${run.provider.p50.toFixed(2)} / p99 ${run.provider.p99.toFixed(2)} ms, through Continuum p50 ${run.continuum.p50.toFixed(2)} / p99 ${run.continuum.p99.toFixed(2)} ms, added p50 ${run.addedP50.toFixed(2)} / p99 ${run.addedP99.toFixed(2)} ms${run.passThroughAddedP50 === undefined ? '' : `; a pass-through server adds p50 ${run.passThroughAddedP50.toFixed(2)} / p99 ${run.passThroughAddedP99!.toFixed(2)} ms`}${run.server === undefined ? '' : `; Continuum's own part in the server p50 ${run.server.own.p50.toFixed(2)} / p99 ${run.server.own.p99.toFixed(2)} ms`}${run.server?.ownLessCpuWait === undefined ? '' : ` (waiting for a CPU p50 ${run.server.cpuWait!.p50.toFixed(2)} / p99 ${run.server.cpuWait!.p99.toFixed(2)} ms; less that wait p50 ${run.server.ownLessCpuWait.p50.toFixed(2)} / p99 ${run.server.ownLessCpuWait.p99.toFixed(2)} ms)`}${failed > 0 ? `, ${failed} failed` : ''}`,
        );
      }
    }
    const scripts = Object.fromEntries(
      scenarios.map((scenario) => {
        const s = scriptOf(scenario, options.firstChunkDelayMs);
        return [
          scenario,
          {
            chunks: s.chunks.length,
            firstChunkBytes: Buffer.byteLength(s.chunks[0]!, 'utf8'),
            intervalMs: s.intervalMs,
            tailMs: (s.chunks.length - 1) * s.intervalMs,
          },
        ];
      }),
    ) as FirstDeltaFigures['scripts'];
    await host.ask({ type: 'close' });
    await proxy.ask({ type: 'close' });
    await fake.ask({ type: 'close' });
    return { firstChunkDelayMs: options.firstChunkDelayMs, client, requestTag: TAG_FORM, scripts, runs };
  } finally {
    await Promise.all([host.stop(), proxy.stop(), fake.stop()]);
  }
}

/** (d)'s figures into `run`; its failures are counted with the run's, under `pass-through`. */
function passThroughFigures(run: FirstDeltaRun, proxied: StreamedReply[]): void {
  const times: number[] = [];
  for (const reply of proxied) {
    if (reply.failure === undefined && reply.firstDeltaAt !== undefined) times.push(reply.firstDeltaAt - reply.sentAt);
    else {
      const label = `pass-through: ${reply.failure ? failureLabel(reply.failure) : 'no delta'}`;
      run.failures[label] = (run.failures[label] ?? 0) + 1;
    }
  }
  if (times.length === 0) return;
  run.passThrough = summarize(times);
  run.passThroughAddedP50 = run.passThrough.p50 - run.provider.p50;
  run.passThroughAddedP99 = run.passThrough.p99 - run.provider.p99;
}

function figuresOf(
  scenario: ScenarioName,
  concurrency: number,
  alone: number[],
  through: { reply: StreamedReply; tag: number }[],
  timings: Map<number, HostTiming>,
): FirstDeltaRun {
  const failures: Record<string, number> = {};
  const parts = { total: [] as number[], before: [] as number[], provider: [] as number[], after: [] as number[] };
  const server = {
    before: [] as number[],
    after: [] as number[],
    own: [] as number[],
    transport: [] as number[],
    cpuWait: [] as number[],
    ownLessCpuWait: [] as number[],
  };
  const userTurn: number[] = [];
  for (const { reply, tag } of through) {
    const timing = timings.get(tag);
    const failure = reply.failure
      ? failureLabel(reply.failure)
      : reply.firstDeltaAt === undefined || timing?.firstDeltaAt === undefined
        ? 'no timing'
        : undefined;
    if (failure !== undefined) {
      failures[failure] = (failures[failure] ?? 0) + 1;
      continue;
    }
    const total = reply.firstDeltaAt! - reply.sentAt;
    const providerPart = timing!.firstDeltaAt! - timing!.calledAt;
    parts.total.push(total);
    // Across the process boundary, in epoch milliseconds.
    parts.before.push(timing!.calledAt - epochOf(reply.sentAt));
    parts.provider.push(providerPart);
    parts.after.push(epochOf(reply.firstDeltaAt!) - timing!.firstDeltaAt!);
    if (reply.turnAt !== undefined) userTurn.push(reply.turnAt - reply.sentAt);
    // Requests are matched to generations by time in the host: only when one is in flight at a time.
    if (concurrency === 1 && timing!.arrivedAt !== undefined && timing!.deltaWrittenAt !== undefined) {
      const before = timing!.calledAt - timing!.arrivedAt;
      const after = timing!.deltaWrittenAt - timing!.firstDeltaAt!;
      server.before.push(before);
      server.after.push(after);
      server.own.push(before + after);
      server.transport.push(total - providerPart - before - after);
      if (timing!.ownCpuWaitMs !== undefined) {
        server.cpuWait.push(timing!.ownCpuWaitMs);
        server.ownLessCpuWait.push(before + after - timing!.ownCpuWaitMs);
      }
    }
  }
  const provider = summarize(alone);
  const continuum = summarize(parts.total);
  return {
    scenario,
    concurrency,
    provider,
    continuum,
    addedP50: continuum.p50 - provider.p50,
    addedP99: continuum.p99 - provider.p99,
    beforeModel: summarize(parts.before),
    providerInRequest: summarize(parts.provider),
    afterProvider: summarize(parts.after),
    addedPerRequest: summarize(parts.total.map((total, i) => total - parts.provider[i]!)),
    userTurn: summarize(userTurn),
    ...(server.own.length === 0
      ? {}
      : {
          server: {
            beforeModel: summarize(server.before),
            afterProvider: summarize(server.after),
            own: summarize(server.own),
            transport: summarize(server.transport),
            // Measured for every request or for none (the host has the clock or has not).
            ...(server.cpuWait.length === server.own.length
              ? { cpuWait: summarize(server.cpuWait), ownLessCpuWait: summarize(server.ownLessCpuWait) }
              : {}),
          },
        }),
    failures,
  };
}
