import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The arguments that run one of ringkv's own scripts in a new Node process: the built `.js` file, or, when
 * ringkv itself runs from its TypeScript sources (tests under tsx), the `.ts` file under the tsx loader.
 * `script` is relative to `from` (pass `import.meta.url`) and named without its extension.
 */
export function scriptArgs(script: string, from: string): string[] {
  const fromSources = from.endsWith('.ts');
  const path = fileURLToPath(new URL(`${script}${fromSources ? '.ts' : '.js'}`, from));
  return fromSources ? ['--import', 'tsx', path] : [path];
}

/**
 * Starts one of ringkv's own scripts as a worker thread: the built `.js` file, or, when ringkv runs from its
 * TypeScript sources (tests under tsx), the `.ts` file behind tsx's loader, registered inside the worker.
 */
export function startWorker(script: string, from: string, options: WorkerOptions): Worker {
  if (!from.endsWith('.ts')) return new Worker(new URL(`${script}.js`, from), options);
  const loader = import.meta.resolve('tsx/esm/api');
  const source = new URL(`${script}.ts`, from).href;
  const bootstrap = `import(${JSON.stringify(loader)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
