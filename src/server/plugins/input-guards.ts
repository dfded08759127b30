import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/index.ts';

/** A UTF-16 surrogate without its partner: not a Unicode character, and not encodable as UTF-8. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** A `\uD800`–`\uDFFF` escape in JSON text: the only way a lone surrogate gets into a parsed body. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** True when some string (or key) anywhere in a parsed JSON value holds a lone surrogate; walks without recursion. */
function holdsLoneSurrogate(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) pending.push(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (LONE_SURROGATE.test(key)) return true;
        pending.push(item);
      }
    }
  }
  return false;
}

/** True when every `%XX` run of a query string decodes as UTF-8 (a `%` not followed by two hex digits fails too). */
function wellEncoded(query: string): boolean {
  if (!query.includes('%')) return true;
  for (const part of query.split(/[&=]/)) {
    try {
      decodeURIComponent(part);
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Text that cannot be stored as sent is refused before any route sees it:
 * a JSON body that is not valid UTF-8, or whose strings hold lone UTF-16
 * surrogates (`"\ud800"`: valid JSON, but not text; stored, it would come
 * back altered and fail its turn's hash), and a query string with a
 * malformed or non-UTF-8 percent-encoding (the path already gets `400` for
 * those). Each is `400 invalid_request`.
 */
export function registerInputGuards(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(new AppError('invalid_request', 'The body is not valid UTF-8'), undefined);
      return;
    }
    const text = bytes.toString('utf8');
    parseJson(request, text, (error, value) => {
      if (error) return done(error, undefined);
      if (SURROGATE_ESCAPE.test(text) && holdsLoneSurrogate(value)) {
        return done(
          new AppError('invalid_request', 'The body holds a lone UTF-16 surrogate (\\ud800-\\udfff): that is not text'),
          undefined,
        );
      }
      done(null, value);
    });
  });
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const mark = request.url.indexOf('?');
    if (mark >= 0 && !wellEncoded(request.url.slice(mark + 1))) {
      throw new AppError('invalid_request', 'The query string is not valid percent-encoded UTF-8');
    }
  });
}
