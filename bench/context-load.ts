/**
 * Context load (issue 4): what it costs to load a conversation's working
 * context — profile, rolling summary, recent and retrieved turns, the
 * budgeted prompt — for a short and a very long conversation, both built
 * turn by turn through the real append path (which keeps the working context
 * up to date as it goes). In-process on a real SQLite file:
 *
 * - service: `ConversationService.open` (chain check) + `ContextService.build`,
 *   what every reply pays before it calls the model;
 * - HTTP: `GET /v1/conversations/{id}/context` through `app.inject` (auth,
 *   audit event, JSON response), no socket;
 * - first: the first build on a freshly built app (the node has never seen
 *   the conversation: state read and opened, search index built from the
 *   whole history);
 * - search: `ContextService.search` with the query a build uses, to show
 *   how much of a build the BM25 retrieval over the whole history is.
 *
 * Warm samples are taken in rounds, the sizes taking turns within each
 * round, so drift in machine load hits both alike.
 */

import { type LatencySummary, median, summarize } from './lib/stats.ts';
import { type BuiltConversations, issueBenchToken, openInstance } from './state-load.ts';

export interface ContextLoadOptions {
  /** Conversation lengths in turns (the first is the yardstick). */
  sizes: number[];
  /** Fresh app instances per size, one first-build sample each. */
  coldRuns: number;
  /** Untimed service builds and GETs per size before the rounds. */
  warmupIterations: number;
  rounds: number;
  /** Timed service builds per size per round (as many GETs). */
  iterationsPerRound: number;
  log?: (line: string) => void;
}

export type ContextSample = { open: number; build: number; cpu: number };

export interface ContextLoadFigures {
  turns: number;
  /** Appends per second while the conversation was built (one writer). */
  buildAppendsPerSecond: number;
  /** First build on a fresh app: open + build. */
  first: LatencySummary;
  /** Warm open + build, wall clock, with the two halves' p50 and the process CPU per load. */
  service: LatencySummary & { openP50: number; buildP50: number; cpuP50: number; cpuP99: number };
  /** Warm `GET …/context` through `app.inject`. */
  http: LatencySummary & { responseBytes: number };
  /**
   * Open + build for a message the node has not built a context for (a different `q` each time): retrieval
   * and prompt assembly run, only the state and its profile view are reused. A repeated load of an unchanged
   * conversation (`service`) reuses the built context.
   */
  newMessage: LatencySummary;
  /** Warm `ContextService.search` with the query a build uses (the last user message): the BM25 part alone. */
  searchP50: number;
  /** p50 of each round's service samples. */
  roundServiceP50s: number[];
  /** Prompt tokens, messages and profile facts of the built context (what is being loaded). */
  promptTokens: number;
  retrieved: number;
  recent: number;
  profileFacts: number;
  /** Facts of the full profile beyond the profile budget, left out of the working context. */
  profileOmitted: number;
}

export interface ContextLoadResult {
  sizes: ContextLoadFigures[];
  /** Largest ÷ smallest size: p50 and p99 of service and HTTP. */
  ratio: { serviceP50: number; serviceP99: number; httpP50: number; httpP99: number };
  /** Per round, largest ÷ smallest service p50. */
  roundRatios: number[];
}

function countFacts(profile: unknown): number {
  if (profile === null || typeof profile !== 'object') return 0;
  let facts = 0;
  for (const value of Object.values(profile)) if (Array.isArray(value)) facts += value.length;
  return facts;
}

export async function runContextLoad(
  options: ContextLoadOptions,
  data: BuiltConversations,
): Promise<ContextLoadResult> {
  const log = options.log ?? (() => {});
  const { principal } = data;
  const built = options.sizes.map((size) => {
    const found = data.conversations.find((c) => c.turns === size);
    if (!found) throw new TypeError(`no built conversation of ${size} turns`);
    return found;
  });

  // First build on a fresh node: each sample on a new app instance, sizes taking turns.
  const first = new Map<number, number[]>(built.map((b) => [b.turns, []]));
  for (let run = 0; run < options.coldRuns; run++) {
    for (const conversation of built) {
      const instance = await openInstance(data.dataDir);
      try {
        const started = performance.now();
        const record = await instance.services.conversations.open(principal, conversation.id, 'context.read');
        await instance.services.context.build(record);
        first.get(conversation.turns)!.push(performance.now() - started);
      } finally {
        await instance.close();
      }
    }
  }
  log(`  first build: ${options.coldRuns} fresh instances per size`);

  const instance = await openInstance(data.dataDir);
  try {
    const { app, services } = instance;
    const token = await issueBenchToken(app, data.apiKey);
    const serviceLoad = async (id: string): Promise<ContextSample> => {
      const cpuStarted = process.cpuUsage();
      const started = performance.now();
      const record = await services.conversations.open(principal, id, 'context.read');
      const opened = performance.now();
      await services.context.build(record);
      const finished = performance.now();
      const cpu = process.cpuUsage(cpuStarted);
      return { open: opened - started, build: finished - opened, cpu: (cpu.user + cpu.system) / 1000 };
    };
    let variant = 0;
    const newMessageLoad = async (id: string, query: string): Promise<number> => {
      const started = performance.now();
      const record = await services.conversations.open(principal, id, 'context.read');
      await services.context.build(record, `${query} (${++variant})`);
      return performance.now() - started;
    };
    const httpLoad = async (id: string): Promise<{ ms: number; bytes: number }> => {
      const started = performance.now();
      const response = await app.inject({
        method: 'GET',
        url: `/v1/conversations/${id}/context`,
        headers: { authorization: `Bearer ${token}` },
      });
      const ms = performance.now() - started;
      if (response.statusCode !== 200) throw new Error(`GET context: ${response.statusCode} ${response.body}`);
      return { ms, bytes: response.rawPayload.length };
    };

    // The query a build retrieves with by default: the last user message of the recent window.
    const queries = new Map<number, string>();
    for (const conversation of built) {
      const record = await services.conversations.open(principal, conversation.id, 'context.read');
      const context = await services.context.build(record);
      queries.set(conversation.turns, [...context.recent].reverse().find((t) => t.role === 'user')?.content ?? '');
    }
    const searchLoad = async (id: string, query: string): Promise<number> => {
      const record = await services.conversations.open(principal, id, 'search.read');
      const started = performance.now();
      await services.context.search(record, query, 5);
      return performance.now() - started;
    };

    for (const conversation of built) {
      for (let i = 0; i < options.warmupIterations; i++) {
        await serviceLoad(conversation.id);
        await httpLoad(conversation.id);
        await searchLoad(conversation.id, queries.get(conversation.turns)!);
      }
    }
    log(`  warmed up: ${options.warmupIterations} builds and GETs per size`);

    const service = new Map<number, ContextSample[][]>(built.map((b) => [b.turns, []]));
    const http = new Map<number, { ms: number; bytes: number }[]>(built.map((b) => [b.turns, []]));
    const search = new Map<number, number[]>(built.map((b) => [b.turns, []]));
    const fresh = new Map<number, number[]>(built.map((b) => [b.turns, []]));
    for (let round = 0; round < options.rounds; round++) {
      // Alternate which size goes first.
      const order = round % 2 === 0 ? built : [...built].reverse();
      for (const conversation of order) {
        const samples: ContextSample[] = [];
        for (let i = 0; i < options.iterationsPerRound; i++) samples.push(await serviceLoad(conversation.id));
        service.get(conversation.turns)!.push(samples);
        for (let i = 0; i < options.iterationsPerRound; i++) {
          http.get(conversation.turns)!.push(await httpLoad(conversation.id));
        }
        const query = queries.get(conversation.turns)!;
        for (let i = 0; i < options.iterationsPerRound; i++) {
          search.get(conversation.turns)!.push(await searchLoad(conversation.id, query));
        }
        for (let i = 0; i < options.iterationsPerRound; i++) {
          fresh.get(conversation.turns)!.push(await newMessageLoad(conversation.id, query));
        }
      }
      const line = built
        .map((b) => {
          const round = service.get(b.turns)!.at(-1)!;
          return `${b.turns.toLocaleString('en-US')} turns p50 ${summarize(round.map((s) => s.open + s.build)).p50.toFixed(2)} ms`;
        })
        .join(', ');
      log(`  round ${round + 1}: ${line}`);
    }

    const figures: ContextLoadFigures[] = [];
    for (const conversation of built) {
      const rounds = service.get(conversation.turns)!;
      const samples = rounds.flat();
      const cpu = summarize(samples.map((s) => s.cpu));
      const record = await services.conversations.open(principal, conversation.id, 'context.read');
      const context = await services.context.build(record);
      const gets = http.get(conversation.turns)!;
      figures.push({
        turns: conversation.turns,
        buildAppendsPerSecond: conversation.build.appendsPerSecond,
        first: summarize(first.get(conversation.turns)!),
        service: {
          ...summarize(samples.map((s) => s.open + s.build)),
          openP50: summarize(samples.map((s) => s.open)).p50,
          buildP50: summarize(samples.map((s) => s.build)).p50,
          cpuP50: cpu.p50,
          cpuP99: cpu.p99,
        },
        http: { ...summarize(gets.map((g) => g.ms)), responseBytes: median(gets.map((g) => g.bytes)) },
        newMessage: summarize(fresh.get(conversation.turns)!),
        searchP50: summarize(search.get(conversation.turns)!).p50,
        roundServiceP50s: rounds.map((round) => summarize(round.map((s) => s.open + s.build)).p50),
        promptTokens: context.tokens,
        retrieved: context.retrieved.length,
        recent: context.recent.length,
        profileFacts: countFacts(context.profile),
        profileOmitted: context.profileOmitted,
      });
    }
    const small = figures[0]!;
    const large = figures.at(-1)!;
    return {
      sizes: figures,
      ratio: {
        serviceP50: large.service.p50 / small.service.p50,
        serviceP99: large.service.p99 / small.service.p99,
        httpP50: large.http.p50 / small.http.p50,
        httpP99: large.http.p99 / small.http.p99,
      },
      roundRatios: large.roundServiceP50s.map((p50, i) => p50 / small.roundServiceP50s[i]!),
    };
  } finally {
    await instance.close();
  }
}
