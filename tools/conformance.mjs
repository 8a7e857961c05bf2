#!/usr/bin/env node
/**
 * Runs every packetdrill script of the shared conformance set against synack (dist/, so build first):
 *
 *   npm run conformance            # tsc -p tsconfig.json && node tools/conformance.mjs
 *   node tools/conformance.mjs [--verbose] [--strict] [--json] [FILTER]
 *
 * Each script runs with the personality its MANIFEST.md row names (linux, linux-3.11, freebsd). The
 * runner self-tests the manifest lists (their `// Failure:` comment) count as passed only when they fail
 * with the message the comment gives. Prints one row per script (script, personality, result, reason)
 * and the pass percentage; exits 1 when it is below 95 %, 2 when the set or the build is missing.
 * The folder is ../shared/conformance/packetdrill beside the project, or $SYNACK_PACKETDRILL.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIR = resolve(process.env.SYNACK_PACKETDRILL ?? join(ROOT, '..', 'shared', 'conformance', 'packetdrill'));
const BAR = 95;

const args = process.argv.slice(2);
const verbose = args.includes('--verbose') || args.includes('-v');
const strict = args.includes('--strict');
const json = args.includes('--json');
const filter = args.find((a) => !a.startsWith('-'));

const dist = join(ROOT, 'dist', 'script', 'index.js');
if (!existsSync(dist)) {
  console.error(`conformance: ${relative(process.cwd(), dist)} missing; build first (npx tsc -p tsconfig.json)`);
  process.exit(2);
}
if (!existsSync(DIR)) {
  console.error(`conformance: no packetdrill set at ${DIR} (set SYNACK_PACKETDRILL)`);
  process.exit(2);
}
const { parseScript, runScript, judge, formatRunResult, formatDiagnostic, parseManifest } = await import(dist);

function walk(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.pkt')) out.push(p);
  }
  return out;
}

/** file → personality, from MANIFEST.md's file table. */
function manifest() {
  const p = join(DIR, 'MANIFEST.md');
  return new Map(existsSync(p) ? parseManifest(readFileSync(p, 'utf8')).map((r) => [r.file, r.personality]) : []);
}

const personalities = manifest();
const rows = [];
for (const path of walk(DIR)) {
  const file = relative(DIR, path).split('\\').join('/');
  if (filter !== undefined && !file.includes(filter)) continue;
  const personality = personalities.get(file) ?? 'linux';
  const parsed = parseScript(readFileSync(path, 'utf8'), file);
  if (!parsed.ok) {
    rows.push({ file, personality, result: 'fail', reason: `parse error: ${parsed.errors.map(formatDiagnostic).join('; ')}`, detail: '' });
    continue;
  }
  const r = runScript(parsed.script, { personality, strict });
  const j = judge(parsed.script, r);
  const result = r.status === 'unsupported' ? 'unsupported' : j.ok ? 'pass' : 'fail';
  rows.push({ file, personality, result, reason: j.reason, detail: result === 'pass' ? '' : formatRunResult(r) });
}

const passed = rows.filter((r) => r.result === 'pass').length;
const pct = rows.length === 0 ? 0 : (100 * passed) / rows.length;
if (json) {
  console.log(JSON.stringify({ dir: DIR, total: rows.length, passed, percent: Number(pct.toFixed(1)), rows: rows.map(({ detail, ...r }) => r) }, null, 2));
} else {
  const w = Math.min(90, Math.max(6, ...rows.map((r) => r.file.length)));
  console.log(`${'script'.padEnd(w)}  ${'personality'.padEnd(11)}  ${'result'.padEnd(11)}  reason`);
  for (const r of rows) {
    const name = r.file.length > w ? `…${r.file.slice(r.file.length - w + 1)}` : r.file.padEnd(w);
    console.log(`${name}  ${r.personality.padEnd(11)}  ${r.result.padEnd(11)}  ${r.reason}`);
  }
  if (verbose) for (const r of rows) if (r.detail !== '') console.log(`\n${r.detail}`);
  const counts = ['pass', 'fail', 'unsupported'].map((k) => `${rows.filter((r) => r.result === k).length} ${k}`).join(', ');
  console.log(`\n${passed}/${rows.length} scripts pass (${pct.toFixed(1)} %): ${counts}${strict ? ' (strict)' : ''}`);
}
process.exitCode = pct >= BAR ? 0 : 1;
