import { parseArgs } from 'node:util';
import { operatorActor } from '../../audit/events.ts';
import { loadConfig } from '../../config/index.ts';
import { systemClock } from '../../core/clock.ts';
import { openCore } from '../../server/runtime.ts';
import { TenantService } from '../../tenants/tenant-service.ts';
import { type CliIo, UsageError } from '../io.ts';

export const tenantsHelp = `continuum tenants create --name <name> [--json]

Create a tenant and print its id and API key. The API key is shown once; only
its hash is stored. Names are 2-63 characters of a-z, 0-9 and -.

  --name   the tenant's unique name, e.g. acme-clinic
  --json   print {"tenantId","name","apiKey"} as JSON`;

export async function tenants(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'create') throw new UsageError(`unknown tenants action ${JSON.stringify(action ?? '')}`);
  const { values } = parseArgs({
    args: rest,
    options: { name: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  if (!values.name) throw new UsageError('--name is required');
  const { store, audit } = await openCore(loadConfig(io.env));
  try {
    const created = await new TenantService({ store, clock: systemClock, audit }).create(operatorActor(), values.name);
    if (values.json) io.out(JSON.stringify(created));
    else
      io.out(
        `tenant ${created.name} created\n  tenantId: ${created.tenantId}\n  apiKey:   ${created.apiKey}  (shown once)`,
      );
    return 0;
  } finally {
    await store.close();
  }
}
