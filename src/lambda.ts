import awsLambdaFastify from '@fastify/aws-lambda';
import { type Config, ConfigError, loadConfig } from './config/index.ts';
import type { KeyProvider } from './crypto/key-provider.ts';
import { ERROR_CODES } from './errors/codes.ts';
import { buildApp, type ContinuumApp } from './server/app.ts';
import { problemType } from './server/plugins/problems.ts';
import { openKeyProvider, openStore } from './server/runtime.ts';
import type { Store } from './store/port.ts';

/** An API Gateway HTTP API event (payload format 2.0): the parts Continuum reads. */
export interface HttpApiEvent {
  version: '2.0';
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    requestId: string;
    stage?: string;
    http: { method: string; path: string; protocol?: string; sourceIp: string; userAgent?: string };
    [field: string]: unknown;
  };
  body?: string;
  isBase64Encoded: boolean;
  [field: string]: unknown;
}

/** What the handler answers API Gateway (payload format 2.0). */
export interface HttpApiResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
  cookies?: string[];
}

export interface LambdaHandlerOptions {
  /** The `CONTINUUM_*` settings (default: the function's environment). */
  env?: Record<string, string | undefined>;
  /** Open the store and key provider from config (default: as `continuum serve` does, by the settings). */
  open?: (config: Config) => Promise<{ store: Store; keyProvider: KeyProvider }>;
  /**
   * Close the app on SIGTERM, which Lambda sends before it discards an instance when the function has an
   * extension: the last round of EMF metrics is written then. Default false.
   */
  closeOnSigterm?: boolean;
}

/** A Lambda handler for API Gateway HTTP API events. */
export type LambdaHandler = (event: HttpApiEvent, context?: unknown) => Promise<HttpApiResult>;

/** The handler, and a way to stop the app it built (tests; a Lambda container is simply frozen and discarded). */
export interface ContinuumLambdaHandler extends LambdaHandler {
  close(): Promise<void>;
}

/**
 * Routes that hold a connection open for as long as the client stays: API
 * Gateway with Lambda answers once, after the function returns, so they need a
 * long-lived server (containers or VMs).
 */
const LONG_LIVED = [
  { method: 'GET', path: /^\/v1\/conversations\/[^/]+\/events\/?$/, what: 'Following a conversation (SSE)' },
  { method: 'GET', path: /^\/v1\/conversations\/[^/]+\/sync\/?$/, what: 'WebSocket sync' },
];

/**
 * Build a Lambda handler serving the same app as `continuum serve`, from API
 * Gateway HTTP API (payload 2.0) events. The app is built once per container,
 * at the first invocation (migrations run then), and kept for the next ones;
 * a failed start is retried at the next invocation. Nothing listens on a port.
 * `CONTINUUM_ADMIN_TOKEN` is required: a function has no data dir to keep a
 * generated one in.
 *
 * @example
 * // lambda.mjs of a deployment (function handler `lambda.handler`): the handler for the function's settings
 * export { handler } from 'continuum/lambda';
 * // or one built from other settings
 * export const handler = createLambdaHandler({ env: { ...process.env, CONTINUUM_LOG_LEVEL: 'warn' } });
 */
export function createLambdaHandler(options: LambdaHandlerOptions = {}): ContinuumLambdaHandler {
  let started: Promise<{ proxy: LambdaHandler; app: ContinuumApp; store: Store }> | undefined;
  const start = async () => {
    const config = loadConfig(options.env ?? process.env);
    if (config.adminToken === undefined) {
      throw new ConfigError('CONTINUUM_ADMIN_TOKEN: required on AWS Lambda (a function has nowhere to keep one)');
    }
    const { store, keyProvider } = await (options.open ?? openFromConfig)(config);
    try {
      await store.migrate();
      const app = await buildApp(config, { store, keyProvider, adminToken: config.adminToken });
      // The request is decorated with nothing: the app is already started, and needs no Lambda event.
      const proxy = awsLambdaFastify(app.app, { decorateRequest: false }) as unknown as LambdaHandler;
      if (options.closeOnSigterm) {
        process.once('SIGTERM', () => {
          close()
            .catch((error: unknown) => app.app.log.error({ err: error }, 'stopping failed'))
            .finally(() => process.exit(0));
        });
      }
      return { proxy, app, store };
    } catch (error) {
      await store.close();
      throw error;
    }
  };
  const handle: LambdaHandler = async (event, context) => {
    const refused = longLived(event);
    if (refused) return refused;
    started ??= start().catch((error: unknown) => {
      started = undefined;
      throw error;
    });
    const { proxy } = await started;
    return proxy(event, context);
  };
  const close = async (): Promise<void> => {
    const running = await started?.catch(() => undefined);
    started = undefined;
    if (!running) return;
    await running.app.app.close();
    await running.store.close();
  };
  return Object.assign(handle, { close });
}

async function openFromConfig(config: Config): Promise<{ store: Store; keyProvider: KeyProvider }> {
  const store = await openStore(config);
  try {
    return { store, keyProvider: await openKeyProvider(config) };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** `501 not_implemented` for a route that needs a long-lived server, before any work is done. */
function longLived(event: HttpApiEvent): HttpApiResult | undefined {
  const method = event.requestContext.http.method.toUpperCase();
  const route = LONG_LIVED.find((r) => r.method === method && r.path.test(event.rawPath));
  if (!route) return undefined;
  const { status, title } = ERROR_CODES.not_implemented;
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify({
      type: problemType('not_implemented'),
      title,
      status,
      detail: `${route.what} needs a long-lived server; on AWS Lambda, read new turns with GET /v1/conversations/{id}/turns?after=<turn> (docs/DEPLOY.md)`,
      code: 'not_implemented',
      instance: event.rawPath,
      requestId: event.requestContext.requestId,
    }),
    isBase64Encoded: false,
  };
}

/**
 * The handler for the function's configuration (`CONTINUUM_*` environment
 * variables): DynamoDB store, KMS keys and EMF metrics are the recommended
 * settings (docs/DEPLOY.md).
 */
export const handler: ContinuumLambdaHandler = createLambdaHandler({ closeOnSigterm: true });
