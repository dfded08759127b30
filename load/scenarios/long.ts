/**
 * `long`: conversations spanning simulated days. One SQLite node serves
 * every visit; between visits it restarts with `CONTINUUM_CLOCK_OFFSET`
 * moved on by the hours that pass (08:00, 12:30 and 17:00 each day, then the
 * night), so the same stored state meets hours-old tokens and days-old
 * turns. Access tokens last 30 s (`CONTINUUM_ACCESS_TOKEN_TTL=30`), so they
 * also expire in real time within a visit; the full run pauses past that
 * once a day with the node live. The context window is 4 hours
 * (`CONTINUUM_CONTEXT_MAX_AGE=14400`), so a day's morning turns leave the
 * working context by the evening, and the night's 15 hours outlast the 12-hour
 * refresh token: the client signs in again with its API key, as
 * docs/SESSIONS.md says it should.
 *
 * Continuity: a step is continuous when its append was stored as exactly the
 * turn the client expected and the context read after it (`?q=<marker>`)
 * still holds the marker planted in turn 1 — days later, after every token of
 * that morning has expired. Pruning: every turn in the context's `recent`
 * block must be younger than the window, on the node's clock.
 */
import { loadDialogues } from '../lib/dialogues.ts';
import { createNode } from '../lib/node-process.ts';
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
import { UsageSampler } from '../lib/usage.ts';
import {
  CLOCK_TOLERANCE_SECONDS,
  HOUR,
  type LongTally,
  MAX_AGE_SECONDS,
  TOKEN_TTL_SECONDS,
  visitSteps,
} from './long-visit.ts';

export interface LongOptions {
  conversations: number;
  days: number;
  /** Visits each day, as hours of the day (the first is 8). */
  visitHours: number[];
  /** Dialogue turns per visit. */
  turnsPerVisit: number;
  wordDelayMs: number;
  /** Once a day, wait past the access-token lifetime with the node live. */
  livePause: boolean;
}

export const LONG_DEFAULTS: LongOptions = {
  conversations: 100,
  days: 3,
  visitHours: [8, 12.5, 17],
  turnsPerVisit: 4,
  wordDelayMs: 5,
  livePause: true,
};
/** One restart: the evening visit finds expired tokens (refreshed) and the morning's turns past the window. */
export const LONG_QUICK: LongOptions = {
  ...LONG_DEFAULTS,
  conversations: 10,
  days: 1,
  visitHours: [8, 18],
  livePause: false,
};

export async function runLong(ctx: RunContext, options: LongOptions): Promise<ScenarioReport> {
  const started = performance.now();
  const report = newReport('long', ctx.quick, ctx.command);
  report.parameters = { ...options, visitHours: options.visitHours.join(', ') };
  const base = {
    CONTINUUM_MODEL: 'local',
    CONTINUUM_LOCAL_WORD_DELAY_MS: String(options.wordDelayMs),
    CONTINUUM_MAX_STREAMS_PER_TENANT: String(Math.min(10_000, options.conversations)),
    CONTINUUM_ACCESS_TOKEN_TTL: String(TOKEN_TTL_SECONDS),
    CONTINUUM_CLOCK_TOLERANCE: String(CLOCK_TOLERANCE_SECONDS),
    CONTINUUM_CONTEXT_MAX_AGE: String(MAX_AGE_SECONDS),
  };
  report.serverSettings = { ...base, CONTINUUM_CLOCK_OFFSET: '(moved on at each restart: the hours between visits)' };
  const dirs = new DataDirs();
  const node = await createNode({
    name: 'node',
    dataDir: dirs.make('long'),
    env: { ...base, CONTINUUM_CLOCK_OFFSET: '0' },
  });
  const recorder = new Recorder();
  const tally: LongTally = {
    steps: 0,
    continuous: 0,
    acked: 0,
    lost: 0,
    broken: 0,
    contextReads: 0,
    pastWindow: 0,
    staleInContext: 0,
    searchesFindingTurn1: 0,
    searches: 0,
  };
  const usage = new UsageSampler();
  usage.watch('node', () => node.pid);
  usage.watch('load generator', () => process.pid);
  const realStart = Date.now();
  let offsetMs = 0;
  let restarts = 0;
  try {
    await node.start();
    const tenant = await createTenant(node.url, `load-long-${Date.now().toString(36)}`);
    const patients = Array.from(
      { length: options.conversations },
      (_, i) => new Patient(tenant, `patient-${i}`, recorder),
    );
    const dialogues = loadDialogues(options.turnsPerVisit * 2);
    await pool(patients, 50, async (p) => {
      if (await p.signIn(node.url)) await p.createConversation(node.url);
    });
    const acked = new Map<Patient, Turn[]>(patients.map((p) => [p, []]));
    let phase = '';
    const progress = new Progress(
      'long',
      () =>
        `${phase}  steps ${tally.steps}  continuous ${tally.continuous}  errors ${recorder.failed}  | ${usage.now()}`,
      ctx.progress,
    );
    usage.start();
    progress.start();
    let visitIndex = 0;
    for (let day = 0; day < options.days; day++) {
      for (const [v, hour] of options.visitHours.entries()) {
        const simulatedMs = (day * 24 + hour - options.visitHours[0]!) * HOUR;
        if (visitIndex > 0) {
          // Time passes: the node restarts with its clock where the simulated day has got to.
          offsetMs = simulatedMs - (Date.now() - realStart);
          await node.stop();
          await node.start({ ...base, CONTINUUM_CLOCK_OFFSET: String(Math.round(offsetMs / 1000)) });
          restarts++;
        }
        phase = `day ${day + 1} ${clock(hour)}`;
        progress.note(`  ${phase}: node clock ${new Date(Date.now() + offsetMs).toISOString()}`);
        const livePause = options.livePause && v === 1;
        const half = Math.ceil(options.turnsPerVisit / 2);
        const runSteps = (from: number, to: number) =>
          Promise.all(
            patients.map((p, i) =>
              visitSteps(
                node,
                p,
                dialogues[i % dialogues.length]!,
                { visitIndex, from, to, turnsPerVisit: options.turnsPerVisit, offsetMs },
                acked.get(p)!,
                tally,
              ),
            ),
          );
        if (livePause) {
          await runSteps(0, half);
          progress.note(
            `  ${phase}: ${TOKEN_TTL_SECONDS + CLOCK_TOLERANCE_SECONDS + 1} s pause with the node live (every access token expires)`,
          );
          await pause((TOKEN_TTL_SECONDS + CLOCK_TOLERANCE_SECONDS + 1) * 1000);
          await runSteps(half, options.turnsPerVisit);
        } else await runSteps(0, options.turnsPerVisit);
        visitIndex++;
      }
    }
    progress.stop();
    recordUsage(report, usage);
    Object.assign(report.figures, await serverFigures(node.url, 'server (since the last restart)'));

    await pool(patients, 20, async (p) => {
      const record = await p.allTurns(node.url);
      const mine = acked.get(p)!;
      if (record === undefined) {
        tally.lost += mine.length;
        return;
      }
      if (firstBrokenTurn(p.conversationId, record) !== null || !record[0]?.content.includes(p.marker)) tally.broken++;
      for (const turn of mine) if (record[turn.number - 1]?.hash !== turn.hash) tally.lost++;
    });
    const leaks = patients.reduce((sum, p) => sum + p.leaks, 0);
    const firstCreated = Math.min(...[...acked.values()].flatMap((turns) => turns.map((t) => Date.parse(t.createdAt))));
    const lastCreated = Math.max(...[...acked.values()].flatMap((turns) => turns.map((t) => Date.parse(t.createdAt))));
    recordInto(report, recorder);
    Object.assign(report.figures, {
      conversations: patients.length,
      'simulated days': options.days,
      visits: visitIndex,
      'node restarts (clock moved on)': restarts,
      'simulated span of the turns (hours)': Math.round(((lastCreated - firstCreated) / HOUR) * 10) / 10,
      'steps attempted': tally.steps,
      'continuous steps': tally.continuous,
      'continuity rate': percent(rate(tally.continuous, tally.steps)),
      'turns acknowledged': tally.acked,
      'acknowledged turns lost': tally.lost,
      'conversations with a broken chain': tally.broken,
      "markers of another patient's conversation seen": leaks,
      '401 token_expired met (then refreshed)': patients.reduce((sum, p) => sum + p.expiredSeen, 0),
      'token refreshes': patients.reduce((sum, p) => sum + p.refreshes, 0),
      'sign-ins with the API key (refresh token past its 12 h)':
        patients.reduce((sum, p) => sum + p.signIns, 0) - patients.length,
      'context reads': tally.contextReads,
      'turns past the 4 h window at those reads': tally.pastWindow,
      "turns past the window still in a context's recent block": tally.staleInContext,
      'searches for the turn-1 marker that found turn 1': `${tally.searchesFindingTurn1} of ${tally.searches}`,
    });
    report.verdicts = [
      errorVerdict(recorder, true),
      verdict('continuity', '100 %', percent(rate(tally.continuous, tally.steps)), tally.continuous === tally.steps),
      verdict('acknowledged turns lost', '0', `${tally.lost}`, tally.lost === 0),
      verdict(
        'hash chains intact',
        'all',
        `${patients.length - tally.broken} of ${patients.length}`,
        tally.broken === 0,
      ),
      verdict(
        'turns past the window pruned from recent',
        'all',
        `${tally.staleInContext} left`,
        tally.staleInContext === 0,
      ),
      verdict('pruning exercised', '> 0 turns past the window', `${tally.pastWindow}`, tally.pastWindow > 0),
      verdict(
        'turn 1 found by search',
        'every search',
        `${tally.searchesFindingTurn1} of ${tally.searches}`,
        tally.searchesFindingTurn1 === tally.searches,
      ),
      verdict("another patient's marker seen", '0', `${leaks}`, leaks === 0),
    ];
  } finally {
    recordNodeProblems(report, [node]);
    await node.stop().catch(() => undefined);
    dirs.cleanup();
  }
  return finishReport(report, started, loadAverage());
}

const clock = (hour: number) => `${String(Math.floor(hour)).padStart(2, '0')}:${hour % 1 === 0 ? '00' : '30'}`;
