/**
 * A loopback OpenAI-compatible model server for the model-fault drill, in
 * the wire format of test/models/fakes/openai-fake.ts. It decides per
 * request from the text: a reply request (the clinical system prompt) whose
 * last message holds `[fault:hang]`, `[fault:error-mid]` or `[fault:garbage]`
 * gets that fault; everything else (other replies, the summarizer's and the
 * extractor's calls) gets a short normal answer. Content-driven, so
 * concurrent requests cannot take each other's script.
 */
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const FAKE_MODEL = 'gpt-drill-fake';
export const FAULTS = ['hang', 'error-mid', 'garbage'] as const;
export type Fault = (typeof FAULTS)[number];

const REPLY_PROMPT = 'You are a careful clinical assistant';

export interface ModelFake {
  /** `http://127.0.0.1:<port>/v1`. */
  readonly baseURL: string;
  /** Requests that got each fault, and normal answers. */
  readonly served: Record<Fault | 'normal', number>;
  close(): Promise<void>;
}

const frame = (choices: unknown[], extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-drill', object: 'chat.completion.chunk', created: 1, model: FAKE_MODEL, choices, ...extra })}\n\n`;

const write = (res: ServerResponse, text: string) =>
  new Promise<void>((resolve, reject) => res.write(text, (error) => (error ? reject(error) : resolve())));

const content = (text: string) => frame([{ index: 0, delta: { content: text }, finish_reason: null }]);

async function answer(res: ServerResponse, fault: Fault | undefined): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  await write(res, frame([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
  // A hang: the headers and the role chunk, then silence until the client gives up.
  if (fault === 'hang') return;
  const words = ['The', ' record', ' shows', ' your', ' medications', ' and', ' allergies', '.'];
  for (const [i, word] of words.entries()) {
    if (i === 3 && fault === 'error-mid') {
      await write(
        res,
        `data: ${JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } })}\n\n`,
      );
      res.end();
      return;
    }
    if (i === 3 && fault === 'garbage') {
      await write(res, 'data: {"choices":[{"delta":\u0000\u00ff not json\n\n');
      res.end();
      return;
    }
    await write(res, content(word));
    // A failing stream paces its words past the SSE coalescing window, so some text reaches the client before the fault.
    await sleep(fault === undefined ? 5 : 150);
  }
  await write(res, frame([{ index: 0, delta: {}, finish_reason: 'stop' }]));
  await write(res, frame([], { usage: { prompt_tokens: 50, completion_tokens: words.length, total_tokens: 58 } }));
  await write(res, 'data: [DONE]\n\n');
  res.end();
}

function faultOf(body: string): Fault | undefined {
  let messages: { role?: string; content?: unknown }[] = [];
  try {
    messages = (JSON.parse(body) as { messages?: typeof messages }).messages ?? [];
  } catch {
    return undefined;
  }
  const first = messages[0];
  const last = messages.at(-1);
  if (typeof first?.content !== 'string' || !first.content.startsWith(REPLY_PROMPT)) return undefined;
  const text = typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? '');
  return FAULTS.find((fault) => text.includes(`[fault:${fault}]`));
}

export async function startModelFake(): Promise<ModelFake> {
  const served: Record<Fault | 'normal', number> = { hang: 0, 'error-mid': 0, garbage: 0, normal: 0 };
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/chat/completions') {
        const fault = faultOf(Buffer.concat(parts).toString('utf8'));
        served[fault ?? 'normal']++;
        answer(res, fault).catch(() => res.destroy());
      } else if (req.method === 'GET' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            data: [{ id: FAKE_MODEL, object: 'model', created: 0, owned_by: 'drill' }],
          }),
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
    served,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
