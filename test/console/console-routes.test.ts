import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleScript } from '../../src/console/bundle.ts';
import { CONSOLE_CSP, registerConsole } from '../../src/console/plugin.ts';
import { registerProblemHandlers } from '../../src/server/plugins/problems.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

/**
 * The web console's routes on the real app: the pages and assets with their
 * security headers, the bundles built in memory by esbuild (valid browser
 * JavaScript with the SDK inside, no Node built-in), ETag revalidation, and
 * `404` problem documents for everything outside the allow-lists.
 */

const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/console');

/** True when V8 parses `source` as an ES module (`node --check`, a parser independent of esbuild). */
function parsesAsModule(source: string): { ok: boolean; stderr: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'console-bundle-'));
  try {
    const file = path.join(dir, 'bundle.mjs');
    writeFileSync(file, source);
    const result = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
    return { ok: result.status === 0, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function expectSecurityHeaders(headers: Record<string, unknown>): void {
  expect(headers['content-security-policy']).toBe(CONSOLE_CSP);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
}

describe('console routes on the app', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.close());

  it('the policy allows scripts and styles from this origin only, never inline, and no framing', () => {
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).toContain("style-src 'self'");
    expect(CONSOLE_CSP).toContain("connect-src 'self' ws: wss:");
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(CONSOLE_CSP).not.toContain('unsafe-eval');
  });

  it.each(['/console', '/console/'])('GET %s serves the chat page with the security headers', async (url) => {
    const res = await t.request({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expectSecurityHeaders(res.headers);
    expect(res.headers.etag).toMatch(/^"[\w-]{22}"$/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toContain('<script type="module" src="/console/assets/app.js"></script>');
    expect(res.body).toContain('href="/console/assets/console.css"');
    expect(res.body).toContain('href="/console/operator"');
  });

  it('GET /console/operator serves the operator page with the same headers and the shared stylesheet', async () => {
    const res = await t.request({ method: 'GET', url: '/console/operator' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expectSecurityHeaders(res.headers);
    expect(res.body).toContain('/console/assets/console.css');
    expect(res.body).toContain('/console/assets/operator.js');
  });

  it('the pages hold no inline script, event handler attribute or style attribute (the CSP would block them)', () => {
    for (const file of ['index.html', 'operator.html']) {
      const html = readFileSync(path.join(CONSOLE_DIR, file), 'utf8');
      for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag, `${file}: ${tag}`).toMatch(/\bsrc="/);
      expect(html, file).not.toMatch(/<script\b[^>]*>[^<\s]/);
      expect(html, file).not.toMatch(/\son[a-z]+="/);
      expect(html, file).not.toMatch(/\sstyle="/);
      expect(html, file).not.toMatch(/<style\b/);
    }
  });

  it('GET /console/assets/app.js is an ES module bundle that V8 parses, with the SDK inside and no Node import', async () => {
    const res = await t.request({ method: 'GET', url: '/console/assets/app.js' });
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expectSecurityHeaders(res.headers);
    expect(res.headers.etag).toMatch(/^"[\w-]{22}"$/);
    const parsed = parsesAsModule(res.body);
    expect(parsed.ok, parsed.stderr).toBe(true);
    // The SDK is bundled in: its token route and sync path are in the code the browser runs.
    expect(res.body).toContain('/v1/auth/token');
    expect(res.body).toContain('/sync');
    // Everything is inside: no import statement is left for the browser to resolve.
    expect(res.body).not.toMatch(/\bimport\s*[{*\w]|\bimport\s*\(|\brequire\s*\(/);
    expect(res.body).not.toMatch(/["']node:/);
  });

  it('GET /console/assets/operator.js builds the operator page script the same way', async () => {
    const res = await t.request({ method: 'GET', url: '/console/assets/operator.js' });
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const parsed = parsesAsModule(res.body);
    expect(parsed.ok, parsed.stderr).toBe(true);
    expect(res.body).not.toMatch(/["']node:/);
  });

  it('a bundle is built once and then served from memory, identical, with the same ETag', async () => {
    const first = await t.request({ method: 'GET', url: '/console/assets/app.js' });
    const second = await t.request({ method: 'GET', url: '/console/assets/app.js' });
    expect(second.body).toBe(first.body);
    expect(second.headers.etag).toBe(first.headers.etag);
  });

  it.each(['/console', '/console/assets/app.js', '/console/assets/console.css'])(
    'GET %s with a matching If-None-Match is 304 with no body',
    async (url) => {
      const first = await t.request({ method: 'GET', url });
      const etag = first.headers.etag as string;
      const again = await t.request({ method: 'GET', url, headers: { 'if-none-match': etag } });
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe('');
      expect(again.headers.etag).toBe(etag);
      expectSecurityHeaders(again.headers);
      const stale = await t.request({ method: 'GET', url, headers: { 'if-none-match': '"something-else"' } });
      expect(stale.statusCode).toBe(200);
    },
  );

  it('GET /console/assets/console.css serves the shared stylesheet', async () => {
    const res = await t.request({ method: 'GET', url: '/console/assets/console.css' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/css; charset=utf-8');
    expectSecurityHeaders(res.headers);
    expect(res.body).toContain('.topbar');
  });

  it.each([
    '/console/assets/plugin.js', // a source file, but not an entry of the allow-list
    '/console/assets/bundle.js',
    '/console/assets/app.ts',
    '/console/assets/console.js',
    '/console/assets/app.css',
    '/console/assets/index.html',
    '/console/assets/..%2Fplugin.ts',
    '/console/assets/%2e%2e%2fpackage.json',
    '/console/assets/APP.js',
    '/console/assets/app.js.map',
  ])('GET %s is a 404 problem document', async (url) => {
    const res = await t.request({ method: 'GET', url });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 404, code: 'not_found' });
    expectSecurityHeaders(res.headers);
  });

  it('a path under /console that is no page is a 404 problem document', async () => {
    const res = await t.request({ method: 'GET', url: '/console/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'not_found' });
  });

  it('the console routes are not in the OpenAPI document', async () => {
    const doc = (await t.request({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/console'))).toEqual([]);
  });
});

describe('console bundles are browser code', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'console-src-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const src = path.resolve(CONSOLE_DIR, '..');
  it.each([
    ["import { readFileSync } from 'node:fs';\nconsole.log(readFileSync);", 'node:fs'],
    ["import { createHash } from 'crypto';\nconsole.log(createHash);", 'crypto'],
    [`import { buildApp } from '${src}/server/app.ts';\nconsole.log(buildApp);`, 'node:'],
  ])('a Node-only import fails the build: %s', async (source, named) => {
    const entry = path.join(dir, `entry-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(entry, `${source}\n`);
    await expect(bundleScript(entry)).rejects.toThrow(named);
  });

  it('browser-only code builds into a module that V8 parses', async () => {
    const entry = path.join(dir, 'ok.ts');
    writeFileSync(entry, "const n: number = 2;\ndocument.title = 'x' + String(n);\n");
    const js = await bundleScript(entry);
    expect(parsesAsModule(js).ok).toBe(true);
    expect(js).toContain('document.title');
  });

  it('a console script that imports a Node built-in is a 500 problem, not a broken page', async () => {
    const sourceDir = mkdtempSync(path.join(dir, 'site-'));
    writeFileSync(
      path.join(sourceDir, 'app.ts'),
      "import { readFileSync } from 'node:fs';\nconsole.log(readFileSync);\n",
    );
    const app = Fastify({ logger: false });
    registerProblemHandlers(app);
    registerConsole(app, { sourceDir });
    try {
      const res = await app.inject({ method: 'GET', url: '/console/assets/app.js' });
      expect(res.statusCode).toBe(500);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ code: 'internal' });
      expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
      // A page or entry this source dir lacks is a 404, not a 500.
      expect((await app.inject({ method: 'GET', url: '/console' })).statusCode).toBe(404);
      expect((await app.inject({ method: 'GET', url: '/console/assets/operator.js' })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});
