import { randomBytes } from 'node:crypto';

/** Random bytes drawn at once: 512 request ids per call into the CSPRNG. */
const POOL_BYTES = 4096;
const ID_BYTES = 8;

/**
 * A source of request ids, `req_` and 16 hex digits (64 random bits), cut from a pooled block of random bytes.
 * A `randomBytes(8)` per request costs a call into OpenSSL and a buffer each time, on the path of every request.
 *
 * @example
 * const nextId = requestIds();
 * nextId(); // → 'req_21db5038e355b3e1'
 */
export function requestIds(): () => string {
  let pool = Buffer.alloc(0);
  let at = 0;
  return () => {
    if (at + ID_BYTES > pool.length) {
      pool = randomBytes(POOL_BYTES);
      at = 0;
    }
    at += ID_BYTES;
    return `req_${pool.toString('hex', at - ID_BYTES, at)}`;
  };
}
