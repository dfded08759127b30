import fc from 'fast-check';

/**
 * Fixed seeds and counted runs for the hostile-input properties. Every
 * property's seed is derived from one base seed and the property's name, so
 * a failure reproduces by running the same test again; `HOSTILE_SEED`
 * changes the base (to explore), `HOSTILE_RUNS` multiplies every property's
 * run count (for a long local soak).
 */
export const BASE_SEED = Number(process.env['HOSTILE_SEED'] ?? 20_261_125);
const RUN_SCALE = Number(process.env['HOSTILE_RUNS'] ?? 1);

/** FNV-1a of the name, mixed with the base seed: stable across runs and machines. */
export function seedFor(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash ^ BASE_SEED) | 0;
}

/** Inputs tried per test file, reported once at the end of the file. */
export class Tally {
  readonly #file: string;
  #inputs = 0;
  #properties = 0;

  constructor(file: string) {
    this.#file = file;
  }

  /** Count the inputs of one property (or one fixed list of cases). */
  add(count: number): void {
    this.#inputs += count;
    this.#properties += 1;
  }

  get inputs(): number {
    return this.#inputs;
  }

  report(): void {
    console.log(
      `hostile input [${this.#file}]: ${this.#inputs} inputs tried over ${this.#properties} properties (base seed ${BASE_SEED})`,
    );
  }
}

/**
 * Run an async property with its fixed seed, without shrinking (the server
 * is stateful: a shrunk replay would run against the state the failure left
 * behind, so the first counterexample is the one to read). fast-check's
 * failure message carries the seed, the path and the counterexample.
 */
export async function check<T>(
  tally: Tally,
  name: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (input: T) => Promise<void>,
  numRuns: number,
): Promise<void> {
  let count = 0;
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (input) => {
        count += 1;
        await predicate(input);
      }),
      { seed: seedFor(name), numRuns: Math.max(1, Math.round(numRuns * RUN_SCALE)), endOnFailure: true },
    );
  } finally {
    tally.add(count);
  }
}

/** Reject when `promise` has not settled within `ms`: a request that hangs is a failure, not a stuck test. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
