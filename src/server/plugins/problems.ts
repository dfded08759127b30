import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CODES, type ErrorCode } from '../../errors/index.ts';

/** The RFC 9457 body every error response carries. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  [extra: string]: unknown;
}

export const problemType = (code: ErrorCode) => `urn:continuum:error:${code}`;

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_request',
};

/** Turn anything thrown by a route or by Fastify into our error. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError & {
    validation?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[];
    validationContext?: string;
  };
  if (fastifyError?.validation) {
    const first = fastifyError.validation[0];
    const where = `${fastifyError.validationContext ?? 'request'}${first?.instancePath ?? ''}`;
    const unknownField = first?.params?.['additionalProperty'];
    const detail =
      typeof unknownField === 'string'
        ? `${where} has an unknown field ${JSON.stringify(unknownField)}`
        : `${where} ${first?.message ?? 'is invalid'}`;
    return new AppError('invalid_request', detail, { extras: { field: where } });
  }
  const mapped = fastifyError?.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) return new AppError(mapped, fastifyError.message, { cause: error });
  if (error instanceof SyntaxError || (fastifyError?.statusCode === 400 && fastifyError.message)) {
    return new AppError('invalid_request', `The body could not be parsed: ${fastifyError.message}`, { cause: error });
  }
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode === 413) {
    return new AppError('payload_too_large', fastifyError.message, { cause: error });
  }
  return new AppError('internal', 'An internal error occurred', { cause: error });
}

export function problemOf(error: AppError, request: FastifyRequest): Problem {
  return {
    ...error.extras,
    type: problemType(error.code),
    title: ERROR_CODES[error.code].title,
    status: error.status,
    detail: error.message,
    code: error.code,
    instance: request.url.split('?')[0],
    requestId: request.id,
  };
}

/** Send `error` as problem+json; the one place errors become responses. */
export function sendProblem(error: AppError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  if (error.status === 401 && (error.code === 'token_expired' || error.code === 'token_invalid')) {
    reply.header(
      'www-authenticate',
      `Bearer error="invalid_token", error_description="${error.message.replaceAll('"', "'")}"`,
    );
  }
  if (error.code === 'insufficient_scope') reply.header('www-authenticate', 'Bearer error="insufficient_scope"');
  return reply.status(error.status).type('application/problem+json').send(problemOf(error, request));
}

/**
 * Fastify's `frameworkErrors` option: errors raised while routing, before a
 * route or the error handler exists (a path with a malformed percent-encoding,
 * a path parameter over the router's length limit), answered as problems too.
 */
export function handleFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const appError =
    error.code === 'FST_ERR_BAD_URL'
      ? new AppError('invalid_request', 'The path is not valid percent-encoded UTF-8', { cause: error })
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new AppError('invalid_request', 'A path segment is too long', { cause: error })
        : toAppError(error);
  if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
  // An upgrade request's socket is no longer Node's to close, and no route's hooks ran to close it: left open,
  // it would keep the server from ever finishing a stop.
  if (request.headers.upgrade !== undefined) reply.raw.once('finish', () => request.raw.socket.destroy());
  sendProblem(appError, request, reply);
}

const CLIENT_ERRORS: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'headers_too_large',
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
};

/**
 * Fastify's `clientErrorHandler` option: a request Node's HTTP parser refused
 * (bytes that are not HTTP, a CR or LF inside a header, headers over the
 * size limit, headers that never finished) gets a problem document written
 * straight to the socket, which then closes.
 */
export function handleClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const code = CLIENT_ERRORS[error.code ?? ''] ?? 'invalid_request';
    const { status, title } = ERROR_CODES[code];
    const body = JSON.stringify({
      type: problemType(code),
      title,
      status,
      detail: code === 'invalid_request' ? 'The request is not valid HTTP' : title,
      code,
    });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? title}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((raw, request, reply) => {
    const error = toAppError(raw);
    if (error.status >= 500) request.log.error({ err: error.cause ?? error, code: error.code }, 'request failed');
    return sendProblem(error, request, reply);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(new AppError('not_found', `No route ${request.method} ${request.url.split('?')[0]}`), request, reply),
  );
}
