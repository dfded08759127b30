import { summarize } from '../../bench/lib/stats.ts';
import { loadDialogues, visitTurns } from '../lib/dialogues.ts';
import { createNode, openFilesLimits } from '../lib/node-process.ts';
import { createTenant, foreignMarkers, Patient, pool, type Turn } from '../lib/patients.ts';
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
import { openSse, type SseRequest } from '../lib/sse.ts';
import { UsageSampler } from '../lib/usage.ts';

export interface StreamsOptions {
  /** SSE followers open at once. */
  clients: number;
  /** Conversations they follow (one patient each). */
  conversations: number;
  /** Appends per conversation while the followers listen; the last asks for a reply. */
  appendsPerConversation: number;
  /** Followers being opened at the same moment (the ramp). */
  connectConcurrency: number;
  /** Conversations being written at the same moment. */
  appendConcurrency: number;
  wordDelayMs: number;
  /** Longest wait for every follower to receive every event. */
  deliverySeconds: number;
}

export const STREAMS_DEFAULTS: StreamsOptions = {
  clients: 10_000,
  conversations: 1000,
  appendsPerConversation: 3,
  connectConcurrency: 200,
  appendConcurrency: 50,
  wordDelayMs: 5,
  deliverySeconds: 300,
};
export const STREAMS_QUICK: StreamsOptions = {
  ...STREAMS_DEFAULTS,
  clients: 300,
  conversations: 30,
  appendsPerConversation: 2,
  deliverySeconds: 60,
};

/** One follower and what it has received. */
interface Follower {
  patient: Patient;
  conversation: number;
  request?: SseRequest;
  open: boolean;
  ended: boolean;
  /** Turn numbers received (`turn` events), in arrival order. */
  seen: number[];
  lastId: string;
  outOfOrder: number;
  leaks: number;
}

export async function runStreams(ctx: RunContext, options: StreamsOptions): Promise<ScenarioReport> {
  const started = performance.now();
  const report = newReport('streams', ctx.quick, ctx.command);
  report.parameters = { ...options };
  const serverSettings = {
    CONTINUUM_MODEL: 'local',
    CONTINUUM_LOCAL_WORD_DELAY_MS: String(options.wordDelayMs),
    CONTINUUM_MAX_STREAMS_PER_TENANT: String(Math.min(10_000, options.conversations)),
  };
  report.serverSettings = serverSettings;
  const dirs = new DataDirs();
  const node = await createNode({ name: 'node', dataDir: dirs.make('streams'), env: serverSettings });
  const setup = new Recorder();
  const recorder = new Recorder();
  const followers: Follower[] = [];
  try {
    await node.start();
    report.figures['node open-files limit'] = node.openFilesLimit ?? null;
    report.figures['load generator open-files limit'] = openFilesLimits(process.pid)?.soft ?? null;
    const tenant = await createTenant(node.url, `load-streams-${Date.now().toString(36)}`);
    const patients = Array.from(
      { length: options.conversations },
      (_, i) => new Patient(tenant, `patient-${i}`, setup),
    );
    const dialogues = loadDialogues(options.appendsPerConversation + 1);
    ctx.log(`  set-up: ${patients.length} patients, conversations and first turns`);
    await pool(patients, 50, async (p) => {
      if (!(await p.signIn(node.url)) || !(await p.createConversation(node.url))) return;
      const res = await p.send<{ turn: Turn }>(
        node.url,
        'append',
        `/v1/conversations/${p.conversationId}/turns`,
        { method: 'POST', body: { role: 'user', content: `My patient reference is ${p.marker}.`, expectedTurn: 0 } },
        [201],
      );
      if (res.ok) p.turn = res.body.turn.number;
    });
    for (const p of patients) p.useRecorder(recorder);

    const usage = new UsageSampler();
    usage.watch('node', () => node.pid);
    usage.watch('load generator', () => process.pid);
    const stats = { opened: 0, appended: 0, delivered: 0, phase: 'connecting' };
    const progress = new Progress(
      'streams',
      () =>
        `${stats.phase}: open ${stats.opened}/${options.clients}  appended ${stats.appended}  delivered ${stats.delivered}  errors ${recorder.failed}  | ${usage.now()}`,
      ctx.progress,
    );
    usage.start();
    progress.start();

    // Followers, opened at a bounded rate (a burst of 10,000 SYNs would overflow the listen backlog).
    const sentAt = new Map<string, number>();
    const deliveries: number[] = [];
    for (let i = 0; i < options.clients; i++) {
      const conversation = i % options.conversations;
      const follower: Follower = {
        patient: patients[conversation]!,
        conversation,
        open: false,
        ended: false,
        seen: [],
        lastId: '',
        outOfOrder: 0,
        leaks: 0,
      };
      followers.push(follower);
    }
    const connectStarted = performance.now();
    await pool(followers, options.connectConcurrency, async (f) => {
      if (f.patient.conversationId === '') return;
      const opened = performance.now();
      await new Promise<void>((resolve) => {
        f.request = openSse({
          url: `${node.url}/v1/conversations/${f.patient.conversationId}/events`,
          token: f.patient.access,
          onOpen: () => {
            f.open = true;
            stats.opened++;
            recorder.ok('connect', performance.now() - opened);
            resolve();
          },
          onEvent: (event, at) => receive(f, event, at, sentAt, deliveries, stats),
        });
        void f.request.ended.then((end) => {
          f.ended = true;
          if (!f.open) {
            recorder.fail('connect', end.reason === 'http' ? `${end.status}` : end.detail, end.text);
            resolve();
          } else if (end.reason !== 'closed') recorder.fail('stream', end.reason, end.detail);
        });
      });
    });
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    const openAfterConnect = followers.filter((f) => f.open && !f.ended).length;
    progress.note(`  ${openAfterConnect} followers open after ${connectSeconds.toFixed(1)} s`);

    // Events flow: each conversation gets its appends, one after another; conversations in parallel.
    stats.phase = 'events';
    const eventsStarted = performance.now();
    await pool(patients, options.appendConcurrency, async (p, i) => {
      if (p.conversationId === '') return;
      const turns = visitTurns(dialogues[i % dialogues.length]!, options.appendsPerConversation);
      for (const [k, turn] of turns.entries()) {
        const respond = k === turns.length - 1;
        sentAt.set(`${p.conversationId}:${p.turn + 1}`, performance.now());
        const res = await p.append(node.url, turn, respond);
        if (!res.ok) return;
        p.turn = res.body.reply?.number ?? res.body.turn.number;
        stats.appended++;
      }
    });
    const expected = (f: Follower) => f.patient.turn;
    const complete = (f: Follower) => f.seen.length >= expected(f);
    const deadline = performance.now() + options.deliverySeconds * 1000;
    while (performance.now() < deadline && !followers.every((f) => !f.open || f.ended || complete(f))) await pause(200);
    const eventsSeconds = (performance.now() - eventsStarted) / 1000;
    stats.phase = 'checking';
    progress.stop();
    recordUsage(report, usage);
    Object.assign(report.figures, await serverFigures(node.url));

    let whole = 0;
    let duplicates = 0;
    for (const f of followers) {
      const numbers = new Set(f.seen);
      duplicates += f.seen.length - numbers.size;
      const all = Array.from({ length: expected(f) }, (_, k) => k + 1).every((n) => numbers.has(n));
      if (f.open && !f.ended && all && numbers.size === f.seen.length && f.outOfOrder === 0) whole++;
    }
    const leaks = followers.reduce((sum, f) => sum + f.leaks, 0) + patients.reduce((sum, p) => sum + p.leaks, 0);
    const delivery = summarize(deliveries);
    recordInto(report, recorder);
    report.latency['delivery (append sent → follower got the turn)'] = delivery;
    for (const [key, count] of Object.entries(setup.errors())) report.errors[`set-up ${key}`] = count;
    Object.assign(report.figures, {
      'followers asked for': options.clients,
      'followers open after the ramp': openAfterConnect,
      'ramp seconds': Math.round(connectSeconds * 10) / 10,
      'followers opened/s': openAfterConnect / connectSeconds,
      'appends sent': stats.appended,
      'events phase seconds': Math.round(eventsSeconds * 10) / 10,
      'turn events delivered': stats.delivered,
      'turn events delivered/s': stats.delivered / eventsSeconds,
      'followers with every turn exactly once, in order': whole,
      'delivery rate': percent(rate(whole, options.clients)),
      'duplicate events': duplicates,
      'out-of-order events': followers.reduce((sum, f) => sum + f.outOfOrder, 0),
      "markers of another patient's conversation seen": leaks,
      'set-up errors': setup.failed,
    });
    report.verdicts = [
      verdict(
        'followers open at once',
        `${options.clients}`,
        `${openAfterConnect}`,
        openAfterConnect === options.clients,
      ),
      errorVerdict(recorder, true),
      verdict(
        'followers that got every turn exactly once, in order',
        '100 %',
        `${percent(rate(whole, options.clients))} (${whole})`,
        whole === options.clients,
      ),
      verdict("another patient's marker seen", '0', `${leaks}`, leaks === 0),
    ];
  } finally {
    recordNodeProblems(report, [node]);
    for (const f of followers) f.request?.close();
    await node.stop().catch(() => undefined);
    dirs.cleanup();
  }
  return finishReport(report, started, loadAverage());
}

function receive(
  f: Follower,
  event: { id: string; event: string; data: string },
  at: number,
  sentAt: Map<string, number>,
  deliveries: number[],
  stats: { delivered: number },
): undefined {
  f.leaks += foreignMarkers(event.data, f.patient.marker);
  // Every stored turn, the model's reply included, comes as `event: turn` (the reply also ends with `done`).
  if (event.event !== 'turn') return undefined;
  if (f.lastId !== '' && event.id <= f.lastId) f.outOfOrder++;
  f.lastId = event.id;
  const number = (JSON.parse(event.data) as { number: number }).number;
  f.seen.push(number);
  stats.delivered++;
  const sent = sentAt.get(`${f.patient.conversationId}:${number}`);
  if (sent !== undefined) deliveries.push(at - sent);
  return undefined;
}
