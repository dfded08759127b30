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

  constructor(options: { store: Store; clock: Clock }) {
    this.#store = options.store;
    this.#clock = options.clock;
  }

  async create(name: string): Promise<{ tenantId: TenantId; name: string; apiKey: string }> {
    if (!TENANT_NAME.test(name)) {
      throw new AppError(
        'invalid_request',
        'name must be 2-63 characters of a-z, 0-9 and -, starting with a letter or digit',
      );
    }
    const tenantId = asTenantId(randomId('tnt'));
    const apiKey = mintSecret('ck', tenantId);
    const createdAt = new Date(this.#clock.now()).toISOString();
    await this.#store.createTenant(
      { id: tenantId, name, createdAt },
      { id: randomId('key'), tenantId, hash: parseSecret('ck', apiKey)!.hash, createdAt, revokedAt: null },
    );
    return { tenantId, name, apiKey };
  }
}
