import type { TurnView } from '../conversations/views.ts';
import type { ConversationId } from '../core/types.ts';
import type { AuditBatch, ConversationRecord } from '../store/port.ts';
import type { BuildOptions, ContextServiceOptions, WorkingContext } from './context-service-types.ts';
import { type ContextState, openContextState, sealContextState } from './context-state.ts';
import { applyTurnWithModel } from './model-extractor.ts';
import {
  applyCorrection,
  applyTurn,
  emptyProfile,
  type Profile,
  type ProfileView,
  profileView,
} from './profile/index.ts';
import { ALWAYS_KEPT_RECENT, buildPrompt, promptTurnTokens, warmPromptCounts } from './prompt-builder.ts';
import { Retrieval, remember, type ScoredTurn, toPromptTurn } from './retrieval.ts';
import { clinicalSalience, isPleasantry, knownFactsOf, residualSalience } from './salience.ts';

export type {
  BuildOptions,
  ContextServiceOptions,
  TurnReader,
  TurnsAtReader,
  WorkingContext,
} from './context-service-types.ts';

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
  /** The search index of each conversation and the retrieval of older turns from it. */
  readonly #retrieval: Retrieval;
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
    this.#retrieval = new Retrieval({
      readTurnsAt: options.readTurnsAt,
      readTurnsAfter: (c, after, through, { keep }) => this.#turnsAfter(c, after, through, [], keep),
      cacheSize: options.cacheSize,
    });
  }

  /**
   * Take in turns just appended (the append path calls this after its response), and render the new
   * state's profile block and count its profile and summary blocks' tokens while at it: the next build of
   * this conversation, on the path to a reply's first delta, then finds them ready.
   */
  async takeIn(c: ConversationRecord, fresh: TurnView[]): Promise<ContextState> {
    const state = await this.advance(c, fresh);
    warmPromptCounts(this.#view(state).text, state.summary?.text ?? '');
    return state;
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
        : await this.#retrieval.retrieve(c, query, RETRIEVE, excludeFrom, this.#o.retrievedTokens);
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
    const validUntil = oldestRecent + this.#o.maxAgeMs;
    remember(this.#built, c.id, { turn: c.turn, state, q, retrieval, validUntil, context }, this.#o.cacheSize);
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
  async search(c: ConversationRecord, q: string, limit: number): Promise<ScoredTurn[]> {
    return this.#retrieval.retrieve(c, q, limit, c.turn + 1);
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
    remember(this.#states, c.id, loaded, this.#o.cacheSize);
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
    if (saved) remember(this.#states, c.id, { version: next, state }, this.#o.cacheSize);
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
      this.#retrieval.add(c.id, turn);
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
}
