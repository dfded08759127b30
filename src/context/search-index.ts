/**
 * A per-conversation lexical index over every turn (BM25+, MiniSearch), for
 * `GET /v1/conversations/{id}/search` and for pulling the best older turns
 * into the working context.
 */

import type { AsPlainObject, Options, SearchOptions } from 'minisearch';
import MiniSearch from 'minisearch';
import { AppError } from '../errors/index.ts';
import { normalizeTerm, STOP_WORDS } from './text.ts';

/** A turn as the index sees it. */
export interface IndexedTurn {
  number: number;
  role: string;
  text: string;
}

/** One search hit: a turn number and its BM25+ score (higher is better). */
export interface SearchHit {
  number: number;
  score: number;
}

/** Options of {@link ConversationIndex.search}. */
export interface ConversationSearchOptions {
  /** At most this many hits (default 10). */
  limit?: number;
  /** Ignore turns numbered at or above this (the recent window already in the context). */
  excludeFrom?: number;
}

interface Doc {
  id: number;
  text: string;
}

const FORMAT = 1;
/** Long queries (a whole message) keep their longest distinct terms: rarer, and bounded cost. */
const MAX_QUERY_TERMS = 12;
const tokenize = MiniSearch.getDefault('tokenize') as (text: string) => string[];

/**
 * Index terms: NFKD-folded lower case, punctuation stripped, stop words and
 * one-letter words dropped, and a light plural strip ("hives" → "hive") so
 * singular and plural meet. Applied to documents and queries alike.
 */
function processTerm(term: string): string | null {
  const t = normalizeTerm(term);
  if (t.length === 0 || STOP_WORDS.has(t)) return null;
  if (t.length === 1 && !/\d/.test(t)) return null;
  if (t.length > 4 && t.endsWith('s') && !/(?:ss|us|is)$/.test(t)) return t.slice(0, -1);
  return t;
}

/** The distinct processed terms of a query, at most {@link MAX_QUERY_TERMS}, longest first (ties: first seen). */
function queryTerms(query: string): string[] {
  const terms = new Set<string>();
  for (const raw of tokenize(query)) {
    const t = processTerm(raw);
    if (t) terms.add(t);
  }
  return [...terms]
    .map((t, i) => ({ t, i }))
    .sort((a, b) => b.t.length - a.t.length || a.i - b.i)
    .slice(0, MAX_QUERY_TERMS)
    .map(({ t }) => t);
}

const SEARCH_OPTIONS: SearchOptions = {
  // Prefix matching only for terms of 4+ characters: "peni" finds "penicillin", "mg" does not match "mgmt".
  prefix: (term) => term.length >= 4,
  // At most one edit, and only for long terms (misspelled drug names), to keep search cheap and precise.
  fuzzy: (term) => (term.length >= 7 ? 1 : false),
  combineWith: 'OR',
};

const OPTIONS: Options<Doc> = {
  fields: ['text'],
  storeFields: [],
  processTerm,
  searchOptions: SEARCH_OPTIONS,
};

/**
 * A lexical index over one conversation's turns. Turn numbers are the
 * document ids; adding a number again replaces that turn's text. Keep one per
 * conversation (in memory, or persisted with {@link ConversationIndex.toJSON}).
 *
 * @example
 * const index = new ConversationIndex();
 * index.add({ number: 1, role: 'user', text: 'Penicillin gives me hives.' });
 * index.search('penicillin allergy', { limit: 3, excludeFrom: 40 }); // → [{ number: 1, score: … }]
 */
export class ConversationIndex {
  #search: MiniSearch<Doc>;
  #lastTurn: number;

  constructor() {
    this.#search = new MiniSearch<Doc>(OPTIONS);
    this.#lastTurn = 0;
  }

  /** Index one turn (its role is not indexed). Throws `TypeError` for a number that is not a positive integer. */
  add(turn: IndexedTurn): void {
    if (!Number.isSafeInteger(turn.number) || turn.number < 1) {
      throw new TypeError(`turn number must be a positive integer (got ${String(turn.number)})`);
    }
    if (typeof turn.text !== 'string') throw new TypeError('turn text must be a string');
    const doc = { id: turn.number, text: turn.text };
    if (this.#search.has(turn.number)) this.#search.replace(doc);
    else this.#search.add(doc);
    if (turn.number > this.#lastTurn) this.#lastTurn = turn.number;
  }

  /**
   * Best-matching turns for a free-text query, best first (ties: newer
   * first). A long query (a whole message) is cut to its 12 longest distinct
   * terms, which keeps search under a few milliseconds at 10,000 turns. An
   * empty or all-stop-word query returns no hits.
   */
  search(query: string, options: ConversationSearchOptions = {}): SearchHit[] {
    const limit = options.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 0) throw new TypeError('limit must be a non-negative integer');
    if (typeof query !== 'string') throw new TypeError('query must be a string');
    const terms = queryTerms(query);
    if (limit === 0 || terms.length === 0) return [];
    const excludeFrom = options.excludeFrom;
    const opts: SearchOptions = { tokenize: (q) => q.split(' '), processTerm: (t) => t };
    if (excludeFrom !== undefined) opts.filter = (r) => (r.id as number) < excludeFrom;
    const hits = this.#search
      .search(terms.join(' '), opts)
      .map((r) => ({ number: r.id as number, score: r.score }))
      .sort((a, b) => b.score - a.score || b.number - a.number);
    return hits.slice(0, limit);
  }

  /** Number of turns indexed. */
  get size(): number {
    return this.#search.documentCount;
  }

  /** Highest turn number indexed (0 when empty). */
  get lastTurn(): number {
    return this.#lastTurn;
  }

  /** Serialise the index (contains every indexed term of the conversation: encrypt it at rest like turn text). */
  toJSON(): string {
    return JSON.stringify({ format: FORMAT, lastTurn: this.#lastTurn, index: this.#search });
  }

  /** Load an index written by {@link ConversationIndex.toJSON}; anything else throws `AppError('state_corrupt')`. */
  static fromJSON(json: string): ConversationIndex {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new AppError('state_corrupt', 'Stored conversation index is not valid JSON');
    }
    const p = parsed as { format?: unknown; lastTurn?: unknown; index?: unknown };
    if (p?.format !== FORMAT || typeof p.lastTurn !== 'number' || typeof p.index !== 'object' || p.index === null) {
      throw new AppError('state_corrupt', `Stored conversation index has unknown format ${String(p?.format)}`);
    }
    const index = new ConversationIndex();
    try {
      index.#search = MiniSearch.loadJS<Doc>(p.index as AsPlainObject, OPTIONS);
    } catch (err) {
      throw new AppError('state_corrupt', 'Stored conversation index could not be loaded', { cause: err });
    }
    index.#lastTurn = p.lastTurn;
    return index;
  }
}
