export { type FlagInput, type FlagSeed, flagsSetting, MAX_FLAG_TENANTS, parseFlags, ruleOf } from './flag-input.ts';
export { FlagService, type FlagServiceOptions, type FlagView } from './flag-service.ts';
export { FLAG_NAMES, type FlagName, isFlagName, KNOWN_FLAGS } from './known-flags.ts';
export { type FlagRule, isOnFor, rolloutBucket } from './rollout.ts';
