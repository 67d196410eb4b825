import { type ErrorCode, RingKvError } from './errors.js';

/**
 * Checks for options objects, run once at construction. Every message names the option, so a user
 * sees which knob is wrong and what it accepts.
 */

export function assertPlainObject(
  value: unknown,
  name: string,
  code: ErrorCode = 'RINGKV_ERR_INVALID_OPTION',
): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RingKvError(code, `${name} must be an object`);
  }
}

/** Throws if `options` has a key outside `allowed`: a misspelt option must not be silently ignored. */
export function rejectUnknownKeys(options: object, allowed: readonly string[], component: string): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new RingKvError(
        'RINGKV_ERR_INVALID_OPTION',
        `${component}: unknown option "${key}" (known: ${allowed.join(', ')})`,
      );
    }
  }
}

/** One of a fixed set of strings (an engine, a policy), or RINGKV_ERR_INVALID_OPTION naming the choices. */
export function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_OPTION',
      `${name} must be ${allowed.join(' or ')}, got ${String(value)}`,
    );
  }
  return value as T;
}

export function integerInRange(
  value: unknown,
  name: string,
  min: number,
  max: number,
  code: ErrorCode = 'RINGKV_ERR_INVALID_OPTION',
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RingKvError(code, `${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}
