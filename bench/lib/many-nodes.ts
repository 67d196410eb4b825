/**
 * Runs `count` storage nodes (memory engine) in this one process, each its own HTTP server on a free port, and
 * prints `{"msg":"listening","port":<first>,"urls":[...]}` when all listen. For benchmarks that need many
 * nodes on a 2-core machine. Usage: tsx many-nodes.ts <count> <data-dir>
 */
import { buildNode, type StorageNode } from '../../src/node/node-server.js';

const count = Number(process.argv[2] ?? 100);
const dataDir = process.argv[3] ?? '/tmp/ringkv-many-nodes';
const urls: string[] = [];
const nodes: StorageNode[] = [];
for (let i = 0; i < count; i++) {
  const node = await buildNode({
    id: `node-${String(i).padStart(3, '0')}`,
    port: 0,
    dataDir,
    engine: 'memory',
    snapshotIntervalSeconds: 0,
    logger: (await import('pino')).pino({ level: 'warn' }),
  });
  const address = await node.listen();
  urls.push(`http://127.0.0.1:${address.port}`);
  nodes.push(node);
}
console.log(JSON.stringify({ msg: 'listening', port: Number(new URL(urls[0]!).port), urls }));
process.on('SIGTERM', async () => {
  await Promise.all(nodes.map((node) => node.shutdown('SIGTERM')));
  process.exit(0);
});
