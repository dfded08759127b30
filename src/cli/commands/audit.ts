import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AuditTrail } from '../../audit/audit-trail.ts';
import { systemActor } from '../../audit/events.ts';
import { toFhirAuditEvent } from '../../audit/fhir.ts';
import { isTenantId } from '../../auth/secrets.ts';
import { loadConfig } from '../../config/index.ts';
import { asTenantId, type TenantId } from '../../core/types.ts';
import { openCore } from '../../server/runtime.ts';
import type { Store } from '../../store/port.ts';
import { type CliIo, UsageError } from '../io.ts';

export const auditHelp = `continuum audit <verify|report|export> [options]

  verify  [--tenant <id>]                 walk each audit chain (or one tenant's) and its
                                          signed checkpoints; exit 1 naming the first bad event
  report  [--tenant <id>] [--from <iso>] [--to <iso>]
                                          counts by action, actor and outcome over [from, to)
  export  [--tenant <id>] [--format fhir|json] [--out <file>]
                                          every event; fhir = one FHIR R4 AuditEvent per line
                                          (NDJSON), json = one event per line

Without --tenant, every chain is covered, including the system chain
(tnt_system: failed authentications, signing keys).`;

export async function audit(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      tenant: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string', default: 'fhir' },
      out: { type: 'string' },
    },
    strict: true,
  });
  if (action !== 'verify' && action !== 'report' && action !== 'export') {
    throw new UsageError(`unknown audit action ${JSON.stringify(action ?? '')}`);
  }
  if (values.tenant !== undefined && !isTenantId(values.tenant) && values.tenant !== 'tnt_system') {
    throw new UsageError(`--tenant must be a tenant id like tnt_…, got ${JSON.stringify(values.tenant)}`);
  }
  const core = await openCore(loadConfig(io.env));
  try {
    const tenants = await chains(core.store, values.tenant);
    switch (action) {
      case 'verify':
        return await verify(core.audit, tenants, io);
      case 'report':
        return await report(core.audit, tenants, values, io);
      case 'export':
        return await exportEvents(core.audit, tenants, values, io);
      default:
        throw new UsageError(`unknown audit action ${JSON.stringify(action ?? '')}`);
    }
  } finally {
    await core.store.close();
  }
}

async function chains(store: Store, tenant: string | undefined): Promise<TenantId[]> {
  return tenant === undefined ? store.listAuditTenants() : [asTenantId(tenant)];
}

async function verify(trail: AuditTrail, tenants: TenantId[], io: CliIo): Promise<number> {
  let failed = 0;
  for (const tenantId of tenants) {
    const result = await trail.verify(tenantId);
    await trail.record(tenantId, [
      {
        action: 'audit.verify',
        actor: systemActor,
        resource: { type: 'audit' },
        outcome: 'success',
        detail: { ok: result.ok, checked: result.checked, via: 'cli' },
      },
    ]);
    if (result.ok) {
      io.out(`${tenantId}: ok (${result.checked} events)`);
    } else {
      failed++;
      const bad = result.firstBad!;
      io.out(`${tenantId}: FAILED at seq ${bad.seq}: ${bad.reason} — ${bad.detail}`);
    }
  }
  if (tenants.length === 0) io.out('no audit chains yet');
  return failed === 0 ? 0 : 1;
}

async function report(
  trail: AuditTrail,
  tenants: TenantId[],
  values: { from?: string; to?: string },
  io: CliIo,
): Promise<number> {
  const parse = (name: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new UsageError(`--${name} must be an ISO 8601 date-time`);
    return date;
  };
  const from = parse('from', values.from);
  const to = parse('to', values.to);
  if (from && to && from > to) throw new UsageError('--from must not be after --to');
  const out: Record<string, unknown> = {};
  for (const tenantId of tenants) {
    out[tenantId] = await trail.report(tenantId, { ...(from ? { from } : {}), ...(to ? { to } : {}) });
  }
  io.out(JSON.stringify(out, null, 2));
  return 0;
}

async function exportEvents(
  trail: AuditTrail,
  tenants: TenantId[],
  values: { format?: string; out?: string },
  io: CliIo,
): Promise<number> {
  if (values.format !== 'fhir' && values.format !== 'json') throw new UsageError('--format must be fhir or json');
  const file = values.out === undefined ? null : createWriteStream(values.out, { mode: 0o600 });
  const write = (line: string) => (file ? file.write(`${line}\n`) : io.out(line));
  let count = 0;
  for (const tenantId of tenants) {
    for await (const event of trail.events(tenantId)) {
      write(JSON.stringify(values.format === 'fhir' ? toFhirAuditEvent(event, {}) : event));
      count++;
    }
    await trail.record(tenantId, [
      {
        action: 'audit.export',
        actor: systemActor,
        resource: { type: 'audit' },
        outcome: 'success',
        detail: { format: values.format, via: 'cli' },
      },
    ]);
  }
  if (file) {
    await new Promise<void>((resolve, reject) =>
      file.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    io.err(`exported ${count} events to ${values.out}`);
  }
  return 0;
}
