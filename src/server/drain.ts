import { Server } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * What a stopping app waits for before it ends its streams and drops its
 * connections: requests still being answered (an append finishing its
 * write, a reply being generated) and replies that carry on after their
 * client left. Endless streams (`GET …/events`) are not waited for: they get
 * the resumable end event instead.
 */
class InFlight {
  readonly #pending = new Set<object>();
  readonly #idle = new Set<() => void>();

  /** Count one piece of work; the returned function (idempotent) ends it. */
  begin(): () => void {
    const token = {};
    this.#pending.add(token);
    return () => {
      if (!this.#pending.delete(token) || this.#pending.size > 0) return;
      for (const resolve of this.#idle) resolve();
      this.#idle.clear();
    };
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Resolves true once nothing is in flight, or false after `ms`. */
  settled(ms: number): Promise<boolean> {
    if (this.#pending.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idle.delete(done);
        resolve(false);
      }, ms);
      this.#idle.add(done);
    });
  }
}

const trackers = new WeakMap<object, InFlight>();
/** Per request: how to end its count, and the tracker of the app it came to. */
const counted = new WeakMap<FastifyRequest, { end: () => void; tracker: InFlight }>();

function trackerOf(app: object): InFlight {
  let tracker = trackers.get(app);
  if (!tracker) {
    tracker = new InFlight();
    trackers.set(app, tracker);
  }
  return tracker;
}

/**
 * Count every request of `app` (routes of its plugins included) as in flight
 * until its response is finished or its client gone.
 */
export function trackRequests(app: FastifyInstance): void {
  const tracker = trackerOf(app);
  app.addHook('onRequest', async (request, reply) => {
    const end = tracker.begin();
    counted.set(request, { end, tracker });
    reply.raw.once('close', end);
  });
}

/** This request is an endless stream: a stopping app does not wait for it (it ends it with a resumable event). */
export function markEndless(request: FastifyRequest): void {
  counted.get(request)?.end();
}

/** Work that goes on after `request` is answered (a reply whose client left): a stopping app waits for it too. */
export function trackBackground(request: FastifyRequest, work: Promise<unknown>): void {
  const end = (counted.get(request)?.tracker ?? trackerOf(request.server)).begin();
  work.then(end, end);
}

/**
 * Wait up to `graceMs` for every in-flight request and background reply of
 * `app` to finish. Returns how many were still running when the grace ran out.
 */
export async function drainInFlight(app: object, graceMs: number): Promise<number> {
  const tracker = trackerOf(app);
  if (await tracker.settled(graceMs)) return 0;
  return tracker.size;
}

/**
 * Stop taking new connections but keep the open ones: unlike `http.Server#close`, which also drops
 * idle kept-alive sockets at once (a client sending on one at that moment sees a reset, not an answer).
 */
export function stopListening(server: Server): void {
  Server.prototype.close.call(server);
}
