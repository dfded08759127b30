import { Type } from 'typebox';
import { ROLES } from '../core/types.ts';

/** Shared TypeBox schemas: the request validators and the OpenAPI document come from these. */

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details with a stable `code`.' },
);

const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, { ...Problem, description: 'Problem details' }]));

export const errors = {
  common: problemResponses(400, 401, 404, 429, 500),
  withConflict: problemResponses(400, 401, 404, 409, 413, 422, 429, 500),
};

const printable = (maxLength: number) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });

export const Subject = Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\s\\u0000-\\u001f\\u007f]+$' });

export const TokenRequest = Type.Object(
  {
    grant_type: Type.Union([Type.Literal('api_key'), Type.Literal('refresh_token')]),
    api_key: Type.Optional(Type.String({ maxLength: 200 })),
    subject: Type.Optional(Subject),
    scope: Type.Optional(Type.Union([Type.Literal('conversations'), Type.Literal('admin')])),
    refresh_token: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
  refresh_expires_in: Type.Integer(),
  scope: Type.String(),
});

export const RevokeRequest = Type.Object({ token: Type.String({ maxLength: 200 }) }, { additionalProperties: false });

export const CreateTenantRequest = Type.Object(
  { name: Type.String({ minLength: 2, maxLength: 63, pattern: '^[a-z0-9][a-z0-9-]+$' }) },
  { additionalProperties: false },
);

export const CreateTenantResponse = Type.Object({
  tenantId: Type.String(),
  name: Type.String(),
  apiKey: Type.String(),
});

const MetadataValue = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean(), Type.Null()]);

export const CreateConversationRequest = Type.Object(
  {
    title: Type.Optional(Type.String({ maxLength: 200 })),
    metadata: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), MetadataValue, {
        maxProperties: 32,
        additionalProperties: MetadataValue,
      }),
    ),
    clientKey: Type.Optional(printable(128)),
    startedAt: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  },
  { additionalProperties: false },
);

export const Conversation = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  subject: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Union([Type.Record(Type.String(), MetadataValue), Type.Null()]),
  startedAt: Type.String({ format: 'date-time' }),
  createdAt: Type.String({ format: 'date-time' }),
  turn: Type.Integer(),
  status: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  closedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const ConversationParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const ListConversationsQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const Role = Type.Union(ROLES.map((role) => Type.Literal(role)));

export const Turn = Type.Object({
  number: Type.Integer(),
  role: Role,
  content: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  hash: Type.String(),
});

export const appendTurnRequest = (maxTurnChars: number) =>
  Type.Object(
    {
      role: Role,
      content: Type.String({ minLength: 1, maxLength: maxTurnChars }),
      expectedTurn: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
      respond: Type.Optional(Type.Boolean()),
      priority: Type.Optional(Type.Union([Type.Literal('high'), Type.Literal('normal'), Type.Literal('low')])),
    },
    { additionalProperties: false },
  );

export const AppendTurnHeaders = Type.Object({
  'idempotency-key': Type.Optional(printable(200)),
  'if-match': Type.Optional(Type.String({ maxLength: 40 })),
});

export const ListTurnsQuery = Type.Object(
  {
    after: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 }),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  },
  { additionalProperties: false },
);
