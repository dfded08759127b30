import { describe, expect, it } from 'vitest';
import { sealEvent } from '../../src/audit/chain.ts';
import { AUDIT_ACTIONS, type AuditEvent, type AuditEventInput, type AuditOutcome } from '../../src/audit/event.ts';
import { toFhirAuditEvent, toFhirBundle } from '../../src/audit/fhir.ts';
import { buildChain, minutes, TENANT } from './fixtures.ts';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const FHIR_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

interface LooseCoding {
  system?: unknown;
  code?: unknown;
}
/** What a JSON AuditEvent may hold, every leaf unchecked. */
interface LooseAuditEvent {
  resourceType?: unknown;
  id?: unknown;
  type?: LooseCoding;
  subtype?: LooseCoding[];
  action?: unknown;
  recorded?: unknown;
  outcome?: unknown;
  agent?: Array<{ requestor?: unknown; network?: { address?: unknown; type?: unknown } }>;
  source?: { observer?: { reference?: unknown; identifier?: unknown; display?: unknown }; type?: LooseCoding[] };
  entity?: Array<{ detail?: Array<Record<string, unknown>> }>;
}

/** The R4 AuditEvent rules we rely on, checked by hand (cardinalities and value sets). */
function expectR4AuditEvent(resource: unknown): void {
  const r = JSON.parse(JSON.stringify(resource)) as LooseAuditEvent;
  expect(r).toEqual(resource); // nothing lost to JSON: no undefined members, no functions
  expect(r.resourceType).toBe('AuditEvent');
  expect(r.id).toMatch(FHIR_ID);
  // type 1..1 Coding
  expect(typeof r.type?.system).toBe('string');
  expect(typeof r.type?.code).toBe('string');
  for (const coding of r.subtype ?? []) expect(Object.keys(coding)).toEqual(expect.arrayContaining(['system', 'code']));
  if (r.action !== undefined) expect(['C', 'R', 'U', 'D', 'E']).toContain(r.action);
  // recorded 1..1 instant
  expect(r.recorded).toMatch(FHIR_INSTANT);
  if (r.outcome !== undefined) expect(['0', '4', '8', '12']).toContain(r.outcome);
  // agent 1..*, each with requestor 1..1 boolean
  expect(r.agent?.length).toBeGreaterThan(0);
  for (const agent of r.agent ?? []) {
    expect(typeof agent.requestor).toBe('boolean');
    if (agent.network !== undefined) {
      expect(typeof agent.network.address).toBe('string');
      expect(['1', '2', '3', '4', '5']).toContain(agent.network.type);
    }
  }
  // source 1..1 with observer 1..1 Reference
  const observer = r.source?.observer;
  expect(observer?.reference ?? observer?.identifier ?? observer?.display).toBeDefined();
  for (const coding of r.source?.type ?? []) expect(typeof coding.code).toBe('string');
  // entity.detail: type 1..1 and exactly one value[x]
  for (const entity of r.entity ?? []) {
    for (const detail of entity.detail ?? []) {
      expect(typeof detail.type).toBe('string');
      expect(Object.keys(detail).filter((k) => k.startsWith('value'))).toHaveLength(1);
    }
  }
}

function event(input: Partial<AuditEventInput>, seq = 1): AuditEvent {
  const base: AuditEventInput = {
    action: 'turn.append',
    actor: { kind: 'subject', subject: 'patient-42', ip: '203.0.113.7', tokenId: 'tok_1' },
    resource: { type: 'turn', id: 'cnv_a/3' },
    outcome: 'success',
    detail: { turn: 3 },
  };
  const prev = seq === 1 ? null : { seq: seq - 1, hash: 'a'.repeat(64) };
  return sealEvent(prev, TENANT, { ...base, ...input }, minutes(seq));
}

describe('toFhirAuditEvent', () => {
  it('produces a valid R4 AuditEvent for every action and outcome', () => {
    for (const { action } of AUDIT_ACTIONS) {
      for (const outcome of ['success', 'failure', 'denied'] as AuditOutcome[]) {
        expectR4AuditEvent(toFhirAuditEvent(event({ action, outcome })));
      }
    }
    expectR4AuditEvent(
      toFhirAuditEvent(event({ actor: { kind: 'anonymous' }, resource: { type: 'token' }, detail: {} })),
    );
  });

  it('maps a turn append by a patient', () => {
    const source = event({}, 37);
    const r = toFhirAuditEvent(source, { serverUrl: 'https://continuum.example.org/fhir' });
    expect(r.id).toBe('tnt-acme-37');
    expect(r.type).toEqual({ system: DCM, code: '110110', display: 'Patient Record' });
    expect(r.subtype).toEqual([
      { system: 'urn:continuum:audit-action', code: 'turn.append', display: 'A turn was appended to a conversation.' },
    ]);
    expect(r.action).toBe('C');
    expect(r.recorded).toBe(source.at);
    expect(r.outcome).toBe('0');
    expect(r.agent).toEqual([
      {
        who: { identifier: { system: 'urn:continuum:subject', value: 'patient-42' } },
        requestor: true,
        network: { address: '203.0.113.7', type: '2' },
      },
    ]);
    expect(r.source).toEqual({
      site: 'https://continuum.example.org/fhir',
      observer: { display: 'continuum' },
      type: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/security-source-type',
          code: '4',
          display: 'Application Server',
        },
      ],
    });
    expect(r.entity[0]!.what).toEqual({ identifier: { system: 'urn:continuum:turn', value: 'cnv_a/3' } });
    expect(r.entity[0]!.detail).toEqual(
      expect.arrayContaining([
        { type: 'tenantId', valueString: TENANT },
        { type: 'seq', valueString: '37' },
        { type: 'hash', valueString: source.hash },
        { type: 'prevHash', valueString: source.prevHash },
        { type: 'detail.turn', valueString: '3' },
      ]),
    );
  });

  it('types authentication and other activity, and maps actions to C/R/U/D/E', () => {
    const cases: Array<[string, string, string]> = [
      ['token.refresh', '110114', 'E'],
      ['auth.failure', '110114', 'E'],
      ['conversation.read', '110110', 'R'],
      ['conversation.close', '110110', 'U'],
      ['context.read', '110110', 'R'],
      ['participant.remove', '110110', 'D'],
      ['tenant.create', '110100', 'C'],
      ['audit.export', '110100', 'R'],
      ['flag.update', '110100', 'U'],
      ['widget.delete', '110100', 'D'],
      ['widget.frobnicate', '110100', 'E'],
    ];
    for (const [action, code, verb] of cases) {
      const r = toFhirAuditEvent(event({ action }));
      expect([action, r.type.code, r.action]).toEqual([action, code, verb]);
    }
    expect(toFhirAuditEvent(event({ action: 'widget.delete' })).subtype[0]).not.toHaveProperty('display');
  });

  it('maps outcomes to the R4 value set: success 0, denied 4, failure 8', () => {
    expect(toFhirAuditEvent(event({ outcome: 'success' })).outcome).toBe('0');
    expect(toFhirAuditEvent(event({ outcome: 'denied' })).outcome).toBe('4');
    expect(toFhirAuditEvent(event({ outcome: 'failure' })).outcome).toBe('8');
  });

  it('identifies operators and system actors, and omits the network without an ip', () => {
    const op = toFhirAuditEvent(event({ actor: { kind: 'operator' }, action: 'tenant.create' }));
    expect(op.agent).toEqual([
      { who: { identifier: { system: 'urn:continuum:operator', value: 'operator' } }, requestor: true },
    ]);
    const sys = toFhirAuditEvent(event({ actor: { kind: 'system' } }));
    expect(sys.agent[0]!.who.identifier).toEqual({ system: 'urn:continuum:system', value: 'system' });
    const noId = toFhirAuditEvent(event({ resource: { type: 'audit' } }));
    expect(noId.entity[0]).not.toHaveProperty('what');
  });

  it('keeps FHIR ids within 64 characters of [A-Za-z0-9-.]', () => {
    const long = sealEvent(
      null,
      `tnt_${'x'.repeat(80)}`,
      { action: 'audit.read', actor: { kind: 'system' }, resource: { type: 'audit' }, outcome: 'success' },
      minutes(1),
    );
    expect(toFhirAuditEvent(long).id).toMatch(FHIR_ID);
  });
});

describe('toFhirBundle', () => {
  const events = buildChain(5);

  it('wraps events in a collection Bundle, in order, without total', () => {
    const bundle = toFhirBundle(events, { serverUrl: 'https://continuum.example.org/fhir/' });
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('collection');
    expect(bundle).not.toHaveProperty('total');
    expect(bundle.entry.map((e) => e.fullUrl)).toEqual(
      events.map((e) => `https://continuum.example.org/fhir/AuditEvent/tnt-acme-${e.seq}`),
    );
    for (const entry of bundle.entry) expectR4AuditEvent(entry.resource);
  });

  it('uses stable, distinct urn:uuid fullUrls without a server URL', () => {
    const urls = toFhirBundle(events, {}).entry.map((e) => e.fullUrl);
    for (const url of urls)
      expect(url).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(urls).size).toBe(urls.length);
    expect(toFhirBundle(events, {}).entry.map((e) => e.fullUrl)).toEqual(urls);
  });

  it('is empty for no events', () => {
    expect(toFhirBundle([], {})).toEqual({ resourceType: 'Bundle', type: 'collection', entry: [] });
  });
});
