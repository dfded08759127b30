/**
 * The yardstick of bench/first-delta.ts, side (d): an HTTP server that does
 * nothing of its own between the client and the provider, in a process of
 * its own like Continuum's (bench/first-delta-host.ts). Bare Fastify, no
 * plugins, no logging; its one route takes the same request as
 * `POST …/turns` with `respond: true`, calls the same `openai` SDK adapter as
 * side (a) with the user's message alone, and writes each delta as a
 * server-sent event the moment it comes (then `done` with the text, so the
 * benchmark's client reads it as it reads Continuum's). No auth, no store, no
 * context, no coalescing: what it adds to the first delta over side (a) is
 * what any server in between costs on this machine — the client's request
 * crossing one more process boundary, the delta crossing one more back.
 */
import Fastify from 'fastify';
import { createOpenAIProvider } from '../src/models/openai-provider.ts';
import { formatEvent, SSE_HEADERS } from '../src/streaming/sse.ts';
import { serveBenchParent } from './lib/bench-child.ts';
import { STREAM_FAKE_MODEL } from './lib/openai-stream-fake.ts';

export type ProxyRequest = { type: 'start'; fakeBaseURL: string } | { type: 'close' };

export type ProxyReply = { type: 'started'; baseUrl: string } | { type: 'closed' };

async function start(fakeBaseURL: string) {
  const adapter = createOpenAIProvider({ baseURL: fakeBaseURL, model: STREAM_FAKE_MODEL, apiKey: 'bench' });
  const app = Fastify({ logger: false });
  app.post<{ Params: { id: string }; Body: { content: string; expectedTurn: number } }>(
    '/v1/conversations/:id/turns',
    async (request, reply) => {
      const { content, expectedTurn } = request.body;
      const abort = new AbortController();
      const generation = adapter.generate({
        messages: [{ role: 'user', content }],
        maxTokens: 256,
        signal: abort.signal,
      });
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, SSE_HEADERS);
      raw.on('close', () => abort.abort());
      raw.write(formatEvent({ event: 'turn', data: JSON.stringify({ number: expectedTurn + 1, content }) }));
      let text = '';
      try {
        for await (const delta of generation.deltas) {
          text += delta;
          raw.write(formatEvent({ event: 'delta', data: JSON.stringify({ text: delta }) }));
        }
        await generation.result;
        raw.end(formatEvent({ event: 'done', data: JSON.stringify({ number: expectedTurn + 2, content: text }) }));
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        raw.end(formatEvent({ event: 'error', data: JSON.stringify({ code: 'model_failed', detail }) }));
      }
    },
  );
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, baseUrl };
}

let running: Awaited<ReturnType<typeof start>> | undefined;

serveBenchParent<ProxyRequest, ProxyReply>(
  async (request) => {
    running = await start(request.fakeBaseURL);
    return { type: 'started', baseUrl: running.baseUrl };
  },
  async () => {
    await running?.app.close();
    running = undefined;
  },
);
