import { createHash } from 'node:crypto';
import { type AuditEvent, describeAuditAction } from './event.ts';

/** A FHIR R4 Coding. */
export interface FhirCoding {
  system: string;
  code: string;
  display?: string;
}

/** A FHIR R4 AuditEvent, limited to the elements this server fills. */
export interface FhirAuditEvent {
  resourceType: 'AuditEvent';
  id: string;
  type: FhirCoding;
  subtype: FhirCoding[];
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  recorded: string;
  outcome: '0' | '4' | '8' | '12';
  agent: Array<{
    who: { identifier: { system: string; value: string } };
    requestor: boolean;
    network?: { address: string; type: '2' };
  }>;
  source: { site?: string; observer: { display: string }; type: FhirCoding[] };
  entity: Array<{
    what?: { identifier: { system: string; value: string } };
    type: FhirCoding;
    detail: Array<{ type: string; valueString: string }>;
  }>;
}

/** A FHIR R4 Bundle of type `collection` (which, per bdl-1, carries no `total`). */
export interface FhirBundle {
  resourceType: 'Bundle';
  type: 'collection';
  entry: Array<{ fullUrl: string; resource: FhirAuditEvent }>;
}

/** Options for the FHIR mapping. */
export interface FhirOptions {
  /** Base URL of the FHIR endpoint (e.g. `https://continuum.example.org/fhir`); gives absolute `fullUrl`s. */
  serverUrl?: string;
}

/** `subtype.system` of the Continuum action code. */
export const AUDIT_ACTION_SYSTEM = 'urn:continuum:audit-action';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const PATIENT_RECORD: FhirCoding = { system: DCM, code: '110110', display: 'Patient Record' };
const USER_AUTHENTICATION: FhirCoding = { system: DCM, code: '110114', display: 'User Authentication' };
const APPLICATION_ACTIVITY: FhirCoding = { system: DCM, code: '110100', display: 'Application Activity' };
const APPLICATION_SERVER: FhirCoding = {
  system: 'http://terminology.hl7.org/CodeSystem/security-source-type',
  code: '4',
  display: 'Application Server',
};
const SYSTEM_OBJECT: FhirCoding = {
  system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
  code: '2',
  display: 'System Object',
};
const PATIENT_RECORD_RESOURCES: ReadonlySet<string> = new Set([
  'conversation',
  'turn',
  'context',
  'search',
  'participant',
  'profile',
]);
const OUTCOME = { success: '0', denied: '4', failure: '8' } as const;

// C create, R read/view/export, U update, D delete, E execute (log-on, query/search, other functions).
const ACTION_CODES: Readonly<Record<string, FhirAuditEvent['action']>> = {
  'tenant.create': 'C',
  'api_key.create': 'C',
  'token.issue': 'E',
  'token.refresh': 'E',
  'token.revoke': 'E',
  'token.refresh_reused': 'E',
  'auth.failure': 'E',
  'conversation.create': 'C',
  'conversation.read': 'R',
  'conversation.list': 'E',
  'conversation.close': 'U',
  'turn.append': 'C',
  'turn.read': 'R',
  'context.read': 'R',
  'search.read': 'E',
  'participant.add': 'C',
  'participant.remove': 'D',
  'profile.update': 'U',
  'flag.update': 'U',
  'audit.read': 'R',
  'audit.verify': 'E',
  'audit.export': 'R',
  'export.create': 'R',
  'import.create': 'C',
  'key.rotate': 'U',
  'signing_key.rotate': 'U',
};
const VERB_CODES: Readonly<Record<string, FhirAuditEvent['action']>> = {
  create: 'C',
  add: 'C',
  append: 'C',
  read: 'R',
  export: 'R',
  update: 'U',
  close: 'U',
  rotate: 'U',
  delete: 'D',
  remove: 'D',
};

/**
 * Maps one audit event to a FHIR R4 AuditEvent. The chain fields (tenant,
 * seq, hash, prevHash) travel in `entity[0].detail`, so an exported record
 * can still be checked against the chain.
 *
 * @example
 * const resource = toFhirAuditEvent(event, { serverUrl: 'https://continuum.example.org/fhir' });
 */
export function toFhirAuditEvent(event: AuditEvent, options: FhirOptions = {}): FhirAuditEvent {
  const [area = '', verb = ''] = splitAction(event.action);
  const description = describeAuditAction(event.action);
  const agent: FhirAuditEvent['agent'][number] = { who: { identifier: actorIdentifier(event) }, requestor: true };
  if (event.actor.ip) agent.network = { address: event.actor.ip, type: '2' };

  const detail: Array<{ type: string; valueString: string }> = [
    { type: 'tenantId', valueString: event.tenantId },
    { type: 'seq', valueString: String(event.seq) },
    { type: 'hash', valueString: event.hash },
    { type: 'prevHash', valueString: event.prevHash },
  ];
  if (event.actor.tokenId) detail.push({ type: 'actor.tokenId', valueString: event.actor.tokenId });
  for (const key of Object.keys(event.detail ?? {}).sort()) {
    detail.push({ type: `detail.${key}`, valueString: String(event.detail?.[key]) });
  }
  const entity: FhirAuditEvent['entity'][number] = { type: SYSTEM_OBJECT, detail };
  if (event.resource.id) {
    entity.what = { identifier: { system: `urn:continuum:${event.resource.type}`, value: event.resource.id } };
  }

  const source: FhirAuditEvent['source'] = { observer: { display: 'continuum' }, type: [APPLICATION_SERVER] };
  if (options.serverUrl) source.site = options.serverUrl;

  return {
    resourceType: 'AuditEvent',
    id: fhirId(event),
    type:
      area === 'token' || area === 'auth'
        ? USER_AUTHENTICATION
        : PATIENT_RECORD_RESOURCES.has(area)
          ? PATIENT_RECORD
          : APPLICATION_ACTIVITY,
    subtype: [{ system: AUDIT_ACTION_SYSTEM, code: event.action, ...(description ? { display: description } : {}) }],
    action: ACTION_CODES[event.action] ?? VERB_CODES[verb] ?? 'E',
    recorded: event.at,
    outcome: OUTCOME[event.outcome] ?? '8',
    agent: [agent],
    source,
    entity: [entity],
  };
}

/**
 * Wraps events in a FHIR R4 `collection` Bundle, in the order given. With a
 * `serverUrl` each `fullUrl` is `<serverUrl>/AuditEvent/<id>`; without one it
 * is a `urn:uuid:` derived from the event hash, so the same export always
 * carries the same URLs.
 */
export function toFhirBundle(events: Iterable<AuditEvent>, options: FhirOptions = {}): FhirBundle {
  const base = options.serverUrl?.replace(/\/+$/, '');
  const entry: FhirBundle['entry'] = [];
  for (const event of events) {
    const resource = toFhirAuditEvent(event, options);
    entry.push({ fullUrl: base ? `${base}/AuditEvent/${resource.id}` : uuidUrn(event.hash), resource });
  }
  return { resourceType: 'Bundle', type: 'collection', entry };
}

/**
 * `<tenantId>-<seq>` within FHIR's id alphabet (`[A-Za-z0-9-.]{1,64}`): `_`
 * and other characters become `-`; an over-long tenant id is replaced by a
 * digest of it.
 */
export function fhirId(event: Pick<AuditEvent, 'tenantId' | 'seq'>): string {
  const tenant = event.tenantId.replace(/[^A-Za-z0-9.-]/g, '-');
  const id = `${tenant}-${event.seq}`;
  if (id.length <= 64) return id;
  return `${createHash('sha256').update(event.tenantId).digest('hex').slice(0, 32)}-${event.seq}`;
}

function actorIdentifier(event: AuditEvent): { system: string; value: string } {
  const { kind, subject, tokenId } = event.actor;
  if (kind === 'subject' && subject) return { system: 'urn:continuum:subject', value: subject };
  if (kind === 'operator') return { system: 'urn:continuum:operator', value: subject ?? tokenId ?? 'operator' };
  return { system: `urn:continuum:${kind}`, value: subject ?? kind };
}

function splitAction(action: string): string[] {
  const dot = action.lastIndexOf('.');
  return dot < 0 ? [action, ''] : [action.slice(0, dot), action.slice(dot + 1)];
}

// RFC 9562 version 8 (custom) UUID from the first 128 bits of the event hash.
function uuidUrn(hash: string): string {
  const hex = /^[0-9a-f]{32}/.test(hash) ? hash : createHash('sha256').update(String(hash)).digest('hex');
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
