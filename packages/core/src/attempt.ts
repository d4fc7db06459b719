import { BatonError } from './errors.js';

/** How an attempt's handler ended. */
export type AttemptResult = { ok: true; output: unknown } | { ok: false; error: unknown };

/**
 * Why the worker ended an attempt before its handler did. `lost`: the worker was declared dead
 * (it missed its heartbeats, say while paused) and the execution was handed to another worker.
 */
export type AbortKind = 'cancelled' | 'timeout' | 'shutdown' | 'lost';

/**
 * One attempt of a handler: its AbortSignal (created only if the handler looks at it, since
 * most never do and a worker runs tens of thousands a second), and an end that comes exactly
 * once — from the handler, or from an abort that does not wait for a handler ignoring its signal.
 */
export class Attempt {
  private controller: AbortController | undefined;
  private finish: ((r: AttemptResult) => void) | undefined;
  private done = false;
  /** Set when the worker aborted the attempt. */
  abortedBy: AbortKind | undefined;
  /** The error the attempt was aborted with. */
  abortError: BatonError | undefined;

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.abortError && !this.controller.signal.aborted) this.controller.abort(this.abortError);
    return this.controller.signal;
  }

  /** Runs `fn` and resolves with its outcome, or with the abort error if the attempt is aborted first. */
  run(fn: () => unknown): Promise<AttemptResult> {
    return new Promise<AttemptResult>((resolve) => {
      this.finish = (r) => {
        if (this.done) return;
        this.done = true;
        resolve(r);
      };
      let value: unknown;
      try {
        value = fn();
      } catch (error) {
        this.finish({ ok: false, error });
        return;
      }
      if (typeof (value as PromiseLike<unknown> | null)?.then === 'function') {
        (value as PromiseLike<unknown>).then(
          (output: unknown) => this.finish?.({ ok: true, output }),
          (error: unknown) => this.finish?.({ ok: false, error }),
        );
      } else {
        this.finish({ ok: true, output: value });
      }
    });
  }

  /** Aborts the attempt: fires the signal and ends the attempt now with `error`. The first abort wins. */
  abort(kind: AbortKind, error: BatonError): void {
    if (this.done || this.abortedBy) return;
    this.abortedBy = kind;
    this.abortError = error;
    this.controller?.abort(error);
    this.finish?.({ ok: false, error });
  }
}
