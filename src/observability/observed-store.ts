import { AppError } from '../errors/index.ts';
import type { RotateOutcome, Store } from '../store/port.ts';
import type { Metrics } from './metrics.ts';

/** What the observed store tells its owner besides the metrics it records. */
export interface StoreObserver {
  /** A call failed with `store_unavailable` (the store, not the request, is at fault). */
  unavailable?: (operation: string) => void;
  /** A refresh token was presented; `outcome` is how the store answered. */
  refreshed?: (outcome: RotateOutcome['kind']) => void;
}

/**
 * The same store, observed: every call that fails with `store_unavailable`
 * is counted by operation (the method's name, a fixed set) and reported;
 * `appendAudit` (audit events recorded on their own) is timed; the outcome
 * of every refresh-token rotation is counted. Nothing else changes: the
 * calls, their arguments, results and errors pass through untouched, and
 * methods the store gains later are passed through the same way.
 *
 * @example
 * const store = observeStore(createSqliteStore({ filename }), metrics, { unavailable: (op) => log.warn({ op }) });
 */
export function observeStore<S extends Store>(store: S, metrics: Metrics, observer: StoreObserver = {}): S {
  const wrapped = new Map<PropertyKey, unknown>();
  const failed = (operation: string, error: unknown) => {
    if (!(error instanceof AppError) || error.code !== 'store_unavailable') return;
    metrics.storeErrors.inc({ operation });
    observer.unavailable?.(operation);
  };
  const wrap = (operation: string, method: (...args: unknown[]) => unknown) =>
    function observed(...args: unknown[]): unknown {
      const started = performance.now();
      let result: unknown;
      try {
        result = method.apply(store, args);
      } catch (error) {
        failed(operation, error);
        throw error;
      }
      if (!(result instanceof Promise)) return result;
      return result.then(
        (value: unknown) => {
          if (operation === 'appendAudit') metrics.auditAppend.observe((performance.now() - started) / 1000);
          if (operation === 'rotateRefreshToken') {
            const kind = (value as RotateOutcome).kind;
            metrics.refreshes.inc({ outcome: kind });
            observer.refreshed?.(kind);
          }
          return value;
        },
        (error: unknown) => {
          failed(operation, error);
          throw error;
        },
      );
    };
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      let fn = wrapped.get(property);
      if (fn === undefined) {
        fn = wrap(property, value as (...args: unknown[]) => unknown);
        wrapped.set(property, fn);
      }
      return fn;
    },
  });
}
