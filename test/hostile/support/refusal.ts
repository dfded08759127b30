import type { LightMyRequestResponse } from 'fastify';
import { ERROR_CODES, type ErrorCode } from '../../../src/errors/codes.ts';

/** A refusal as the client sees it: status, headers and body text. */
export interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

export class RefusalError extends Error {
  override readonly name = 'RefusalError';
}

const fail = (label: string, answer: Answer, why: string): never => {
  throw new RefusalError(`${label}: ${why} — got ${answer.statusCode} ${answer.body.slice(0, 400)}`);
};

/**
 * The answer is a refusal done right: a 4xx (never a 5xx, never a 2xx or
 * 3xx), `application/problem+json`, an RFC 9457 body whose `code` is one of
 * `src/errors/codes.ts` with that code's status and title (so never
 * Fastify's own error shape), and — when `codes` is given — one of those.
 * Returns the code.
 */
export function expectRefusal(
  answer: Answer | LightMyRequestResponse,
  label: string,
  codes?: readonly ErrorCode[],
): ErrorCode {
  const res = answer as Answer;
  if (res.statusCode < 400 || res.statusCode >= 500) fail(label, res, 'not a 4xx');
  const type = String(res.headers['content-type'] ?? '');
  if (!type.startsWith('application/problem+json')) fail(label, res, `content-type ${JSON.stringify(type)}`);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    return fail(label, res, 'a body that is not JSON');
  }
  const code = body['code'];
  if (typeof code !== 'string' || !(code in ERROR_CODES)) return fail(label, res, 'no code of src/errors/codes.ts');
  const entry = ERROR_CODES[code as ErrorCode];
  if (entry.status !== res.statusCode || body['status'] !== res.statusCode) fail(label, res, `status ≠ ${code}'s`);
  if (body['type'] !== `urn:continuum:error:${code}`) fail(label, res, 'a wrong type');
  if (body['title'] !== entry.title) fail(label, res, 'a wrong title');
  if (typeof body['detail'] !== 'string' || body['detail'].length === 0) fail(label, res, 'no detail');
  if (codes && !codes.includes(code as ErrorCode))
    fail(label, res, `code ${code}, expected one of ${codes.join(', ')}`);
  return code as ErrorCode;
}
