export { type Config, ConfigError, configWith, loadConfig, SETTINGS, unknownSettings } from './load-config.ts';
