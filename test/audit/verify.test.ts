import { describe, expect, it } from 'vitest';
import { eventHash, sealEvent } from '../../src/audit/chain.ts';
import { type AuditCheckpoint, signCheckpoint } from '../../src/audit/checkpoint.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { buildChain, checkpointsFor, generateChain, inputFor, lookup, makeKey, minutes, toAsync } from './fixtures.ts';

const key = makeKey('audit-1');
const keys = lookup(key);
const clean = buildChain(1000);
const checkpoints = checkpointsFor(clean, key, 100);

/** A deep copy of the clean chain, so each test tampers on its own. */
const chain = (): AuditEvent[] => structuredClone(clean);
const rehash = (event: AuditEvent): void => {
  event.hash = eventHash(event);
};

describe('verifyChain on intact chains', () => {
  it('accepts a clean chain of 1,000 events with checkpoints', async () => {
    expect(await verifyChain(clean, checkpoints, keys)).toEqual({ ok: true, checked: 1000 });
  });

  it('accepts an empty chain with no checkpoints', async () => {
    expect(await verifyChain([], [], keys)).toEqual({ ok: true, checked: 0 });
  });

  it('accepts events from an async source, reading them lazily', async () => {
    expect(await verifyChain(toAsync(generateChain(1000)), checkpoints, keys)).toEqual({ ok: true, checked: 1000 });
  });

  it('accepts checkpoints signed by a rotated key while both public keys are known', async () => {
    const next = makeKey('audit-2');
    const mixed = [...checkpoints.slice(0, 5), ...checkpointsFor(clean, next, 250)];
    expect(await verifyChain(clean, mixed, lookup(key, next))).toEqual({ ok: true, checked: 1000 });
  });
});

describe('verifyChain names the first bad place', () => {
  it('an edited field of event 37 → hash_mismatch at 37', async () => {
    for (const edit of [
      (e: AuditEvent) => {
        e.outcome = 'success' === e.outcome ? 'failure' : 'success';
      },
      (e: AuditEvent) => {
        e.actor.subject = 'patient-99';
      },
      (e: AuditEvent) => {
        e.at = '2020-01-01T00:00:00.000Z';
      },
    ]) {
      const events = chain();
      edit(events[36]!);
      const result = await verifyChain(events, checkpoints, keys);
      expect(result).toMatchObject({ ok: false, checked: 36, firstBad: { seq: 37, reason: 'hash_mismatch' } });
    }
  });

  it('event 37 rewritten with a fresh hash → broken_link at 38', async () => {
    const events = chain();
    events[36]!.resource.id = 'cnv_forged';
    rehash(events[36]!);
    const result = await verifyChain(events, checkpoints, keys);
    expect(result).toMatchObject({ ok: false, checked: 37, firstBad: { seq: 38, reason: 'broken_link' } });
    expect(result.firstBad!.detail).toContain('event 37');
  });

  it('event 37 relinked elsewhere → broken_link at 37', async () => {
    const events = chain();
    events[36]!.prevHash = events[10]!.hash;
    rehash(events[36]!);
    expect((await verifyChain(events, checkpoints, keys)).firstBad).toMatchObject({ seq: 37, reason: 'broken_link' });
  });

  it('a first event not linked to genesis → broken_link at 1', async () => {
    const events = chain();
    events[0]!.prevHash = 'a'.repeat(64);
    rehash(events[0]!);
    expect((await verifyChain(events, [], keys)).firstBad).toMatchObject({ seq: 1, reason: 'broken_link' });
  });

  it('event 37 deleted → sequence_gap at 37', async () => {
    const events = chain();
    events.splice(36, 1);
    const result = await verifyChain(events, checkpoints, keys);
    expect(result).toMatchObject({ ok: false, checked: 36, firstBad: { seq: 37, reason: 'sequence_gap' } });
    expect(result.firstBad!.detail).toContain('event 36 is followed by event 38');
  });

  it('event 1 deleted → sequence_gap at 1', async () => {
    expect((await verifyChain(clean.slice(1), [], keys)).firstBad).toMatchObject({ seq: 1, reason: 'sequence_gap' });
  });

  it('the last event deleted after a gap → sequence_gap, even at the very end', async () => {
    const events = clean.slice(0, 40);
    events.splice(38, 1);
    expect((await verifyChain(events, [], keys)).firstBad).toMatchObject({ seq: 39, reason: 'sequence_gap' });
  });

  it('events 37 and 38 swapped → reordered at 37', async () => {
    const events = chain();
    [events[36], events[37]] = [events[37]!, events[36]!];
    const result = await verifyChain(events, checkpoints, keys);
    expect(result).toMatchObject({ ok: false, checked: 36, firstBad: { seq: 37, reason: 'reordered' } });
  });

  it('event 37 duplicated → reordered at 37', async () => {
    const events = chain();
    events.splice(37, 0, structuredClone(events[36]!));
    expect((await verifyChain(events, checkpoints, keys)).firstBad).toMatchObject({ seq: 37, reason: 'reordered' });
  });

  it('the tail cut after event 36 with a checkpoint at 100 → truncated at 37', async () => {
    const result = await verifyChain(clean.slice(0, 36), checkpoints, keys);
    expect(result).toMatchObject({ ok: false, checked: 36, firstBad: { seq: 37, reason: 'truncated' } });
    expect(result.firstBad!.detail).toContain('records seq 100');
  });

  it('a tail cut just after the last checkpoint is invisible until the next checkpoint', async () => {
    expect(await verifyChain(clean.slice(0, 950), checkpoints.slice(0, 9), keys)).toEqual({ ok: true, checked: 950 });
    const result = await verifyChain(clean.slice(0, 950), checkpoints, keys);
    expect(result.firstBad).toMatchObject({ seq: 951, reason: 'truncated' });
  });

  it('every event gone while checkpoints remain → truncated at 1', async () => {
    expect((await verifyChain([], checkpoints, keys)).firstBad).toMatchObject({ seq: 1, reason: 'truncated' });
  });

  it('a checkpoint at 37 signed by another key → bad_checkpoint_signature at 37', async () => {
    const forger = makeKey('audit-1');
    const forged = signCheckpoint(clean[36]!, minutes(100), forger);
    const result = await verifyChain(clean, [...checkpoints, forged], keys);
    expect(result).toMatchObject({ ok: false, checked: 36, firstBad: { seq: 37, reason: 'bad_checkpoint_signature' } });
  });

  it('a checkpoint edited after signing or with an unknown kid → bad_checkpoint_signature', async () => {
    const edited: AuditCheckpoint = { ...checkpoints[0]!, hash: clean[99]!.prevHash };
    expect((await verifyChain(clean, [edited], keys)).firstBad).toMatchObject({
      seq: 100,
      reason: 'bad_checkpoint_signature',
    });
    const unknown = signCheckpoint(clean[36]!, minutes(100), makeKey('audit-9'));
    expect((await verifyChain(clean, [unknown], keys)).firstBad).toMatchObject({
      seq: 37,
      reason: 'bad_checkpoint_signature',
    });
  });

  it('a validly signed checkpoint at 37 naming another hash → checkpoint_mismatch at 37', async () => {
    const wrong = signCheckpoint({ ...clean[36]!, hash: clean[35]!.hash }, minutes(100), key);
    const result = await verifyChain(clean, [wrong, ...checkpoints], keys);
    expect(result).toMatchObject({ ok: false, checked: 36, firstBad: { seq: 37, reason: 'checkpoint_mismatch' } });
  });

  it('a checkpoint of another tenant → checkpoint_mismatch', async () => {
    const foreign = signCheckpoint({ ...clean[36]!, tenantId: 'tnt_other' }, minutes(100), key);
    expect((await verifyChain(clean, [foreign], keys)).firstBad).toMatchObject({
      seq: 37,
      reason: 'checkpoint_mismatch',
    });
  });

  it('a forged checkpoint past the end does not pass for a truncation', async () => {
    const forged = signCheckpoint({ ...clean[99]!, seq: 2000 }, minutes(100), makeKey('audit-1'));
    const result = await verifyChain(clean, [...checkpoints, forged], keys);
    expect(result.firstBad).toMatchObject({ seq: 2000, reason: 'bad_checkpoint_signature' });
    const genuine = signCheckpoint({ ...clean[99]!, seq: 3000 }, minutes(100), key);
    const both = await verifyChain(clean, [forged, genuine], keys);
    expect(both.firstBad).toMatchObject({ seq: 1001, reason: 'truncated' });
  });

  it('reports the earliest problem when there are several', async () => {
    const events = chain();
    events[36]!.outcome = 'denied';
    events.splice(500, 1);
    const forged = signCheckpoint(clean[9]!, minutes(100), makeKey('audit-1'));
    expect((await verifyChain(events, [...checkpoints, forged], keys)).firstBad).toMatchObject({
      seq: 10,
      reason: 'bad_checkpoint_signature',
    });
    expect((await verifyChain(events, checkpoints, keys)).firstBad).toMatchObject({ seq: 37, reason: 'hash_mismatch' });
  });

  it('a chain of another tenant → broken_link at 1 when the tenant is given', async () => {
    const foreign = buildChain(3, 'tnt_other');
    expect(await verifyChain(foreign, [], keys)).toEqual({ ok: true, checked: 3 });
    const result = await verifyChain(foreign, [], keys, { tenantId: 'tnt_acme' });
    expect(result.firstBad).toMatchObject({ seq: 1, reason: 'broken_link' });
  });

  it('an event of another tenant spliced in → broken_link', async () => {
    const events = chain().slice(0, 40);
    events[36] = sealEvent(events[35]!, 'tnt_other', inputFor(37), minutes(37));
    expect((await verifyChain(events, [], keys)).firstBad).toMatchObject({ seq: 37, reason: 'broken_link' });
  });

  it('a malformed row → a failure, not a throw', async () => {
    const events = chain().slice(0, 40) as unknown[];
    events[36] = { ...(events[36] as AuditEvent), seq: 37n };
    const result = await verifyChain(events as AuditEvent[], [], keys);
    expect(result.firstBad).toMatchObject({ seq: 37, reason: 'sequence_gap' });
    const bad = chain().slice(0, 40) as unknown as Array<Record<string, unknown>>;
    bad[36]!['detail'] = { big: 1n };
    expect((await verifyChain(bad as unknown as AuditEvent[], [], keys)).firstBad).toMatchObject({
      seq: 37,
      reason: 'hash_mismatch',
    });
  });
});

describe('verifyChain streaming', () => {
  it('detects tampering in an async source and stops reading there, closing the source', async () => {
    let pulled = 0;
    let closed = false;
    async function* source(): AsyncGenerator<AuditEvent> {
      try {
        for (const event of generateChain(1000)) {
          pulled += 1;
          if (event.seq === 37) event.detail = { turn: 12345 };
          yield event;
        }
      } finally {
        closed = true;
      }
    }
    const result = await verifyChain(source(), checkpoints, keys);
    expect(result).toMatchObject({ ok: false, checked: 36, firstBad: { seq: 37, reason: 'hash_mismatch' } });
    expect(pulled).toBe(37);
    expect(closed).toBe(true);
  });

  it('detects a swap in an async source', async () => {
    const events = chain();
    [events[36], events[37]] = [events[37]!, events[36]!];
    expect((await verifyChain(toAsync(events), checkpoints, keys)).firstBad).toMatchObject({
      seq: 37,
      reason: 'reordered',
    });
  });

  it('refuses misuse with TypeError', async () => {
    await expect(verifyChain(42 as never, [], keys)).rejects.toThrow(TypeError);
    await expect(verifyChain([], {} as never, keys)).rejects.toThrow(TypeError);
    await expect(verifyChain([], [], {} as never)).rejects.toThrow(TypeError);
  });
});
