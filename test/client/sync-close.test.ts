import { describe, expect, it } from 'vitest';
import { ContinuumError } from '../../src/client/index.ts';
import { decideOnClose } from '../../src/client/sync-close.ts';

describe('what the sync client does at each close code', () => {
  it('stops at 4004 with not_found and at 1008 with the error frame that preceded it', () => {
    expect(decideOnClose(4004, undefined, 1)).toMatchObject({
      kind: 'stop',
      error: { code: 'not_found', status: 404 },
    });
    const off = new ContinuumError({
      code: 'not_implemented',
      status: 501,
      detail: 'Sync is turned off for this tenant',
    });
    expect(decideOnClose(1008, off, 1)).toEqual({ kind: 'stop', error: off });
    expect(decideOnClose(1008, undefined, 1)).toMatchObject({ kind: 'stop', error: { code: 'sync_closed' } });
  });

  it('renews the token at 4001 and resumes at once; 4008 resumes at once; repeated, they back off', () => {
    expect(decideOnClose(4001, undefined, 1)).toEqual({ kind: 'reconnect', renew: true, immediate: true });
    expect(decideOnClose(4008, undefined, 1)).toEqual({ kind: 'reconnect', renew: false, immediate: true });
    expect(decideOnClose(4001, undefined, 2)).toEqual({ kind: 'reconnect', renew: true, immediate: false });
  });

  it('backs off after 1012, 1011, 1013 and an abnormal close; 1009 also drops the appends in flight', () => {
    for (const code of [1012, 1011, 1013, 1006, 1000]) {
      expect(decideOnClose(code, undefined, 1)).toEqual({ kind: 'reconnect', renew: false, immediate: false });
    }
    expect(decideOnClose(1009, undefined, 1)).toMatchObject({
      kind: 'reconnect',
      immediate: false,
      rejectInFlight: { code: 'payload_too_large' },
    });
  });
});
