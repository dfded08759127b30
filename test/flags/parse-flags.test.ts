import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { parseFlags } from '../../src/flags/index.ts';

const A = 'tnt_aaaaaaaaaaaaaaaa';
const B = 'tnt_bbbbbbbbbbbbbbbb';

describe('CONTINUUM_FLAGS', () => {
  it('reads the compact form: on, off, a percentage, tenant ids, or both', () => {
    expect(parseFlags(`sync=off, retrieval=25%, model-context=${A}|${B}`)).toEqual([
      { name: 'sync', enabled: false, tenants: [], percent: 100 },
      { name: 'retrieval', enabled: true, tenants: [], percent: 25 },
      { name: 'model-context', enabled: true, tenants: [A, B], percent: 0 },
    ]);
    expect(parseFlags(`retrieval=${B}|12.5%|${A}`)).toEqual([
      { name: 'retrieval', enabled: true, tenants: [A, B], percent: 12.5 },
    ]);
    expect(parseFlags('sync=on')).toEqual([{ name: 'sync', enabled: true, tenants: [], percent: 100 }]);
  });

  it('reads the JSON form: true, false or an object whose enabled defaults to true', () => {
    expect(parseFlags(`{"sync": false, "retrieval": {"percent": 40}, "model-context": {"tenants": ["${A}"]}}`)).toEqual(
      [
        { name: 'sync', enabled: false, tenants: [], percent: 100 },
        { name: 'retrieval', enabled: true, tenants: [], percent: 40 },
        { name: 'model-context', enabled: true, tenants: [A], percent: 0 },
      ],
    );
    expect(parseFlags('{"retrieval": {"enabled": false, "percent": 0}}')).toEqual([
      { name: 'retrieval', enabled: false, tenants: [], percent: 0 },
    ]);
  });

  it.each([
    ['sync=maybe', /tenant id/],
    ['sync', /expected name=value/],
    ['syncing=on', /unknown flag "syncing"; known: model-context, retrieval, sync/],
    ['sync=on,sync=off', /given twice/],
    ['retrieval=150%', /percent must be a number from 0 to 100, got 150/],
    ['retrieval=10%|20%', /more than one percentage/],
    ['retrieval=tnt_short', /not a tenant id/],
    ['{"sync": "off"}', /expected true, false or/],
    ['{"sync": {"enabled": "yes"}}', /enabled must be true or false/],
    ['{"sync": {"percent": "10"}}', /percent must be a number/],
    ['{"sync": {"tenant": []}}', /unknown field "tenant"/],
    ['{"sync": true', /not valid JSON/],
  ])('refuses %s, saying why', (raw, message) => {
    expect(() => parseFlags(raw)).toThrow(message);
  });

  it('stops the start with a message that names the setting', () => {
    expect(() => loadConfig({ CONTINUUM_FLAGS: 'retrieval=off,nope=on' })).toThrow(ConfigError);
    expect(() => loadConfig({ CONTINUUM_FLAGS: 'retrieval=off,nope=on' })).toThrow(
      /CONTINUUM_FLAGS: unknown flag "nope"/,
    );
    expect(loadConfig({ CONTINUUM_FLAGS: 'retrieval=off' }).flags).toEqual([
      { name: 'retrieval', enabled: false, tenants: [], percent: 100 },
    ]);
    expect(loadConfig({}).flags).toBeUndefined();
  });
});
