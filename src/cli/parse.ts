/** Argument parsers shared by the commands; each rejects bad input with commander's usage error. */
import { InvalidArgumentError } from 'commander';

export function integerOption(min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max}]`);
    }
    return parsed;
  };
}
