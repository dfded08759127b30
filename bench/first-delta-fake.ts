/**
 * The fake provider of bench/first-delta.ts (bench/lib/openai-stream-fake.ts)
 * in a process of its own: neither the server's work (its replies' upkeep,
 * its garbage collection) nor the load generator's can delay the fake's
 * answers, so side (a), the provider alone, times the provider and nothing
 * else, and both sides reach it across the same process boundary.
 */
import { serveBenchParent } from './lib/bench-child.ts';
import { type StreamFake, type StreamScript, startStreamFake } from './lib/openai-stream-fake.ts';

export type FakeRequest =
  | { type: 'start'; script: StreamScript }
  | { type: 'script'; script: StreamScript }
  | { type: 'close' };

export type FakeReply = { type: 'started'; baseURL: string } | { type: 'scripted' } | { type: 'closed' };

let fake: StreamFake | undefined;

serveBenchParent<FakeRequest, FakeReply>(
  async (request) => {
    switch (request.type) {
      case 'start':
        fake = await startStreamFake(request.script);
        return { type: 'started', baseURL: fake.baseURL };
      case 'script':
        fake?.script(request.script);
        return { type: 'scripted' };
    }
  },
  async () => {
    await fake?.close();
    fake = undefined;
  },
);
