/**
 * The shared conformance set's MANIFEST.md: which personality each script was written for. A row of its
 * file table reads `| # | `path` | source | category | checks | init | AF | personality | options |
 * features |`; the personality cell is `linux`, `linux-3.11` or `freebsd`.
 */
import { isPersonalityName } from './env.js';
import type { PersonalityName } from './env.js';

export interface ManifestRow {
  /** The script's path relative to the manifest's folder, with `/` separators. */
  readonly file: string;
  readonly category: string;
  readonly personality: PersonalityName;
}

/** The rows of a manifest's file table whose personality synack knows (others are left out). */
export function parseManifest(text: string): ManifestRow[] {
  const out: ManifestRow[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 11 || !/^[0-9]+$/.test(cells[1] as string)) continue;
    const personality = cells[8] as string;
    if (!isPersonalityName(personality)) continue;
    out.push({ file: (cells[2] as string).replace(/`/g, ''), category: cells[4] as string, personality });
  }
  return out;
}
