/**
 * Concurrent streamed replies on one node (issue 5): a real `continuum serve`
 * process with the embedded local responder, and this process opening
 * `replies` SSE reply requests at once (`POST …/turns`, `respond: true`,
 * `Accept: text/event-stream`), every body read and parsed as it streams.
 *
 * The requests are spread over `replies ÷ streamsPerTenant` tenants, so with
 * the default `CONTINUUM_MAX_STREAMS_PER_TENANT` (5) every reply generates at
 * once and none waits in a tenant's queue. Each reply goes to a conversation
 * of its own. A reply counts as completed when its `event: done` arrived and
 * the stored reply it carries equals the deltas received; anything else is
 * an error, counted by kind. The whole wave is bounded by `deadlineSeconds`.
 */

import { startContinuum } from './append-throughput.ts';
import type { ClinicalTurn } from './lib/clinical-text.ts';
import { type ProcessUsage, processUsage } from './lib/proc-stats.ts';
import { failureLabel, postReply, type StreamedReply } from './lib/sse-client.ts';
import { type LatencySummary, summarize } from './lib/stats.ts';

export interface SseLoadOptions {
  /** Replies opened at once. */
  replies: number;
  /** Replies per tenant: at most the server's stream limit, so none is queued. */
  streamsPerTenant: number;
  /** `CONTINUUM_LOCAL_WORD_DELAY_MS`: the local responder's pace. */
  wordDelayMs: number;
  /** Untimed replies (as one wave) before the measured one. */
  warmupReplies: number;
  /** Requests still running after this are aborted and counted as timeouts. */
  deadlineSeconds: number;
  turns: readonly ClinicalTurn[];
  /** The repository root (where bin/ is). */
  root: string;
  log?: (line: string) => void;
}

export interface SseLoadFigures {
  replies: number;
  tenants: number;
  streamsPerTenant: number;
  wordDelayMs: number;
  deadlineSeconds: number;
  completed: number;
  /** Conversations holding the user turn and the stored reply afterwards (read back). */
  storedReplies: number;
  errors: Record<string, number>;
  /** A few error details, to tell what went wrong. */
  errorSamples: string[];
  /** Most streams open at the same moment (response headers in, `done` not yet). */
  peakOpenStreams: number;
  /** From the request to: the user turn's `event: turn`, the first `event: delta`, `event: done` (ms). */
  userTurn: LatencySummary;
  firstDelta: LatencySummary;
  done: LatencySummary;
  /** From the first request sent to the last reply finished. */
  durationSeconds: number;
  meanDeltasPerReply: number;
  meanReplyChars: number;
  /** The server process over the measured wave (Linux /proc), when available. */
  server?: {
    cpuSeconds: number;
    /** CPU seconds ÷ wall seconds: cores kept busy. */
    cpuCores: number;
    rssBeforeMiB: number;
    rssAfterMiB: number;
    /** Peak RSS since the server started (setup and warm-up included). */
    peakRssMiB: number;
  };
}

interface Client {
  token: string;
  conversationId: string;
}

async function call(url: string, init: RequestInit, expect: number): Promise<Record<string, unknown>> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (response.status !== expect) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** `count` tenants, each with one subject's token and `perTenant` new conversations; a few requests at a time. */
async function createClients(baseUrl: string, adminToken: string, count: number, perTenant: number, label: string) {
  const json = { 'content-type': 'application/json' };
  const clients: Client[] = [];
  const one = async (t: number): Promise<Client[]> => {
    const tenant = await call(
      `${baseUrl}/v1/admin/tenants`,
      {
        method: 'POST',
        headers: { ...json, authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ name: `bench-sse-${label}-${t}` }),
      },
      201,
    );
    const issued = await call(
      `${baseUrl}/v1/auth/token`,
      {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ grant_type: 'api_key', api_key: tenant['apiKey'], subject: 'bench-patient' }),
      },
      200,
    );
    const token = String(issued['access_token']);
    const mine: Client[] = [];
    for (let c = 0; c < perTenant; c++) {
      const conversation = await call(
        `${baseUrl}/v1/conversations`,
        { method: 'POST', headers: { ...json, authorization: `Bearer ${token}` }, body: '{"title":"bench sse"}' },
        201,
      );
      mine.push({ token, conversationId: String(conversation['id']) });
    }
    return mine;
  };
  for (let t = 0; t < count; t += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, count - t) }, (_, i) => one(t + i)));
    for (const mine of batch) clients.push(...mine);
  }
  return clients;
}

/** Every client's reply at once; resolves when all have finished or the deadline passed. */
async function wave(baseUrl: string, clients: Client[], turns: readonly ClinicalTurn[], deadlineSeconds: number) {
  const questions = turns.filter((t) => t.role === 'user');
  const deadline = AbortSignal.timeout(deadlineSeconds * 1000);
  let open = 0;
  let peakOpen = 0;
  const started = performance.now();
  const replies = await Promise.all(
    clients.map(async (client, i): Promise<StreamedReply> => {
      let opened = false;
      const reply = await postReply({
        baseUrl,
        token: client.token,
        conversationId: client.conversationId,
        content: questions[(i * 7) % questions.length]!.content,
        expectedTurn: 0,
        signal: deadline,
        onOpen: () => {
          opened = true;
          open++;
          peakOpen = Math.max(peakOpen, open);
        },
      });
      if (opened) open--;
      return reply;
    }),
  );
  return { replies, peakOpen, seconds: (performance.now() - started) / 1000 };
}

export async function runSseLoad(options: SseLoadOptions): Promise<SseLoadFigures> {
  const log = options.log ?? (() => {});
  const tenants = Math.ceil(options.replies / options.streamsPerTenant);
  const server = await startContinuum(options.root, [], {
    CONTINUUM_MODEL: 'local',
    CONTINUUM_LOCAL_WORD_DELAY_MS: String(options.wordDelayMs),
    CONTINUUM_MAX_STREAMS_PER_TENANT: String(options.streamsPerTenant),
  });
  try {
    if (options.warmupReplies > 0) {
      const warmTenants = Math.ceil(options.warmupReplies / options.streamsPerTenant);
      const warmClients = await createClients(
        server.baseUrl,
        server.adminToken,
        warmTenants,
        options.streamsPerTenant,
        'warm',
      );
      const warm = await wave(server.baseUrl, warmClients, options.turns, options.deadlineSeconds);
      const warmFailed = warm.replies.filter((r) => r.failure).length;
      log(`  warm-up: ${warm.replies.length} replies in ${warm.seconds.toFixed(1)} s, ${warmFailed} failed`);
    }

    const clients = (
      await createClients(server.baseUrl, server.adminToken, tenants, options.streamsPerTenant, 'load')
    ).slice(0, options.replies);
    log(`  ${tenants} tenants × ${options.streamsPerTenant} conversations, one token per tenant`);

    const before: ProcessUsage | undefined = processUsage(server.child.pid);
    const measured = await wave(server.baseUrl, clients, options.turns, options.deadlineSeconds);
    const after: ProcessUsage | undefined = processUsage(server.child.pid);

    let storedReplies = 0;
    for (let i = 0; i < clients.length; i += 50) {
      const batch = clients.slice(i, i + 50);
      const turns = await Promise.all(
        batch.map(async (client) => {
          const conversation = await call(
            `${server.baseUrl}/v1/conversations/${client.conversationId}`,
            { headers: { authorization: `Bearer ${client.token}` } },
            200,
          );
          return Number(conversation['turn']);
        }),
      );
      storedReplies += turns.filter((turn) => turn === 2).length;
    }

    const errors: Record<string, number> = {};
    const errorSamples: string[] = [];
    const ok: StreamedReply[] = [];
    for (const reply of measured.replies) {
      if (!reply.failure) {
        ok.push(reply);
        continue;
      }
      const label = failureLabel(reply.failure);
      errors[label] = (errors[label] ?? 0) + 1;
      if (errorSamples.length < 5) errorSamples.push(`${label}: ${reply.failure.detail}`);
    }
    const since = (pick: (r: StreamedReply) => number | undefined) =>
      summarize(
        measured.replies.flatMap((r) => {
          const at = pick(r);
          return at === undefined ? [] : [at - r.sentAt];
        }),
      );
    const figures: SseLoadFigures = {
      replies: clients.length,
      tenants,
      streamsPerTenant: options.streamsPerTenant,
      wordDelayMs: options.wordDelayMs,
      deadlineSeconds: options.deadlineSeconds,
      completed: ok.length,
      storedReplies,
      errors,
      errorSamples,
      peakOpenStreams: measured.peakOpen,
      userTurn: since((r) => r.turnAt),
      firstDelta: since((r) => r.firstDeltaAt),
      done: since((r) => r.doneAt),
      durationSeconds: measured.seconds,
      meanDeltasPerReply: ok.reduce((total, r) => total + r.deltas, 0) / Math.max(1, ok.length),
      meanReplyChars: ok.reduce((total, r) => total + r.text.length, 0) / Math.max(1, ok.length),
    };
    if (before && after) {
      const cpuSeconds = after.cpuSeconds - before.cpuSeconds;
      figures.server = {
        cpuSeconds,
        cpuCores: cpuSeconds / measured.seconds,
        rssBeforeMiB: before.rssMiB,
        rssAfterMiB: after.rssMiB,
        peakRssMiB: after.peakRssMiB,
      };
    }
    const failed = clients.length - ok.length;
    log(
      `  ${clients.length} replies at once: ${ok.length} completed, ${failed} failed${
        failed > 0
          ? ` (${Object.entries(errors)
              .map(([k, v]) => `${k}: ${v}`)
              .join(', ')})`
          : ''
      }, peak ${measured.peakOpen} open, first delta p50 ${figures.firstDelta.p50.toFixed(0)} / p99 ${figures.firstDelta.p99.toFixed(0)} ms, all done in ${measured.seconds.toFixed(1)} s`,
    );
    return figures;
  } finally {
    await server.stop();
  }
}
