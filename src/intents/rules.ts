/**
 * The custom-rule config format: validation (misuse throws `TypeError` with a
 * message that names the rule and says how to fix it) and compilation.
 */
import type { IntentRule } from './types.ts';

/** A validated rule with its patterns compiled (flags `gi`). */
export interface CompiledRule {
  readonly rule: Readonly<IntentRule>;
  readonly regexes: readonly RegExp[];
}

const RULE_KEYS = new Set(['id', 'intent', 'patterns', 'weight', 'negatable']);

function describe(value: unknown, index: number): string {
  if (typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string') {
    return `intent rule "${(value as { id: string }).id}" (index ${index})`;
  }
  return `intent rule at index ${index}`;
}

function checkRule(value: unknown, index: number): IntentRule {
  const where = describe(value, index);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${where} must be an object with id, intent, patterns and weight`);
  }
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!RULE_KEYS.has(key)) {
      throw new TypeError(`${where} has unknown field "${key}"; allowed: ${[...RULE_KEYS].join(', ')}`);
    }
  }
  const { id, intent, patterns, weight, negatable } = raw;
  if (typeof id !== 'string' || id.trim() === '') throw new TypeError(`${where}: id must be a non-empty string`);
  if (typeof intent !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(intent)) {
    throw new TypeError(
      `${where}: intent must be a lower-case name such as "medication" (got ${JSON.stringify(intent)})`,
    );
  }
  if (!Array.isArray(patterns) || patterns.length === 0) {
    throw new TypeError(`${where}: patterns must be a non-empty array of regular-expression sources`);
  }
  patterns.forEach((pattern, at) => {
    if (typeof pattern !== 'string' || pattern.trim() === '') {
      throw new TypeError(`${where}: patterns[${at}] must be a non-empty string`);
    }
    try {
      new RegExp(pattern, 'gi');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new TypeError(`${where}: patterns[${at}] is not a valid regular expression (${reason})`);
    }
  });
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0 || weight > 1) {
    throw new TypeError(`${where}: weight must be a number in (0, 1] (got ${JSON.stringify(weight)})`);
  }
  if (negatable !== undefined && typeof negatable !== 'boolean') {
    throw new TypeError(`${where}: negatable must be true or false when given`);
  }
  const rule: IntentRule = { id, intent, patterns: [...(patterns as string[])], weight };
  if (negatable !== undefined) rule.negatable = negatable;
  return rule;
}

/**
 * Validates a rule list, e.g. straight from `JSON.parse` of a config file,
 * and returns frozen copies. Throws `TypeError` on the first bad rule
 * (wrong shape, unknown field, empty or invalid pattern, weight outside
 * (0, 1], duplicate id).
 *
 * @example
 * const rules = parseIntentRules(JSON.parse(readFileSync('intents.json', 'utf8')));
 * const router = createIntentRouter({ rules });
 */
export function parseIntentRules(input: unknown): IntentRule[] {
  const list = isRulesDocument(input) ? input.rules : input;
  if (!Array.isArray(list)) {
    throw new TypeError('intent rules must be an array of rules, or an object { "rules": [...] }');
  }
  const seen = new Set<string>();
  return list.map((value, index) => {
    const rule = checkRule(value, index);
    if (seen.has(rule.id)) throw new TypeError(`intent rule id "${rule.id}" appears more than once`);
    seen.add(rule.id);
    return Object.freeze({ ...rule, patterns: Object.freeze([...rule.patterns]) as string[] });
  });
}

function isRulesDocument(input: unknown): input is { rules: unknown } {
  return typeof input === 'object' && input !== null && !Array.isArray(input) && 'rules' in input;
}

/**
 * Merges custom rules into a base set: a custom rule whose id matches a base
 * rule replaces it in place; the others are appended in order.
 */
export function mergeIntentRules(base: readonly IntentRule[], custom: readonly IntentRule[]): IntentRule[] {
  const overrides = new Map(custom.map((rule) => [rule.id, rule]));
  const merged = base.map((rule) => overrides.get(rule.id) ?? rule);
  const baseIds = new Set(base.map((rule) => rule.id));
  return [...merged, ...custom.filter((rule) => !baseIds.has(rule.id))];
}

/** Compiles validated rules; patterns get flags `gi` so every occurrence is checked for negation. */
export function compileIntentRules(rules: readonly IntentRule[]): CompiledRule[] {
  return rules.map((rule) => ({ rule, regexes: rule.patterns.map((source) => new RegExp(source, 'gi')) }));
}
