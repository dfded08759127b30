/** Markdown helpers of the benchmark reports. */
import { round } from './stats.ts';

export const ms = (value: number) => `${round(value)}`;
export const int = (value: number) => Math.round(value).toLocaleString('en-US');
export const pct = (value: number) => `${(value * 100).toFixed(1)} %`;
export const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
export const times = (value: number) => `× ${value.toFixed(2)}`;

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
