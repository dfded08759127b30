import { isTenantId } from '../auth/secrets.ts';
import { ConfigError } from '../config/schema.ts';
import { FLAG_NAMES, type FlagName, isFlagName } from './known-flags.ts';
import type { FlagRule } from './rollout.ts';

/** Longest allow-list of one flag. */
export const MAX_FLAG_TENANTS = 1000;

/** A flag's new state as an operator gives it (`PUT /v1/admin/flags/{name}`, `CONTINUUM_FLAGS`). */
export interface FlagInput {
  enabled: boolean;
  tenants?: readonly string[];
  /** Omitted: 0 when `tenants` are given (only they get it), else 100 (everyone). */
  percent?: number;
}

/** A flag named in `CONTINUUM_FLAGS`. */
export interface FlagSeed extends FlagRule {
  name: FlagName;
}

/**
 * The rule an input stands for: tenants de-duplicated and sorted, the
 * percentage defaulted. Calls `fail` with a sentence naming the first problem.
 */
export function ruleOf(input: FlagInput, fail: (problem: string) => never): FlagRule {
  const tenants = [...new Set(input.tenants ?? [])].sort();
  const bad = tenants.find((t) => !isTenantId(t));
  if (bad !== undefined) fail(`${JSON.stringify(bad.slice(0, 40))} is not a tenant id (tnt_ and 16 letters a-z, 2-7)`);
  if (tenants.length > MAX_FLAG_TENANTS) fail(`at most ${MAX_FLAG_TENANTS} tenants, got ${tenants.length}`);
  const percent = input.percent ?? (tenants.length > 0 ? 0 : 100);
  if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
    fail(`percent must be a number from 0 to 100, got ${JSON.stringify(percent)}`);
  }
  return { enabled: input.enabled, tenants, percent };
}

/**
 * Parse `CONTINUUM_FLAGS`: either a JSON object
 * (`{"sync":false,"retrieval":{"percent":25,"tenants":["tnt_…"]}}`; a value is
 * `true`, `false` or `{ "enabled"?, "tenants"?, "percent"? }` with `enabled`
 * defaulting to true), or the compact form `name=value,…` where a value is
 * `on`, `off`, or `|`-separated `N%` and tenant ids (`retrieval=25%|tnt_…`).
 * Throws an `Error` whose message names the problem.
 *
 * @example
 * parseFlags('sync=off,retrieval=10%');
 * // [{ name: 'sync', enabled: false, tenants: [], percent: 100 }, { name: 'retrieval', enabled: true, tenants: [], percent: 10 }]
 */
export function parseFlags(raw: string): FlagSeed[] {
  const text = raw.trim();
  const entries = text.startsWith('{') ? jsonEntries(text) : compactEntries(text);
  const seen = new Set<string>();
  return entries.map(([name, input]) => {
    if (!isFlagName(name)) throw new Error(`unknown flag ${JSON.stringify(name)}; known: ${FLAG_NAMES.join(', ')}`);
    if (seen.has(name)) throw new Error(`flag ${name} is given twice`);
    seen.add(name);
    const rule = ruleOf(input, (problem) => {
      throw new Error(`flag ${name}: ${problem}`);
    });
    return { name, ...rule };
  });
}

function jsonEntries(text: string): [string, FlagInput][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
  return Object.entries(parsed).map(([name, value]): [string, FlagInput] => {
    if (typeof value === 'boolean') return [name, { enabled: value }];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error(`flag ${name}: expected true, false or { "enabled", "tenants", "percent" }`);
    }
    const { enabled = true, tenants, percent, ...rest } = value as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw new Error(`flag ${name}: unknown field ${JSON.stringify(extra)}`);
    if (typeof enabled !== 'boolean') throw new Error(`flag ${name}: enabled must be true or false`);
    if (tenants !== undefined && (!Array.isArray(tenants) || tenants.some((t) => typeof t !== 'string'))) {
      throw new Error(`flag ${name}: tenants must be an array of tenant ids`);
    }
    if (percent !== undefined && typeof percent !== 'number') {
      throw new Error(`flag ${name}: percent must be a number from 0 to 100`);
    }
    return [
      name,
      { enabled, ...(tenants === undefined ? {} : { tenants }), ...(percent === undefined ? {} : { percent }) },
    ];
  });
}

function compactEntries(text: string): [string, FlagInput][] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry): [string, FlagInput] => {
      const eq = entry.indexOf('=');
      if (eq <= 0) throw new Error(`expected name=value, got ${JSON.stringify(entry)}`);
      const name = entry.slice(0, eq).trim();
      const value = entry.slice(eq + 1).trim();
      if (value === 'on') return [name, { enabled: true }];
      if (value === 'off') return [name, { enabled: false }];
      const tenants: string[] = [];
      let percent: number | undefined;
      for (const item of value.split('|').map((part) => part.trim())) {
        const share = /^(\d+(?:\.\d+)?)%$/.exec(item);
        if (share) {
          if (percent !== undefined) throw new Error(`flag ${name}: more than one percentage`);
          percent = Number(share[1]);
        } else if (item !== '') {
          tenants.push(item);
        } else {
          throw new Error(
            `flag ${name}: expected on, off, or N% and tenant ids separated by |, got ${JSON.stringify(value)}`,
          );
        }
      }
      return [name, { enabled: true, tenants, ...(percent === undefined ? {} : { percent }) }];
    });
}

/** The `CONTINUUM_FLAGS` setting's parser: {@link parseFlags}, failing with a `ConfigError` that names the setting. */
export function flagsSetting(env: string) {
  return (raw: string): readonly FlagSeed[] => {
    try {
      return Object.freeze(parseFlags(raw));
    } catch (error) {
      throw new ConfigError(`${env}: ${(error as Error).message}`);
    }
  };
}
