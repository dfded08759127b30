import { describe, expect, it } from 'vitest';
import {
  BUILTIN_INTENT_RULES,
  createIntentRouter,
  type IntentRule,
  mergeIntentRules,
  parseIntentRules,
} from '../../src/intents/index.ts';

const billing: IntentRule = {
  id: 'billing.invoice',
  intent: 'billing',
  patterns: ['\\binvoices?\\b', '\\bbill\\b'],
  weight: 0.9,
};

describe('custom rule validation', () => {
  const cases: [string, unknown, RegExp][] = [
    [
      'a bad regex',
      [{ ...billing, patterns: ['(unclosed'] }],
      /"billing\.invoice".*patterns\[0\] is not a valid regular expression/,
    ],
    ['empty patterns', [{ ...billing, patterns: [] }], /"billing\.invoice".*patterns must be a non-empty array/],
    ['a blank pattern', [{ ...billing, patterns: ['  '] }], /patterns\[0\] must be a non-empty string/],
    ['a non-string pattern', [{ ...billing, patterns: [42] }], /patterns\[0\] must be a non-empty string/],
    ['a zero weight', [{ ...billing, weight: 0 }], /weight must be a number in \(0, 1\] \(got 0\)/],
    ['a weight above 1', [{ ...billing, weight: 2 }], /weight must be a number in \(0, 1\]/],
    ['a missing id', [{ intent: 'billing', patterns: ['x'], weight: 1 }], /index 0.*id must be a non-empty string/],
    ['an upper-case intent', [{ ...billing, intent: 'Billing' }], /intent must be a lower-case name/],
    ['an unknown field', [{ ...billing, pattern: 'x' }], /unknown field "pattern"/],
    ['a non-boolean negatable', [{ ...billing, negatable: 'yes' }], /negatable must be true or false/],
    ['a duplicate id', [billing, billing], /"billing\.invoice" appears more than once/],
    ['a non-object rule', ['billing'], /index 0 must be an object/],
    ['a non-array', { billing }, /must be an array of rules, or an object \{ "rules": \[\.\.\.\] \}/],
  ];

  it.each(cases)('throws TypeError on %s', (_name, input, message) => {
    expect(() => parseIntentRules(input)).toThrow(TypeError);
    expect(() => parseIntentRules(input)).toThrow(message);
  });

  it('fails createIntentRouter eagerly on a bad rule', () => {
    expect(() => createIntentRouter({ rules: [{ ...billing, patterns: ['[a-'] }] })).toThrow(TypeError);
  });

  it('rejects a threshold outside (0, 1]', () => {
    expect(() => createIntentRouter({ threshold: 0 })).toThrow(/threshold must be a number in \(0, 1\]/);
    expect(() => createIntentRouter({ threshold: 1.5 })).toThrow(TypeError);
  });

  it('accepts a JSON config document { "rules": [...] } and returns frozen copies', () => {
    const json = JSON.stringify({ rules: [billing, { ...billing, id: 'billing.copay', negatable: true }] });
    const rules = parseIntentRules(JSON.parse(json));
    expect(rules).toEqual([billing, { ...billing, id: 'billing.copay', negatable: true }]);
    expect(Object.isFrozen(rules[0])).toBe(true);
    expect(Object.isFrozen(rules[0]!.patterns)).toBe(true);
  });

  it('validates the built-in rules with the same checks', () => {
    expect(() => parseIntentRules(BUILTIN_INTENT_RULES)).not.toThrow();
    expect(new Set(BUILTIN_INTENT_RULES.map((rule) => rule.intent))).toEqual(
      new Set(['emergency', 'medication', 'scheduling']),
    );
  });
});

describe('custom rules extend and override the built-ins', () => {
  it('adds a new intent alongside the built-ins, which keep working', () => {
    const router = createIntentRouter({ rules: [billing] });
    expect(router.classify('Why is my invoice so high?')).toEqual({
      intent: 'billing',
      confidence: 0.9,
      matched: ['billing.invoice'],
    });
    expect(router.classify('i have chest pain .').intent).toBe('emergency');
    expect(router.rules.at(-1)).toEqual(billing);
    expect(router.probe().ok).toBe(true);
  });

  it('still lets emergency win over a custom intent', () => {
    const router = createIntentRouter({ rules: [billing] });
    expect(router.classify('My bill is wrong and I have chest pain').intent).toBe('emergency');
  });

  it('replaces a built-in rule in place when the id matches', () => {
    const custom: IntentRule = {
      id: 'scheduling.visit-word',
      intent: 'scheduling',
      patterns: ['\\b(?:appointments?|rdv|rendez-vous)\\b'],
      weight: 0.6,
    };
    const router = createIntentRouter({ rules: [custom] });
    expect(router.rules.length).toBe(BUILTIN_INTENT_RULES.length);
    expect(router.rules.find((rule) => rule.id === custom.id)).toEqual(custom);
    expect(router.classify('Je voudrais un rdv').intent).toBe('scheduling');
    expect(createIntentRouter().classify('Je voudrais un rdv').intent).toBe('general');
  });

  it('adds an emergency rule that honours negation when negatable', () => {
    const router = createIntentRouter({
      rules: [
        { id: 'emergency.sepsis', intent: 'emergency', patterns: ['\\bmottled skin\\b'], weight: 1, negatable: true },
      ],
    });
    expect(router.classify('His legs have mottled skin').intent).toBe('emergency');
    expect(router.classify('No mottled skin').intent).toBe('general');
  });

  it('uses only the custom rules when includeBuiltins is false', () => {
    const router = createIntentRouter({ includeBuiltins: false, rules: [billing] });
    expect(router.rules).toEqual([billing]);
    expect(router.classify('i have chest pain .').intent).toBe('general');
  });

  it('applies the threshold: a weak custom cue alone falls back to general', () => {
    const weak: IntentRule = { ...billing, weight: 0.3 };
    expect(createIntentRouter({ rules: [weak] }).classify('my bill').intent).toBe('general');
    expect(createIntentRouter({ rules: [weak], threshold: 0.25 }).classify('my bill').intent).toBe('billing');
  });

  it('mergeIntentRules keeps base order, replaces by id, then appends', () => {
    const a: IntentRule = { id: 'a', intent: 'x', patterns: ['a'], weight: 1 };
    const b: IntentRule = { id: 'b', intent: 'x', patterns: ['b'], weight: 1 };
    const b2: IntentRule = { ...b, patterns: ['bb'] };
    const c: IntentRule = { id: 'c', intent: 'y', patterns: ['c'], weight: 1 };
    expect(mergeIntentRules([a, b], [c, b2])).toEqual([a, b2, c]);
  });
});
