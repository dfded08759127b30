import { describe, expect, it } from 'vitest';
import { runLangGraphComparison } from '../../bench/langgraph-compare.ts';
import { type ClinicalTurn, loadClinicalTurns } from '../../bench/lib/clinical-text.ts';
import { publicDataPresent } from '../../load/lib/dialogues.ts';
import { SAMPLE_DIALOGUES } from '../../load/lib/sample-dialogues.ts';

// The side-by-side at toy sizes on the two SQLite systems (no server needed): the real LangGraph
// checkpointer and the real Continuum service layer, to check what the harness reports, not speed.
// The public data sets when they are beside the checkout, else the project's sample visits.
const turns: ClinicalTurn[] = publicDataPresent()
  ? loadClinicalTurns()
  : SAMPLE_DIALOGUES.flatMap((d) => d.turns.map((t) => ({ role: t.role, content: t.content })));
const base = {
  saveSamples: 6,
  seededSamples: 2,
  loadWarmup: 1,
  loadIterations: 4,
  loadBudgetSeconds: 5,
  warmupExchanges: 1,
  recentTurns: 20,
  turns,
  postgresUrl: 'postgres://unused',
  systems: ['langgraph-sqlite', 'continuum-sqlite'] as const,
};

describe('runLangGraphComparison', () => {
  it('times the last exchanges before each size and loads what the next turn needs', async () => {
    const [langgraph, continuum] = await runLangGraphComparison({ ...base, sizes: [4, 30], capSeconds: 60 });
    expect(langgraph!.key).toBe('langgraph-sqlite');
    expect(continuum!.key).toBe('continuum-sqlite');
    for (const system of [langgraph!, continuum!]) {
      const [small, large] = system.sizes;
      // 4 turns = 2 exchanges, all timed, over 3 conversations; 30 turns: the last 6 of 15 exchanges.
      expect(small).toMatchObject({ turns: 4, conversations: 3, save: { n: 6 }, load: { n: 4 } });
      expect(large).toMatchObject({ turns: 30, conversations: 1, save: { n: 6 }, load: { n: 4 } });
      expect(large!.capped).toBeUndefined();
      expect(large!.textBytes).toBeGreaterThan(0);
    }
    // LangGraph hands back every message; Continuum the recent window (here the whole, short conversation).
    expect(langgraph!.sizes[1]!.load!.turnsLoaded).toBe(30);
    expect(continuum!.sizes[1]!.load!.turnsLoaded).toBe(20);
    // Every checkpoint carries the message list: far more bytes than the text.
    expect(langgraph!.sizes[1]!.storedBytes).toBeGreaterThan(5 * langgraph!.sizes[1]!.textBytes);
    expect(continuum!.sizes[1]!.afterSave?.n).toBe(6);
  });

  it('stops at the cap, seeds LangGraph instead, and says Continuum did not get there', async () => {
    const [langgraph, continuum] = await runLangGraphComparison({ ...base, sizes: [40], capSeconds: 0.001 });
    const lg = langgraph!.sizes[0]!;
    expect(lg.capped?.reachedTurns).toBe(2);
    expect(lg.seededTurns).toBe(36);
    expect(lg).toMatchObject({ save: { n: 2 }, load: { turnsLoaded: 40 } });
    expect(lg.storedBytes).toBeUndefined();
    const cn = continuum!.sizes[0]!;
    expect(cn.capped?.reachedTurns).toBe(2);
    expect(cn.save).toBeUndefined();
    expect(cn.load).toBeUndefined();
  });

  it('reports a PostgreSQL system it cannot reach as skipped', async () => {
    const [skipped] = await runLangGraphComparison({
      ...base,
      sizes: [4],
      capSeconds: 60,
      postgresUrl: 'postgres://nobody@127.0.0.1:1/none',
      systems: ['langgraph-postgres'],
    });
    expect(skipped!.skipped).toMatch(/did not answer/);
    expect(skipped!.sizes).toEqual([]);
  });
});
