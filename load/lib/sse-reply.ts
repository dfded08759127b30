/**
 * A reply streamed over SSE (`POST …/turns` with `respond: true` and
 * `Accept: text/event-stream`) as a client reads it: the stored user turn
 * (`event: turn`), the deltas, the stored reply (`event: done`), which must
 * equal the deltas joined.
 */
import { outcomeOf, parseJson } from './http.ts';
import { foreignMarkers, type Patient, type Turn } from './patients.ts';
import type { Recorder } from './recorder.ts';
import { openSse } from './sse.ts';

/** The stored turns (user turn, then reply) of one streamed reply; fewer when it failed (recorded under `append+reply (sse)`). */
export async function streamedReply(
  url: string,
  p: Patient,
  body: Record<string, unknown>,
  key: string,
  recorder: Recorder,
): Promise<Turn[]> {
  const started = performance.now();
  const stored: Turn[] = [];
  let failure: string | undefined;
  let text = '';
  const request = openSse({
    url: `${url}/v1/conversations/${p.conversationId}/turns`,
    token: p.access,
    method: 'POST',
    body,
    headers: { 'idempotency-key': key },
    agent: p.agent,
    onEvent: (event) => {
      if (event.event === 'delta') text += (JSON.parse(event.data) as { text: string }).text;
      else if (event.event === 'turn') stored.push(JSON.parse(event.data) as Turn);
      else if (event.event === 'done') {
        const reply = JSON.parse(event.data) as Turn;
        if (reply.content !== text) failure = 'mismatch (stored reply differs from the deltas)';
        stored.push(reply);
        return true;
      } else if (event.event === 'error') {
        failure = `event: error (${(JSON.parse(event.data) as { code?: string }).code ?? 'unknown'})`;
        return true;
      }
      return undefined;
    },
  });
  const end = await request.ended;
  if (end.reason === 'http') {
    recorder.fail('append+reply (sse)', outcomeOf({ status: end.status, body: parseJson(end.text) }), end.text);
    return [];
  }
  if (failure === undefined && end.reason !== 'done') failure = end.reason === 'eof' ? 'no event: done' : end.detail;
  if (failure !== undefined) {
    recorder.fail('append+reply (sse)', failure);
    return stored.slice(0, 1);
  }
  recorder.ok('append+reply (sse)', performance.now() - started);
  p.leaks += foreignMarkers(`${text}${JSON.stringify(stored)}`, p.marker);
  return stored;
}
