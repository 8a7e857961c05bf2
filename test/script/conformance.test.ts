/**
 * The shared packetdrill conformance set (../shared/conformance/packetdrill, MANIFEST.md) run against
 * synack: every script with the personality its manifest row names, runner self-tests judged by their
 * `// Failure:` comment. At least 95 % must pass, none may be skipped as unsupported, and a failure is
 * listed with its reason in the assertion message.
 */
import { describe, expect, it } from 'vitest';
import { formatRunResult, judge, parseScript, runScript, isPersonalityName } from '../../src/script/index.js';
import type { RunResult } from '../../src/script/index.js';
import { CONFORMANCE_SCRIPTS, manifestEntries, readConformanceScript } from '../conformance.js';

interface Row {
  file: string;
  personality: string;
  ok: boolean;
  reason: string;
  result: RunResult | null;
}

const personalities = new Map(manifestEntries().map((e) => [e.file, e.personality]));

const rows: Row[] = CONFORMANCE_SCRIPTS.map((file) => {
  const personality = personalities.get(file) ?? '(not in MANIFEST.md)';
  const parsed = parseScript(readConformanceScript(file), file);
  if (!parsed.ok) return { file, personality, ok: false, reason: `does not parse: ${parsed.errors[0]?.message ?? ''}`, result: null };
  if (!isPersonalityName(personality)) return { file, personality, ok: false, reason: `unknown personality ${personality}`, result: null };
  const result = runScript(parsed.script, { personality });
  const j = judge(parsed.script, result);
  return { file, personality, ok: j.ok, reason: j.reason, result };
});

function listing(filter: (r: Row) => boolean): string {
  return rows
    .filter(filter)
    .map((r) => `${r.file} (${r.personality}): ${r.reason}${r.result !== null && r.result.status === 'fail' ? `\n${formatRunResult(r.result, { traceLines: 6 })}` : ''}`)
    .join('\n\n');
}

describe('the shared packetdrill conformance set against synack', () => {
  it('runs every script the manifest lists, each with its personality', () => {
    expect(rows.length).toBe(75);
    expect(rows.filter((r) => !isPersonalityName(r.personality)).map((r) => r.file)).toEqual([]);
  });

  it('skips no script as unsupported', () => {
    const skipped = rows.filter((r) => r.result?.status === 'unsupported');
    expect(skipped.length, listing((r) => r.result?.status === 'unsupported')).toBe(0);
  });

  it('passes at least 95 % of them', () => {
    const passed = rows.filter((r) => r.ok).length;
    const pct = (100 * passed) / rows.length;
    expect(pct, `${passed}/${rows.length} pass (${pct.toFixed(1)} %); failures:\n\n${listing((r) => !r.ok)}`).toBeGreaterThanOrEqual(95);
  });
});
