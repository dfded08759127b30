import { describe, expect, it } from 'vitest';
import { type SseMessage, SseParser } from '../../src/client/index.ts';
import { formatComment, formatEvent } from '../../src/streaming/sse.ts';

function parseAll(chunks: string[]) {
  const comments: string[] = [];
  const retries: number[] = [];
  const parser = new SseParser({ onComment: (c) => comments.push(c), onRetry: (ms) => retries.push(ms) });
  const messages: SseMessage[] = [];
  for (const chunk of chunks) messages.push(...parser.push(chunk));
  return { messages, comments, retries, parser };
}

describe('the SDK SSE parser', () => {
  it("reads the server's own framing back: ids, names, multi-line data, comments", () => {
    const text =
      formatComment('queued: position 2') +
      formatEvent({ id: '000000000001.000000', event: 'turn', data: '{"number":1}' }) +
      formatEvent({ id: '000000000002.000000', event: 'delta', data: 'line one\nline two\r\nline three' }) +
      formatComment('heartbeat') +
      formatEvent({ id: '000000000002.000001', event: 'done', data: '{"number":2}', retry: 1500 });
    const { messages, comments, retries } = parseAll([text]);
    expect(messages).toEqual([
      { id: '000000000001.000000', event: 'turn', data: '{"number":1}' },
      { id: '000000000002.000000', event: 'delta', data: 'line one\nline two\nline three' },
      { id: '000000000002.000001', event: 'done', data: '{"number":2}' },
    ]);
    expect(comments).toEqual(['queued: position 2', 'heartbeat']);
    expect(retries).toEqual([1500]);
  });

  it('gives the same events however the bytes are split, CRLF and lone CR included', () => {
    const text =
      '\uFEFFid: a\r\nevent: delta\r\ndata: {"text":"Hi 🩺"}\r\n\r\n' +
      'data:no space\rdata: second\r\r' +
      ': comment\n' +
      'event: ping\n\n' + // no data: not dispatched
      'id: b\0c\ndata: nul id ignored\n\n' +
      'id\ndata\n\n' + // a bare `id` resets it; a bare `data` is an empty line
      'event: done\ndata: end\n\n' +
      'data: unterminated';
    const whole = parseAll([text]);
    expect(whole.messages).toEqual([
      { id: 'a', event: 'delta', data: '{"text":"Hi 🩺"}' },
      { id: 'a', event: 'message', data: 'no space\nsecond' },
      { id: 'a', event: 'message', data: 'nul id ignored' },
      { id: '', event: 'message', data: '' },
      { id: '', event: 'done', data: 'end' },
    ]);
    for (let cut = 1; cut < text.length; cut += 1) {
      expect(parseAll([text.slice(0, cut), text.slice(cut)]).messages, `split at ${cut}`).toEqual(whole.messages);
    }
    expect(parseAll([...text]).messages).toEqual(whole.messages);
  });

  it('keeps the last event id across events for a resume', () => {
    const { parser, messages } = parseAll(['id: 7\ndata: x\n\ndata: y\n\n']);
    expect(messages.map((m) => m.id)).toEqual(['7', '7']);
    expect(parser.lastEventId).toBe('7');
  });
});
