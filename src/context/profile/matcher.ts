/**
 * A token trie for phrase lexicons: greedy leftmost-longest matching of
 * multi-word phrases over tokenised text, never across punctuation.
 */
import type { Token } from './text.ts';

interface TrieNode<V> {
  next: Map<string, TrieNode<V>>;
  value?: V;
}

/** A phrase trie; `merge` combines values when two phrases are the same tokens. */
export class PhraseTrie<V> {
  private readonly root: TrieNode<V> = { next: new Map() };

  constructor(private readonly merge: (a: V, b: V) => V) {}

  /** Add a phrase (already tokenised into matching forms). */
  add(tokens: readonly string[], value: V): void {
    if (tokens.length === 0) return;
    let node = this.root;
    for (const t of tokens) {
      let child = node.next.get(t);
      if (child === undefined) {
        child = { next: new Map() };
        node.next.set(t, child);
      }
      node = child;
    }
    node.value = node.value === undefined ? value : this.merge(node.value, value);
  }

  /** Longest phrase starting at token `i`: its value and token length. */
  longestAt(tokens: readonly Token[], i: number): { value: V; length: number } | undefined {
    let node: TrieNode<V> | undefined = this.root;
    let best: { value: V; length: number } | undefined;
    for (let j = i; j < tokens.length; j++) {
      const t = tokens[j];
      if (t === undefined || t.punct) break;
      node = node.next.get(t.norm) ?? node.next.get(t.text);
      if (node === undefined) break;
      if (node.value !== undefined) best = { value: node.value, length: j - i + 1 };
    }
    return best;
  }

  /** All non-overlapping leftmost-longest matches. */
  matchAll(tokens: readonly Token[]): { value: V; start: number; end: number }[] {
    const out: { value: V; start: number; end: number }[] = [];
    for (let i = 0; i < tokens.length; ) {
      const m = this.longestAt(tokens, i);
      if (m === undefined) {
        i++;
        continue;
      }
      out.push({ value: m.value, start: i, end: i + m.length });
      i += m.length;
    }
    return out;
  }
}
