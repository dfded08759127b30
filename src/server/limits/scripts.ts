import type { Redis } from 'ioredis';

/**
 * One token bucket, refilled and taken from atomically. KEYS[1] is a hash
 * {tokens, at}; ARGV: now (ms), rate (tokens/s), capacity, linger (ms).
 * Returns 0 when a token was taken, else the ms until one will be there.
 * The key expires once the bucket would be full again (plus `linger`):
 * a full bucket holds no information.
 */
const TAKE_TOKEN = `
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local linger = tonumber(ARGV[4])
local tokens = capacity
local at = now
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
if bucket[1] and bucket[2] then
  tokens = tonumber(bucket[1])
  at = tonumber(bucket[2])
  if now > at then
    tokens = math.min(capacity, tokens + (now - at) / 1000 * rate)
    at = now
  end
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.max(1, math.ceil((1 - tokens) / rate * 1000))
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', at))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + linger)
return wait
`;

/**
 * One tenant's sessions: KEYS[1] is a sorted set of conversation ids scored
 * by last-seen ms; ARGV: now (ms), idle TTL (ms), max (0 = none), id.
 * Drops idle entries, then refreshes the id if present, refuses if the set
 * is full, else adds it. Returns 0 when the session is active, else the ms
 * until the oldest session goes idle. The key expires with its newest entry.
 */
const TOUCH_SESSION = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
local seen = redis.call('ZSCORE', KEYS[1], ARGV[4])
if seen then
  seen = math.max(tonumber(seen), now)
else
  if max > 0 and redis.call('ZCARD', KEYS[1]) >= max then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return math.max(1, math.ceil(tonumber(oldest[2]) + ttl - now))
  end
  seen = now
end
redis.call('ZADD', KEYS[1], string.format('%.17g', seen), ARGV[4])
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(tonumber(newest[2]) + ttl - now)))
return 0
`;

/**
 * One tenant's generation slots across nodes: KEYS[1] is a sorted set of
 * lease ids scored by their expiry (Redis's own clock, so nodes' clocks do
 * not matter); ARGV: lease TTL (ms), limit, lease id. Drops expired leases
 * (a node that died holding one), then takes a slot if one is free.
 * Returns 1 when taken, 0 when all are held.
 */
const TAKE_SLOT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`;

/** Extends a held lease (KEYS[1], ARGV: TTL ms, lease id); returns 0 if it had already expired and been dropped. */
const RENEW_SLOT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[1])
local renewed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + ttl, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
return renewed
`;

/** The limits' Lua scripts bound to one connection (EVALSHA, re-sent as EVAL after a Redis restart). */
export interface LimitScripts {
  takeToken(key: string, now: number, rate: number, capacity: number, lingerMs: number): Promise<number>;
  touchSession(key: string, now: number, idleTtlMs: number, max: number, id: string): Promise<number>;
  takeSlot(key: string, ttlMs: number, limit: number, lease: string): Promise<number>;
  renewSlot(key: string, ttlMs: number, lease: string): Promise<number>;
}

type ScriptCommand = (...args: (string | number)[]) => Promise<unknown>;

/** Define the scripts on `client` (idempotent) and return typed callers. */
export function limitScripts(client: Redis): LimitScripts {
  client.defineCommand('continuumTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
  client.defineCommand('continuumTouchSession', { numberOfKeys: 1, lua: TOUCH_SESSION });
  client.defineCommand('continuumTakeSlot', { numberOfKeys: 1, lua: TAKE_SLOT });
  client.defineCommand('continuumRenewSlot', { numberOfKeys: 1, lua: RENEW_SLOT });
  const commands = client as unknown as Record<
    'continuumTakeToken' | 'continuumTouchSession' | 'continuumTakeSlot' | 'continuumRenewSlot',
    ScriptCommand
  >;
  return {
    takeToken: async (key, now, rate, capacity, lingerMs) =>
      Number(await commands.continuumTakeToken(key, now, rate, capacity, lingerMs)),
    touchSession: async (key, now, idleTtlMs, max, id) =>
      Number(await commands.continuumTouchSession(key, now, idleTtlMs, max, id)),
    takeSlot: async (key, ttlMs, limit, lease) => Number(await commands.continuumTakeSlot(key, ttlMs, limit, lease)),
    renewSlot: async (key, ttlMs, lease) => Number(await commands.continuumRenewSlot(key, ttlMs, lease)),
  };
}
