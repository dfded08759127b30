import type { TurnView } from '../conversations/views.ts';
import type { Clock } from '../core/clock.ts';
import type { ConversationId, TenantId } from '../core/types.ts';
import type { TenantCipher } from '../crypto/data-keys.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { AuditBatch, ConversationRecord, Store } from '../store/port.ts';
import { type ContextState, openContextState, sealContextState } from './context-state.ts';
import { applyTurnWithModel, type ModelExtractor } from './model-extractor.ts';
import {
  applyCorrection,
  applyTurn,
  emptyProfile,
  type Profile,
  type ProfileView,
  profileView,
} from './profile/index.ts';
import {
  ALWAYS_KEPT_RECENT,
  type BuiltPrompt,
  buildPrompt,
  type PromptTurn,
  promptTurnTokens,
  retrievedTurnTokens,
} from './prompt-builder.ts';
import { clinicalSalience, isPleasantry, knownFactsOf, residualSalience } from './salience.ts';
import { ConversationIndex } from './search-index.ts';
import type { Summarizer } from './summarizer.ts';

/** Verified, decrypted turns of a conversation after `after` (the turn engine's reader). */
export type TurnReader = (
  tenantId: TenantId,
  c: ConversationRecord,
  after: number,
  limit: number,
  options?: { keep?: boolean },
) => Promise<TurnView[]>;

/** Verified, decrypted turns of a conversation by number, in the order asked (retrieval's reader: one store call). */
export type TurnsAtReader = (
  tenantId: TenantId,
  c: ConversationRecord,
  numbers: readonly number[],
) => Promise<TurnView[]>;

export interface ContextServiceOptions {
  store: Store;
  clock: Clock;
  cipher: TenantCipher;
  summarizer: Summarizer;
  readTurns: TurnReader;
  readTurnsAt: TurnsAtReader;
  /** A model-backed extractor (when a real model is configured); the embedded one stays the floor and fallback. */
  extractor?: ModelExtractor;
  /** Token budget of the prompt (CONTINUUM_CONTEXT_TOKENS). */
  budgetTokens: number;
  /** Messages kept verbatim at most; older ones fold into the summary. */
  recentMessages: number;
  /**
   * Token budget of the messages kept verbatim (CONTINUUM_CONTEXT_RECENT_TOKENS), counted as the prompt
   * sends them; older ones fold into the summary. The last 2 messages are kept even when they alone are larger.
   * Default: no limit beyond `recentMessages`.
   */
  recentTokens?: number;
  /**
   * Token budget of the older turns retrieved for the next message (CONTINUUM_CONTEXT_RETRIEVED_TOKENS),
   * counted as the prompt's retrieved block sends them; filled in rank order. Default: no limit.
   */
  retrievedTokens?: number;
  /**
   * Token budget of the profile block (CONTINUUM_CONTEXT_PROFILE_TOKENS): the facts that matter most for the
   * next turn, within it; the full profile stays in the state. Default: no limit.
   */
  profileTokens?: number;
  /** Messages older than this leave the working context (they stay in the record). */
  maxAgeMs: number;
  /** The summarizer for tenants `useModel` keeps off the model-backed one (default: `summarizer`). */
  embeddedSummarizer?: Summarizer;
  /** Whether `summarizer` and `extractor` (model-backed) serve a tenant (feature flag `model-context`); default yes. */
  useModel?: (tenantId: TenantId) => boolean;
  /** Whether older turns are retrieved into a tenant's working context (feature flag `retrieval`); default yes. */
  useRetrieval?: (tenantId: TenantId) => boolean;
  systemPrompt: string;
  metrics?: Metrics;
  /** Conversations whose search index and state this node keeps in memory. */
  cacheSize?: number;
}

/** Options of {@link ContextService.build}. */
export interface BuildOptions {
  /**
   * Build from the state this node holds when it lags the conversation by at most this many turns, instead of
   * waiting for them to be taken in (default 0: wait). A reply uses 1: the user turn it answers is in the recent
   * window verbatim, so the model sees it whether or not its facts are in the profile yet.
   */
  maxLagTurns?: number;
}

/** The working context of ADR-004, as `GET …/context` returns it. */
export interface WorkingContext {
  /** The profile's facts that fit the profile budget (all of them when it fits). */
  profile: Profile;
  /** Facts of the full profile left out of this view for lack of budget. */
  profileOmitted: number;
  summary: string;
  recent: TurnView[];
  retrieved: (TurnView & { score: number })[];
  tokens: number;
  prompt: BuiltPrompt;
}

interface Cached {
  version: number | null;
  state: ContextState;
}

/** A built context and what it was built from: the same turn, state and query give the same context until `validUntil`. */
interface BuiltEntry {
  turn: number;
  state: ContextState;
  q: string | undefined;
  retrieval: boolean;
  /** When the oldest recent turn ages out of the window (ms since the epoch). */
  validUntil: number;
  context: WorkingContext;
}

const RETRIEVE = 5;
/** Turns the extractor reads a new turn against. */
const TAIL = 6;
/** A turn this salient that yields no fact at all is counted as a possible miss. */
const SUSPECT_SALIENCE = 3;

/**
 * Keeps each conversation's working context: profile (updated per turn),
 * rolling summary (turns past the recent window fold in), and a lexical index
 * over the whole history. Maintained incrementally, so building a context
 * costs the same at turn 10 as at turn 10,000 once a node has the
 * conversation in memory; its state is derived and catches up from the
 * record whenever it lags (a crash, another node's append).
 */
export class ContextService {
  readonly #o: ContextServiceOptions;
  readonly #states = new Map<ConversationId, Cached>();
  readonly #indexes = new Map<ConversationId, ConversationIndex>();
  readonly #pending = new Map<ConversationId, Promise<ContextState>>();
  /** The profile view of each state, computed once per state. */
  readonly #views = new WeakMap<ContextState, ProfileView>();
  /** The last context built per conversation, reused while nothing it depends on has changed. */
  readonly #built = new Map<ConversationId, BuiltEntry>();

  constructor(options: ContextServiceOptions) {
    const positive = [
      options.budgetTokens,
      options.recentMessages,
      options.recentTokens ?? 1,
      options.retrievedTokens ?? 1,
    ];
    if (!positive.every((n) => n > 0)) {
      throw new TypeError(
        'ContextService: budgetTokens, recentMessages, recentTokens and retrievedTokens must be positive',
      );
    }
    this.#o = options;
  }

  /**
   * Take the new turns in soon, one update at a time per conversation; a
   * failure is reported to `onError` (the state is derived and catches up on
   * its next read).
   */
  advanceLater(c: ConversationRecord, fresh: TurnView[], onError: (error: unknown) => void): void {
    // The next build of this conversation renders the new state's profile block: render it now, off that request.
    this.advance(c, fresh)
      .then((state) => this.#view(state))
      .catch(onError);
  }

  /**
   * Take in every turn the state has not seen; `fresh` are turns the caller
   * already holds. Updates of one conversation on this node run one after
   * another, so they never redo each other's work.
   */
  async advance(c: ConversationRecord, fresh: TurnView[] = []): Promise<ContextState> {
    const previous = this.#pending.get(c.id) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.#advanceNow(c, fresh));
    this.#pending.set(c.id, run);
    const settled = () => {
      if (this.#pending.get(c.id) === run) this.#pending.delete(c.id);
    };
    run.then(settled, settled);
    return run;
  }

  async #advanceNow(c: ConversationRecord, fresh: TurnView[]): Promise<ContextState> {
    for (let attempt = 0; ; attempt++) {
      const cached = await this.#load(c);
      const next = await this.#catchUp(c, cached.state, fresh);
      if (next === cached.state) return next;
      if (await this.#save(c, cached.version, next)) return next;
      this.#states.delete(c.id); // another node saved first: start again from its state
      if (attempt === 2) return next;
    }
  }

  /**
   * The working context for the next message `q` (default: the last user message). Built once per
   * conversation turn, state and query: loading it again before anything changes costs a lookup.
   */
  async build(c: ConversationRecord, q?: string, options: BuildOptions = {}): Promise<WorkingContext> {
    const started = performance.now();
    const state = await this.#stateFor(c, options.maxLagTurns ?? 0);
    const retrieval = this.#o.useRetrieval?.(c.tenantId) ?? true;
    const hit = this.#built.get(c.id);
    const same = hit && hit.turn === c.turn && hit.state === state && hit.q === q && hit.retrieval === retrieval;
    if (same && this.#o.clock.now() < hit.validUntil) {
      this.#o.metrics?.contextBuild.observe((performance.now() - started) / 1000);
      return hit.context;
    }
    const recent = await this.#recent(c, state);
    const query = q ?? [...recent].reverse().find((t) => t.role === 'user')?.content ?? '';
    const excludeFrom = recent[0]?.number ?? c.turn + 1;
    // A message of pleasantries only ("sounds good, thanks") has no topic: what it matches is noise.
    const retrieved =
      !retrieval || isPleasantry(query)
        ? []
        : await this.#retrieve(c, query, RETRIEVE, excludeFrom, this.#o.retrievedTokens);
    const view = this.#view(state);
    const prompt = buildPrompt({
      systemPrompt: this.#o.systemPrompt,
      profileText: view.text,
      summaryText: state.summary?.text ?? '',
      retrieved: retrieved.map(toPromptTurn),
      recent: recent.map(toPromptTurn),
      ...(q === undefined ? {} : { nextMessage: q }),
      budgetTokens: this.#o.budgetTokens,
    });
    const context: WorkingContext = {
      profile: view.profile,
      profileOmitted: view.omitted,
      summary: state.summary?.text ?? '',
      recent,
      retrieved,
      tokens: prompt.tokens,
      prompt,
    };
    const oldestRecent = recent.length === 0 ? Number.POSITIVE_INFINITY : Date.parse(recent[0]!.createdAt);
    this.#remember(this.#built, c.id, {
      turn: c.turn,
      state,
      q,
      retrieval,
      validUntil: oldestRecent + this.#o.maxAgeMs,
      context,
    });
    this.#o.metrics?.contextBuild.observe((performance.now() - started) / 1000);
    return context;
  }

  /** The whole profile of the conversation, caught up with every turn. */
  async profile(c: ConversationRecord): Promise<Profile> {
    return (await this.advance(c)).profile;
  }

  #view(state: ContextState): ProfileView {
    let view = this.#views.get(state);
    if (!view) {
      view = profileView(state.profile, this.#o.profileTokens ?? Number.POSITIVE_INFINITY);
      this.#views.set(state, view);
    }
    return view;
  }

  /** Turns of the whole history matching `q`, best first. */
  async search(c: ConversationRecord, q: string, limit: number): Promise<(TurnView & { score: number })[]> {
    return this.#retrieve(c, q, limit, c.turn + 1);
  }

  /** Apply a clinician's correction made at turn `atTurn`; returns the new profile. */
  async correct(
    c: ConversationRecord,
    op: 'confirm' | 'correct' | 'retract',
    fact: { kind: string; id?: string; [field: string]: unknown },
    atTurn: number,
    audit: AuditBatch<boolean>,
  ): Promise<Profile> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const cached = await this.#load(c);
      const state = await this.#catchUp(c, cached.state, []);
      const next: ContextState = {
        ...state,
        profile: applyCorrection(state.profile, op, fact as never, { turn: atTurn }),
      };
      if (await this.#save(c, cached.version, next, audit)) return next.profile;
      this.#states.delete(c.id);
    }
    throw new Error('the working context kept changing under the correction; try again');
  }

  /**
   * The state to build from: caught up with every turn, or — when the caller accepts a lag — the one this node
   * holds if it is at most `maxLagTurns` behind (the turns it has not taken in are in the recent window verbatim,
   * and the update already under way brings the profile and summary up to date for the next build).
   */
  async #stateFor(c: ConversationRecord, maxLagTurns: number): Promise<ContextState> {
    const cached = this.#states.get(c.id);
    if (cached && maxLagTurns > 0 && c.turn - cached.state.throughTurn <= maxLagTurns) return cached.state;
    return this.advance(c);
  }

  async #load(c: ConversationRecord): Promise<Cached> {
    const cached = this.#states.get(c.id);
    if (cached) return cached;
    await this.#o.cipher.ensureLoaded(c.tenantId);
    const record = await this.#o.store.getContextState(c.tenantId, c.id);
    const loaded: Cached = record
      ? { version: record.version, state: openContextState(this.#o.cipher, c, record.state) }
      : { version: null, state: { profile: emptyProfile(), summary: null, throughTurn: 0 } };
    this.#remember(this.#states, c.id, loaded);
    return loaded;
  }

  async #save(c: ConversationRecord, version: number | null, state: ContextState, audit?: AuditBatch<boolean>) {
    const next = (version ?? 0) + 1;
    const saved = await this.#o.store.putContextState(
      c.tenantId,
      c.id,
      {
        version: next,
        throughTurn: state.throughTurn,
        state: sealContextState(this.#o.cipher, c, state),
        updatedAt: new Date(this.#o.clock.now()).toISOString(),
      },
      version,
      audit,
    );
    if (saved) this.#remember(this.#states, c.id, { version: next, state });
    return saved;
  }

  /** The state with every turn through `c.turn` taken in (the same object when nothing was new). */
  async #catchUp(c: ConversationRecord, state: ContextState, fresh: TurnView[]): Promise<ContextState> {
    if (state.throughTurn >= c.turn) return state;
    const turns = await this.#turnsAfter(c, state.throughTurn, c.turn, fresh);
    let profile = state.profile;
    const tail = [...(state.tail ?? [])];
    const extractor = (this.#o.useModel?.(c.tenantId) ?? true) ? this.#o.extractor : undefined;
    for (const turn of turns) {
      const index = this.#indexes.get(c.id);
      if (index?.lastTurn === turn.number - 1) index.add({ number: turn.number, role: turn.role, text: turn.content });
      // System turns are instructions and correction records, not statements about the patient.
      if (turn.role === 'system') continue;
      const input = { number: turn.number, role: turn.role, text: turn.content };
      const previous = tail.slice(-TAIL);
      tail.push(input);
      if (tail.length > TAIL) tail.shift();
      try {
        const result = extractor
          ? await applyTurnWithModel(profile, input, {
              previous,
              model: extractor,
              onFallback: (reason) => this.#o.metrics?.modelFallbacks.inc({ part: 'extractor', reason }),
            })
          : applyTurn(profile, input, { previous });
        profile = result.profile;
        const outcome =
          result.mentions > 0
            ? 'facts'
            : clinicalSalience(turn.content) >= SUSPECT_SALIENCE
              ? 'suspect_empty'
              : 'empty';
        this.#o.metrics?.profileExtraction.inc({ outcome });
      } catch (error) {
        this.#o.metrics?.profileExtraction.inc({ outcome: 'failed' });
        throw error;
      }
    }
    const last = turns.at(-1)?.number ?? state.throughTurn;
    const summary = await this.#fold(c, state.summary, turns, profile);
    return { profile, summary, throughTurn: last, tail: tail.slice(-TAIL) };
  }

  /**
   * Fold every turn past the recent window (more than `recentMessages` back, or beyond the
   * `recentTokens` budget counted from the latest message), or older than the age limit, into the summary.
   */
  async #fold(c: ConversationRecord, summary: ContextState['summary'], known: TurnView[], profile: Profile) {
    const folded = summary?.throughTurn ?? 0;
    let upTo = Math.max(0, c.turn - this.#o.recentMessages);
    const oldest = this.#o.clock.now() - this.#o.maxAgeMs;
    const window = await this.#turnsAfter(c, upTo, c.turn, known);
    for (const turn of window) if (Date.parse(turn.createdAt) < oldest) upTo = turn.number;
    upTo = Math.max(upTo, this.#beyondRecentTokens(window));
    if (upTo <= folded) return summary;
    const turns = await this.#turnsAfter(c, folded, upTo, known);
    // The profile is the compact carrier of medications, allergies and conditions: the summary keeps the rest.
    const facts = knownFactsOf(profile);
    const summarizer =
      (this.#o.useModel?.(c.tenantId) ?? true)
        ? this.#o.summarizer
        : (this.#o.embeddedSummarizer ?? this.#o.summarizer);
    return summarizer.fold(
      summary,
      turns.map((t) => ({ number: t.number, role: t.role, text: t.content })),
      { residualSalience: (sentence) => residualSalience(sentence, facts) },
    );
  }

  /**
   * The last turn of `window` (consecutive turns ending at the latest) that no longer fits the
   * recent-token budget counted back from the latest turn; 0 when all fit. The last 2 turns always
   * stay, as the prompt builder always keeps them (a reply and the message it answers).
   * Only grows as turns are appended, so a folded turn never has to come back.
   */
  #beyondRecentTokens(window: TurnView[]): number {
    const budget = this.#o.recentTokens;
    if (budget === undefined) return 0;
    let used = 0;
    for (let i = window.length - 1; i >= 0; i--) {
      const turn = window[i]!;
      used += promptTurnTokens(toPromptTurn(turn));
      if (used > budget && i < window.length - ALWAYS_KEPT_RECENT) return turn.number;
    }
    return 0;
  }

  /** Turns `after+1 … through`, taken from `known` where it has them, else read (verified) from the record. */
  async #turnsAfter(
    c: ConversationRecord,
    after: number,
    through: number,
    known: TurnView[],
    keep = true,
  ): Promise<TurnView[]> {
    if (through <= after) return [];
    const first = known[0]?.number;
    if (first !== undefined && first <= after + 1 && (known.at(-1)?.number ?? 0) >= through) {
      return known.filter((t) => t.number > after && t.number <= through);
    }
    const out: TurnView[] = [];
    while (out.length < through - after) {
      const start = after + out.length;
      const page = await this.#o.readTurns(c.tenantId, c, start, Math.min(500, through - start), { keep });
      if (page.length === 0) break;
      out.push(...page);
    }
    return out;
  }

  /**
   * The recent window: the last messages not yet folded (folding applies the message and token
   * budgets as turns arrive) and not older than the age limit.
   */
  async #recent(c: ConversationRecord, state: ContextState): Promise<TurnView[]> {
    const from = Math.max(state.summary?.throughTurn ?? 0, c.turn - this.#o.recentMessages);
    const oldest = this.#o.clock.now() - this.#o.maxAgeMs;
    const turns = await this.#turnsAfter(c, from, c.turn, []);
    return turns.filter((t) => Date.parse(t.createdAt) >= oldest);
  }

  /** The best `limit` older turns for `q`, in rank order; with a token budget, those that fit it (in rank order). */
  async #retrieve(c: ConversationRecord, q: string, limit: number, excludeFrom: number, budgetTokens = Infinity) {
    const index = await this.#ensureIndex(c);
    const hits = index.search(q, { limit, excludeFrom });
    if (hits.length === 0) return [];
    // Every hit and its predecessor in one store read, not a round trip per hit.
    const turns = await this.#o.readTurnsAt(
      c.tenantId,
      c,
      hits.map((hit) => hit.number),
    );
    const byNumber = new Map(turns.map((turn) => [turn.number, turn]));
    const out: (TurnView & { score: number })[] = [];
    let used = 0;
    for (const hit of hits) {
      const turn = byNumber.get(hit.number);
      if (!turn) continue;
      const cost = retrievedTurnTokens(toPromptTurn(turn));
      if (used + cost > budgetTokens) continue; // a smaller, lower-ranked turn may still fit
      used += cost;
      out.push({ ...turn, score: hit.score });
    }
    return out;
  }

  /** This node's index of the conversation, caught up to `c.turn` (built from the record on first use). */
  async #ensureIndex(c: ConversationRecord): Promise<ConversationIndex> {
    let index = this.#indexes.get(c.id);
    if (!index) {
      index = new ConversationIndex();
      this.#remember(this.#indexes, c.id, index);
    }
    if (index.lastTurn < c.turn) {
      // Indexing reads the history, it does not serve it: the verifier need not keep these rows as opened.
      for (const turn of await this.#turnsAfter(c, index.lastTurn, c.turn, [], false)) {
        index.add({ number: turn.number, role: turn.role, text: turn.content });
      }
    }
    return index;
  }

  #remember<V>(map: Map<ConversationId, V>, id: ConversationId, value: V): void {
    map.delete(id);
    if (map.size >= (this.#o.cacheSize ?? 1000)) map.delete(map.keys().next().value as ConversationId);
    map.set(id, value);
  }
}

function toPromptTurn(turn: TurnView): PromptTurn {
  return { number: turn.number, role: turn.role, content: turn.content };
}
