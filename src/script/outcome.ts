/**
 * What running a script gives: pass, fail (where, packetdrill's message, the expected and actual segment
 * or value, and the trace around it) or unsupported (skipped, never passed), and how to print it.
 */
import type { Loc, Script, Unsupported } from './ast.js';
import { formatDiagnostic, formatLoc } from './format.js';
import { expectedFailures } from './events.js';

export interface RunStats {
  /** Events executed (inbound and outbound packets, calls, commands, code blocks). */
  events: number;
  /** Outbound lines matched against what synack sent. */
  outbound: number;
  inbound: number;
  syscalls: number;
}

export interface RunFailure {
  /** The event that failed (the blocking call, for a late return). */
  readonly loc: Loc;
  /**
   * packetdrill's message for it, without the location: `error handling packet: live packet field
   * tcp_window: expected: ...`, `runtime error in connect call: Expected result 0 but got -1 with errno
   * 110 (Connection timed out)`, `timing error: expected system call return at ...`.
   */
  readonly message: string;
  /** The script's packet or value, in script notation, when there is one. */
  readonly expected: string | null;
  /** What synack sent or returned, in script notation (sequence numbers mapped), when there is one. */
  readonly actual: string | null;
  /** The run's log up to the failure (the last lines of it). */
  readonly trace: readonly string[];
}

interface Common {
  readonly file: string;
  /** The personality's name. */
  readonly personality: string;
  readonly stats: RunStats;
  /** Everything the run did, one line per event, segment and state change (virtual time first). */
  readonly log: readonly string[];
}

export type RunResult =
  | (Common & { readonly status: 'pass' })
  | (Common & { readonly status: 'fail'; readonly failure: RunFailure })
  | (Common & { readonly status: 'unsupported'; readonly unsupported: readonly Unsupported[] });

/** Internal: a failure, thrown to unwind the run (the runner catches it and returns a RunResult). */
export class ScriptFailure extends Error {
  constructor(
    readonly loc: Loc,
    message: string,
    readonly expected: string | null = null,
    readonly actual: string | null = null,
  ) {
    super(message);
  }
}

/** Internal: something the runner finds it cannot do only once the script runs. */
export class RuntimeUnsupported extends Error {
  constructor(
    readonly loc: Loc,
    readonly what: string,
  ) {
    super(what);
  }
}

/** The first line of a failure, packetdrill style: `file:line:column: message`. */
export function failureLine(file: string, f: RunFailure): string {
  return `${formatLoc({ ...f.loc, file })}: ${f.message}`;
}

/**
 * A result as text: one line for a pass; for a failure packetdrill's report (the location and message,
 * `script packet:` / `actual packet:` or `expected:` / `actual:` lines) and the trace before it; for an
 * unsupported script every construct with its location.
 */
export function formatRunResult(r: RunResult, options: { traceLines?: number } = {}): string {
  switch (r.status) {
    case 'pass':
      return `${r.file}: pass (${r.personality}; ${r.stats.outbound} outbound, ${r.stats.inbound} inbound packets, ${r.stats.syscalls} calls)`;
    case 'unsupported':
      return [`${r.file}: unsupported (${r.personality}), skipped:`, ...r.unsupported.map((u) => `  ${formatDiagnostic(u)}`)].join('\n');
    case 'fail': {
      const f = r.failure;
      const lines = [failureLine(r.file, f)];
      const isPacket = f.message.includes('handling packet');
      if (f.expected !== null) lines.push(`${isPacket ? 'script packet' : 'expected'}: ${f.expected}`);
      if (f.actual !== null) lines.push(`${isPacket ? 'actual packet' : 'actual'}: ${f.actual}`);
      const n = options.traceLines ?? 12;
      if (n > 0 && f.trace.length > 0) {
        lines.push(`trace (${r.personality}, last ${Math.min(n, f.trace.length)} of ${f.trace.length} lines):`);
        for (const t of f.trace.slice(-n)) lines.push(`  ${t}`);
      }
      return lines.join('\n');
    }
    default: {
      const never: never = r;
      return never;
    }
  }
}

/** How a result counts for a runner self-test that must fail (`// Failure: REGEX` comments). */
export interface Judgement {
  /** The script counts as passed. */
  readonly ok: boolean;
  /** Why, in a few words, for tables. */
  readonly reason: string;
}

/**
 * A result judged the way packetdrill's own test harness judges its self-tests: a script with `// Failure:`
 * comments passes only when it fails, with a message the comment's regular expression finds (the comments
 * are written as regular expressions: `\(` for a parenthesis). Any other script passes when it passes.
 */
export function judge(script: Script, r: RunResult): Judgement {
  const wanted = expectedFailures(script);
  if (r.status === 'unsupported') return { ok: false, reason: `unsupported: ${r.unsupported.map((u) => u.what).join('; ')}` };
  if (wanted.length === 0) {
    if (r.status === 'pass') return { ok: true, reason: '' };
    return { ok: false, reason: r.failure.message };
  }
  if (r.status === 'pass') return { ok: false, reason: `expected to fail with "${wanted.map((w) => w.message).join('" or "')}", but passed` };
  const text = failureLine(r.file, r.failure);
  for (const w of wanted) {
    let re: RegExp | null = null;
    try {
      re = new RegExp(w.message);
    } catch {
      re = null;
    }
    if (re !== null ? re.test(text) : text.includes(w.message)) return { ok: true, reason: `failed as expected: ${r.failure.message}` };
  }
  return { ok: false, reason: `expected failure "${wanted.map((w) => w.message).join('" or "')}", got: ${r.failure.message}` };
}
