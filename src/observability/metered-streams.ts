import type { TenantId } from '../core/types.ts';
import {
  type AcquireStreamOptions,
  MultiStreamManager,
  type MultiStreamManagerOptions,
  type ReleaseStream,
  type StreamPriority,
} from '../streaming/scheduler.ts';
import type { Metrics } from './metrics.ts';

/**
 * The stream scheduler, with its queue depth and running generations kept in
 * `continuum_reply_queue_depth` and `continuum_reply_generations_active`
 * (this node, all tenants). A request counts as queued from the moment the
 * scheduler gives it a queue position until it gets a slot or leaves.
 */
export class MeteredStreamManager extends MultiStreamManager {
  readonly #metrics: Metrics;

  constructor(options: MultiStreamManagerOptions & { metrics: Metrics }) {
    const { metrics, ...rest } = options;
    super(rest);
    this.#metrics = metrics;
  }

  override acquire(
    tenantId: TenantId,
    priority: StreamPriority,
    options: AcquireStreamOptions = {},
  ): Promise<ReleaseStream> {
    const metrics = this.#metrics;
    let queued = false;
    const granted = super.acquire(tenantId, priority, {
      ...options,
      onPosition: (position) => {
        if (!queued) {
          queued = true;
          metrics.replyQueueDepth.inc();
        }
        options.onPosition?.(position);
      },
    });
    const leaveQueue = () => {
      if (queued) metrics.replyQueueDepth.dec();
      queued = false;
    };
    return granted.then(
      (release) => {
        leaveQueue();
        metrics.replyGenerations.inc();
        let released = false;
        return () => {
          if (!released) {
            released = true;
            metrics.replyGenerations.dec();
          }
          release();
        };
      },
      (error: unknown) => {
        leaveQueue();
        throw error;
      },
    );
  }
}
