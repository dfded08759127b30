export { type ExportOptions, exportTenants } from './export.ts';
export {
  COUNT_NAMES,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type ExportLine,
  SESSION_ID_SECRET,
  type TransferCounts,
  type TransferProgress,
  zeroCounts,
} from './format.ts';
export { type ImportOptions, type ImportResult, importStream } from './import.ts';
export { readLines } from './lines.ts';
export { parseLine } from './parse.ts';
