import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical-json.ts';
import { type CipherContext, openWithKey, sealedKeyVersion, sealWithKey } from '../../src/crypto/envelope.ts';
import { AppError } from '../../src/errors/index.ts';

const key = randomBytes(32);
const ctx: CipherContext = { tenantId: 'tnt_a', conversationId: 'cnv_1', field: 'message', turn: 3 };
const text = 'Takes metformin 500 mg twice daily; allergic to penicillin. Dr. Okafor — 😊';

function expectNotHere(run: () => unknown): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AppError);
  expect((caught as AppError).code).toBe('state_corrupt');
}

describe('envelope sealWithKey / openWithKey', () => {
  it('round-trips text, including empty text and contexts without a turn', () => {
    expect(openWithKey(key, ctx, sealWithKey(key, 1, ctx, text))).toBe(text);
    expect(openWithKey(key, ctx, sealWithKey(key, 1, ctx, ''))).toBe('');
    const summary = { tenantId: 'tnt_a', conversationId: 'cnv_1', field: 'summary' };
    expect(openWithKey(key, summary, sealWithKey(key, 1, summary, text))).toBe(text);
  });

  it('writes format 1, the key version, a fresh IV and tag, then the ciphertext', () => {
    const sealed = sealWithKey(key, 0x01020304, ctx, 'abc');
    expect(sealed[0]).toBe(1);
    expect(sealed.readUInt32BE(1)).toBe(0x01020304);
    expect(sealedKeyVersion(sealed)).toBe(0x01020304);
    expect(sealed.length).toBe(1 + 4 + 12 + 16 + 3);
    const again = sealWithKey(key, 0x01020304, ctx, 'abc');
    expect(again.subarray(5, 17).equals(sealed.subarray(5, 17))).toBe(false);
    expect(sealed.includes(Buffer.from('abc'))).toBe(false);
  });

  it('binds the context as the canonical JSON the stored values were sealed with (both ways, odd text included)', () => {
    // The associated data as first specified: header ‖ canonicalJson({ v, tenant, conversation, field, turn }).
    const reference = (header: Buffer, c: CipherContext) =>
      Buffer.concat([
        header,
        Buffer.from(
          canonicalJson({ v: 1, tenant: c.tenantId, conversation: c.conversationId, field: c.field, turn: c.turn }),
        ),
      ]);
    const contexts: CipherContext[] = [
      ctx,
      { tenantId: 'tnt_a', conversationId: 'cnv_1', field: 'summary' },
      { tenantId: 'tnt_"q"\\', conversationId: 'cnv_é😊\u0001', field: 'turn', turn: 0 },
      { tenantId: 'tnt_b', conversationId: 'cnv_2', field: 'state', turn: 2 ** 40 },
    ];
    for (const c of contexts) {
      // Sealed here, opened by the reference.
      const sealed = sealWithKey(key, 3, c, text);
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(5, 17), { authTagLength: 16 });
      decipher.setAAD(reference(sealed.subarray(0, 5), c));
      decipher.setAuthTag(sealed.subarray(17, 33));
      expect(Buffer.concat([decipher.update(sealed.subarray(33)), decipher.final()]).toString('utf8')).toBe(text);
      // Sealed by the reference, opened here.
      const header = Buffer.from([1, 0, 0, 0, 3]);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
      cipher.setAAD(reference(header, c));
      const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      expect(openWithKey(key, c, Buffer.concat([header, iv, cipher.getAuthTag(), body]))).toBe(text);
    }
  });

  it('never reuses an IV, across the refills of its pool of random bytes', () => {
    // 2,000 seals take the pool through several refills (it holds 341 IVs).
    const sealed = Array.from({ length: 2_000 }, (_, i) => sealWithKey(key, 1, ctx, `${text} ${i}`));
    const ivs = new Set(sealed.map((s) => s.subarray(5, 17).toString('hex')));
    expect(ivs.size).toBe(sealed.length);
    expect(ivs.has('0'.repeat(24))).toBe(false);
    expect(sealed.map((s) => openWithKey(key, ctx, s))).toEqual(sealed.map((_, i) => `${text} ${i}`));
    // A sealed value holds a copy of its IV: later seals do not change it.
    const first = Buffer.from(sealed[0]!);
    for (let i = 0; i < 400; i++) sealWithKey(key, 1, ctx, 'later');
    expect(sealed[0]!.equals(first)).toBe(true);
  });

  it('refuses a change to any single byte, header included', () => {
    const sealed = sealWithKey(key, 7, ctx, text);
    for (let index = 0; index < sealed.length; index += 1) {
      const tampered = Buffer.from(sealed);
      tampered[index] = tampered[index]! ^ 0x01;
      expectNotHere(() => openWithKey(key, ctx, tampered));
    }
  });

  it('refuses truncated ciphertext and the wrong key', () => {
    const sealed = sealWithKey(key, 1, ctx, text);
    expectNotHere(() => openWithKey(key, ctx, sealed.subarray(0, sealed.length - 1)));
    expectNotHere(() => openWithKey(key, ctx, sealed.subarray(0, 20)));
    expectNotHere(() => openWithKey(randomBytes(32), ctx, sealed));
  });

  it.each([
    ['tenant', { tenantId: 'tnt_b' }],
    ['conversation', { conversationId: 'cnv_2' }],
    ['field', { field: 'summary' }],
    ['turn', { turn: 4 }],
    ['turn left out', { turn: undefined }],
  ])('a ciphertext moved to another %s fails with state_corrupt', (_member, change) => {
    const sealed = sealWithKey(key, 1, ctx, text);
    try {
      openWithKey(key, { ...ctx, ...change }, sealed);
      expect.unreachable('opened under another context');
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'state_corrupt', message: 'ciphertext does not belong here' });
    }
  });

  it('refuses an unknown format version', () => {
    const sealed = sealWithKey(key, 1, ctx, text);
    sealed[0] = 2;
    expect(() => sealedKeyVersion(sealed)).toThrow(/unknown format version 2/);
  });

  it('throws TypeError for caller misuse', () => {
    expect(() => sealWithKey(randomBytes(16), 1, ctx, text)).toThrow(TypeError);
    expect(() => sealWithKey(key, 0, ctx, text)).toThrow(TypeError);
    expect(() => sealWithKey(key, 1.5, ctx, text)).toThrow(TypeError);
    expect(() => sealWithKey(key, 1, { ...ctx, tenantId: '' }, text)).toThrow(TypeError);
    expect(() => sealWithKey(key, 1, { ...ctx, turn: -1 }, text)).toThrow(TypeError);
    expect(() => sealWithKey(key, 1, ctx, 42 as unknown as string)).toThrow(TypeError);
    expect(() => openWithKey(key, ctx, 'not a buffer' as unknown as Buffer)).toThrow(TypeError);
  });
});
