import { describe, expect, it } from 'vitest';
import {
  BUILTIN_INTENT_RULES,
  BUILTIN_PROBES,
  createIntentRouter,
  type IntentRule,
  runIntentProbes,
} from '../../src/intents/index.ts';

describe('intent router probe (backs /readyz intentRouter)', () => {
  it('passes with the built-in rules: loaded, every probe correct', () => {
    const router = createIntentRouter();
    expect(router.loaded).toBe(true);
    const result = router.probe();
    expect(result).toEqual({ ok: true, checked: BUILTIN_PROBES.length, failures: [] });
    expect(result.checked).toBeGreaterThanOrEqual(20);
  });

  it('covers every built-in intent in its probe set', () => {
    expect(new Set(BUILTIN_PROBES.map((probe) => probe.expected))).toEqual(
      new Set(['emergency', 'medication', 'scheduling', 'general']),
    );
  });

  it('fails a loaded router whose rules call everything general, naming each misclassified probe', () => {
    const everythingGeneral: IntentRule[] = [{ id: 'catch-all', intent: 'general', patterns: ['.'], weight: 1 }];
    const router = createIntentRouter({ includeBuiltins: false, rules: everythingGeneral });
    expect(router.loaded).toBe(true);
    const result = router.probe();
    expect(result.ok).toBe(false);
    const wrong = BUILTIN_PROBES.filter((probe) => probe.expected !== 'general');
    expect(result.failures).toEqual(
      wrong.map((probe) => ({ text: probe.text, expected: probe.expected, got: 'general' })),
    );
    expect(result.detail).toContain(`${wrong.length} of ${BUILTIN_PROBES.length} intent probes misclassified`);
    expect(result.detail).toContain(wrong[0]!.text);
  });

  it('fails when an override silently disables an emergency rule', () => {
    const router = createIntentRouter({
      rules: [{ id: 'emergency.chest-pain', intent: 'emergency', patterns: ['\\bzzz-never\\b'], weight: 1 }],
    });
    const result = router.probe();
    expect(result.ok).toBe(false);
    expect(result.failures).toEqual([
      { text: 'I have crushing chest pain and my left arm feels numb', expected: 'emergency', got: 'general' },
    ]);
  });

  it('fails when an extension outvotes the built-ins on a probe', () => {
    const router = createIntentRouter({
      rules: [{ id: 'billing', intent: 'billing', patterns: ['\\bappointment\\b'], weight: 1 }],
    });
    const result = router.probe();
    expect(result.ok).toBe(false);
    expect(result.failures.map((failure) => failure.got)).toEqual(['billing']);
  });

  it('is not ok when no rules are loaded, even if the general-only probes would pass', () => {
    const router = createIntentRouter({ includeBuiltins: false });
    expect(router.loaded).toBe(false);
    const result = router.probe();
    expect(result.ok).toBe(false);
    expect(result.detail).toBe('intent router has no rules loaded');
  });

  it('reports a classifier that throws as a failed probe instead of crashing', () => {
    const result = runIntentProbes(
      () => {
        throw new Error('boom');
      },
      [{ text: 'x', expected: 'general' }],
      true,
    );
    expect(result).toMatchObject({
      ok: false,
      checked: 1,
      failures: [{ text: 'x', expected: 'general', got: 'error: boom' }],
    });
  });

  it('checks a custom probe set when given one, and is not ok with an empty one', () => {
    const router = createIntentRouter({
      rules: [{ id: 'billing', intent: 'billing', patterns: ['\\binvoice\\b'], weight: 0.9 }],
      probes: [...BUILTIN_PROBES, { text: 'Where is my invoice?', expected: 'billing' }],
    });
    expect(router.probe()).toMatchObject({ ok: true, checked: BUILTIN_PROBES.length + 1 });
    expect(createIntentRouter({ probes: [] }).probe()).toMatchObject({ ok: false, checked: 0 });
  });

  it('keeps the built-in rules and probes frozen so no caller can break readiness by mutation', () => {
    expect(Object.isFrozen(BUILTIN_INTENT_RULES)).toBe(true);
    expect(Object.isFrozen(BUILTIN_PROBES)).toBe(true);
  });
});
