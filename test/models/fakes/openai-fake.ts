/**
 * A loopback OpenAI-compatible server: `POST /v1/chat/completions` with
 * `stream: true` answers with the real server-sent events
 * (`data: {"choices":[{"delta":{"content":...}}]}` chunks, a finish_reason
 * chunk, the usage chunk of `stream_options.include_usage`, `data: [DONE]`);
 * `GET /v1/models` answers the probe.
 */
import type { ServerResponse } from 'node:http';
import { cut, type FakeReply, type FakeServer, pause, startFakeServer, write } from './fake-server.ts';

export const FAKE_OPENAI_MODEL = 'gpt-fake-1';

function chunk(choices: unknown[], extra: Record<string, unknown> = {}): string {
  const body = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model: FAKE_OPENAI_MODEL, choices };
  return `data: ${JSON.stringify({ ...body, ...extra })}\n\n`;
}

async function answer(reply: FakeReply, res: ServerResponse): Promise<void> {
  if (reply.kind === 'status') {
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    const type = reply.errorType ?? (reply.status >= 500 ? 'server_error' : 'invalid_request_error');
    res.end(
      JSON.stringify({ error: { message: reply.message ?? `fake ${reply.status}`, type, param: null, code: null } }),
    );
    return;
  }
  if (reply.kind === 'hang') {
    if (reply.afterHeaders) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
    }
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  await write(res, chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
  for (let i = 0; i < reply.chunks.length; i++) {
    if (reply.cutAfter === i) return cut(res);
    if (reply.hangAfter === i) return;
    if (reply.errorAfter === i) {
      await write(
        res,
        `data: ${JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } })}\n\n`,
      );
      res.end();
      return;
    }
    if (reply.garbageAfter === i) {
      await write(res, 'data: {"choices":[{"delta":\n\n');
      res.end();
      return;
    }
    await pause(reply.delayMs ?? 0);
    await write(res, chunk([{ index: 0, delta: { content: reply.chunks[i] }, finish_reason: null }]));
  }
  if (reply.cutAfter === reply.chunks.length) return cut(res);
  await write(res, chunk([{ index: 0, delta: {}, finish_reason: reply.stopReason ?? 'stop' }]));
  const usage = reply.usage ?? { input: 25, output: reply.chunks.length };
  await write(
    res,
    chunk([], {
      usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output },
    }),
  );
  await write(res, 'data: [DONE]\n\n');
  res.end();
}

export function startOpenAIFake(): Promise<FakeServer> {
  return startFakeServer({
    async handle(req, res, next, probe) {
      if (req.method === 'POST' && req.path === '/v1/chat/completions') {
        await answer(next(), res);
        return true;
      }
      if (req.method === 'GET' && req.path === '/v1/models') {
        if (probe.kind !== 'status' || probe.status >= 400) {
          await answer(probe, res);
          return true;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            data: [{ id: FAKE_OPENAI_MODEL, object: 'model', created: 0, owned_by: 'fake' }],
          }),
        );
        return true;
      }
      return false;
    },
  });
}
