import { readFile } from 'node:fs/promises';
import { RingKvError } from '../errors.js';
import { writeFileAtomically } from '../storage/atomic-file.js';

/** A JSON file holding credentials, readable by its owner only. */
export async function readSecretFile<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new RingKvError('RINGKV_ERR_INVALID_OPTION', `${path} is not JSON; remove it or restore it`);
  }
}

export function writeSecretFile(path: string, value: unknown): Promise<void> {
  return writeFileAtomically(path, `${JSON.stringify(value, null, 2)}\n`, 0o600);
}
