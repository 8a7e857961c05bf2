/**
 * The shared capture corpus: `../shared/pcaps` next to the project root (or $SYNACK_PCAPS), with tshark
 * ground truth in `truth/<name>.json`. Importing this module fails loudly when the corpus is missing,
 * so a test that needs it never passes by finding no files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (the folder holding package.json). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Absolute path of the capture corpus. */
export const CORPUS_DIR = path.resolve(process.env['SYNACK_PCAPS'] ?? path.join(PROJECT_ROOT, '..', 'shared', 'pcaps'));

function listCaptures(): string[] {
  if (!fs.existsSync(CORPUS_DIR) || !fs.statSync(CORPUS_DIR).isDirectory()) {
    throw new Error(
      `capture corpus missing: ${CORPUS_DIR} does not exist. The tests read the real captures in ` +
        `shared/pcaps beside the project (../shared/pcaps from ${PROJECT_ROOT}); set SYNACK_PCAPS to use another folder.`,
    );
  }
  const names = fs
    .readdirSync(CORPUS_DIR)
    .filter((n) => n.endsWith('.pcap') || n.endsWith('.pcapng'))
    .sort();
  if (names.length === 0) throw new Error(`capture corpus empty: no .pcap or .pcapng file in ${CORPUS_DIR}`);
  return names;
}

/** File names (not paths) of every capture in the corpus, sorted. */
export const CAPTURE_FILES: readonly string[] = listCaptures();

export function corpusPath(name: string): string {
  return path.join(CORPUS_DIR, name);
}

/** The parts of `truth/<base>.json` (make-truth.sh) that tests read; the file has more. */
export interface Truth {
  file: string;
  format: 'pcap' | 'pcapng';
  byte_order: 'little-endian' | 'big-endian';
  pcap_ts_resolution: 'microsecond' | 'nanosecond' | null;
  link_types: number[];
  link_types_with_packets: number[];
  header: { linktype: number; snaplen: number; fcs_bits: number } | { interfaces: { linktype: number; snaplen: number; if_tsresol: number }[] };
  packets: number;
  packets_per_interface: Record<string, number>;
  truncated_packets: number;
  tcp_packets: number;
  [key: string]: unknown;
}

/** The tshark ground truth for a capture (by file name); throws with the path when it is missing. */
export function truthOf(name: string): Truth {
  const p = path.join(CORPUS_DIR, 'truth', `${name.replace(/\.pcap(ng)?$/, '')}.json`);
  if (!fs.existsSync(p)) throw new Error(`truth file missing for ${name}: ${p}`);
  return JSON.parse(fs.readFileSync(p, 'utf8')) as Truth;
}

/** The project's own kernel captures in fixtures/ (made by tools/make-fixtures.sh). */
export const FIXTURES_DIR = path.join(PROJECT_ROOT, 'fixtures');

export const FIXTURE_FILES: readonly string[] = fs.existsSync(FIXTURES_DIR)
  ? fs.readdirSync(FIXTURES_DIR).filter((n) => n.endsWith('.pcap') || n.endsWith('.pcapng')).sort()
  : [];

/** Every capture the tests know: the shared corpus, then the project's fixtures. */
export const ALL_CAPTURES: readonly { name: string; path: string }[] = [
  ...CAPTURE_FILES.map((name) => ({ name, path: corpusPath(name) })),
  ...FIXTURE_FILES.map((name) => ({ name: `fixtures/${name}`, path: path.join(FIXTURES_DIR, name) })),
];
