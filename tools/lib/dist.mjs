/**
 * What the tools share: the repository root, and loading synack's built modules from dist/ (the tools
 * run the same code the CLI does) with a clear message when the build is missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `dist/<rel>` imported; exits 2 with `<tool>: no dist/…; build first` when it is not built. */
export async function loadDist(tool, rel) {
  const p = path.join(ROOT, 'dist', rel);
  if (!fs.existsSync(p)) {
    console.error(`${tool}: no ${path.relative(ROOT, p)}; build first: npx tsc -p tsconfig.json`);
    process.exit(2);
  }
  return import(pathToFileURL(p).href);
}
