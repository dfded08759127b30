import { describe, expect, it } from 'vitest';
import { handlingFor, INTENT_HANDLING } from '../../src/intents/index.ts';

describe('intent handling', () => {
  it('escalates emergencies, tells the model to send the user to emergency services, and forbids diagnosis', () => {
    const emergency = handlingFor('emergency');
    expect(emergency.escalate).toBe(true);
    expect(emergency.systemPrompt).toMatch(/call emergency services immediately/);
    expect(emergency.systemPrompt).toMatch(/911/);
    expect(emergency.systemPrompt).toMatch(/local emergency number/);
    expect(emergency.systemPrompt).toMatch(/Do not diagnose/);
    expect(emergency.systemPrompt).toMatch(/988/);
    expect(emergency.maxReplyTokens).toBeGreaterThan(0);
  });

  it('escalates nothing else', () => {
    for (const intent of ['medication', 'scheduling', 'general'] as const) {
      expect(INTENT_HANDLING[intent].escalate).toBe(false);
      expect(INTENT_HANDLING[intent].systemPrompt.length).toBeGreaterThan(20);
    }
  });

  it('maps an unknown intent to general, and prefers an override when given', () => {
    expect(handlingFor('billing')).toBe(INTENT_HANDLING.general);
    const billing = { systemPrompt: 'Explain the bill.', escalate: false };
    expect(handlingFor('billing', { billing })).toBe(billing);
    expect(handlingFor('toString')).toBe(INTENT_HANDLING.general);
  });

  it('is frozen so a caller cannot switch off escalation globally', () => {
    expect(Object.isFrozen(INTENT_HANDLING)).toBe(true);
    expect(Object.isFrozen(INTENT_HANDLING.emergency)).toBe(true);
  });
});
