import type { MultiOp, MultiResult } from '../node/multi-protocol.js';

interface Queued {
  readonly op: MultiOp;
  readonly resolve: (result: MultiResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Batches operations to one node like a group commit: one batch in flight at a time, and whatever arrives
 * meanwhile goes out together in the next (at most `opsMax` per batch). Under load batches grow to the
 * node's concurrency, turning many HTTP exchanges into one; when idle an operation leaves on the next turn
 * of the event loop. A failed batch fails every operation in it.
 */
export class BatchLane {
  readonly #send: (ops: MultiOp[]) => Promise<MultiResult[]>;
  readonly #opsMax: number;
  #queue: Queued[] = [];
  #scheduled = false;
  #sending = false;

  constructor(send: (ops: MultiOp[]) => Promise<MultiResult[]>, opsMax: number) {
    this.#send = send;
    this.#opsMax = opsMax;
  }

  add(op: MultiOp): Promise<MultiResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ op, resolve, reject });
      if (!this.#scheduled && !this.#sending) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#sending || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#opsMax);
    this.#sending = true;
    this.#send(batch.map((queued) => queued.op))
      .then(
        (results) => {
          for (const [index, queued] of batch.entries()) queued.resolve(results[index]!);
        },
        (error: unknown) => {
          for (const queued of batch) queued.reject(error);
        },
      )
      .finally(() => {
        this.#sending = false;
        this.#flush();
      });
  }
}
