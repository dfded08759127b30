/**
 * A loopback Anthropic Messages API: `POST /v1/messages` answers with the
 * real server-sent-event stream (`message_start`, `content_block_start`,
 * `ping`, `content_block_delta`/`text_delta`, `content_block_stop`,
 * `message_delta` with stop_reason and usage, `message_stop`);
 * `GET /v1/models` answers the probe.
 */
import type { ServerResponse } from 'node:http';
import { cut, type FakeReply, type FakeServer, pause, startFakeServer, write } from './fake-server.ts';

export const FAKE_ANTHROPIC_MODEL = 'claude-fake-1';

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function errorBody(reply: Extract<FakeReply, { kind: 'status' }>): string {
  const type =
    reply.errorType ??
    (reply.status === 429
      ? 'rate_limit_error'
      : reply.status === 529
        ? 'overloaded_error'
        : reply.status >= 500
          ? 'api_error'
          : 'invalid_request_error');
  return JSON.stringify({ type: 'error', error: { type, message: reply.message ?? `fake ${reply.status}` } });
}

async function answer(reply: FakeReply, res: ServerResponse): Promise<void> {
  if (reply.kind === 'status') {
    res.writeHead(reply.status, { 'content-type': 'application/json', 'request-id': 'req_fake' });
    res.end(errorBody(reply));
    return;
  }
  if (reply.kind === 'hang') {
    if (reply.afterHeaders) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
    }
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': 'req_fake' });
  const usage = reply.usage ?? { input: 25, output: reply.chunks.length };
  await write(
    res,
    sse('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_fake',
        type: 'message',
        role: 'assistant',
        model: FAKE_ANTHROPIC_MODEL,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: usage.input, output_tokens: 1 },
      },
    }),
  );
  await write(
    res,
    sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  );
  await write(res, sse('ping', { type: 'ping' }));
  for (let i = 0; i < reply.chunks.length; i++) {
    if (reply.cutAfter === i) return cut(res);
    if (reply.hangAfter === i) return;
    if (reply.errorAfter === i) {
      await write(res, sse('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
      res.end();
      return;
    }
    if (reply.garbageAfter === i) {
      await write(res, 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{\n\n');
      res.end();
      return;
    }
    await pause(reply.delayMs ?? 0);
    await write(
      res,
      sse('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: reply.chunks[i] },
      }),
    );
  }
  if (reply.cutAfter === reply.chunks.length) return cut(res);
  await write(res, sse('content_block_stop', { type: 'content_block_stop', index: 0 }));
  await write(
    res,
    sse('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: reply.stopReason ?? 'end_turn', stop_sequence: null },
      usage: { output_tokens: usage.output },
    }),
  );
  await write(res, sse('message_stop', { type: 'message_stop' }));
  res.end();
}

export function startAnthropicFake(): Promise<FakeServer> {
  return startFakeServer({
    async handle(req, res, next, probe) {
      if (req.method === 'POST' && req.path === '/v1/messages') {
        await answer(next(), res);
        return true;
      }
      if (req.method === 'GET' && req.path.startsWith('/v1/models')) {
        if (probe.kind !== 'status' || probe.status >= 400) {
          await answer(probe, res);
          return true;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            data: [
              {
                type: 'model',
                id: FAKE_ANTHROPIC_MODEL,
                display_name: 'Fake',
                created_at: '2025-01-01T00:00:00Z',
              },
            ],
            has_more: false,
            first_id: FAKE_ANTHROPIC_MODEL,
            last_id: FAKE_ANTHROPIC_MODEL,
          }),
        );
        return true;
      }
      return false;
    },
  });
}
