/**
 * A fault drill's outcome: its checks (each PASS or FAIL with the value
 * seen), its figures, and the whole drill's status. A drill that cannot run
 * here (no PostgreSQL binaries, no permission to mount) is "not available",
 * which is not a failure but is said out loud.
 */
import { type Cluster, type ClusterOptions, clusterUnavailable, startCluster } from '../lib/cluster.ts';
import { DataDirs } from '../lib/scenario.ts';
import type { VerifyFigures } from './writers.ts';

export interface DrillCheck {
  name: string;
  ok: boolean;
  value: string;
}

export interface DrillResult {
  name: string;
  title: string;
  status: 'pass' | 'fail' | 'not available';
  reason?: string;
  seconds: number;
  checks: DrillCheck[];
  figures: Record<string, string | number | boolean | null>;
}

export interface DrillContext {
  log: (line: string) => void;
  /** Smaller counts and shorter phases (CI). */
  quick: boolean;
}

/** What a drill body fills in. */
export class DrillRecord {
  readonly checks: DrillCheck[] = [];
  readonly figures: Record<string, string | number | boolean | null> = {};
  unavailable: string | undefined;

  check(name: string, ok: boolean, value: string | number): void {
    this.checks.push({ name, ok, value: String(value) });
  }

  figure(name: string, value: string | number | boolean | null): void {
    this.figures[name] = value;
  }

  /** The checks every drill makes on what its writers acknowledged, and their figures. */
  verified(v: VerifyFigures): void {
    this.check('no acknowledged turn lost', v.lost === 0, `${v.lost} lost of ${v.acknowledged}`);
    this.check('nothing stored that was not acknowledged', v.unacknowledged === 0, v.unacknowledged);
    this.check('every hash chain intact, turn 1 holds its marker', v.brokenChains === 0, `${v.brokenChains} broken`);
    this.check("no other patient's marker in any conversation", v.leaks === 0, v.leaks);
    this.figure('writers', v.writers);
    this.figure('turns acknowledged', v.acknowledged);
    this.figure('turns stored', v.stored);
    this.figure('refused attempts (then retried)', formatCounts(v.refusals));
    this.figure('longest wait for an acknowledgement (ms)', v.longestAckMs);
    this.figure('acknowledged by a replay (an earlier attempt was stored, its answer lost)', v.ackedAsReplay);
    if (v.ackedViaConflict > 0) this.figure('acknowledged through 409 missed (response lost)', v.ackedViaConflict);
  }
}

export interface Drill {
  name: string;
  title: string;
  run(ctx: DrillContext, record: DrillRecord): Promise<void>;
}

/**
 * Run `body` on a fresh cluster of `continuum serve` nodes on private PostgreSQL (and Redis): a drill that
 * cannot start them here is recorded as not available; the cluster and its data dirs always go afterwards.
 */
export async function onCluster(
  record: DrillRecord,
  options: Omit<ClusterOptions, 'dirs'> & { ownPostgres?: boolean },
  body: (cluster: Cluster) => Promise<void>,
): Promise<void> {
  const unavailable = clusterUnavailable(options.redis);
  if (unavailable !== undefined) {
    record.unavailable = unavailable;
    return;
  }
  const dirs = new DataDirs();
  const cluster = await startCluster({ ...options, dirs });
  try {
    await body(cluster);
  } finally {
    await cluster.destroy();
    dirs.cleanup();
  }
}

/** Run one drill: a thrown error is a failure with its message. */
export async function runDrill(drill: Drill, ctx: DrillContext): Promise<DrillResult> {
  const started = performance.now();
  const record = new DrillRecord();
  let reason: string | undefined;
  try {
    await drill.run(ctx, record);
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
    record.check('ran to the end', false, reason.split('\n')[0]!.slice(0, 300));
  }
  const failed = record.checks.some((c) => !c.ok);
  return {
    name: drill.name,
    title: drill.title,
    status: failed ? 'fail' : record.unavailable !== undefined ? 'not available' : 'pass',
    ...(record.unavailable !== undefined ? { reason: record.unavailable } : reason !== undefined ? { reason } : {}),
    seconds: Math.round((performance.now() - started) / 100) / 10,
    checks: record.checks,
    figures: record.figures,
  };
}

export function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k}: ${v}`).join(', ');
}
