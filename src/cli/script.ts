/**
 * `synack script FILE.pkt...`: runs packetdrill scripts against synack's own stack, in-process, on a
 * virtual clock. Exit codes: 0 every script passed, 1 one failed or was skipped as unsupported, 2 a
 * script did not parse (or could not be read) or the command line was wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { formatDiagnostic, formatRunResult, isPersonalityName, parseManifest, parseScript, runScript, PERSONALITY_NAMES } from '../script/index.js';
import type { PersonalityName } from '../script/index.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import type { Output } from './output.js';

export const SCRIPT_OPTIONS: readonly OptionSpec[] = [
  { name: 'personality', short: 'p', kind: 'string', valueName: 'NAME', help: `the machine the scripts were written for: ${PERSONALITY_NAMES.join(', ')}` },
  { name: 'strict', kind: 'flag', help: 'also fail on any segment no outbound line expects (packetdrill ignores them)' },
  { name: 'define', short: 'D', kind: 'list', valueName: 'NAME', help: 'define NAME (or NAME=VALUE) for #ifdef; give it after the files' },
  { name: 'verbose', short: 'v', kind: 'flag', help: 'print the whole run log of every script' },
];

export const SCRIPT_USAGE = `usage: synack script FILE.pkt... [--personality ${PERSONALITY_NAMES.join('|')}] [--strict] [--define NAME]...

Runs packetdrill scripts against synack's own TCP, in-process, with a virtual clock: inbound packets
are injected at their times, outbound ones are matched against what synack sends, system calls run on
its socket table. Without --personality a script takes the personality its folder's MANIFEST.md gives
it (as the shared conformance set does), else linux. A failure is reported as packetdrill reports it:
the line, the expected and the actual packet or return value, and the trace before it.`;

/** The personality a MANIFEST.md in one of the script's parent folders gives it, or null. */
function manifestPersonality(path: string): PersonalityName | null {
  let dir = dirname(resolve(path));
  for (;;) {
    const m = join(dir, 'MANIFEST.md');
    if (existsSync(m)) {
      const rel = relative(dir, resolve(path)).split(sep).join('/');
      const row = parseManifest(readFileSync(m, 'utf8')).find((r) => r.file === rel);
      if (row !== undefined) return row.personality;
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

export function runScriptCommand(args: ParsedArgs, out: Output, err: (s: string) => void): number {
  const files = args.positionals;
  if (files.length === 0) throw new UsageError('FILE missing');
  const flag = args.values.get('personality');
  if (flag !== undefined && !isPersonalityName(flag)) throw new UsageError(`--personality must be one of ${PERSONALITY_NAMES.join(', ')}, got '${flag}'`);
  const defines = args.lists.get('define') ?? [];
  const strict = args.flags.has('strict');
  const verbose = args.flags.has('verbose');
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let broken = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      err(`synack script: cannot read ${file}: ${(e as Error).message}`);
      broken++;
      continue;
    }
    const parsed = parseScript(text, file);
    if (!parsed.ok) {
      for (const e of parsed.errors) err(formatDiagnostic(e));
      broken++;
      continue;
    }
    const personality = (flag as PersonalityName | undefined) ?? manifestPersonality(file) ?? 'linux';
    const r = runScript(parsed.script, { personality, strict, defines });
    out.line(formatRunResult(r));
    if (verbose) for (const l of r.log) out.line(`  ${l}`);
    if (r.status === 'pass') passed++;
    else if (r.status === 'fail') failed++;
    else skipped++;
  }
  if (files.length > 1) out.line(`${files.length} scripts: ${passed} passed, ${failed} failed, ${skipped} unsupported, ${broken} unreadable`);
  out.flush();
  if (broken > 0) return 2;
  return failed + skipped > 0 ? 1 : 0;
}
