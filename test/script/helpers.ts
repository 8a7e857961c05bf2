/** Small helpers shared by the script tests. */
import { expect } from 'vitest';
import { formatDiagnostic, parseScript, type Script } from '../../src/script/index.js';

/** A deep copy without any `loc` or `endLoc` key: ASTs compared by content, not by position. */
export function stripLocs<T>(x: T): T {
  if (Array.isArray(x)) return x.map(stripLocs) as T;
  if (x !== null && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (k !== 'loc' && k !== 'endLoc') out[k] = stripLocs(v);
    return out as T;
  }
  return x;
}

/** Parse and insist on success; fails the test with the formatted errors otherwise. */
export function parseOk(text: string, file = 'test.pkt'): { script: Script; unsupported: string[] } {
  const r = parseScript(text, file);
  if (!r.ok) expect.fail(`expected ${file} to parse, got:\n${r.errors.map(formatDiagnostic).join('\n')}`);
  return { script: r.script, unsupported: r.unsupported.map(formatDiagnostic) };
}

/** Parse and insist on failure; the formatted errors. */
export function errorsOf(text: string, file = 'broken.pkt'): string[] {
  const r = parseScript(text, file);
  if (r.ok) expect.fail(`expected ${file} to fail to parse`);
  return r.errors.map(formatDiagnostic);
}
