/**
 * A loopback Bedrock runtime: `POST /model/{id}/converse-stream` answers with
 * AWS event-stream binary frames (`:message-type` event, `:event-type`
 * messageStart, contentBlockDelta, contentBlockStop, messageStop, metadata,
 * `:content-type` application/json), encoded with smithy's
 * `EventStreamCodec`; errors are restJson1 (`x-amzn-errortype` + JSON
 * body). `count-tokens` and `converse` answer the probe.
 */
import type { ServerResponse } from 'node:http';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { cut, type FakeReply, type FakeServer, pause, startFakeServer, write } from './fake-server.ts';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One event frame as Bedrock sends it. */
export function eventFrame(eventType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify({ ...(payload as object), p: 'abcdefgh' })),
  });
}

/** One exception frame (an error inside an open stream). */
export function exceptionFrame(exceptionType: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: exceptionType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: fromUtf8(JSON.stringify({ message })),
  });
}

const ERROR_TYPES: Record<number, string> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

function fail(reply: Extract<FakeReply, { kind: 'status' }>, res: ServerResponse): void {
  const type = reply.errorType ?? ERROR_TYPES[reply.status] ?? 'InternalServerException';
  res.writeHead(reply.status, {
    'content-type': 'application/json',
    'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    'x-amzn-requestid': 'fake-request',
  });
  res.end(JSON.stringify({ message: reply.message ?? `fake ${reply.status}` }));
}

async function answer(reply: FakeReply, res: ServerResponse): Promise<void> {
  if (reply.kind === 'status') return fail(reply, res);
  if (reply.kind === 'hang') {
    if (reply.afterHeaders) {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
      res.flushHeaders();
    }
    return;
  }
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'fake-request' });
  await write(res, eventFrame('messageStart', { role: 'assistant' }));
  for (let i = 0; i < reply.chunks.length; i++) {
    if (reply.cutAfter === i) return cut(res);
    if (reply.hangAfter === i) return;
    if (reply.errorAfter === i) {
      await write(res, exceptionFrame('modelStreamErrorException', 'The model stream failed'));
      res.end();
      return;
    }
    if (reply.garbageAfter === i) {
      await write(res, new Uint8Array([0, 0, 0, 40, 0, 0, 0, 9, 1, 2, 3, 4, ...new Array(28).fill(7)]));
      res.end();
      return;
    }
    await pause(reply.delayMs ?? 0);
    await write(res, eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: reply.chunks[i] } }));
  }
  if (reply.cutAfter === reply.chunks.length) return cut(res);
  await write(res, eventFrame('contentBlockStop', { contentBlockIndex: 0 }));
  await write(res, eventFrame('messageStop', { stopReason: reply.stopReason ?? 'end_turn' }));
  const usage = reply.usage ?? { input: 25, output: reply.chunks.length };
  await write(
    res,
    eventFrame('metadata', {
      usage: { inputTokens: usage.input, outputTokens: usage.output, totalTokens: usage.input + usage.output },
      metrics: { latencyMs: 1 },
    }),
  );
  res.end();
}

export function startBedrockFake(): Promise<FakeServer> {
  return startFakeServer({
    async handle(req, res, next, probe) {
      const route = /^\/model\/([^/]+)\/(converse-stream|converse|count-tokens)$/.exec(req.path);
      if (req.method !== 'POST' || !route) return false;
      if (route[2] === 'converse-stream') {
        await answer(next(), res);
        return true;
      }
      if (probe.kind === 'hang') return new Promise<boolean>(() => {});
      if (probe.kind === 'status' && probe.status >= 400) {
        fail(probe, res);
        return true;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        route[2] === 'count-tokens'
          ? JSON.stringify({ inputTokens: 3 })
          : JSON.stringify({
              output: { message: { role: 'assistant', content: [{ text: 'p' }] } },
              stopReason: 'max_tokens',
              usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 },
              metrics: { latencyMs: 1 },
            }),
      );
      return true;
    },
  });
}
