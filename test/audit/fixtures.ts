import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { sealEvent } from '../../src/audit/chain.ts';
import { type AuditCheckpoint, signCheckpoint } from '../../src/audit/checkpoint.ts';
import type { AuditEvent, AuditEventInput } from '../../src/audit/event.ts';

export const TENANT = 'tnt_acme';
/** Frozen start time; event n is sealed n minutes later. */
export const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
export const minutes = (n: number): Date => new Date(T0 + n * 60_000);

const INPUTS: AuditEventInput[] = [
  {
    action: 'turn.append',
    actor: { kind: 'subject', tenantId: TENANT, subject: 'patient-42', tokenId: 'tok_1', ip: '203.0.113.7' },
    resource: { type: 'turn', id: 'cnv_a/1' },
    outcome: 'success',
    detail: { turn: 1 },
  },
  {
    action: 'conversation.read',
    actor: { kind: 'subject', tenantId: TENANT, subject: 'clinician-7' },
    resource: { type: 'conversation', id: 'cnv_a' },
    outcome: 'success',
  },
  {
    action: 'token.refresh',
    actor: { kind: 'subject', subject: 'patient-42', ip: '2001:db8::1' },
    resource: { type: 'token', id: 'fam_9' },
    outcome: 'denied',
    detail: { reused: true },
  },
  {
    action: 'tenant.create',
    actor: { kind: 'operator' },
    resource: { type: 'tenant', id: TENANT },
    outcome: 'success',
  },
  { action: 'audit.verify', actor: { kind: 'system' }, resource: { type: 'audit' }, outcome: 'failure' },
];

/** A varied input for event `seq`. */
export function inputFor(seq: number): AuditEventInput {
  const base = INPUTS[(seq - 1) % INPUTS.length]!;
  return structuredClone(base);
}

/** Seals events 1..n of TENANT lazily, event n at minute n. */
export function* generateChain(n: number, tenantId: string = TENANT): Generator<AuditEvent> {
  let prev: AuditEvent | null = null;
  for (let seq = 1; seq <= n; seq += 1) {
    prev = sealEvent(prev, tenantId, inputFor(seq), minutes(seq));
    yield prev;
  }
}

export function buildChain(n: number, tenantId: string = TENANT): AuditEvent[] {
  return [...generateChain(n, tenantId)];
}

export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function makeKey(kid: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { kid, privateKey, publicKey };
}

export function lookup(...keys: TestKey[]): (kid: string) => KeyObject | undefined {
  return (kid) => keys.find((k) => k.kid === kid)?.publicKey;
}

/** Checkpoints every `every` events, signed one hour after the event. */
export function checkpointsFor(events: AuditEvent[], key: TestKey, every: number): AuditCheckpoint[] {
  return events.filter((e) => e.seq % every === 0).map((e) => signCheckpoint(e, minutes(e.seq + 60), key));
}

export async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve();
    yield item;
  }
}
