/**
 * Writes a node's JSON snapshot from its LMDB environment, opened read-only beside the node that serves it.
 * Run by the node as a low-priority child process (see writeSnapshotInChild), so the export never takes the
 * serving process's event loop, heap or scheduling priority. Usage: snapshot-child <lmdb path> <json path>.
 * Prints the result as JSON; exits 1 with the error on stderr.
 */
import { LmdbEngine } from './lmdb-engine.js';
import { writeSnapshot } from './snapshot.js';

const [lmdbPath, jsonPath] = process.argv.slice(2);
if (lmdbPath === undefined || jsonPath === undefined) {
  process.stderr.write('usage: snapshot-child <lmdb path> <json path>\n');
  process.exit(2);
}
const engine = new LmdbEngine(lmdbPath, { readOnly: true });
try {
  process.stdout.write(JSON.stringify(await writeSnapshot(engine, jsonPath)));
} catch (error) {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
} finally {
  await engine.close();
}
