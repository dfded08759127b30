/**
 * A loopback OpenAI-compatible server for bench/first-delta.ts, speaking the
 * wire format of test/models/fakes/openai-fake.ts (a role chunk, content
 * chunks, a finish_reason chunk, the usage chunk of
 * `stream_options.include_usage`, `data: [DONE]`). The test fake pauses
 * alike before every chunk; this one holds only the first content chunk back
 * for a fixed delay and then paces the rest, which is what "the provider's
 * own latency to the first token" needs.
 */
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const STREAM_FAKE_MODEL = 'gpt-bench-fake';

/** How the fake answers every streaming request until changed. */
export interface StreamScript {
  /** Pause between the response headers (and role chunk) and the first content chunk, in ms. */
  firstChunkDelayMs: number;
  /** Content deltas, in order. */
  chunks: string[];
  /** Pause before each later chunk, in ms. */
  intervalMs: number;
}

export interface StreamFake {
  /** `http://127.0.0.1:<port>/v1`, the SDK's base URL. */
  readonly baseURL: string;
  /** Streaming requests answered so far. */
  readonly served: number;
  script(next: StreamScript): void;
  close(): Promise<void>;
}

const frame = (choices: unknown[], extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: STREAM_FAKE_MODEL, choices, ...extra })}\n\n`;

function write(res: ServerResponse, chunk: string): Promise<void> {
  return new Promise((resolve, reject) => res.write(chunk, (error) => (error ? reject(error) : resolve())));
}

async function stream(res: ServerResponse, script: StreamScript): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  await write(res, frame([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
  for (const [i, content] of script.chunks.entries()) {
    await sleep(i === 0 ? script.firstChunkDelayMs : script.intervalMs);
    if (res.destroyed) return;
    await write(res, frame([{ index: 0, delta: { content }, finish_reason: null }]));
  }
  await write(res, frame([{ index: 0, delta: {}, finish_reason: 'stop' }]));
  const usage = { prompt_tokens: 100, completion_tokens: script.chunks.length };
  await write(res, frame([], { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }));
  await write(res, 'data: [DONE]\n\n');
  res.end();
}

export async function startStreamFake(initial: StreamScript): Promise<StreamFake> {
  let current = initial;
  let served = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/chat/completions') {
        served++;
        stream(res, current).catch(() => res.destroy());
      } else if (req.method === 'GET' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ object: 'list', data: [{ id: STREAM_FAKE_MODEL, object: 'model', owned_by: 'bench' }] }),
        );
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"no such route in the fake","type":"invalid_request_error"}}');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    get served() {
      return served;
    },
    script(next) {
      current = next;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
