/**
 * How long a thread has waited for a CPU, read from Linux's
 * `/proc/thread-self/schedstat`: its second field is the time the thread
 * spent runnable but not running (queued for a CPU behind other tasks), in
 * nanoseconds, summed since the thread started.
 * The kernel adds each wait when the thread is scheduled in, so the count
 * read by a running thread is exact up to that moment.
 *
 * The file is opened once and read with `pread` (about 2 µs), so a reading
 * inside a timed window costs next to nothing.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export interface CpuWaitClock {
  /** The calling thread's wait for a CPU so far, in ms. Read it from the thread that opened the clock only. */
  read(): number;
  close(): void;
}

/**
 * A wait clock for the calling thread, or `undefined` where the kernel does not keep the figure (not Linux, or
 * built without schedstats).
 */
export function openCpuWaitClock(): CpuWaitClock | undefined {
  let fd: number;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return undefined;
  }
  const buffer = Buffer.alloc(96);
  const read = (): number => {
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    // "<time on CPU ns> <time waiting for a CPU ns> <timeslices>\n"
    const first = buffer.indexOf(0x20);
    const second = buffer.indexOf(0x20, first + 1);
    if (first < 0 || second < 0 || second > length) throw new Error('unexpected /proc/thread-self/schedstat');
    return Number(buffer.toString('latin1', first + 1, second)) / 1e6;
  };
  try {
    read();
  } catch {
    closeSync(fd);
    return undefined;
  }
  return { read, close: () => closeSync(fd) };
}
