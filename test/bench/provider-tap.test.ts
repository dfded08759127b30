import { describe, expect, it } from 'vitest';
import { TAG_FORM, tagOf, tagText } from '../../bench/lib/provider-tap.ts';
import { ConversationIndex } from '../../src/context/search-index.ts';

describe("the first-delta bench's request tag", () => {
  it('is found again in the prompt, the newest (highest) when older tagged turns are in it too', () => {
    const request = {
      messages: [
        { role: 'system' as const, content: 'You are a careful clinical assistant.' },
        { role: 'user' as const, content: `My chest feels tight. ${tagText(7)}` },
        { role: 'assistant' as const, content: 'When did it start?' },
        { role: 'user' as const, content: `This morning, after the stairs. ${tagText(31)}` },
      ],
      maxTokens: 64,
      signal: new AbortController().signal,
    };
    expect(tagOf(request)).toBe(31);
    expect(tagText(31)).toBe(TAG_FORM.replace('n', '31'));
    expect(tagOf({ ...request, messages: [{ role: 'user', content: 'No tag here [#x] or #12.' }] })).toBeUndefined();
  });

  it('gives the search index no term that tagged messages share, so a query matches no earlier request by its tag', () => {
    // Retrieval searches the whole history with the new message: a tag made of words shared by every message
    // would match every earlier request and make retrieval do work that a real conversation does not.
    const index = new ConversationIndex();
    index.add({ number: 1, role: 'user', text: `Metformin upsets my stomach. ${tagText(1)}` });
    index.add({ number: 2, role: 'user', text: `I sleep badly most nights. ${tagText(2)}` });
    expect(index.search(`Is the rash getting worse? ${tagText(3)}`)).toEqual([]);
    expect(index.search(`Does metformin cause that? ${tagText(3)}`).map((hit) => hit.number)).toEqual([1]);
  });
});
