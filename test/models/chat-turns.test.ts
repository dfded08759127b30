import { expect, it } from 'vitest';
import { CONTINUATION_PLACEHOLDER, splitSystem } from '../../src/models/chat-turns.ts';

it('joins system messages wherever they are and merges consecutive turns of one role', () => {
  expect(
    splitSystem([
      { role: 'system', content: 'A' },
      { role: 'user', content: 'one' },
      { role: 'system', content: 'B' },
      { role: 'user', content: 'two' },
      { role: 'assistant', content: 'three' },
    ]),
  ).toEqual({
    system: 'A\n\nB',
    turns: [
      { role: 'user', content: 'one\n\ntwo' },
      { role: 'assistant', content: 'three' },
    ],
  });
});

it('puts a placeholder user turn before a leading assistant turn', () => {
  expect(splitSystem([{ role: 'assistant', content: 'hi' }]).turns).toEqual([
    { role: 'user', content: CONTINUATION_PLACEHOLDER },
    { role: 'assistant', content: 'hi' },
  ]);
});

it('refuses a prompt with no user or assistant turn', () => {
  expect(() => splitSystem([{ role: 'system', content: 'only' }])).toThrow(TypeError);
});
