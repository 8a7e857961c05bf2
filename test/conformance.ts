/**
 * The shared packetdrill conformance set: `../shared/conformance/packetdrill` next to the project root
 * (or $SYNACK_PACKETDRILL). Importing this module fails loudly when the folder is missing or holds no
 * script, so a test that needs it never passes by finding nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (the folder holding package.json). */
const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Absolute path of the conformance folder. */
export const CONFORMANCE_DIR = path.resolve(
  process.env['SYNACK_PACKETDRILL'] ?? path.join(PROJECT_ROOT, '..', 'shared', 'conformance', 'packetdrill'),
);

function walk(dir: string, rel: string, out: string[]): void {
  for (const name of fs.readdirSync(dir)) {
    const abs = path.join(dir, name);
    const r = rel === '' ? name : `${rel}/${name}`;
    if (fs.statSync(abs).isDirectory()) walk(abs, r, out);
    else if (name.endsWith('.pkt')) out.push(r);
  }
}

function listScripts(): string[] {
  if (!fs.existsSync(CONFORMANCE_DIR) || !fs.statSync(CONFORMANCE_DIR).isDirectory()) {
    throw new Error(
      `packetdrill conformance set missing: ${CONFORMANCE_DIR} does not exist. The tests read the scripts in ` +
        `shared/conformance/packetdrill beside the project (../shared/conformance/packetdrill from ${PROJECT_ROOT}); ` +
        'set SYNACK_PACKETDRILL to use another folder.',
    );
  }
  const out: string[] = [];
  walk(CONFORMANCE_DIR, '', out);
  if (out.length === 0) throw new Error(`packetdrill conformance set empty: no .pkt file under ${CONFORMANCE_DIR}`);
  return out.sort();
}

/** Every script, as a path relative to CONFORMANCE_DIR with '/' separators, sorted. */
export const CONFORMANCE_SCRIPTS: readonly string[] = listScripts();

export function conformancePath(rel: string): string {
  return path.join(CONFORMANCE_DIR, ...rel.split('/'));
}

export function readConformanceScript(rel: string): string {
  return fs.readFileSync(conformancePath(rel), 'utf8');
}

/** One row of MANIFEST.md's file table (the columns the runner needs). */
export interface ManifestEntry {
  readonly file: string;
  readonly category: string;
  readonly checks: string;
  readonly personality: string;
}

/** The rows of MANIFEST.md's `| # | file | ... |` table; throws when the manifest is missing. */
export function manifestEntries(): ManifestEntry[] {
  const p = path.join(CONFORMANCE_DIR, 'MANIFEST.md');
  if (!fs.existsSync(p)) throw new Error(`MANIFEST.md missing in ${CONFORMANCE_DIR}`);
  const out: ManifestEntry[] = [];
  for (const line of fs.readFileSync(p, 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | n | `file` | source | category | checks | init | AF | personality | options | features |
    if (cells.length < 11 || !/^[0-9]+$/.test(cells[1] as string)) continue;
    out.push({
      file: (cells[2] as string).replace(/`/g, ''),
      category: cells[4] as string,
      checks: cells[5] as string,
      personality: cells[8] as string,
    });
  }
  return out;
}
