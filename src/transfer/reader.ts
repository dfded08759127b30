import { AppError } from '../errors/index.ts';
import { type ExportLine, type TransferCounts, zeroCounts } from './format.ts';
import { lineError, parseLine } from './parse.ts';

/** One parsed record and the line it came from. */
export interface ReadRecord<T extends ExportLine = ExportLine> {
  record: T;
  line: number;
}

type RecordOf<K extends ExportLine['type']> = Extract<ExportLine, { type: K }>;

const COUNTED: Partial<Record<ExportLine['type'], keyof TransferCounts>> = {
  secret: 'secrets',
  public_key: 'publicKeys',
  tenant: 'tenants',
  data_key: 'dataKeys',
  conversation: 'conversations',
  turn: 'turns',
  participant: 'participants',
  context_state: 'contextStates',
  stream_event: 'streamEvents',
  audit_event: 'auditEvents',
  audit_checkpoint: 'auditCheckpoints',
};

/**
 * Reads an export file record by record, with one record of look-ahead.
 * Blank lines are skipped but still numbered; `counts` tallies what was read,
 * to be checked against the trailer.
 */
export class RecordReader {
  readonly counts: TransferCounts = zeroCounts();
  readonly #lines: AsyncIterator<string>;
  readonly #onRecord: () => void;
  #line = 0;
  #peeked: ReadRecord | null | undefined;

  constructor(lines: AsyncIterable<string>, onRecord: () => void = () => {}) {
    this.#lines = lines[Symbol.asyncIterator]();
    this.#onRecord = onRecord;
  }

  /** The number of the last line read (0 before the first). */
  get line(): number {
    return this.#line;
  }

  /** The next record without consuming it; null at the end of the input. */
  async peek(): Promise<ReadRecord | null> {
    if (this.#peeked === undefined) this.#peeked = await this.#read();
    return this.#peeked;
  }

  /** The next record; null at the end of the input. */
  async next(): Promise<ReadRecord | null> {
    const record = await this.peek();
    this.#peeked = undefined;
    if (record !== null) {
      const counted = COUNTED[record.record.type];
      if (counted !== undefined) this.counts[counted] += 1;
      if (record.record.type === 'tenant') this.counts.apiKeys += record.record.apiKeys.length;
      this.#onRecord();
    }
    return record;
  }

  /** The next record if it has `type`, else null (and nothing is consumed). */
  async nextIf<K extends ExportLine['type']>(type: K): Promise<ReadRecord<RecordOf<K>> | null> {
    const peeked = await this.peek();
    if (peeked?.record.type !== type) return null;
    return (await this.next()) as ReadRecord<RecordOf<K>>;
  }

  /** The next record, which must have `type`; `what` names it in the error. */
  async take<K extends ExportLine['type']>(type: K, what: string): Promise<ReadRecord<RecordOf<K>>> {
    const record = await this.next();
    if (record === null) throw truncated(this.#line, what);
    if (record.record.type !== type) {
      throw lineError(record.line, `expected ${what}, found a ${record.record.type} record`);
    }
    return record as ReadRecord<RecordOf<K>>;
  }

  async #read(): Promise<ReadRecord | null> {
    for (;;) {
      const next = await this.#lines.next();
      if (next.done) return null;
      this.#line += 1;
      if (next.value.trim() === '') continue;
      try {
        return { record: parseLine(next.value, this.#line), line: this.#line };
      } catch (error) {
        // A last line that is not even JSON is most likely a cut-off copy.
        if (!isJson(next.value) && (await this.#lines.next()).done) {
          throw new AppError('invalid_request', `line ${this.#line} is cut short: the file is truncated`, {
            extras: { line: this.#line },
            cause: error,
          });
        }
        throw error;
      }
    }
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The input ended where `what` was expected. */
export function truncated(line: number, what: string): AppError {
  return new AppError(
    'invalid_request',
    `the file ends after line ${line} where ${what} was expected: it is truncated (no end record)`,
    { extras: { line } },
  );
}
