import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, buildTestApp, type TestApp, type TokenPair } from '../helpers/test-app.ts';
import { createConversation, expectProblem, refresh } from '../http/fixtures.ts';

const MINUTE = 60_000;
const apps: TestApp[] = [];
async function app(options: Parameters<typeof buildTestApp>[0] = {}) {
  const built = await buildTestApp(options);
  apps.push(built);
  return built;
}
afterEach(async () => {
  for (const built of apps.splice(0).reverse()) await built.close();
});

/** A route behind the access-token check that changes nothing. */
const probe = (t: TestApp, token: string) => t.request({ method: 'GET', url: '/v1/conversations', token });

async function setup(options: Parameters<typeof buildTestApp>[0] = {}) {
  const t = await app(options);
  const tenant = await t.createTenant();
  const pair = await t.token(tenant.apiKey, 'patient-7');
  return { t, tenant, pair };
}

describe('token grants (RFC 6749 shapes, ADR-001)', () => {
  it('answers the api_key grant with access_token, token_type Bearer, expires_in 1800, refresh_token, refresh_expires_in and scope', async () => {
    const t = await app();
    const { apiKey } = await t.createTenant();
    const res = await t.request({
      method: 'POST',
      url: '/v1/auth/token',
      body: { grant_type: 'api_key', api_key: apiKey, subject: 'patient-7', scope: 'conversations' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(
      ['access_token', 'expires_in', 'refresh_expires_in', 'refresh_token', 'scope', 'token_type'].sort(),
    );
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 1800, scope: 'conversations' });
    expect(body.refresh_expires_in).toBe(43_200);
    expect(body.refresh_token).not.toBe(body.access_token);
  });

  it('issues EdDSA JWTs with iss, aud, sub, tid, jti, a 30-minute exp and the kid of the active key in the header', async () => {
    const { t, tenant, pair } = await setup();
    const header = decodeProtectedHeader(pair.access_token);
    expect(header).toMatchObject({ alg: 'EdDSA', kid: t.services.keyring.active.kid });
    const claims = decodeJwt(pair.access_token);
    expect(claims).toMatchObject({ iss: 'continuum', aud: 'continuum-api', sub: 'patient-7', tid: tenant.tenantId });
    expect(claims.iat).toBe(Math.floor(t.clock.now() / 1000));
    expect(claims.exp! - claims.iat!).toBe(1800);
    expect(typeof claims.jti).toBe('string');
    const second = await t.token(tenant.apiKey, 'patient-7');
    expect(decodeJwt(second.access_token).jti).not.toBe(claims.jti);
  });

  it('lists the signing kid in /.well-known/jwks.json as a public Ed25519 key with no private part', async () => {
    const { t, pair } = await setup();
    const res = await t.request({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    const keys = res.json().keys as Record<string, unknown>[];
    const kid = decodeProtectedHeader(pair.access_token).kid;
    const key = keys.find((k) => k['kid'] === kid);
    expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    for (const k of keys) expect(k).not.toHaveProperty('d');
  });

  it('rotates the refresh token on each refresh; the spent one presented again → 401 refresh_reused', async () => {
    const { t, pair } = await setup();
    const first = await refresh(t, pair.refresh_token);
    expect(first.statusCode).toBe(200);
    const next = first.json() as TokenPair;
    expect(next.refresh_token).not.toBe(pair.refresh_token);
    expect((await probe(t, next.access_token)).statusCode).toBe(200);
    expectProblem(await refresh(t, pair.refresh_token), 401, 'refresh_reused');
  });

  it('revokes the whole family on reuse: the rotated refresh token and every access token of the family are refused; another family is not', async () => {
    const { t, tenant, pair } = await setup();
    const other = await t.token(tenant.apiKey, 'patient-7');
    const next = (await refresh(t, pair.refresh_token)).json() as TokenPair;
    expect((await probe(t, pair.access_token)).statusCode).toBe(200);
    expect((await probe(t, next.access_token)).statusCode).toBe(200);

    expectProblem(await refresh(t, pair.refresh_token), 401, 'refresh_reused');
    const rotated = await refresh(t, next.refresh_token);
    expect(rotated.statusCode, 'the refresh token issued by the rotation dies with its family').toBe(401);
    expect(['invalid_grant', 'refresh_reused']).toContain(rotated.json().code);
    expectProblem(await probe(t, pair.access_token), 401, 'token_invalid');
    expectProblem(await probe(t, next.access_token), 401, 'token_invalid');

    expect((await probe(t, other.access_token)).statusCode).toBe(200);
    expect((await refresh(t, other.refresh_token)).statusCode).toBe(200);
  });

  it('revokes a family through POST /v1/auth/revoke: 200, then its refresh → 401 invalid_grant and its access token → 401', async () => {
    const { t, pair } = await setup();
    expect((await probe(t, pair.access_token)).statusCode).toBe(200);
    const res = await t.request({ method: 'POST', url: '/v1/auth/revoke', body: { token: pair.refresh_token } });
    expect(res.statusCode).toBe(200);
    expectProblem(await refresh(t, pair.refresh_token), 401, 'invalid_grant');
    expectProblem(await probe(t, pair.access_token), 401, 'token_invalid');
    const unknown = await t.request({ method: 'POST', url: '/v1/auth/revoke', body: { token: 'not-a-token' } });
    expect(unknown.statusCode, 'RFC 7009: an unknown token is not an error').toBe(200);
  });

  it('refuses bad credentials with 401 invalid_grant', async () => {
    const { t, tenant } = await setup();
    const attempts = [
      { grant_type: 'api_key', api_key: 'ck_wrong', subject: 'p' },
      { grant_type: 'api_key', api_key: `ck.${tenant.tenantId}.${'A'.repeat(43)}`, subject: 'p' },
      { grant_type: 'refresh_token', refresh_token: 'garbage' },
      { grant_type: 'refresh_token', refresh_token: `crt.${tenant.tenantId}.${'B'.repeat(43)}` },
    ];
    for (const body of attempts) {
      expectProblem(await t.request({ method: 'POST', url: '/v1/auth/token', body }), 401, 'invalid_grant');
    }
  });

  it('refuses malformed grant requests with 400 invalid_request', async () => {
    const { t, tenant, pair } = await setup();
    const bodies: unknown[] = [
      {},
      { grant_type: 'password', username: 'a', password: 'b' },
      { grant_type: 'api_key', api_key: tenant.apiKey },
      { grant_type: 'api_key', api_key: tenant.apiKey, subject: 'p', scope: 'everything' },
      { grant_type: 'api_key', api_key: tenant.apiKey, subject: 'p', extra: true },
      { grant_type: 'api_key', api_key: tenant.apiKey, subject: 'p', refresh_token: pair.refresh_token },
      { grant_type: 'refresh_token' },
      { grant_type: 'refresh_token', refresh_token: pair.refresh_token, subject: 'p' },
      '{"grant_type":',
    ];
    for (const body of bodies) {
      const res = await t.request({
        method: 'POST',
        url: '/v1/auth/token',
        body: body as string,
        headers: { 'content-type': 'application/json' },
      });
      expectProblem(res, 400, 'invalid_request');
    }
  });
});

describe('refused access tokens: every one → 401 problem+json with WWW-Authenticate', () => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  /** The real token's claims re-signed by the server's own active key, with `changes`. */
  async function resign(t: TestApp, token: string, changes: JWTPayload, header: Record<string, unknown> = {}) {
    const key = t.services.keyring.active;
    return new SignJWT({ ...decodeJwt(token), ...changes })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt', ...header })
      .sign(key.privateKey);
  }

  type Craft = (t: TestApp, token: string) => Promise<Record<string, string>>;
  const bearer = (value: string) => ({ authorization: `Bearer ${value}` });
  const now = (t: TestApp) => Math.floor(t.clock.now() / 1000);
  const cases: [string, Craft, string][] = [
    [
      'alg=none with an empty signature',
      async (t, token) => {
        const kid = t.services.keyring.active.kid;
        return bearer(`${b64({ alg: 'none', typ: 'JWT', kid })}.${token.split('.')[1]}.`);
      },
      'token_invalid',
    ],
    ['a wrong aud', async (t, token) => bearer(await resign(t, token, { aud: 'another-api' })), 'token_invalid'],
    ['a wrong iss', async (t, token) => bearer(await resign(t, token, { iss: 'evil-issuer' })), 'token_invalid'],
    [
      'a tampered signature',
      async (_t, token) => {
        const [h, p, s] = token.split('.') as [string, string, string];
        const i = Math.floor(s.length / 2);
        return bearer(`${h}.${p}.${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`);
      },
      'token_invalid',
    ],
    [
      'a tampered payload (sub changed, signature kept)',
      async (_t, token) => {
        const [h, , s] = token.split('.') as [string, string, string];
        return bearer(`${h}.${b64({ ...decodeJwt(token), sub: 'patient-8' })}.${s}`);
      },
      'token_invalid',
    ],
    [
      'an expired token',
      async (t, token) => bearer(await resign(t, token, { iat: now(t) - 3600, nbf: now(t) - 3600, exp: now(t) - 60 })),
      'token_expired',
    ],
    [
      'an unknown kid',
      async (_t, token) => {
        const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
        const signed = await new SignJWT({ ...decodeJwt(token), jti: 'unknown-kid' })
          .setProtectedHeader({ alg: 'EdDSA', kid: 'sk_unknown_000000', typ: 'at+jwt' })
          .sign(privateKey);
        return bearer(signed);
      },
      'token_invalid',
    ],
    [
      'HS256 signed with some secret',
      async (t, token) => {
        const signed = await new SignJWT(decodeJwt(token))
          .setProtectedHeader({ alg: 'HS256', kid: t.services.keyring.active.kid })
          .sign(new TextEncoder().encode('some-shared-secret-of-32-bytes!!'));
        return bearer(signed);
      },
      'token_invalid',
    ],
    [
      'HS256 signed with the public key as the secret',
      async (t, token) => {
        const jwk = await exportJWK(t.services.keyring.active.publicKey);
        const signed = await new SignJWT(decodeJwt(token))
          .setProtectedHeader({ alg: 'HS256', kid: t.services.keyring.active.kid })
          .sign(Buffer.from(jwk.x!, 'base64url'));
        return bearer(signed);
      },
      'token_invalid',
    ],
    ['a garbage string', async () => bearer('not.a.jwt'), 'token_invalid'],
    ['no Authorization header', async () => ({}), 'token_invalid'],
    [
      'the Basic scheme',
      async () => ({ authorization: `Basic ${Buffer.from('patient-7:pw').toString('base64')}` }),
      'token_invalid',
    ],
  ];

  it('accepts a re-signed copy that changes only the jti (so each refusal below is due to its one change)', async () => {
    const { t, pair } = await setup();
    const control = await resign(t, pair.access_token, { jti: 'control-copy' });
    expect(control).not.toBe(pair.access_token);
    expect((await t.request({ method: 'GET', url: '/v1/conversations', headers: bearer(control) })).statusCode).toBe(
      200,
    );
  });

  it.each(cases)('refuses %s', async (_name, craft, code) => {
    const { t, pair } = await setup();
    const headers = await craft(t, pair.access_token);
    const res = await t.request({ method: 'GET', url: '/v1/conversations', headers });
    expectProblem(res, 401, code);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  });
});

describe('signing keys', () => {
  it('rotation keeps tokens of the old kid valid until they expire, and new tokens carry the new kid', async () => {
    const { t, tenant, pair: old } = await setup();
    const oldKid = decodeProtectedHeader(old.access_token).kid;
    const rotated = await t.request({ method: 'POST', url: '/v1/admin/signing-keys/rotate', token: ADMIN_TOKEN });
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json()).toMatchObject({ previous: oldKid });
    const newKid = rotated.json().current as string;
    expect(newKid).not.toBe(oldKid);

    const fresh = await t.token(tenant.apiKey, 'patient-7');
    expect(decodeProtectedHeader(fresh.access_token).kid).toBe(newKid);
    // The old token was never seen before the rotation, so this checks its signature against the retired key.
    expect((await probe(t, old.access_token)).statusCode).toBe(200);
    expect((await probe(t, fresh.access_token)).statusCode).toBe(200);
    const jwks = (await t.request({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));

    t.clock.advance(31 * MINUTE);
    expectProblem(await probe(t, old.access_token), 401, 'token_expired');
  });

  it('a second app instance on the same data dir verifies tokens and refresh tokens issued by the first', async () => {
    const { t, tenant, pair } = await setup();
    const id = await createConversation(t, pair.access_token);
    const t2 = await app({ dataDir: t.dataDir, clock: t.clock });
    const got = await t2.request({ method: 'GET', url: `/v1/conversations/${id}`, token: pair.access_token });
    expect(got.statusCode).toBe(200);
    const fromSecond = await t2.token(tenant.apiKey, 'patient-7');
    expect((await probe(t, fromSecond.access_token)).statusCode).toBe(200);
    expect((await refresh(t2, pair.refresh_token)).statusCode).toBe(200);
    expectProblem(await refresh(t, pair.refresh_token), 401, 'refresh_reused');
  });

  it('ends refreshes with 401 invalid_grant when the family reaches its absolute lifetime (CONTINUUM_REFRESH_FAMILY_TTL)', async () => {
    const { t, tenant, pair } = await setup({ config: { refreshFamilyTtl: 3600, refreshTokenTtl: 3000 } });
    expect(pair.refresh_expires_in).toBe(3000);
    t.clock.advance(2900_000);
    const first = await refresh(t, pair.refresh_token);
    expect(first.statusCode).toBe(200);
    expect(first.json().refresh_expires_in, 'capped by the family lifetime').toBe(700);
    t.clock.advance(699_000);
    const last = await refresh(t, first.json().refresh_token);
    expect(last.statusCode).toBe(200);
    t.clock.advance(1000);
    expectProblem(await refresh(t, last.json().refresh_token), 401, 'invalid_grant');
    expect((await t.token(tenant.apiKey, 'patient-7')).access_token).toBeTruthy();
  });

  it('operator routes refuse a user token (even admin scope) and a missing token with 401', async () => {
    const { t, tenant, pair } = await setup();
    const admin = await t.token(tenant.apiKey, 'ops', 'admin');
    for (const token of [pair.access_token, admin.access_token, undefined]) {
      const created = await t.request({
        method: 'POST',
        url: '/v1/admin/tenants',
        ...(token === undefined ? {} : { token }),
        body: { name: 'sneaky-tenant' },
      });
      expect(created.statusCode).toBe(401);
      expect(created.headers['content-type']).toMatch(/^application\/problem\+json/);
      const rotated = await t.request({
        method: 'POST',
        url: '/v1/admin/signing-keys/rotate',
        ...(token === undefined ? {} : { token }),
      });
      expect(rotated.statusCode).toBe(401);
    }
    const jwks = (await t.request({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    expect(jwks.keys).toHaveLength(1);
    await expect(t.createTenant('sneaky-tenant')).resolves.toMatchObject({ name: 'sneaky-tenant' });
  });
});
