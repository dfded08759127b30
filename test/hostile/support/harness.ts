import type { LightMyRequestResponse } from 'fastify';
import type { ErrorCode } from '../../../src/errors/codes.ts';
import { expectRefusal } from './refusal.ts';
import { type Operation, send, type Variant } from './routes.ts';
import { expectNoStateChange, snapshot, type World } from './world.ts';

/**
 * Send one hostile variant of `op`'s valid call and hold it to the rule:
 * a 4xx problem document with one of `codes` (any code of the table when
 * omitted), and no state change. Returns the response.
 */
export async function expectRefused(
  world: World,
  op: Operation,
  variant: Variant,
  label: string,
  codes?: readonly ErrorCode[],
): Promise<LightMyRequestResponse> {
  const before = world.settled ?? (await snapshot(world));
  world.settled = undefined;
  const res = await send(world, op, variant);
  expectRefusal(res, `${op.key} with ${label}`, codes);
  world.settled = await expectNoStateChange(world, before, `${op.key} with ${label}`);
  return res;
}

/** A short, printable description of a hostile value for test labels. */
export function show(value: unknown, max = 120): string {
  const text =
    typeof value === 'string' ? value : Buffer.isBuffer(value) ? `<${value.length} bytes>` : JSON.stringify(value);
  const printable = JSON.stringify(text ?? String(value));
  return printable.length > max ? `${printable.slice(0, max)}…(${printable.length} chars)` : printable;
}
