import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Moves a fully written and fsynced `temporary` file over `path`, then fsyncs the directory so the rename
 * itself survives a crash: readers see the old file or the new one, never a mix.
 */
export async function replaceFile(temporary: string, path: string): Promise<void> {
  await rename(temporary, path);
  const directory = await open(dirname(path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * Writes `text` to `path` atomically (temporary file, fsync, rename, directory fsync). `mode` sets the file's
 * permissions from its creation (0o600 for secrets), never wider in between.
 */
export async function writeFileAtomically(path: string, text: string, mode = 0o644): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  const file = await open(temporary, 'w', mode);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await replaceFile(temporary, path);
}

/** The file's text, or undefined if it does not exist (any other failure throws). */
export async function readFileIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
