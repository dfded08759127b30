import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { base64url, decodeJwt, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { ADMIN_TOKEN } from '../../helpers/test-app.ts';
import { nastyText } from './arbitraries.ts';
import type { World } from './world.ts';

/**
 * Forged credentials. A forgery is described (`how`) and built against the
 * world (`build`): the JWT forgeries are signed with the server's real
 * signing key where the point is a wrong claim, so only the claim can be
 * the reason for the refusal.
 */
export interface Forgery {
  how: string;
  build(world: World): Promise<string | string[] | null>;
  /**
   * The server waits for its throttled key reload (at most one a second) before refusing an unknown kid;
   * such forgeries are sent to every route at once, so they share one wait.
   */
  unknownKid?: boolean;
  /** About the shape of the Authorization header, not the token: meaningless where a token travels alone. */
  headerOnly?: boolean;
}

const b64 = (value: unknown) => base64url.encode(JSON.stringify(value));

/** The claims of the world's owner token, re-timed to the world's clock. */
function claimsOf(world: World): JWTPayload {
  const claims = decodeJwt(world.a.owner.access_token);
  const now = Math.floor(world.t.clock.now() / 1000);
  return { ...claims, iat: now, nbf: now, exp: now + 600, jti: randomBytes(9).toString('base64url') };
}

async function signWith(world: World, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const key = await world.t.services.keyring.current();
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt', ...header })
    .sign(key.privateKey);
}

const tokenWith = (how: string, change: (claims: JWTPayload, world: World) => JWTPayload): Forgery => ({
  how,
  build: async (world) => `Bearer ${await signWith(world, change(claimsOf(world), world))}`,
});

const without = (claims: JWTPayload, name: string): JWTPayload =>
  Object.fromEntries(Object.entries(claims).filter(([key]) => key !== name));

/** Forged `Authorization` values for routes behind an access token; each must be `401`. */
export const FORGED_ACCESS: Forgery[] = [
  { how: 'no Authorization header', headerOnly: true, build: async () => null },
  { how: 'an empty header', headerOnly: true, build: async () => '' },
  { how: 'the scheme alone', headerOnly: true, build: async () => 'Bearer' },
  {
    how: 'the Basic scheme',
    headerOnly: true,
    build: async (w) => `Basic ${Buffer.from(`patient-1:${w.a.apiKey}`).toString('base64')}`,
  },
  { how: 'the token without a scheme', headerOnly: true, build: async (w) => w.a.owner.access_token },
  { how: 'two spaces after Bearer', headerOnly: true, build: async (w) => `Bearer  ${w.a.owner.access_token}` },
  { how: 'a CR LF and a header after the token', build: async (w) => `Bearer ${w.a.owner.access_token}\r\nX-Admin: 1` },
  { how: 'a NUL after the token', build: async (w) => `Bearer ${w.a.owner.access_token}\0` },
  // Node keeps the first of several Authorization headers; the junk one comes first.
  {
    how: 'two Authorization headers, junk first',
    headerOnly: true,
    build: async (w) => ['Bearer x', `Bearer ${w.a.owner.access_token}`],
  },
  { how: 'the API key as a bearer token', build: async (w) => `Bearer ${w.a.apiKey}` },
  { how: 'a refresh token as a bearer token', build: async (w) => `Bearer ${w.a.owner.refresh_token}` },
  { how: 'the operator token', build: async () => `Bearer ${ADMIN_TOKEN}` },
  {
    how: 'alg none',
    build: async (w) => `Bearer ${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claimsOf(w))}.`,
  },
  {
    how: 'alg none with the real kid',
    build: async (w) => {
      const key = await w.t.services.keyring.current();
      return `Bearer ${b64({ alg: 'none', kid: key.kid })}.${b64(claimsOf(w))}.`;
    },
  },
  {
    how: 'HS256 keyed with the public key (algorithm confusion)',
    build: async (w) => {
      const key = await w.t.services.keyring.current();
      const secret = new TextEncoder().encode(JSON.stringify(await exportJWK(key.publicKey)));
      return `Bearer ${await new SignJWT(claimsOf(w)).setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(secret)}`;
    },
  },
  {
    how: 'signed by another Ed25519 key under the real kid',
    build: async (w) => {
      const key = await w.t.services.keyring.current();
      const other = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      return `Bearer ${await new SignJWT(claimsOf(w)).setProtectedHeader({ alg: 'EdDSA', kid: key.kid }).sign(other.privateKey)}`;
    },
  },
  {
    how: 'the real signature over a changed payload',
    build: async (w) => {
      const [header, , signature] = w.a.owner.access_token.split('.');
      return `Bearer ${header}.${b64({ ...claimsOf(w), sub: 'patient-2' })}.${signature}`;
    },
  },
  {
    how: 'an unknown kid',
    unknownKid: true,
    build: async (w) => `Bearer ${await signWith(w, claimsOf(w), { kid: 'sk_unknown' })}`,
  },
  { how: 'no kid', build: async (w) => `Bearer ${await signWith(w, claimsOf(w), { kid: undefined })}` },
  tokenWith('a wrong audience', (c) => ({ ...c, aud: 'someone-else' })),
  tokenWith('a wrong issuer', (c) => ({ ...c, iss: 'https://evil.example' })),
  tokenWith('expired an hour ago', (c) => ({ ...c, exp: (c.iat ?? 0) - 3600, nbf: (c.iat ?? 0) - 7200 })),
  tokenWith('not valid before tomorrow', (c) => ({ ...c, nbf: (c.iat ?? 0) + 86_400 })),
  tokenWith('no subject', (c) => without(c, 'sub')),
  tokenWith('no tenant', (c) => without(c, 'tid')),
  tokenWith('no family', (c) => without(c, 'fid')),
  tokenWith('no jti', (c) => without(c, 'jti')),
  tokenWith('a malformed tenant', (c) => ({ ...c, tid: '../tnt_x' })),
  tokenWith('scope superuser', (c) => ({ ...c, scope: 'superuser' })),
  tokenWith('an unknown family', (c) => ({ ...c, fid: 'fam_doesnotexist000' })),
];

/** Random junk as a bearer token: text, JWT-shaped triples, huge values. */
export const junkBearer: fc.Arbitrary<string> = fc.oneof(
  nastyText().map((text) => `Bearer ${text}`),
  fc
    .array(fc.base64String({ maxLength: 60 }), { minLength: 3, maxLength: 3 })
    .map((parts) => `Bearer ${parts.join('.').replaceAll('=', '')}`),
  fc.integer({ min: 10_000, max: 200_000 }).map((n) => `Bearer ${'a'.repeat(n)}`),
  nastyText(),
);

/** Near misses of the operator token: each must be `401`. */
export const FORGED_OPERATOR: Forgery[] = [
  { how: 'no Authorization header', build: async () => null },
  { how: 'the token with its last character changed', build: async () => `Bearer ${ADMIN_TOKEN.slice(0, -1)}x` },
  { how: 'the token cut short', build: async () => `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
  { how: 'the token with a suffix', build: async () => `Bearer ${ADMIN_TOKEN}0` },
  { how: 'the token upper-cased', build: async () => `Bearer ${ADMIN_TOKEN.toUpperCase()}` },
  { how: 'the token with a CR LF', build: async () => `Bearer ${ADMIN_TOKEN}\r\n` },
  { how: 'the token without a scheme', build: async () => ADMIN_TOKEN },
  { how: "a tenant admin's access token", build: async (w) => `Bearer ${w.a.admin.access_token}` },
  { how: 'the API key', build: async (w) => `Bearer ${w.a.apiKey}` },
];
