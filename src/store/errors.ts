import { AppError } from '../errors/index.ts';

/** Wrap a driver error: callers see `store_unavailable`, the log keeps the cause. */
export function storeUnavailable(operation: string, cause: unknown): AppError {
  return new AppError('store_unavailable', `The store failed during ${operation}`, { cause });
}
