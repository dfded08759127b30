export { type Config, ConfigError, configWith, loadConfig, SETTINGS } from './load-config.ts';
