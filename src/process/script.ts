import { fileURLToPath } from 'node:url';

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
