/**
 * Writes a node's JSON snapshot from its LMDB environment, opened read-only beside the node that serves it.
 * Run by the node as background work (see writeSnapshotInChild), so the export never takes the serving
 * process's event loop, heap or CPU share. Usage: snapshot-child <lmdb path> <json path>. Prints the result
 * as JSON; exits 1 with the error on stderr. If the node dies first (its IPC channel closes), stops at once
 * and removes the temporary file: a node restarted meanwhile writes its own snapshot.
 */
import { rmSync } from 'node:fs';
import { LmdbEngine } from './lmdb-engine.js';
import { snapshotTemporaryPath, writeSnapshot } from './snapshot.js';

const [lmdbPath, jsonPath] = process.argv.slice(2);
if (lmdbPath === undefined || jsonPath === undefined) {
  process.stderr.write('usage: snapshot-child <lmdb path> <json path>\n');
  process.exit(2);
}
process.channel?.unref(); // the channel tells of the node's death; it must not keep this process alive
process.once('disconnect', () => {
  rmSync(snapshotTemporaryPath(jsonPath), { force: true });
  process.exit(1);
});
const engine = new LmdbEngine(lmdbPath, { readOnly: true });
try {
  process.stdout.write(JSON.stringify(await writeSnapshot(engine, jsonPath)));
} catch (error) {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
} finally {
  await engine.close();
}
