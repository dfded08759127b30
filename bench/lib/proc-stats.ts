/**
 * What a child process has used so far, read from Linux's /proc (cheap, no
 * dependency); `undefined` where /proc is not there.
 */
import { readFileSync } from 'node:fs';

export interface ProcessUsage {
  /** User + system CPU time since the process started, in seconds. */
  cpuSeconds: number;
  /** Resident set size now, in MiB. */
  rssMiB: number;
  /** Peak resident set size since the process started (VmHWM), in MiB. */
  peakRssMiB: number;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux port that Node runs on). */
const TICKS_PER_SECOND = 100;

export function processUsage(pid: number | undefined): ProcessUsage | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return {
      cpuSeconds: ticks / TICKS_PER_SECOND,
      rssMiB: kib('VmRSS') / 1024,
      peakRssMiB: kib('VmHWM') / 1024,
    };
  } catch {
    return undefined;
  }
}
