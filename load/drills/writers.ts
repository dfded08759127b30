/**
 * The clients of a fault drill: patients appending to their own
 * conversations without pause, each one logical turn at a time, retrying it
 * with the same idempotency key until it is acknowledged (as the SDK does), on
 * whichever node answers. Every acknowledged turn is remembered; `verify`
 * then reads each record back and checks that it holds exactly the
 * acknowledged turns (none lost, none written twice or behind the client's
 * back), with an intact hash chain and no other patient's marker.
 */
import { randomUUID } from 'node:crypto';
import { type CallResult, call, outcomeOf } from '../lib/http.ts';
import { createTenant, firstBrokenTurn, foreignMarkers, Patient, pool, type Turn } from '../lib/patients.ts';
import { Recorder } from '../lib/recorder.ts';
import { pause } from '../lib/scenario.ts';

export interface Writer {
  patient: Patient;
  acked: Turn[];
  /** Attempts that were not acknowledged, by code. */
  refusals: Record<string, number>;
  /** Longest time from a logical append's first attempt to its acknowledgement (ms). */
  longestAckMs: number;
  /** Acknowledged through a `409 turn_conflict` whose `missed` held our own turn (its response had been lost). */
  ackedViaConflict: number;
  /** Acknowledged by a replay (`Idempotent-Replayed: true`): an earlier attempt was stored but its answer lost. */
  ackedAsReplay: number;
}

export interface WritersOptions {
  /** Node URLs: a writer's appends go round them, and a refused attempt moves on to the next one. */
  urls: () => string[];
  writers: number;
  tenantName: string;
  /** Pause between a writer's appends (ms). */
  paceMs?: number;
  /** Pause before retrying a refused attempt (ms). */
  retryMs?: number;
}

export interface VerifyFigures {
  writers: number;
  acknowledged: number;
  stored: number;
  lost: number;
  /** Stored turns the writers never had acknowledged (written twice, or behind their back). */
  unacknowledged: number;
  brokenChains: number;
  leaks: number;
  refusals: Record<string, number>;
  longestAckMs: number;
  ackedViaConflict: number;
  ackedAsReplay: number;
}

/** Writers appending until `stop()`; each finishes the logical append it is on. */
export class Writers {
  readonly list: Writer[] = [];
  readonly recorder = new Recorder();
  #stopping = false;
  #running: Promise<void> | undefined;
  readonly #o: WritersOptions;

  constructor(options: WritersOptions) {
    this.#o = options;
  }

  /** Tenant, patients and conversations, each with turn 1 planting its marker (on the first node). */
  async setup(): Promise<void> {
    const url = this.#o.urls()[0]!;
    const tenant = await createTenant(url, this.#o.tenantName);
    const patients = Array.from(
      { length: this.#o.writers },
      (_, i) => new Patient(tenant, `patient-${i}`, this.recorder),
    );
    await pool(patients, 20, async (p) => {
      if (!(await p.signIn(url)) || !(await p.createConversation(url)))
        throw new Error(`set-up of ${p.subject} failed`);
      this.list.push({ patient: p, acked: [], refusals: {}, longestAckMs: 0, ackedViaConflict: 0, ackedAsReplay: 0 });
    });
    for (const w of this.list) await this.#appendOne(w, 0, `My patient reference is ${w.patient.marker}.`, () => url);
  }

  /** Start appending. */
  start(): void {
    this.#running = Promise.all(
      this.list.map(async (w, i) => {
        let n = 1;
        while (!this.#stopping) {
          await this.#appendOne(w, i, `Turn ${++n} of ${w.patient.subject}: blood pressure 128/82, no new symptoms.`);
          if (this.#o.paceMs) await pause(this.#o.paceMs);
        }
      }),
    ).then(() => undefined);
  }

  /** Acknowledged turns so far, over all writers. */
  get acknowledged(): number {
    return this.list.reduce((sum, w) => sum + w.acked.length, 0);
  }

  /** Refused attempts so far, over all writers. */
  get refused(): number {
    return this.list.reduce((sum, w) => sum + Object.values(w.refusals).reduce((a, b) => a + b, 0), 0);
  }

  /** Stop after each writer's current logical append is acknowledged (or `deadlineMs` passes). */
  async stop(deadlineMs = 60_000): Promise<void> {
    this.#stopping = true;
    const deadline = new Promise((resolve) => setTimeout(resolve, deadlineMs).unref());
    await Promise.race([this.#running, deadline]);
  }

  /** Read every record back from `url` and compare it with what was acknowledged. */
  async verify(url: string): Promise<VerifyFigures> {
    const figures: VerifyFigures = {
      writers: this.list.length,
      acknowledged: 0,
      stored: 0,
      lost: 0,
      unacknowledged: 0,
      brokenChains: 0,
      leaks: 0,
      refusals: {},
      longestAckMs: 0,
      ackedViaConflict: 0,
      ackedAsReplay: 0,
    };
    for (const w of this.list) {
      const p = w.patient;
      const record = await p.allTurns(url);
      figures.acknowledged += w.acked.length;
      figures.longestAckMs = Math.max(figures.longestAckMs, Math.round(w.longestAckMs));
      figures.ackedViaConflict += w.ackedViaConflict;
      figures.ackedAsReplay += w.ackedAsReplay;
      for (const [code, count] of Object.entries(w.refusals))
        figures.refusals[code] = (figures.refusals[code] ?? 0) + count;
      if (record === undefined) {
        figures.lost += w.acked.length;
        continue;
      }
      figures.stored += record.length;
      const ackedHashes = new Set(w.acked.map((t) => t.hash));
      for (const turn of w.acked) if (record[turn.number - 1]?.hash !== turn.hash) figures.lost++;
      figures.unacknowledged += record.filter((t) => !ackedHashes.has(t.hash)).length;
      if (firstBrokenTurn(p.conversationId, record) !== null || !record[0]?.content.includes(p.marker)) {
        figures.brokenChains++;
      }
      figures.leaks += foreignMarkers(JSON.stringify(record), p.marker) + p.leaks;
    }
    return figures;
  }

  /** One logical append, retried with its idempotency key until acknowledged or the writers are past stopping. */
  async #appendOne(w: Writer, index: number, content: string, pick?: () => string): Promise<void> {
    const p = w.patient;
    const key = randomUUID();
    const started = performance.now();
    let attempt = 0;
    const giveUpAt = () => (this.#stopping ? started + 60_000 : Number.POSITIVE_INFINITY);
    for (;;) {
      const urls = this.#o.urls();
      // Appends go round the nodes, and a refused attempt moves on to the next one.
      const url = pick?.() ?? urls[(index + w.acked.length + attempt) % urls.length]!;
      attempt++;
      const res: CallResult<{ turn: Turn; currentTurn?: number; missed?: Turn[] }> = await call(
        `${url}/v1/conversations/${p.conversationId}/turns`,
        {
          method: 'POST',
          token: p.access,
          agent: p.agent,
          body: { role: 'user', content, expectedTurn: p.turn },
          headers: { 'idempotency-key': key },
          timeoutMs: 15_000,
        },
      );
      if (res.status === 201) {
        if (res.headers['idempotent-replayed'] === 'true') w.ackedAsReplay++;
        this.#ack(w, res.body.turn, started);
        return;
      }
      const mine = res.status === 409 ? res.body.missed?.find((t) => t.content === content) : undefined;
      if (mine !== undefined && res.body.missed?.length === 1) {
        w.ackedViaConflict++;
        this.#ack(w, mine, started);
        return;
      }
      const code = outcomeOf(res);
      w.refusals[code] = (w.refusals[code] ?? 0) + 1;
      if (performance.now() > giveUpAt()) return;
      await pause(this.#o.retryMs ?? 100);
    }
  }

  #ack(w: Writer, turn: Turn, started: number): void {
    w.acked.push(turn);
    w.patient.turn = turn.number;
    w.longestAckMs = Math.max(w.longestAckMs, performance.now() - started);
  }
}

/** Poll `probe` every 200 ms until it gives a value (or throw after `timeoutMs`). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await pause(200);
  }
}

/** `/readyz` of a node: its status and the failing checks. */
export async function readiness(url: string): Promise<{ http: number; status: string; failing: string[] }> {
  const res = await call<{ status?: string; failing?: string[] }>(`${url}/readyz`, { timeoutMs: 10_000 });
  return { http: res.status, status: res.body.status ?? '', failing: res.body.failing ?? [] };
}
