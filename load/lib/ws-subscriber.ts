/**
 * A WebSocket sync subscriber (API.md, "Sync protocol"): connect to
 * `…/sync`, `auth` with the access token, `subscribe` from the start, then
 * collect every stored `turn` event of the conversation.
 */
import WebSocket from 'ws';
import { foreignMarkers, type Patient } from './patients.ts';
import type { Recorder } from './recorder.ts';

const SUBPROTOCOL = 'continuum.sync.v1';

export interface Subscriber {
  node: string;
  patient: Patient;
  /** `subscribed` arrived. */
  ready: boolean;
  /** The socket closed (by the server, or a failure) before we closed it. */
  closed: boolean;
  closeCode?: number;
  /** Turn numbers of the `turn` events received, in arrival order. */
  seen: number[];
  lastId: string;
  outOfOrder: number;
  leaks: number;
  close(): void;
}

export interface SubscriberOptions {
  url: string;
  node: string;
  patient: Patient;
  recorder: Recorder;
  onTurn?: (number: number, at: number) => void;
  /** Longest wait for `subscribed` (default 60 s). */
  timeoutMs?: number;
}

interface Frame {
  type: string;
  id?: string | null;
  event?: string;
  data?: { number?: number };
  code?: string;
}

const syncUrl = (url: string, conversationId: string) =>
  `${url.replace(/^http/, 'ws')}/v1/conversations/${conversationId}/sync`;

/** Open, authenticate and subscribe; resolves once subscribed or failed (the failure is recorded). */
export function openSubscriber(options: SubscriberOptions): Promise<Subscriber> {
  const { patient, recorder } = options;
  const started = performance.now();
  const socket = new WebSocket(syncUrl(options.url, patient.conversationId), SUBPROTOCOL, { perMessageDeflate: false });
  let closing = false;
  const subscriber: Subscriber = {
    node: options.node,
    patient,
    ready: false,
    closed: false,
    seen: [],
    lastId: '',
    outOfOrder: 0,
    leaks: 0,
    close() {
      closing = true;
      socket.terminate();
    },
  };
  return new Promise((resolve) => {
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(subscriber);
    };
    const failConnect = (label: string, detail?: string) => {
      if (settled) return;
      recorder.fail('subscribe', label, detail);
      closing = true;
      socket.terminate();
      settle();
    };
    const timer = setTimeout(() => failConnect('timeout'), options.timeoutMs ?? 60_000);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token: patient.access })));
    socket.on('unexpected-response', (_req, res) => failConnect(`HTTP ${res.statusCode}`));
    socket.on('error', (error) => failConnect(`network ${(error as { code?: string }).code ?? error.message}`));
    socket.on('message', (raw: WebSocket.RawData) => {
      const text = raw.toString();
      subscriber.leaks += foreignMarkers(text, patient.marker);
      const frame = JSON.parse(text) as Frame;
      if (frame.type === 'ready') socket.send(JSON.stringify({ type: 'subscribe' }));
      else if (frame.type === 'subscribed') {
        subscriber.ready = true;
        recorder.ok('subscribe', performance.now() - started);
        settle();
      } else if (frame.type === 'event' && frame.event === 'turn' && typeof frame.id === 'string') {
        if (subscriber.lastId !== '' && frame.id <= subscriber.lastId) subscriber.outOfOrder++;
        subscriber.lastId = frame.id;
        const number = frame.data?.number ?? 0;
        subscriber.seen.push(number);
        options.onTurn?.(number, performance.now());
      } else if (frame.type === 'error') {
        if (settled) recorder.fail('sync', `error ${frame.code ?? 'unknown'}`, text);
        else failConnect(`error ${frame.code ?? 'unknown'}`, text);
      }
    });
    socket.on('close', (code) => {
      subscriber.closeCode = code;
      if (closing) return;
      subscriber.closed = true;
      if (settled) recorder.fail('sync', `close ${code}`);
      else failConnect(`close ${code}`);
    });
  });
}

/**
 * One connection that only checks the route is there: undefined when the
 * server upgrades and answers `auth` with `ready`, else why not.
 */
export function probeSync(url: string, patient: Patient): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = new WebSocket(syncUrl(url, patient.conversationId), SUBPROTOCOL, { perMessageDeflate: false });
    const done = (reason: string | undefined) => {
      clearTimeout(timer);
      socket.terminate();
      resolve(reason);
    };
    const timer = setTimeout(() => done('no ready frame within 10 s'), 10_000);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token: patient.access })));
    socket.on('unexpected-response', (_req, res) =>
      done(`GET …/sync answered HTTP ${res.statusCode} instead of upgrading (route missing?)`),
    );
    socket.on('error', (error) => done(`connection failed: ${error.message}`));
    socket.on('message', (raw: WebSocket.RawData) => {
      const frame = JSON.parse(raw.toString()) as Frame;
      done(frame.type === 'ready' ? undefined : `first frame was ${frame.type} ${frame.code ?? ''}`.trim());
    });
  });
}
