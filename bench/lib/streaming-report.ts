/** The streaming parts of the benchmark report (issue 5): bench/sse-load.ts and bench/first-delta.ts. */
import type { FirstDeltaFigures, FirstDeltaRun } from '../first-delta.ts';
import type { SseLoadFigures } from '../sse-load.ts';
import { int, mark, ms, table } from './markdown.ts';
import type { LatencySummary } from './stats.ts';

const p50p99 = (s: LatencySummary) => `${ms(s.p50)} / ${ms(s.p99)}`;
const seconds = (milliseconds: number) => (milliseconds / 1000).toFixed(1);
const errorsOf = (errors: Record<string, number>) => Object.values(errors).reduce((total, n) => total + n, 0);
const listErrors = (errors: Record<string, number>) =>
  Object.keys(errors).length === 0
    ? 'none'
    : Object.entries(errors)
        .map(([kind, n]) => `${kind}: ${n}`)
        .join(', ');

export function sseLoadTable(f: SseLoadFigures): string {
  const rows: string[][] = [
    ['replies opened at once', int(f.replies)],
    [
      'tenants × replies each',
      `${int(f.tenants)} × ${f.streamsPerTenant} (\`CONTINUUM_MAX_STREAMS_PER_TENANT=${f.streamsPerTenant}\`: none queued)`,
    ],
    ['local responder pace', `${f.wordDelayMs} ms per word`],
    ['completed (`done`, stored reply = deltas)', int(f.completed)],
    ['errors', `${errorsOf(f.errors)} (${listErrors(f.errors)})`],
    ['replies stored (read back)', int(f.storedReplies)],
    ['most streams open at the same moment', int(f.peakOpenStreams)],
    ['request → `event: turn` p50 / p99 s', `${seconds(f.userTurn.p50)} / ${seconds(f.userTurn.p99)}`],
    [
      'request → first `event: delta` p50 / p99 / max s',
      `${seconds(f.firstDelta.p50)} / ${seconds(f.firstDelta.p99)} / ${seconds(f.firstDelta.max)}`,
    ],
    ['request → `event: done` p50 / p99 s', `${seconds(f.done.p50)} / ${seconds(f.done.p99)}`],
    ['first request sent → last reply done', `${f.durationSeconds.toFixed(1)} s`],
    [
      'deltas per reply (mean), reply length (mean)',
      `${f.meanDeltasPerReply.toFixed(1)}, ${int(f.meanReplyChars)} chars`,
    ],
  ];
  if (f.server) {
    rows.push(
      [
        'server CPU over the wave',
        `${f.server.cpuSeconds.toFixed(1)} s (${f.server.cpuCores.toFixed(2)} cores; ${ms((f.server.cpuSeconds * 1000) / f.replies)} ms per reply)`,
      ],
      [
        'server RSS before / after / peak',
        `${int(f.server.rssBeforeMiB)} / ${int(f.server.rssAfterMiB)} / ${int(f.server.peakRssMiB)} MiB`,
      ],
    );
  }
  return table(['', 'value'], rows);
}

export function sseLoadVerdict(f: SseLoadFigures): string {
  const errors = errorsOf(f.errors);
  return `${int(f.replies)} concurrent SSE replies on one node (local responder, ${f.wordDelayMs} ms per word), target zero errors: ${int(f.completed)} completed, ${errors} errors (${mark(errors === 0 && f.completed === f.replies)}); ${int(f.peakOpenStreams)} streams open at the same moment; first delta p50 ${seconds(f.firstDelta.p50)} s, p99 ${seconds(f.firstDelta.p99)} s after the request.`;
}

export function sseLoadSection(f: SseLoadFigures): string {
  return [
    `A real \`node bin/continuum.mjs serve\` process (the throughput section's settings, plus \`CONTINUUM_MODEL=local\`, \`CONTINUUM_LOCAL_WORD_DELAY_MS=${f.wordDelayMs}\`) and this process sending ${int(f.replies)} \`POST /v1/conversations/{id}/turns\` requests at once (\`respond: true\`, \`Accept: text/event-stream\`, Node's fetch), each body parsed event by event as it streams. Each request goes to a new conversation of its own; the requests are spread over ${int(f.tenants)} tenants, ${f.streamsPerTenant} each, so the default per-tenant stream limit (${f.streamsPerTenant}) is kept and no reply waits in a tenant's queue. A reply is completed when its \`event: done\` arrives and the stored reply it carries equals the concatenated deltas; anything else is an error (HTTP status, network, \`event: error\` by code, a stream without \`done\`, a mismatch, or still running after ${f.deadlineSeconds} s). Afterwards every conversation is read back: it must hold the user turn and the reply. Server CPU and RSS are read from \`/proc\`.`,
    '',
    `The pace is chosen so that the replies overlap: accepting a reply (the user turn appended with its working-context update, the prompt built, the stream opened) takes the node's one event loop several milliseconds, so ${int(f.replies)} requests arriving together are admitted over many seconds, and a reply paced faster than that ends before the last ones start. "Most streams open at the same moment" shows how far they overlapped; the time to the first delta is dominated by that admission queue, not by the model.`,
    '',
    sseLoadTable(f),
  ].join('\n');
}

/** A scenario as the tables name it. */
const scenarioRow = (r: FirstDeltaRun) =>
  r.scenario === 'coalesced' ? 'small chunks (coalesced)' : 'first chunk > 1 KiB (flushed by size)';

/** A scenario as the verdict names it. */
const scenarioShort = (r: FirstDeltaRun) => (r.scenario === 'coalesced' ? 'small chunks' : 'first chunk > 1 KiB');

function run(f: FirstDeltaFigures, scenario: string, concurrency: number): FirstDeltaRun | undefined {
  return f.runs.find((r) => r.scenario === scenario && r.concurrency === concurrency);
}

export function firstDeltaTable(f: FirstDeltaFigures): string {
  return table(
    [
      'provider reply',
      'at once',
      'n',
      '(a) provider alone p50 / p99',
      '(b) through Continuum p50 / p99',
      'added b − a p50 / p99',
      'per request: before the model call p50 / p99',
      'provider in the request p50 / p99',
      'provider → client p50 / p99',
      'added p50 / p99',
      '(c) append alone p50 / p99',
      '(d) pass-through server p50 / p99',
      'added d − a p50 / p99',
      'failed',
    ],
    f.runs.map((r) => [
      scenarioRow(r),
      String(r.concurrency),
      String(r.continuum.n),
      p50p99(r.provider),
      p50p99(r.continuum),
      `${ms(r.addedP50)} / ${ms(r.addedP99)}`,
      p50p99(r.beforeModel),
      p50p99(r.providerInRequest),
      p50p99(r.afterProvider),
      p50p99(r.addedPerRequest),
      r.appendAlone ? p50p99(r.appendAlone) : '',
      r.passThrough ? p50p99(r.passThrough) : '',
      r.passThrough ? `${ms(r.passThroughAddedP50!)} / ${ms(r.passThroughAddedP99!)}` : '',
      String(errorsOf(r.failures)),
    ]),
  );
}

/** Whether the runs measured the server thread's wait for a CPU (older results and some kernels do not). */
const cpuWaitMeasured = (f: FirstDeltaFigures): boolean => f.runs.some((r) => r.server?.cpuWait !== undefined);

/** The sequential runs' requests split at Continuum's socket (see {@link ServerSplit}). */
export function firstDeltaSplitTable(f: FirstDeltaFigures): string {
  const waited = cpuWaitMeasured(f);
  return table(
    [
      'provider reply',
      'n',
      'added per request p50 / p99',
      "Continuum's own part p50 / p99",
      'of it: arrival → model called p50 / p99',
      "of it: provider's first delta → written to the socket p50 / p99",
      ...(waited ? ['of it: waiting for a CPU p50 / p99', 'own part less that wait p50 / p99'] : []),
      'transport: client → server, socket → client p50 / p99',
    ],
    f.runs.flatMap((r) =>
      r.server
        ? [
            [
              scenarioRow(r),
              String(r.server.own.n),
              p50p99(r.addedPerRequest),
              p50p99(r.server.own),
              p50p99(r.server.beforeModel),
              p50p99(r.server.afterProvider),
              ...(waited
                ? [
                    r.server.cpuWait ? p50p99(r.server.cpuWait) : '',
                    r.server.ownLessCpuWait ? p50p99(r.server.ownLessCpuWait) : '',
                  ]
                : []),
              p50p99(r.server.transport),
            ],
          ]
        : [],
    ),
  );
}

export function firstDeltaVerdict(f: FirstDeltaFigures, targetMs: number): string {
  const flush = run(f, 'size-flush', 1);
  const coalesced = run(f, 'coalesced', 1);
  const parts: string[] = [];
  if (flush) {
    parts.push(
      `with a first chunk the coalescer flushes at once, added p50 ${ms(flush.addedP50)} ms, p99 ${ms(flush.addedP99)} ms (${mark(flush.addedP99 < targetMs)}; per request p50 ${ms(flush.addedPerRequest.p50)}, p99 ${ms(flush.addedPerRequest.p99)} ms, of which ${ms(flush.beforeModel.p50)} ms p50 before the model is called${flush.appendAlone ? `, where appending a user turn alone takes ${ms(flush.appendAlone.p50)} ms p50` : ''})`,
    );
  }
  if (coalesced) {
    parts.push(
      `with small chunks, added p50 ${ms(coalesced.addedP50)} ms, p99 ${ms(coalesced.addedP99)} ms (${mark(coalesced.addedP99 < targetMs)}; the first chunk goes out at once and reaches the client p50 ${ms(coalesced.afterProvider.p50)} ms after the adapter read it; the chunks after it are coalesced, flushed at 1,024 bytes or 100 ms)`,
    );
  }
  const yardstick = [flush, coalesced].flatMap((r) =>
    r?.passThrough
      ? [
          `${scenarioShort(r)}: d − a p50 ${ms(r.passThroughAddedP50!)}, p99 ${ms(r.passThroughAddedP99!)} ms, and Continuum over it (b − d) p50 ${ms(r.continuum.p50 - r.passThrough.p50)}, p99 ${ms(r.continuum.p99 - r.passThrough.p99)} ms`,
        ]
      : [],
  );
  const same =
    yardstick.length === 0
      ? ''
      : ` In the same run, a server in between that does nothing of its own (d) adds — ${yardstick.join('; ')}.`;
  const own = [flush, coalesced].flatMap((r) =>
    r?.server
      ? [
          `${scenarioShort(r)} p50 ${ms(r.server.own.p50)}, p99 ${ms(r.server.own.p99)} ms${r.server.ownLessCpuWait ? ` (less the time its thread waited for a CPU, p50 ${ms(r.server.ownLessCpuWait.p50)}, p99 ${ms(r.server.ownLessCpuWait.p99)} ms)` : ''}`,
        ]
      : [],
  );
  const split =
    own.length === 0
      ? ''
      : ` Continuum's own part, timed in the server per request (arrival → first delta written to the socket, less the provider's part): ${own.join('; ')}.`;
  return `Time Continuum adds to the first delta over the provider's own ${f.firstChunkDelayMs} ms, one request at a time, target p99 < ${targetMs} ms: ${parts.join('; ')}.${same}${split}`;
}

/** How sides (b) and (d) were sent and read (results without `client` predate the choice: fetch). */
function clientNote(f: FirstDeltaFigures): string {
  return f.client === 'http'
    ? "sent and read with `node:http` (a keep-alive agent; after an idle pause Node's fetch costs about half a millisecond more per loopback round trip, which is the client's, not the server's: `FIRST_DELTA_CLIENT=fetch` measures with fetch)"
    : "sent and read with Node's fetch";
}

/** How the messages of side (b) were tagged, when the results say (older ones do not). */
function tagNote(f: FirstDeltaFigures): string {
  if (f.requestTag === undefined) return '';
  return `; each message is a clinical user turn with \`${f.requestTag}\` added, a number of its own by which the server's timings are matched to the request (a number, not words: a tag whose words were in every message would make every query match every earlier request, and retrieval work as no real conversation makes it)`;
}

export function firstDeltaSection(f: FirstDeltaFigures, params: unknown): string {
  const p = params as Record<string, unknown> | undefined;
  const s = f.scripts;
  return [
    `A fake OpenAI-compatible server on loopback ([\`lib/openai-stream-fake.ts\`](lib/openai-stream-fake.ts), the wire format of the test fake: role chunk, content chunks, finish_reason, usage, \`[DONE]\`) sends its first content chunk ${f.firstChunkDelayMs} ms after the request, driven by the real \`openai\` SDK adapter of \`src/models\`. **(a)** the adapter alone: \`generate\`, timed to its first delta (the fake sends the same first chunk after the same delay without the rest). **(b)** through Continuum: \`POST …/turns\` with \`respond: true\` over SSE on loopback to a server wired as production wires it (the adapter behind \`withResilience\`, SQLite, encryption, audit, the working context), timed from the request to the first \`event: delta\` received, ${clientNote(f)}; the turns go to ${String(p?.['conversations'])} conversations seeded with ${String(p?.['seedTurns'])} clinical turns each, in turn, so the prompt is built from a real working context${tagNote(f)}. (a) and (b) take turns, ${int(Number(p?.['requests']))} of each one at a time (with (d) below after each (a), (c) after each (b)), then ${String(p?.['concurrentRequests'])} of each in waves of ${String(p?.['concurrency'])} (one tenant, \`maxStreamsPerTenant\` raised to ${String(p?.['concurrency'])}), after ${String(p?.['warmupRequests'])} untimed rounds.`,
    '',
    `**Added b − a** subtracts the percentiles of the two sides. **Per request**, a pass-through provider around the adapter ([\`lib/provider-tap.ts\`](lib/provider-tap.ts)) notes when Continuum called the model and when the adapter's first delta came out, so each request splits into: before the model call (stream slot, chain check, the working context built with the new message as the next one, intent; when a slot is free at once the model is called before the user turn is stored, and the append runs while the provider works), the provider's own part, and provider → client (coalescer, event stored and sealed, fanned out, written to the socket, parsed); added = total − the provider's part. **(c)**, one request at a time only: after each (b), a user turn appended to the same conversation without a reply (JSON \`201\`), timed to the response: the append path alone, to set against the time before the model call. **(d)**, one request at a time only: after each (a), the same request through a server that does nothing of its own ([\`first-delta-proxy.ts\`](first-delta-proxy.ts): bare Fastify, no plugins or logging, the same adapter as (a) called with the user's message alone, each delta written as an SSE event the moment it comes; no auth, store, context or coalescing), read by the same client as (b): **d − a** is what any server between the client and the provider adds on this machine — the client's request crossing one more process boundary and the delta one more back — and b − d is Continuum's own part. The server ([\`first-delta-host.ts\`](first-delta-host.ts)), the pass-through and the fake ([\`first-delta-fake.ts\`](first-delta-fake.ts)) each run in a process of their own, started fresh for this part and run first, before the other parts; the clients of both sides run in the bench process. So the clients' work and garbage stay out of the server's heap, the server's work between replies (their upkeep, its garbage collection) cannot delay the fake's answers to side (a), and both sides reach the fake across the same process boundary. The per-request split compares times across the processes as epoch milliseconds.`,
    '',
    `Two provider replies: **small chunks** — ${s.coalesced.chunks} deltas of a few bytes, ${s.coalesced.intervalMs} ms apart (${s.coalesced.tailMs} ms after the first): a reply's first delta goes out at once and the coalescer (ADR-005: flush at 1,024 bytes or 100 ms after the first buffered byte) gathers the ones after it; **first chunk > 1 KiB** — ${int(s['size-flush'].firstChunkBytes)} bytes, flushed by size the moment it arrives, which leaves only Continuum's own work. (All figures in ms.)`,
    '',
    firstDeltaTable(f),
    '',
    `The same requests (b, one at a time) split at Continuum's socket, each part timed within one process: **Continuum's own part** runs from the request's arrival (the node HTTP server's \`request\` event, heard before Fastify's) to its first \`event: delta\` written to the socket, less the provider's part (the adapter called → its first delta), and splits into the time before the model call and the time from the provider's first delta to the socket; **transport** is the rest of the added time: the request reaching the server and the delta reaching the client, parsed. Requests are matched to generations by time, so these figures exist for the runs one request at a time only.${cpuWaitMeasured(f) ? " **Waiting for a CPU** is the part of Continuum's own part that its main thread spent runnable but not running, queued for a core (Linux's run-queue delay for the thread, `/proc/thread-self/schedstat`, read at the four times that bound the own part: [`lib/cpu-wait.ts`](lib/cpu-wait.ts)): behind the server's own helper threads (garbage collection, the SQLite checkpointer), the client, the fake, the pass-through or the kernel, sometimes while the other core was idle. The own part less that wait is the time the server's thread was running." : ''} (ms)`,
    '',
    firstDeltaSplitTable(f),
  ].join('\n');
}
