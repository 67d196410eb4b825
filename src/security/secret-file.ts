import { RingKvError } from '../errors.js';
import { readFileIfExists, writeFileAtomically } from '../storage/atomic-file.js';

/** A JSON file holding credentials, readable by its owner only. */
export async function readSecretFile<T>(path: string): Promise<T | undefined> {
  const text = await readFileIfExists(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new RingKvError('RINGKV_ERR_INVALID_OPTION', `${path} is not JSON; remove it or restore it`);
  }
}

export function writeSecretFile(path: string, value: unknown): Promise<void> {
  return writeFileAtomically(path, `${JSON.stringify(value, null, 2)}\n`, 0o600);
}
