import { isContinuumError } from '../client/index.ts';
import { byId } from './dom.ts';

/**
 * The page's one alert region (`role="alert"`): a failed call shows its
 * problem `code` and `detail` there, so an error is never a blank screen.
 */
export class Alerts {
  readonly #region = byId('alert');
  readonly #code = byId('alert-code');
  readonly #detail = byId('alert-detail');

  constructor() {
    byId('alert-dismiss').addEventListener('click', () => this.clear());
  }

  /** Show what went wrong: a ContinuumError's code and detail (with its request id), or any error's message. */
  show(error: unknown): void {
    if (isContinuumError(error)) {
      this.#code.textContent = error.code;
      const id = error.requestId === undefined ? '' : ` (request ${error.requestId})`;
      this.#detail.textContent = `${error.detail}${id}`;
    } else {
      this.#code.textContent = 'error';
      this.#detail.textContent = error instanceof Error ? error.message : String(error);
    }
    this.#region.hidden = false;
  }

  clear(): void {
    this.#region.hidden = true;
    this.#code.textContent = '';
    this.#detail.textContent = '';
  }
}
