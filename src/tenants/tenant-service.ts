import type { AuditTrail } from '../audit/audit-trail.ts';
import type { AuditActor } from '../audit/event.ts';
import { mintSecret, parseSecret, randomId } from '../auth/secrets.ts';
import type { Clock } from '../core/clock.ts';
import { asTenantId, type TenantId } from '../core/types.ts';
import { AppError } from '../errors/index.ts';
import type { Store } from '../store/port.ts';

export const TENANT_NAME = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** Tenants and their API keys; keys are shown once and stored only as hashes. */
export class TenantService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #audit: AuditTrail;

  constructor(options: { store: Store; clock: Clock; audit: AuditTrail }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#audit = options.audit;
  }

  async create(actor: AuditActor, name: string): Promise<{ tenantId: TenantId; name: string; apiKey: string }> {
    if (!TENANT_NAME.test(name)) {
      throw new AppError(
        'invalid_request',
        'name must be 2-63 characters of a-z, 0-9 and -, starting with a letter or digit',
      );
    }
    const tenantId = asTenantId(randomId('tnt'));
    const apiKey = mintSecret('ck', tenantId);
    const createdAt = new Date(this.#clock.now()).toISOString();
    const keyId = randomId('key');
    await this.#store.createTenant(
      { id: tenantId, name, createdAt },
      { id: keyId, tenantId, hash: parseSecret('ck', apiKey)!.hash, createdAt, revokedAt: null },
      this.#audit.batch(tenantId, () => [
        { action: 'tenant.create', actor, resource: { type: 'tenant', id: tenantId }, outcome: 'success' },
        { action: 'api_key.create', actor, resource: { type: 'api_key', id: keyId }, outcome: 'success' },
      ]),
    );
    return { tenantId, name, apiKey };
  }
}
