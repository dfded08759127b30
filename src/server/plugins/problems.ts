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
