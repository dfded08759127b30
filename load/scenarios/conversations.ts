/**
 * `conversations`: many concurrent conversations of one tenant on one node
 * (SQLite, the local responder with a small word delay). Each simulated
 * patient signs in, opens its conversation and replays a visit from the
 * public dialogues: its own turns with `respond: true` (every other reply
 * streamed over SSE), the clinician's without, a context read after each
 * reply, a token refresh every few steps, and at the end reads the whole
 * record back.
 *
 * Continuity: a step is continuous when its append was stored as exactly the
 * turn the client expected (the 201's number, and the reply's, follow the
 * last turn it knew) and the context read afterwards still holds the marker
 * planted in turn 1 (`GET …/context?q=<marker>`). Continuity rate =
 * continuous steps ÷ steps attempted.
 */
import { randomUUID } from 'node:crypto';
import { type Dialogue, loadDialogues, visitTurns } from '../lib/dialogues.ts';
import { createNode, openFilesLimits } from '../lib/node-process.ts';
import { createTenant, firstBrokenTurn, Patient, pool, type Turn } from '../lib/patients.ts';
import { Progress } from '../lib/progress.ts';
import { Recorder } from '../lib/recorder.ts';
import { finishReport, newReport, type ScenarioReport } from '../lib/report.ts';
import {
  DataDirs,
  errorVerdict,
  loadAverage,
  pause,
  percent,
  type RunContext,
  rate,
  recordInto,
  recordNodeProblems,
  recordUsage,
  verdict,
} from '../lib/scenario.ts';
import { serverFigures } from '../lib/server-metrics.ts';
import { streamedReply } from '../lib/sse-reply.ts';
import { UsageSampler } from '../lib/usage.ts';

export interface ConversationsOptions {
  /** Conversations running at once, one patient each. */
  conversations: number;
  /** Dialogue turns replayed per conversation after the opening turn. */
  dialogueTurns: number;
  /** Steps between two proactive token refreshes. */
  refreshEvery: number;
  /** `CONTINUUM_LOCAL_WORD_DELAY_MS`. */
  wordDelayMs: number;
  /** Sign-ins and conversation creates at once during set-up. */
  setupConcurrency: number;
  /** A patient's pause between two steps (reading, typing), in ms; 0 keeps a request of every conversation in flight. */
  thinkMs: number;
  /** Conversations start at this rate (per second) until all run at once: a burst of new connections is no visit. */
  startsPerSecond: number;
}

export const CONVERSATIONS_DEFAULTS: ConversationsOptions = {
  conversations: 1000,
  dialogueTurns: 8,
  refreshEvery: 4,
  wordDelayMs: 5,
  setupConcurrency: 50,
  thinkMs: 0,
  startsPerSecond: 250,
};
export const CONVERSATIONS_QUICK: ConversationsOptions = {
  ...CONVERSATIONS_DEFAULTS,
  conversations: 40,
  dialogueTurns: 5,
};

interface Tally {
  steps: number;
  continuous: number;
  acked: number;
  stored: number;
  lost: number;
  broken: number;
  /** What a few broken records looked like, for the report. */
  brokenSamples: string[];
  replies: number;
  inFlight: number;
  peakInFlight: number;
}

export async function runConversations(ctx: RunContext, options: ConversationsOptions): Promise<ScenarioReport> {
  const started = performance.now();
  const report = newReport('conversations', ctx.quick, ctx.command);
  report.parameters = { ...options };
  const serverSettings = {
    CONTINUUM_MODEL: 'local',
    CONTINUUM_LOCAL_WORD_DELAY_MS: String(options.wordDelayMs),
    // One tenant holds every conversation: its reply-stream limit must allow each one a reply at once.
    CONTINUUM_MAX_STREAMS_PER_TENANT: String(Math.min(10_000, options.conversations)),
  };
  report.serverSettings = serverSettings;
  const dirs = new DataDirs();
  const node = await createNode({ name: 'node', dataDir: dirs.make('conversations'), env: serverSettings });
  const setup = new Recorder();
  const recorder = new Recorder();
  const tally: Tally = {
    steps: 0,
    continuous: 0,
    acked: 0,
    stored: 0,
    lost: 0,
    broken: 0,
    brokenSamples: [],
    replies: 0,
    inFlight: 0,
    peakInFlight: 0,
  };
  try {
    await node.start();
    report.figures['node start seconds'] = Math.round((performance.now() - started) / 100) / 10;
    report.figures['node open-files limit'] = node.openFilesLimit ?? null;
    report.figures['load generator open-files limit'] = openFilesLimits(process.pid)?.soft ?? null;
    const setupStarted = performance.now();
    const tenant = await createTenant(node.url, `load-conversations-${Date.now().toString(36)}`);
    const dialogues = loadDialogues(options.dialogueTurns + 1);
    const patients = Array.from(
      { length: options.conversations },
      (_, i) => new Patient(tenant, `patient-${i}`, setup),
    );
    ctx.log(`  set-up: ${options.conversations} patients sign in and open a conversation`);
    await pool(patients, options.setupConcurrency, async (p) => {
      if (await p.signIn(node.url)) await p.createConversation(node.url);
    });
    const ready = patients.filter((p) => p.conversationId !== '');
    report.figures['set-up seconds (sign-ins and creates)'] = Math.round((performance.now() - setupStarted) / 100) / 10;

    const usage = new UsageSampler();
    usage.watch('node', () => node.pid);
    usage.watch('load generator', () => process.pid);
    const totalSteps = ready.length * (options.dialogueTurns + 1);
    const progress = new Progress(
      'conversations',
      () =>
        `steps ${tally.steps}/${totalSteps}  continuous ${tally.continuous}  errors ${recorder.failed}  in flight ${tally.inFlight}  reply p50/p99 ${recorder.quickLatency('append+reply')}  | ${usage.now()}`,
      ctx.progress,
    );
    usage.start();
    progress.start();
    const measured = performance.now();
    await Promise.all(
      ready.map(async (patient, i) => {
        await pause((i / options.startsPerSecond) * 1000);
        await visit(node.url, patient, dialogues[i % dialogues.length]!, options, recorder, tally);
      }),
    );
    const seconds = (performance.now() - measured) / 1000;
    progress.stop();
    recordUsage(report, usage);

    const metrics = await serverFigures(node.url);
    const requests = recorder.succeeded + recorder.failed;
    const leaks = patients.reduce((sum, p) => sum + p.leaks, 0);
    Object.assign(report.figures, {
      conversations: ready.length,
      'most appends in flight at once': tally.peakInFlight,
      'measured seconds': Math.round(seconds * 10) / 10,
      requests,
      'requests/s': requests / seconds,
      'turns stored/s': tally.stored / seconds,
      'replies/s': tally.replies / seconds,
      'steps attempted': tally.steps,
      'continuous steps': tally.continuous,
      'continuity rate': percent(rate(tally.continuous, tally.steps)),
      'turns acknowledged': tally.acked,
      'turns stored': tally.stored,
      'acknowledged turns lost': tally.lost,
      'conversations with a broken chain': tally.broken,
      "markers of another patient's conversation seen": leaks,
      'token refreshes': patients.reduce((sum, p) => sum + p.refreshes, 0),
      'set-up errors': setup.failed,
      ...metrics,
    });
    recordInto(report, recorder);
    report.errorSamples.push(...tally.brokenSamples);
    for (const [key, count] of Object.entries(setup.errors())) report.errors[`set-up ${key}`] = count;
    report.verdicts = [
      verdict(
        'conversations running',
        `${options.conversations}`,
        `${ready.length}`,
        ready.length === options.conversations,
      ),
      errorVerdict(recorder, true),
      verdict('continuity', '100 %', percent(rate(tally.continuous, tally.steps)), tally.continuous === tally.steps),
      verdict('acknowledged turns lost', '0', `${tally.lost}`, tally.lost === 0),
      verdict('hash chains intact', 'all', `${ready.length - tally.broken} of ${ready.length}`, tally.broken === 0),
      verdict("another patient's marker seen", '0', `${leaks}`, leaks === 0),
    ];
  } finally {
    recordNodeProblems(report, [node]);
    await node.stop().catch(() => undefined);
    dirs.cleanup();
  }
  return finishReport(report, started, loadAverage());
}

/** One patient's visit, then the whole record read back and checked. */
async function visit(
  url: string,
  patient: Patient,
  dialogue: Dialogue,
  options: ConversationsOptions,
  recorder: Recorder,
  tally: Tally,
): Promise<void> {
  const p = patient;
  // The set-up recorder counted sign-in and create; from here on the measured one counts.
  p.useRecorder(recorder);
  const opening = visitTurns(dialogue, 1)[0]!;
  const steps = [
    { role: 'user' as const, content: `My patient reference is ${p.marker}. ${opening.content}` },
    ...visitTurns(dialogue, options.dialogueTurns, 1),
  ];
  const acked: Turn[] = [];
  let replies = 0;
  for (const [i, step] of steps.entries()) {
    if (i > 0 && options.thinkMs > 0) await pause(options.thinkMs * (0.5 + Math.random()));
    if (i > 0 && i % options.refreshEvery === 0) await p.refreshTokens(url);
    tally.steps++;
    tally.inFlight++;
    tally.peakInFlight = Math.max(tally.peakInFlight, tally.inFlight);
    const respond = step.role === 'user';
    const expected = p.turn + 1;
    const body = {
      role: step.role,
      content: step.content,
      expectedTurn: p.turn,
      ...(respond ? { respond: true } : {}),
    };
    const key = randomUUID();
    let stored: Turn[] = [];
    if (respond && replies++ % 2 === 1) {
      stored = await streamedReply(url, p, body, key, recorder);
    } else {
      const send = () =>
        p.send<{ turn: Turn; reply?: Turn }>(
          url,
          respond ? 'append+reply' : 'append',
          `/v1/conversations/${p.conversationId}/turns`,
          { method: 'POST', body, headers: { 'idempotency-key': key } },
          [201],
        );
      let res = await send();
      // A client retries a request that got no answer with the same idempotency key (the failure still counts).
      if (res.status === 0) res = await pause(1_000).then(send);
      if (res.ok) stored = res.body.reply ? [res.body.turn, res.body.reply] : [res.body.turn];
    }
    tally.inFlight--;
    let continuous = stored.length === (respond ? 2 : 1) && stored.every((turn, k) => turn.number === expected + k);
    if (stored.length > 0) {
      acked.push(...stored);
      tally.acked += stored.length;
      if (respond && stored.length === 2) tally.replies++;
      p.turn = stored.at(-1)!.number;
    } else {
      // The client resynchronizes from the conversation before its next step.
      const res = await p.send<{ turn: number }>(
        url,
        'conversation.read',
        `/v1/conversations/${p.conversationId}`,
        {},
        [200],
      );
      if (res.ok) p.turn = res.body.turn;
    }
    if (respond) {
      const context = await p.send(
        url,
        'context',
        `/v1/conversations/${p.conversationId}/context?q=${p.marker}`,
        {},
        [200],
      );
      continuous &&= context.ok && context.text.includes(p.marker);
    }
    if (continuous) tally.continuous++;
  }
  const record = await p.allTurns(url);
  if (record === undefined) {
    tally.lost += acked.length;
    return;
  }
  tally.stored += record.length;
  const broken = firstBrokenTurn(p.conversationId, record);
  if (broken !== null || !record[0]?.content.includes(p.marker)) {
    tally.broken++;
    if (tally.brokenSamples.length < 5) {
      const shape = (turns: Turn[]) => turns.map((t) => `${t.number}${t.role[0]}`).join(' ');
      tally.brokenSamples.push(
        `${p.subject}: chain breaks at turn ${broken ?? 1}; stored [${shape(record)}], acknowledged [${shape(acked)}]`,
      );
    }
  }
  for (const turn of acked) if (record[turn.number - 1]?.hash !== turn.hash) tally.lost++;
}
