/** The context-load part of the benchmark report (issue 4): bench/context-load.ts. */
import type { ContextLoadResult } from '../context-load.ts';
import { int, mark, ms, table, times } from './markdown.ts';

export function contextLoadTable(c: ContextLoadResult): string {
  return table(
    [
      'turns',
      'first build, fresh node p50 / max ms',
      'warm open + build p50 / p99 / max ms',
      'open p50 / build p50 ms',
      'new message: open + build p50 / p99 ms',
      'BM25 search alone p50 ms',
      'CPU p50 / p99 ms',
      'warm GET /context p50 / p99 ms',
      'response bytes',
      'prompt tokens',
      'recent / retrieved turns',
      'profile facts shown / left out',
      'built at (appends/s)',
    ],
    c.sizes.map((f) => [
      int(f.turns),
      `${ms(f.first.p50)} / ${ms(f.first.max)}`,
      `${ms(f.service.p50)} / ${ms(f.service.p99)} / ${ms(f.service.max)}`,
      `${ms(f.service.openP50)} / ${ms(f.service.buildP50)}`,
      f.newMessage ? `${ms(f.newMessage.p50)} / ${ms(f.newMessage.p99)}` : '',
      ms(f.searchP50),
      `${ms(f.service.cpuP50)} / ${ms(f.service.cpuP99)}`,
      `${ms(f.http.p50)} / ${ms(f.http.p99)}`,
      int(f.http.responseBytes),
      int(f.promptTokens),
      `${f.recent} / ${f.retrieved}`,
      `${int(f.profileFacts)} / ${int(f.profileOmitted ?? 0)}`,
      int(f.buildAppendsPerSecond),
    ]),
  );
}

export function contextRoundsTable(c: ContextLoadResult): string {
  const small = c.sizes[0]!;
  const large = c.sizes.at(-1)!;
  return table(
    ['round', `${int(small.turns)} turns p50 ms`, `${int(large.turns)} turns p50 ms`, 'ratio'],
    c.roundRatios.map((ratio, i) => [
      String(i + 1),
      ms(small.roundServiceP50s[i]!),
      ms(large.roundServiceP50s[i]!),
      times(ratio),
    ]),
  );
}

export function contextLoadVerdict(c: ContextLoadResult, tolerance: number): string {
  const small = c.sizes[0]!;
  const large = c.sizes.at(-1)!;
  const r = c.ratio;
  return `Context load at ${int(large.turns)} vs ${int(small.turns)} turns, target the same within noise (warm p50 ratio ≤ ${times(tolerance)}): open + build p50 ${ms(large.service.p50)} vs ${ms(small.service.p50)} ms, ${times(r.serviceP50)} (${mark(r.serviceP50 <= tolerance)}), p99 ${times(r.serviceP99)}, rounds ${c.roundRatios.map(times).join(', ')}; \`GET /context\` p50 ${ms(large.http.p50)} vs ${ms(small.http.p50)} ms, ${times(r.httpP50)} (${mark(r.httpP50 <= tolerance)}), p99 ${times(r.httpP99)}; first build on a fresh node ${ms(large.first.p50)} vs ${ms(small.first.p50)} ms${large.newMessage && small.newMessage ? `; a build for a new message (retrieval and prompt run again) p50 ${ms(large.newMessage.p50)} vs ${ms(small.newMessage.p50)} ms, ${times(large.newMessage.p50 / small.newMessage.p50)}` : ''}.`;
}

export function contextLoadSection(c: ContextLoadResult, params: unknown): string {
  const p = params as Record<string, unknown> | undefined;
  return [
    "Issue 4's benchmark: loading a conversation's working context (profile, rolling summary, recent turns, the older turns most relevant to the last message, the prompt fitted to the token budget) for a short and a very long conversation. Both were built one turn at a time through `ConversationService.append` with the clinical text below — the same conversations as the state-load section — which keeps each working context up to date as turns arrive. In-process on the SQLite file, wired as the server wires it:",
    '',
    '- **open + build**: `ConversationService.open` (chain check, as a reply does) then `ContextService.build` — what every reply pays before it calls the model;',
    '- **GET /context**: the route through `app.inject` (token check, audit event, the JSON response), no socket;',
    '- **new message**: open + build with a `q` the node has not built for (a different one each time), so retrieval over the whole history and prompt assembly run; a repeated load of an unchanged conversation (the warm figures) reuses the context built for that turn, state and query, and the profile view computed once per state;',
    `- **first build, fresh node**: open + build on a newly built app (${String(p?.['coldRuns'])} per size): the context state is read and opened, and the search index is built from the whole history;`,
    '- **profile facts shown / left out**: the profile block carries the facts that fit `CONTINUUM_CONTEXT_PROFILE_TOKENS` (allergies and current medications and conditions first, most recently mentioned first); the rest stays in the full profile (`GET …/profile`);',
    '- **BM25 search alone**: `ContextService.search` with the query a build retrieves with (the last user message), to show how much of a build the retrieval over the whole history takes.',
    '',
    `Warm figures come from one app after ${String(p?.['warmupIterations'])} untimed builds, GETs and searches per size, then ${String(p?.['rounds'])} rounds of ${String(p?.['iterationsPerRound'])} of each per size, the sizes taking turns (alternating which goes first). "Within noise" is taken as a warm p50 ratio of at most the target below; the rounds show how much the ratio itself moves on this machine.`,
    '',
    contextLoadTable(c),
    '',
    'Each round (open + build):',
    '',
    contextRoundsTable(c),
  ].join('\n');
}
