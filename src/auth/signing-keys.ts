import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { AuditEventInput } from '../audit/event.ts';
import { systemActor } from '../audit/events.ts';
import type { Clock } from '../core/clock.ts';
import type { AuditBatch, SigningKeyRecord, Store } from '../store/port.ts';

export interface LoadedKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
  createdAt: string;
  retiredAt: string | null;
}

const RELOAD_INTERVAL_MS = 60_000;
const MIN_UNKNOWN_KID_RELOAD_MS = 1000;

/**
 * Ed25519 signing keys, persisted in the store so every node and every
 * restart signs and verifies with the same set. The newest unretired key
 * signs; retired keys still verify until tokens they signed have expired.
 */
export class SigningKeyring {
  readonly #store: Store;
  readonly #clock: Clock;
  #keys = new Map<string, LoadedKey>();
  #active: LoadedKey | null = null;
  #lastReload = 0;
  /** Real time of the last reload (`performance.now()`): the store-protecting throttle of `find` runs on it. */
  #lastReloadReal = Number.NEGATIVE_INFINITY;
  #pendingReload: Promise<void> | undefined;

  constructor(options: { store: Store; clock: Clock }) {
    this.#store = options.store;
    this.#clock = options.clock;
  }

  /** Load the keys, creating the first one when the store has none. */
  async init(): Promise<void> {
    await this.reload();
    if (this.#active === null) {
      const key = await this.#generate();
      await this.#store.insertSigningKey(key, null, this.#rotationAudit(key.kid, null));
      await this.reload();
    }
  }

  async reload(): Promise<void> {
    const records = await this.#store.listSigningKeys();
    const keys = new Map<string, LoadedKey>();
    for (const record of records) keys.set(record.kid, this.#keys.get(record.kid) ?? (await load(record)));
    for (const record of records) {
      const loaded = keys.get(record.kid)!;
      loaded.retiredAt = record.retiredAt;
    }
    this.#keys = keys;
    // Several nodes may race to create the first key: all pick the same one.
    const candidates = [...keys.values()].filter((key) => key.retiredAt === null);
    candidates.sort((a, b) =>
      a.createdAt === b.createdAt ? a.kid.localeCompare(b.kid) : a.createdAt < b.createdAt ? 1 : -1,
    );
    this.#active = candidates[0] ?? null;
    this.#lastReload = this.#clock.now();
    this.#lastReloadReal = performance.now();
  }

  /**
   * The signing key, re-read from the store at most once a minute so a
   * rotation made elsewhere (another node, the CLI) is adopted everywhere.
   */
  async current(): Promise<LoadedKey> {
    if (this.#clock.now() - this.#lastReload >= RELOAD_INTERVAL_MS) await this.reload();
    return this.active;
  }

  get active(): LoadedKey {
    if (this.#active === null) throw new TypeError('SigningKeyring: call init() first');
    return this.#active;
  }

  /**
   * The key for `kid`. An unknown kid may be a key another node has just made (several nodes starting on an
   * empty store each make one; a rotation elsewhere): it triggers a reload. Reloads for unknown kids run at most
   * once a second and are shared by concurrent lookups, so forged kids cannot make every request read the store;
   * a lookup that arrives sooner waits for the next one rather than failing a genuine token.
   */
  async find(kid: string): Promise<LoadedKey | undefined> {
    const known = this.#keys.get(kid);
    if (known) return known;
    this.#pendingReload ??= (async () => {
      const wait = MIN_UNKNOWN_KID_RELOAD_MS - (performance.now() - this.#lastReloadReal);
      if (wait > 0) await delay(wait);
      await this.reload();
    })().finally(() => {
      this.#pendingReload = undefined;
    });
    await this.#pendingReload;
    return this.#keys.get(kid);
  }

  /** Make a new key the signer; the old one keeps verifying. Returns the new kid. */
  async rotate(): Promise<{ previous: string; current: string }> {
    const previous = this.active.kid;
    const key = await this.#generate();
    await this.#store.insertSigningKey(key, previous, this.#rotationAudit(key.kid, previous));
    await this.reload();
    return { previous, current: this.active.kid };
  }

  /** The public JWK Set for `/.well-known/jwks.json`. */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.#keys.values()].map((key) => key.publicJwk) };
  }

  #rotationAudit(kid: string, previous: string | null): AuditBatch<void> {
    return {
      at: new Date(this.#clock.now()),
      events: () => [
        {
          action: 'signing_key.rotate',
          actor: systemActor,
          resource: { type: 'key', id: kid },
          outcome: 'success',
          detail: previous === null ? { first: true } : { previous: previous },
        } as AuditEventInput,
      ],
    };
  }

  async #generate(): Promise<SigningKeyRecord> {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const kid = `sk_${new Date(this.#clock.now()).toISOString().slice(0, 10).replaceAll('-', '')}_${randomBytes(6).toString('hex')}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' };
    return {
      kid,
      alg: 'EdDSA',
      privateJwk: JSON.stringify(privateJwk),
      publicJwk: JSON.stringify(publicJwk),
      createdAt: new Date(this.#clock.now()).toISOString(),
      retiredAt: null,
    };
  }
}

async function load(record: SigningKeyRecord): Promise<LoadedKey> {
  const publicJwk = JSON.parse(record.publicJwk) as JWK;
  return {
    kid: record.kid,
    privateKey: (await importJWK(JSON.parse(record.privateJwk) as JWK, 'EdDSA')) as CryptoKey,
    publicKey: (await importJWK(publicJwk, 'EdDSA')) as CryptoKey,
    publicJwk,
    createdAt: record.createdAt,
    retiredAt: record.retiredAt,
  };
}
