import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The audit actions a successful call of this route writes (ADR-007);
     * `[]` for routes that touch no tenant data. Published in the OpenAPI
     * document as `x-audit`, and checked by a test that calls every route.
     */
    audit?: readonly string[];
  }
}

const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Collect each route's declared audit actions, to publish them as `x-audit`. */
export function collectAuditDeclarations(app: FastifyInstance): Map<string, readonly string[]> {
  const declared = new Map<string, readonly string[]>();
  app.addHook('onRoute', (route) => {
    const audit = route.config?.audit;
    if (audit === undefined) return;
    for (const method of [route.method].flat())
      declared.set(`${method.toLowerCase()} ${toOpenApiPath(route.url)}`, audit);
  });
  return declared;
}

/** `@fastify/swagger` `transformObject`: add `x-audit` to each operation. */
export function withAuditExtensions(declared: Map<string, readonly string[]>) {
  return ({ openapiObject }: { openapiObject: Partial<{ paths: Record<string, Record<string, object>> }> }) => {
    for (const [path, operations] of Object.entries(openapiObject.paths ?? {})) {
      for (const [method, operation] of Object.entries(operations)) {
        const audit = declared.get(`${method} ${path}`);
        if (audit !== undefined) Object.assign(operation, { 'x-audit': audit });
      }
    }
    return openapiObject;
  };
}
