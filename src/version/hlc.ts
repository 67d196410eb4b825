import { RingKvError } from '../errors.js';
import {
  assertWriterId,
  formatVersion,
  LOGICAL_MAX,
  parseVersion,
  type Version,
  WALL_MS_MAX,
} from './version.js';

export interface HybridLogicalClockOptions {
  /** The id written into every version this clock assigns. */
  readonly writer: string;
  /** Physical time in ms since the epoch; injected so tests control time. */
  readonly physicalNowMs: () => number;
  /** Versions observed from others may run at most this far ahead of physical time. Default 60,000. */
  readonly maxDriftMs?: number;
}

/**
 * A hybrid logical clock (Kulkarni et al., 2014): timestamps track physical time, never go backwards,
 * and move past every timestamp the clock has observed, so a write that happens after another (as seen
 * by this process) always gets a larger version even when wall clocks disagree by a little.
 */
export class HybridLogicalClock {
  readonly writer: string;
  readonly maxDriftMs: number;
  readonly #physicalNowMs: () => number;
  #wallMs = 0;
  #logical = 0;

  constructor(options: HybridLogicalClockOptions) {
    assertWriterId(options.writer);
    this.writer = options.writer;
    this.maxDriftMs = options.maxDriftMs ?? 60_000;
    this.#physicalNowMs = options.physicalNowMs;
  }

  /** A new version, greater than every version this clock assigned or observed before. */
  now(): Version {
    const physical = this.#physicalNowMs();
    if (physical > this.#wallMs) {
      this.#wallMs = physical;
      this.#logical = 0;
    } else {
      this.#tick(this.#logical + 1);
    }
    return formatVersion({ wallMs: this.#wallMs, logical: this.#logical, writer: this.writer });
  }

  /**
   * Moves the clock past a version seen from another writer. Throws RINGKV_ERR_CLOCK_SKEW when the
   * version is further ahead of physical time than maxDriftMs: accepting it would let one bad clock
   * make a key unwritable by everyone else until real time caught up.
   */
  observe(version: Version): void {
    const remote = parseVersion(version);
    const physical = this.#physicalNowMs();
    if (remote.wallMs > physical + this.maxDriftMs) {
      throw new RingKvError(
        'RINGKV_ERR_CLOCK_SKEW',
        `version ${version} is ${remote.wallMs - physical} ms ahead of this clock (limit ${this.maxDriftMs} ms)`,
      );
    }
    const wallMs = Math.max(this.#wallMs, remote.wallMs, physical);
    if (wallMs === this.#wallMs && wallMs === remote.wallMs)
      this.#tick(Math.max(this.#logical, remote.logical) + 1);
    else if (wallMs === this.#wallMs) this.#tick(this.#logical + 1);
    else if (wallMs === remote.wallMs) {
      this.#wallMs = wallMs;
      this.#tick(remote.logical + 1);
    } else {
      this.#wallMs = wallMs;
      this.#logical = 0;
    }
  }

  // The logical counter has 16 bits; on overflow the clock borrows the next millisecond.
  #tick(logical: number): void {
    if (logical > LOGICAL_MAX) {
      this.#wallMs++;
      this.#logical = 0;
    } else {
      this.#logical = logical;
    }
    if (this.#wallMs > WALL_MS_MAX)
      throw new Error('hybrid logical clock overflowed 48 bits of milliseconds');
  }
}
