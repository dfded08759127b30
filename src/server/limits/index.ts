export { ClusterStreams } from './cluster-streams.ts';
export type { LimitFallback } from './fallback.ts';
export { createRedisLimits, type RedisLimits, type RedisLimitsOptions } from './redis-limits.ts';
