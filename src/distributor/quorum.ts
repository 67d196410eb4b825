import { RingKvError } from '../errors.js';

export interface QuorumOutcome<T> {
  /** The first `needed` successes, in the order they arrived. */
  readonly answers: readonly T[];
  /** Every attempt, settled: for work after the answer (read repair, hints). */
  readonly settled: Promise<PromiseSettledResult<T>[]>;
}

/**
 * Waits for `needed` of `attempts` to succeed and resolves at once with those; the others keep running, and
 * `settled` reports them all. Rejects with RINGKV_ERR_QUORUM_NOT_MET (saying how many answered) as soon as
 * so many have failed that `needed` can no longer be reached — never a partial success. With a single
 * attempt, its own error is passed on.
 */
export function quorum<T>(
  attempts: readonly Promise<T>[],
  needed: number,
  what: string,
): Promise<QuorumOutcome<T>> {
  const settled = Promise.allSettled(attempts);
  return new Promise((resolve, reject) => {
    const answers: T[] = [];
    let failures = 0;
    let done = false;
    let firstError: unknown;
    if (attempts.length < needed) {
      done = true;
      reject(notMet(what, 0, needed, attempts.length));
    }
    for (const attempt of attempts) {
      attempt.then(
        (answer) => {
          if (done) return;
          answers.push(answer);
          if (answers.length === needed) {
            done = true;
            resolve({ answers, settled });
          }
        },
        (error: unknown) => {
          failures++;
          firstError ??= error;
          if (done || attempts.length - failures >= needed) return;
          done = true;
          // With a single replica its own failure (which names the node) says more than a quorum count.
          reject(
            attempts.length === 1 ? error : notMet(what, answers.length, needed, attempts.length, firstError),
          );
        },
      );
    }
  });
}

function notMet(what: string, answered: number, needed: number, asked: number, cause?: unknown): RingKvError {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new RingKvError(
    'RINGKV_ERR_QUORUM_NOT_MET',
    `${what}: ${answered} of ${asked} replicas answered, ${needed} needed${reason}`,
    { replicasAnswered: answered, replicasNeeded: needed },
  );
}
