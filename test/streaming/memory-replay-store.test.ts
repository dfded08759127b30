import { MemoryReplayStore } from './helpers.ts';
import { describeReplayStore } from './replay-store-conformance.ts';

// The in-memory test double must honour the same contract as the real adapters it stands in for.
describeReplayStore('memory (test double)', async () => ({ store: new MemoryReplayStore() }));
