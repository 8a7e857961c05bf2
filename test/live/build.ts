/**
 * Child processes that run inside a network namespace are plain `node`, which cannot load TypeScript.
 * This transpiles a test entry file and every file it imports by relative path (src/ included) into
 * node_modules/.cache/synack-live/<pid>/, mirroring the repository layout, so the child runs the
 * CURRENT sources (dist/ may be stale while tests run) and still resolves `cap` from node_modules.
 * Types are not checked here: `npx tsc -p tsconfig.test.json` does that.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const REPO = resolve(__dirname, '..', '..');

/** Transpiles `entry` (repo-relative .ts) and its relative imports; returns the path of the entry's .js. */
export function buildForChild(entry: string): { js: string; dir: string } {
  const dir = join(REPO, 'node_modules', '.cache', 'synack-live', String(process.pid));
  const seen = new Set<string>();
  const todo = [resolve(REPO, entry)];
  while (todo.length > 0) {
    const file = todo.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
      todo.push(resolve(dirname(file), `${m[1] as string}.ts`));
    }
    const out = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        verbatimModuleSyntax: true,
        sourceMap: false,
      },
    });
    const target = join(dir, relative(REPO, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
  }
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  return { js: join(dir, entry).replace(/\.ts$/, '.js'), dir };
}

export function removeBuild(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
