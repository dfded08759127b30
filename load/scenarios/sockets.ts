import { summarize } from '../../bench/lib/stats.ts';
import { clusterUnavailable, startCluster } from '../lib/cluster.ts';
import { loadDialogues, visitTurns } from '../lib/dialogues.ts';
import { openFilesLimits } from '../lib/node-process.ts';
import { createTenant, Patient, pool, type Turn } from '../lib/patients.ts';
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
import { UsageSampler } from '../lib/usage.ts';
import { openSubscriber, probeSync, type Subscriber } from '../lib/ws-subscriber.ts';

export interface SocketsOptions {
  /** WebSocket subscribers open at once, spread over the nodes. */
  clients: number;
  conversations: number;
  nodes: number;
  appendsPerConversation: number;
  connectConcurrency: number;
  appendConcurrency: number;
  wordDelayMs: number;
  deliverySeconds: number;
}

export const SOCKETS_DEFAULTS: SocketsOptions = {
  clients: 10_000,
  conversations: 1000,
  nodes: 2,
  appendsPerConversation: 3,
  connectConcurrency: 200,
  appendConcurrency: 50,
  wordDelayMs: 5,
  deliverySeconds: 300,
};
export const SOCKETS_QUICK: SocketsOptions = {
  ...SOCKETS_DEFAULTS,
  clients: 200,
  conversations: 20,
  appendsPerConversation: 2,
  deliverySeconds: 60,
};

export async function runSockets(ctx: RunContext, options: SocketsOptions): Promise<ScenarioReport> {
  const started = performance.now();
  const report = newReport('sockets', ctx.quick, ctx.command);
  report.parameters = { ...options };
  const unavailable = clusterUnavailable(true);
  if (unavailable !== undefined) {
    report.status = 'not available';
    report.reason = `needs PostgreSQL and Redis servers on this machine: ${unavailable}`;
    return finishReport(report, started, loadAverage());
  }
  const serverSettings = {
    CONTINUUM_MODEL: 'local',
    CONTINUUM_LOCAL_WORD_DELAY_MS: String(options.wordDelayMs),
    CONTINUUM_MAX_STREAMS_PER_TENANT: String(Math.min(10_000, options.conversations)),
  };
  report.serverSettings = {
    CONTINUUM_STORE: 'postgres',
    CONTINUUM_REDIS_URL: '(a private redis-server)',
    ...serverSettings,
  };
  const dirs = new DataDirs();
  const setup = new Recorder();
  const recorder = new Recorder();
  const subscribers: Subscriber[] = [];
  const cluster = await startCluster({
    label: `sockets-${Date.now().toString(36)}`,
    nodes: options.nodes,
    redis: true,
    env: serverSettings,
    dirs,
  });
  try {
    const nodes = cluster.nodes;
    const tenant = await createTenant(nodes[0]!.url, `load-sockets-${Date.now().toString(36)}`);
    const patients = Array.from(
      { length: options.conversations },
      (_, i) => new Patient(tenant, `patient-${i}`, setup),
    );
    ctx.log(`  set-up: ${patients.length} patients, conversations and first turns on ${nodes.length} nodes`);
    await pool(patients, 50, async (p) => {
      const url = nodes[0]!.url;
      if (!(await p.signIn(url)) || !(await p.createConversation(url))) return;
      const res = await p.send<{ turn: Turn }>(
        url,
        'append',
        `/v1/conversations/${p.conversationId}/turns`,
        { method: 'POST', body: { role: 'user', content: `My patient reference is ${p.marker}.`, expectedTurn: 0 } },
        [201],
      );
      if (res.ok) p.turn = res.body.turn.number;
    });
    for (const p of patients) p.useRecorder(recorder);

    const first = patients.find((p) => p.conversationId !== '');
    const probe = first === undefined ? 'no conversation was created' : await probeSync(nodes[0]!.url, first);
    if (probe !== undefined) {
      report.status = 'not available';
      report.reason = `WebSocket sync does not answer on this build: ${probe}`;
      return finishReport(report, started, loadAverage());
    }

    const usage = new UsageSampler();
    for (const node of nodes) usage.watch(node.name, () => node.pid);
    usage.watch('load generator', () => process.pid);
    const stats = { ready: 0, appended: 0, delivered: 0, phase: 'connecting' };
    const progress = new Progress(
      'sockets',
      () =>
        `${stats.phase}: subscribed ${stats.ready}/${options.clients}  appended ${stats.appended}  delivered ${stats.delivered}  errors ${recorder.failed}  | ${usage.now()}`,
      ctx.progress,
    );
    usage.start();
    progress.start();

    const sentAt = new Map<string, number>();
    const deliveries: number[] = [];
    const connectStarted = performance.now();
    const plan = Array.from({ length: options.clients }, (_, i) => i);
    await pool(plan, options.connectConcurrency, async (i) => {
      const conversation = i % options.conversations;
      const patient = patients[conversation]!;
      if (patient.conversationId === '') return;
      // The k-th subscriber of a conversation goes to node k mod n: each conversation has subscribers on every node.
      const node = nodes[Math.floor(i / options.conversations) % nodes.length]!;
      const subscriber = await openSubscriber({
        url: node.url,
        node: node.name,
        patient,
        recorder,
        onTurn: (number, at) => {
          stats.delivered++;
          const sent = sentAt.get(`${patient.conversationId}:${number}`);
          if (sent !== undefined) deliveries.push(at - sent);
        },
      });
      subscribers.push(subscriber);
      if (subscriber.ready) stats.ready++;
    });
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    const readyAfterConnect = subscribers.filter((s) => s.ready && !s.closed).length;
    progress.note(`  ${readyAfterConnect} subscribers ready after ${connectSeconds.toFixed(1)} s`);

    stats.phase = 'events';
    const dialogues = loadDialogues(options.appendsPerConversation + 1);
    const eventsStarted = performance.now();
    await pool(patients, options.appendConcurrency, async (p, i) => {
      if (p.conversationId === '') return;
      const turns = visitTurns(dialogues[i % dialogues.length]!, options.appendsPerConversation);
      for (const [k, turn] of turns.entries()) {
        const respond = k === turns.length - 1;
        const node = nodes[(i + k) % nodes.length]!;
        sentAt.set(`${p.conversationId}:${p.turn + 1}`, performance.now());
        const res = await p.append(node.url, turn, respond);
        if (!res.ok) return;
        p.turn = res.body.reply?.number ?? res.body.turn.number;
        stats.appended++;
      }
    });
    const done = (s: Subscriber) => s.closed || s.seen.length >= s.patient.turn;
    const deadline = performance.now() + options.deliverySeconds * 1000;
    while (performance.now() < deadline && !subscribers.every(done)) await pause(200);
    const eventsSeconds = (performance.now() - eventsStarted) / 1000;
    progress.stop();
    recordUsage(report, usage);
    for (const node of nodes) Object.assign(report.figures, await serverFigures(node.url, node.name));

    let whole = 0;
    let duplicates = 0;
    for (const s of subscribers) {
      const numbers = new Set(s.seen);
      duplicates += s.seen.length - numbers.size;
      const all = Array.from({ length: s.patient.turn }, (_, k) => k + 1).every((n) => numbers.has(n));
      if (s.ready && !s.closed && all && numbers.size === s.seen.length && s.outOfOrder === 0) whole++;
    }
    const leaks = subscribers.reduce((sum, s) => sum + s.leaks, 0) + patients.reduce((sum, p) => sum + p.leaks, 0);
    recordInto(report, recorder);
    report.latency['delivery (append sent → subscriber got the turn)'] = summarize(deliveries);
    for (const [key, count] of Object.entries(setup.errors())) report.errors[`set-up ${key}`] = count;
    const byNode = Object.fromEntries(
      nodes.map((n) => [`subscribers on ${n.name}`, subscribers.filter((s) => s.node === n.name && s.ready).length]),
    );
    Object.assign(report.figures, {
      'subscribers asked for': options.clients,
      'subscribers ready after the ramp': readyAfterConnect,
      ...byNode,
      'ramp seconds': Math.round(connectSeconds * 10) / 10,
      'subscribers ready/s': readyAfterConnect / connectSeconds,
      'appends sent': stats.appended,
      'events phase seconds': Math.round(eventsSeconds * 10) / 10,
      'turn events delivered': stats.delivered,
      'turn events delivered/s': stats.delivered / eventsSeconds,
      'subscribers with every turn exactly once, in order': whole,
      'delivery rate': percent(rate(whole, options.clients)),
      'duplicate events': duplicates,
      'out-of-order events': subscribers.reduce((sum, s) => sum + s.outOfOrder, 0),
      "markers of another patient's conversation seen": leaks,
      'set-up errors': setup.failed,
      ...Object.fromEntries(nodes.map((n) => [`${n.name} open-files limit`, n.openFilesLimit ?? null])),
      'load generator open-files limit': openFilesLimits(process.pid)?.soft ?? null,
    });
    report.verdicts = [
      verdict(
        'subscribers ready at once',
        `${options.clients}`,
        `${readyAfterConnect}`,
        readyAfterConnect === options.clients,
      ),
      // No target of its own: the plan's go/no-go error rate.
      errorVerdict(recorder, false),
      verdict(
        'subscribers that got every turn exactly once, in order',
        '100 %',
        `${percent(rate(whole, options.clients))} (${whole})`,
        whole === options.clients,
      ),
      verdict("another patient's marker seen", '0', `${leaks}`, leaks === 0),
    ];
  } finally {
    recordNodeProblems(report, cluster.nodes);
    for (const s of subscribers) s.close();
    await cluster.destroy();
    dirs.cleanup();
  }
  return finishReport(report, started, loadAverage());
}
