/**
 * A model provider that hangs, errors in the middle of a stream, or streams
 * garbage (a loopback OpenAI-compatible fake, `CONTINUUM_MODEL=openai`).
 * For each, a patient asks for a reply over SSE: the user turn must be
 * stored and announced (`event: turn`), the stream must end with
 * `event: error` (a problem document), no partial reply may be stored, and
 * the node must stay healthy: other conversations get their replies
 * meanwhile, and replies work again once the provider does (after the
 * circuit breaker's cool-down if it opened). The hang takes as long as the
 * provider's deadlines: 30 s to a first token, twice retried.
 */
import { call } from '../lib/http.ts';
import { FAKE_MODEL, type Fault, startModelFake } from '../lib/model-fake.ts';
import { createNode } from '../lib/node-process.ts';
import { createTenant, foreignMarkers, Patient, type Turn } from '../lib/patients.ts';
import { Recorder } from '../lib/recorder.ts';
import { DataDirs, pause } from '../lib/scenario.ts';
import { openSse } from '../lib/sse.ts';
import type { Drill, DrillContext, DrillRecord } from './drill.ts';

interface StreamedOutcome {
  userTurn?: number;
  deltas: number;
  errorCode?: string;
  done: boolean;
  ms: number;
  end: string;
  leaks: number;
}

function streamReply(url: string, p: Patient, content: string, timeoutMs: number): Promise<StreamedOutcome> {
  const started = performance.now();
  const out: StreamedOutcome = { deltas: 0, done: false, ms: 0, end: '', leaks: 0 };
  const request = openSse({
    url: `${url}/v1/conversations/${p.conversationId}/turns`,
    token: p.access,
    method: 'POST',
    body: { role: 'user', content, expectedTurn: p.turn, respond: true },
    onEvent: (event) => {
      out.leaks += foreignMarkers(event.data, p.marker);
      if (event.event === 'turn' && out.userTurn === undefined) out.userTurn = (JSON.parse(event.data) as Turn).number;
      else if (event.event === 'delta') out.deltas++;
      else if (event.event === 'error') {
        out.errorCode = (JSON.parse(event.data) as { code?: string }).code ?? 'none';
        return true;
      } else if (event.event === 'done') {
        out.done = true;
        return true;
      }
      return undefined;
    },
  });
  const timer = setTimeout(() => request.close(), timeoutMs);
  return request.ended.then((end) => {
    clearTimeout(timer);
    out.ms = performance.now() - started;
    out.end = end.reason === 'http' ? `HTTP ${end.status} ${end.text.slice(0, 200)}` : end.reason;
    return out;
  });
}

export const modelFaults: Drill = {
  name: 'model-faults',
  title: 'a model provider that hangs, errors mid-stream or returns garbage',
  async run(_ctx: DrillContext, record: DrillRecord) {
    const fake = await startModelFake();
    const dirs = new DataDirs();
    const node = await createNode({
      name: 'node',
      dataDir: dirs.make('model-faults'),
      env: { CONTINUUM_MODEL: 'openai', CONTINUUM_OPENAI_BASE_URL: fake.baseURL, CONTINUUM_OPENAI_MODEL: FAKE_MODEL },
    });
    try {
      await node.start();
      const recorder = new Recorder();
      const tenant = await createTenant(node.url, `drill-model-${Date.now().toString(36)}`);
      const names = ['hang', 'error-mid', 'garbage', 'error-mid-json', 'healthy', 'control'] as const;
      const patients = Object.fromEntries(
        names.map((n) => [n, new Patient(tenant, `patient-${n}`, recorder)]),
      ) as Record<(typeof names)[number], Patient>;
      for (const p of Object.values(patients)) {
        if (!(await p.signIn(node.url)) || !(await p.createConversation(node.url))) throw new Error('set-up failed');
        const first = await p.send<{ turn: Turn }>(
          node.url,
          'append',
          `/v1/conversations/${p.conversationId}/turns`,
          { method: 'POST', body: { role: 'user', content: `My patient reference is ${p.marker}.`, expectedTurn: 0 } },
          [201],
        );
        if (!first.ok) throw new Error('first turn refused');
        p.turn = first.body.turn.number;
      }
      const question = 'What should I take for the headache?';
      const deadline = 150_000;
      const faults: Fault[] = ['hang', 'error-mid', 'garbage'];
      const streamed = Promise.all(
        faults.map((fault) => streamReply(node.url, patients[fault], `[fault:${fault}] ${question}`, deadline)),
      );
      const json = call<{ code?: string }>(
        `${node.url}/v1/conversations/${patients['error-mid-json'].conversationId}/turns`,
        {
          method: 'POST',
          token: patients['error-mid-json'].access,
          body: { role: 'user', content: `[fault:error-mid] ${question}`, expectedTurn: 1, respond: true },
          timeoutMs: deadline,
        },
      );
      // While the faults are in flight: the node answers, and another conversation gets its reply.
      await pause(1_000);
      const healthDuring = await call(`${node.url}/healthz`);
      const healthy = await streamReply(node.url, patients.healthy, question, 30_000);
      const [outcomes, jsonOutcome] = await Promise.all([streamed, json]);

      for (const [i, fault] of faults.entries()) {
        const o = outcomes[i]!;
        const p = patients[fault];
        const turns = (await p.allTurns(node.url)) ?? [];
        record.check(
          `${fault}: user turn stored and announced, stream ends with event: error, no reply stored`,
          o.userTurn === 2 && o.errorCode !== undefined && !o.done && turns.length === 2 && turns[1]?.role === 'user',
          `turn ${o.userTurn ?? '-'}, error ${o.errorCode ?? '-'} after ${Math.round(o.ms)} ms, ${o.deltas} deltas, ` +
            `stored [${turns.map((t) => t.role).join(', ')}]${o.errorCode === undefined ? `, ended: ${o.end}` : ''}`,
        );
        record.figure(`${fault}: event: error after (ms)`, Math.round(o.ms));
        record.figure(`${fault}: error code`, o.errorCode ?? null);
      }
      const jsonTurns = (await patients['error-mid-json'].allTurns(node.url)) ?? [];
      record.check(
        'error-mid with a JSON reply: 502 model_failed, the user turn kept, no reply stored',
        jsonOutcome.status === 502 && jsonOutcome.body.code === 'model_failed' && jsonTurns.length === 2,
        `${jsonOutcome.status} ${jsonOutcome.body.code ?? jsonOutcome.failure ?? ''}, stored [${jsonTurns.map((t) => t.role).join(', ')}]`,
      );
      record.check(
        'the node answers while a provider call hangs (/healthz)',
        healthDuring.status === 200,
        healthDuring.status,
      );
      record.check(
        'another conversation gets its reply meanwhile',
        healthy.done && healthy.userTurn === 2,
        `${healthy.done ? 'done' : `no done (${healthy.errorCode ?? healthy.end})`} after ${Math.round(healthy.ms)} ms`,
      );

      // Afterwards the provider is fine again: replies must come back (a circuit opened by the faults cools down first).
      const recoverStarted = performance.now();
      let control: StreamedOutcome | undefined;
      const control$ = patients.control;
      while (performance.now() - recoverStarted < 60_000) {
        control = await streamReply(node.url, control$, question, 30_000);
        if (control.done) break;
        const refreshed = await control$.allTurns(node.url);
        control$.turn = refreshed?.at(-1)?.number ?? control$.turn;
        await pause(2_000);
      }
      record.check(
        'replies work again after the faults',
        control?.done === true,
        control?.done ? 'done' : String(control?.errorCode),
      );
      record.figure('faults over to a good reply again (ms)', Math.round(performance.now() - recoverStarted));
      const health = await call(`${node.url}/healthz`);
      const ready = await call<{ status?: string }>(`${node.url}/readyz`);
      record.check(
        'the node is healthy at the end (/healthz 200)',
        health.status === 200 && node.running,
        health.status,
      );
      record.figure('/readyz at the end', `${ready.status} ${ready.body.status ?? ''}`);
      const leaks =
        outcomes.reduce((sum, o) => sum + o.leaks, 0) + Object.values(patients).reduce((s, p) => s + p.leaks, 0);
      record.check("no other patient's marker in any stream or read", leaks === 0, leaks);
      record.figure(
        'model requests served by the fake',
        Object.entries(fake.served)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', '),
      );
    } finally {
      await node.stop().catch(() => undefined);
      await fake.close();
      dirs.cleanup();
    }
  },
};
