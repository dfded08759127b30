/**
 * Every `CONTINUUM_*` setting: its parser, default and one-line description.
 * The README's settings table is checked against this list by a test.
 */
export interface SettingSpec<T> {
  env: string;
  default: T | undefined;
  description: string;
  parse(raw: string): T;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const fail = (env: string, message: string): never => {
  throw new ConfigError(`${env}: ${message}`);
};

export function integer(env: string, min: number, max: number) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw.trim())) fail(env, `expected a whole number, got ${JSON.stringify(raw)}`);
    const value = Number(raw.trim());
    if (value < min || value > max) fail(env, `must be between ${min} and ${max}, got ${value}`);
    return value;
  };
}

export function number(env: string, min: number, max: number) {
  return (raw: string): number => {
    const value = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(value)) fail(env, `expected a number, got ${JSON.stringify(raw)}`);
    if (value < min || value > max) fail(env, `must be between ${min} and ${max}, got ${value}`);
    return value;
  };
}

export function oneOf<const T extends string>(env: string, values: readonly T[]) {
  return (raw: string): T => {
    const value = raw.trim() as T;
    if (!values.includes(value)) fail(env, `must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
    return value;
  };
}

export function text(env: string, options: { minLength?: number } = {}) {
  return (raw: string): string => {
    const value = raw.trim();
    if (value.length < (options.minLength ?? 1)) {
      fail(env, `must be at least ${options.minLength ?? 1} characters`);
    }
    return value;
  };
}

/** A plain SQL identifier (letters, digits, underscore; not starting with a digit), e.g. a schema name. */
export function identifier(env: string) {
  return (raw: string): string => {
    const value = raw.trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(value)) {
      fail(env, `must be letters, digits and underscores (not starting with a digit), got ${JSON.stringify(raw)}`);
    }
    return value;
  };
}

export function host(env: string) {
  return (raw: string): string => {
    const value = raw.trim();
    if (!/^[A-Za-z0-9.:\-[\]]+$/.test(value)) fail(env, `not a host name or address: ${JSON.stringify(raw)}`);
    return value;
  };
}

export function url(env: string, protocols: readonly string[]) {
  return (raw: string): string => {
    let parsed: URL;
    try {
      parsed = new URL(raw.trim());
    } catch {
      return fail(env, `not a URL: ${JSON.stringify(raw)}`);
    }
    if (!protocols.includes(parsed.protocol)) fail(env, `must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
    return raw.trim();
  };
}

export function boolean(env: string) {
  return (raw: string): boolean => {
    const value = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    return fail(env, `expected true or false, got ${JSON.stringify(raw)}`);
  };
}
