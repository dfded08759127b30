import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import { createModelProvider } from '../../src/models/create-model-provider.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { startOpenAIFake } from '../models/fakes/openai-fake.ts';

interface SseEvent {
  id: string;
  event: string;
  data: string;
}

/** Read an SSE response body, event by event, until `stop` says so or the stream ends. */
async function readEvents(res: Response, stop: (event: SseEvent, all: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const event: SseEvent = { id: '', event: 'message', data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length === 0) continue; // a comment (heartbeat, queue position)
      event.data = data.join('\n');
      events.push(event);
      if (stop(event, events)) {
        await reader.cancel();
        return events;
      }
    }
  }
}

async function start(options: Parameters<typeof buildTestApp>[0] = {}) {
  const t = await buildTestApp(options);
  const url = await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { apiKey } = await t.createTenant();
  const token = (await t.token(apiKey, 'patient-1')).access_token;
  const id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id as string;
  const post = (content: string, expectedTurn: number, signal?: AbortSignal) =>
    fetch(`${url}/v1/conversations/${id}/turns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ role: 'user', content, expectedTurn, respond: true }),
      ...(signal ? { signal } : {}),
    });
  return { t, url, token, id, post };
}

const deltasOf = (events: SseEvent[]) =>
  events
    .filter((e) => e.event === 'delta')
    .map((e) => JSON.parse(e.data).text)
    .join('');

describe('replies over SSE', () => {
  let t: TestApp | undefined;
  let other: TestApp | undefined;
  afterEach(async () => {
    await other?.close();
    await t?.close();
    other = undefined;
  });

  it('streams turn, deltas and done, every event with an increasing id; the stored reply equals the deltas', async () => {
    const s = await start({ config: { localWordDelayMs: 1 } });
    t = s.t;
    const res = await s.post('I take lisinopril 10 mg daily. What do you know about my medications?', 0);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = await readEvents(res, (e) => e.event === 'done' || e.event === 'error');
    expect(events[0]).toMatchObject({ event: 'turn' });
    expect(JSON.parse(events[0]!.data)).toMatchObject({ number: 1, role: 'user' });
    expect(events.at(-1)!.event).toBe('done');
    const ids = events.map((e) => e.id);
    expect(ids.every((id) => id.length > 0)).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const done = JSON.parse(events.at(-1)!.data);
    expect(done).toMatchObject({ number: 2, role: 'assistant' });
    expect(deltasOf(events)).toBe(done.content);
    expect(done.content).toMatch(/lisinopril/i);
  });

  it('sends the first delta at once and coalesces the rest by the configured thresholds', async () => {
    const replyWith = async (config: NonNullable<Parameters<typeof buildTestApp>[0]>['config']) => {
      const s = await start({ config: { localWordDelayMs: 20, ...config } });
      try {
        const res = await s.post('I take lisinopril 10 mg daily. What do you know about my medications?', 0);
        const events = await readEvents(res, (e) => e.event === 'done' || e.event === 'error');
        const deltas = events.filter((e) => e.event === 'delta').map((e) => JSON.parse(e.data).text as string);
        return { deltas, content: JSON.parse(events.at(-1)!.data).content as string };
      } finally {
        await s.t.close();
      }
    };
    // The offline responder streams word by word, one delta every 20 ms.
    const unbuffered = await replyWith({ sseFlushMs: 0 });
    expect(unbuffered.deltas.join('')).toBe(unbuffered.content);
    const words = unbuffered.content.split(/(?<=\s)/).length;
    expect(unbuffered.deltas.length).toBeGreaterThanOrEqual(words - 1);

    const bySize = await replyWith({ sseFlushMs: 10_000, sseFlushBytes: 40 });
    expect(bySize.deltas.join('')).toBe(bySize.content);
    // The first delta goes out at once; every later event but the last carries at least 40 bytes.
    expect(bySize.deltas[0]).toBe(unbuffered.deltas[0]);
    for (const delta of bySize.deltas.slice(1, -1)) expect(Buffer.byteLength(delta)).toBeGreaterThanOrEqual(40);
    expect(bySize.deltas.length).toBeLessThan(unbuffered.deltas.length);
  });

  it('a client that drops mid-reply and resumes with Last-Event-ID gets every remaining event exactly once, on the same node and on another', async () => {
    const s = await start({ config: { localWordDelayMs: 25 } });
    t = s.t;
    const leave = new AbortController();
    const first = await readEvents(
      await s.post('What medications do I take? I take metformin and aspirin.', 0, leave.signal),
      (_e, all) => all.filter((e) => e.event === 'delta').length >= 2,
    );
    leave.abort();
    const lastSeen = first.at(-1)!.id;

    // The same node, live, with the eventsource client.
    const resumed = await new Promise<SseEvent[]>((resolve, reject) => {
      const got: SseEvent[] = [];
      const source = new EventSource(`${s.url}/v1/conversations/${s.id}/events`, {
        fetch: (input, init) =>
          fetch(input, {
            ...init,
            headers: { ...init?.headers, authorization: `Bearer ${s.token}`, 'last-event-id': lastSeen },
          }),
      });
      for (const type of ['turn', 'delta', 'done', 'error']) {
        source.addEventListener(type, (message) => {
          got.push({ id: message.lastEventId, event: type, data: message.data });
          if (type === 'done' || type === 'error') {
            source.close();
            resolve(got);
          }
        });
      }
      source.onerror = (error) => {
        if (got.length === 0) reject(error);
      };
    });
    const all = [...first, ...resumed];
    const ids = all.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(resumed[0]!.id > lastSeen).toBe(true);
    const done = JSON.parse(resumed.find((e) => e.event === 'done')!.data);
    expect(deltasOf(all)).toBe(done.content);

    // Another node on the same store replays the rest from the replay buffer.
    other = await buildTestApp({ dataDir: s.t.dataDir });
    const otherUrl = await other.app.listen({ host: '127.0.0.1', port: 0 });
    const elsewhere = await readEvents(
      await fetch(`${otherUrl}/v1/conversations/${s.id}/events?lastEventId=${lastSeen}`, {
        headers: { authorization: `Bearer ${s.token}` },
      }),
      (e) => e.event === 'done',
    );
    expect(elsewhere.filter((e) => e.event !== 'turn').map((e) => e.id)).toEqual(
      resumed.filter((e) => e.event !== 'turn').map((e) => e.id),
    );
  });

  it('a provider that breaks off mid-stream ends the stream with event: error, keeps the user turn and stores no partial reply', async () => {
    const fake = await startOpenAIFake();
    try {
      fake.setDefault({ kind: 'stream', chunks: ['Your ', 'medication ', 'list ', 'is '], delayMs: 5, cutAfter: 2 });
      const model = createModelProvider({
        kind: 'openai',
        openai: { apiKey: 'sk-test', baseURL: `${fake.url}/v1`, model: 'gpt-fake-1' },
        resilience: { maxRetries: 0 },
      });
      const s = await start({ model });
      t = s.t;
      const events = await readEvents(
        await s.post('What is on my medication list?', 0),
        (e) => e.event === 'done' || e.event === 'error',
      );
      expect(events.at(-1)!.event).toBe('error');
      expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ code: 'model_failed', status: 502 });
      const turns = await t.request({ method: 'GET', url: `/v1/conversations/${s.id}/turns`, token: s.token });
      expect(turns.json().items.map((x: { role: string }) => x.role)).toEqual(['user']);
      // Without SSE the same failure is a 502 problem; the turn is still kept.
      const json = await t.request({
        method: 'POST',
        url: `/v1/conversations/${s.id}/turns`,
        token: s.token,
        body: { role: 'user', content: 'Still there?', expectedTurn: 1, respond: true },
      });
      expect(json.statusCode).toBe(502);
      expect(json.json().code).toBe('model_failed');
    } finally {
      await fake.close();
    }
  });
});
