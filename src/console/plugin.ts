import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/index.ts';
import { bundleScript } from './bundle.ts';

/**
 * The web console (issue #9): static pages, stylesheets and TypeScript
 * entry files in this folder, served under `/console`. Scripts are bundled
 * with esbuild (the SDK included) at their first request, in memory, and
 * kept for the life of the process: nothing to build before `npm start`,
 * nothing written to disk.
 *
 * Pages refer to their assets by absolute path (`/console/assets/app.js`):
 * `/console` and `/console/` are the same page, so a relative URL would
 * resolve differently from each.
 */

/** The console's sources: this folder. */
const SOURCE_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Pages: URL path → HTML file of this folder. */
const PAGES: Record<string, string> = {
  '/console': 'index.html',
  '/console/': 'index.html',
  '/console/operator': 'operator.html',
};

/** Entry scripts that may be bundled (`/console/assets/<name>.js` ← `<name>.ts`). */
const SCRIPTS = new Set(['app', 'operator']);
/** Stylesheets that may be served (`/console/assets/<name>.css`). */
const STYLES = new Set(['console', 'operator']);

/**
 * The console's Content-Security-Policy: scripts and styles from this origin
 * only (no inline script or style anywhere), fetch and WebSocket to this
 * origin, never framed.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every console response carries, problem documents included. */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface Asset {
  body: string;
  type: string;
  etag: string;
}

/** Options of {@link registerConsole}. */
export interface ConsoleOptions {
  /** Where the pages, styles and entry scripts are (default: this folder; tests may point elsewhere). */
  sourceDir?: string;
}

/**
 * Serve the web console: `GET /console` (the chat app), `/console/operator`
 * (live metrics), `/console/assets/<name>.js` (an esbuild bundle of
 * `<name>.ts`) and `/console/assets/<name>.css`. Names outside the
 * allow-lists are `404` problem documents. Every answer has an `ETag`
 * (`304` for a matching `If-None-Match`) and is revalidated on each use, so
 * a restarted server with new sources is picked up at once. The routes are
 * hidden from the OpenAPI document and touch no tenant data.
 *
 * @example
 * registerConsole(app);
 * // then open http://127.0.0.1:8080/console
 */
export function registerConsole(app: FastifyInstance, options: ConsoleOptions = {}): void {
  const sourceDir = options.sourceDir ?? SOURCE_DIR;
  // One promise per asset: concurrent first requests share one read or build; a failure is not kept.
  const cache = new Map<string, Promise<Asset>>();
  const load = (key: string, make: () => Promise<Omit<Asset, 'etag'>>): Promise<Asset> => {
    let pending = cache.get(key);
    if (pending === undefined) {
      pending = make().then((asset) => ({ ...asset, etag: etagOf(asset.body) }));
      cache.set(key, pending);
      pending.catch(() => cache.delete(key));
    }
    return pending;
  };
  const routeOptions = { schema: { hide: true }, config: { audit: [] as string[] } };

  for (const [url, file] of Object.entries(PAGES)) {
    app.get(url, routeOptions, async (request, reply) => {
      const page = await load(`page:${file}`, async () => ({
        body: await readSource(sourceDir, file),
        type: 'text/html; charset=utf-8',
      }));
      return send(request, reply, page);
    });
  }

  app.get('/console/assets/:file', routeOptions, async (request, reply) => {
    const { file } = request.params as { file: string };
    const match = /^([a-z][a-z0-9-]*)\.(js|css)$/.exec(file);
    const name = match?.[1];
    const ext = match?.[2];
    if (name !== undefined && ext === 'js' && SCRIPTS.has(name)) {
      const script = await load(`js:${name}`, async () => {
        const entry = path.join(sourceDir, `${name}.ts`);
        await readSource(sourceDir, `${name}.ts`); // a missing entry is a 404, not a build failure
        try {
          return { body: await bundleScript(entry), type: 'text/javascript; charset=utf-8' };
        } catch (error) {
          // The problem handler logs the cause (esbuild's messages: file, line, text).
          throw new AppError('internal', `The console script ${name}.js could not be built`, {
            headers: SECURITY_HEADERS,
            cause: error,
          });
        }
      });
      return send(request, reply, script);
    }
    if (name !== undefined && ext === 'css' && STYLES.has(name)) {
      const style = await load(`css:${name}`, async () => ({
        body: await readSource(sourceDir, `${name}.css`),
        type: 'text/css; charset=utf-8',
      }));
      return send(request, reply, style);
    }
    throw new AppError('not_found', `No console asset ${file}`, { headers: SECURITY_HEADERS });
  });
}

/** A source file's text; a file this checkout lacks is a `404`, not a `500`. */
async function readSource(sourceDir: string, file: string): Promise<string> {
  try {
    return await readFile(path.join(sourceDir, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AppError('not_found', `The console has no ${file}`, { headers: SECURITY_HEADERS });
    }
    throw error;
  }
}

/** A strong ETag: the first 128 bits of the body's SHA-256. */
function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  reply.headers(SECURITY_HEADERS);
  reply.header('etag', asset.etag);
  // Revalidate every time: the URLs carry no content hash, and a 304 costs one round trip.
  reply.header('cache-control', 'no-cache');
  if (matches(request.headers['if-none-match'], asset.etag)) return reply.status(304).send();
  return reply.type(asset.type).send(asset.body);
}

/** True when an `If-None-Match` header lists `etag` (or is `*`). */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*');
}
