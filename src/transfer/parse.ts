import { ROLES } from '../core/types.ts';
import { AppError, type ErrorCode } from '../errors/index.ts';
import { COUNT_NAMES, EXPORT_FORMAT, EXPORT_VERSION, type ExportLine } from './format.ts';

/** An import error that names the line of the file it is about. */
export function lineError(
  line: number,
  detail: string,
  code: ErrorCode = 'invalid_request',
  cause?: unknown,
): AppError {
  return new AppError(code, `line ${line}: ${detail}`, { extras: { line }, ...(cause === undefined ? {} : { cause }) });
}

// A check returns null when the value fits, or what is wrong with it.
type Check = (value: unknown) => string | null;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const HEX64 = /^[0-9a-f]{64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const str: Check = (v) => (typeof v === 'string' && v.length > 0 ? null : 'must be a non-empty string');
const anyStr: Check = (v) => (typeof v === 'string' ? null : 'must be a string');
const iso: Check = (v) => (typeof v === 'string' && ISO.test(v) ? null : 'must be an ISO 8601 date-time');
const hex64: Check = (v) => (typeof v === 'string' && HEX64.test(v) ? null : 'must be 64 lowercase hex characters');
const b64: Check = (v) => (typeof v === 'string' && BASE64.test(v) ? null : 'must be base64');
const int =
  (min: number): Check =>
  (v) =>
    Number.isSafeInteger(v) && (v as number) >= min ? null : `must be an integer >= ${min}`;
const oneOf =
  (values: readonly string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? null : `must be one of ${values.join(', ')}`;
const nullable =
  (check: Check): Check =>
  (v) =>
    v === null ? null : check(v);
const optional =
  (check: Check): Check =>
  (v) =>
    v === undefined || v === null ? null : check(v);
const plainObject: Check = (v) => (isObject(v) ? null : 'must be an object');

function shape(fields: Record<string, Check>): Check {
  return (value) => {
    if (!isObject(value)) return 'must be an object';
    for (const [name, check] of Object.entries(fields)) {
      const problem = check(value[name]);
      if (problem !== null) return `${name} ${problem}`;
    }
    return null;
  };
}

const arrayOf =
  (check: Check): Check =>
  (value) => {
    if (!Array.isArray(value)) return 'must be an array';
    for (const [index, item] of value.entries()) {
      const problem = check(item);
      if (problem !== null) return `[${index}].${problem}`;
    }
    return null;
  };

const tenant = shape({ id: str, name: str, createdAt: iso });
const apiKey = shape({ id: str, tenantId: str, hash: str, createdAt: iso, revokedAt: nullable(iso) });
const conversation = shape({
  id: str,
  tenantId: str,
  subject: str,
  title: nullable(anyStr),
  metadata: nullable(plainObject),
  clientKey: str,
  startedAt: iso,
  createdAt: iso,
  genesisHash: hex64,
  turn: int(0),
  headHash: hex64,
  status: oneOf(['open', 'closed']),
  closedAt: nullable(iso),
});
const turn = shape({
  conversationId: str,
  number: int(1),
  role: oneOf(ROLES),
  content: b64,
  createdAt: iso,
  prevHash: hex64,
  hash: hex64,
});
const auditEvent = shape({
  tenantId: str,
  seq: int(1),
  at: iso,
  prevHash: hex64,
  hash: hex64,
  action: str,
  actor: shape({ kind: str }),
  resource: shape({ type: str }),
  outcome: str,
  detail: optional(plainObject),
});
const checkpoint = shape({ tenantId: str, seq: int(1), hash: hex64, at: iso, kid: str, signature: str });
const participant = shape({ subject: str, addedBy: str, addedAt: iso });
// Files written before participant records existed carry no participants count (read as 0).
const counts = shape(
  Object.fromEntries(COUNT_NAMES.map((name) => [name, name === 'participants' ? optional(int(0)) : int(0)])),
);

const RECORDS: Record<string, Check> = {
  [EXPORT_FORMAT]: shape({
    version: (v) => (v === EXPORT_VERSION ? null : `${String(v)} is not supported (this build reads version 1)`),
    exportedAt: iso,
    source: oneOf(['sqlite', 'postgres', 'dynamodb']),
    tenants: arrayOf(str),
    system: (v) => (typeof v === 'boolean' ? null : 'must be true or false'),
  }),
  secret: shape({ name: str, value: str }),
  public_key: shape({ kid: str, jwk: plainObject }),
  tenant: shape({ tenant, apiKeys: arrayOf(apiKey) }),
  data_key: shape({
    dataKey: shape({ tenantId: str, version: int(1), masterKeyId: str, wrapped: b64, createdAt: iso }),
  }),
  conversation: shape({ conversation }),
  turn: shape({ turn }),
  participant: shape({ conversationId: str, participant }),
  context_state: shape({
    conversationId: str,
    state: shape({ version: int(0), throughTurn: int(0), state: b64, updatedAt: iso }),
  }),
  stream_event: shape({ conversationId: str, event: shape({ id: str, event: str, data: b64 }) }),
  audit_event: shape({ event: auditEvent }),
  audit_checkpoint: shape({ checkpoint }),
  end: shape({ counts }),
};

/**
 * Parse and check one line of an export file; throws `invalid_request`
 * naming the line and the first field that is wrong.
 */
export function parseLine(text: string, line: number): ExportLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw lineError(line, 'not a JSON record');
  }
  if (!isObject(value) || typeof value.type !== 'string') throw lineError(line, 'a record needs a string "type"');
  const check = RECORDS[value.type];
  if (!check) throw lineError(line, `unknown record type ${JSON.stringify(value.type).slice(0, 64)}`);
  const problem = check(value);
  if (problem !== null) throw lineError(line, `bad ${value.type} record: ${problem}`);
  return value as unknown as ExportLine;
}
