/**
 * packetdrill scripts: parse (this folder's public face), print, list what synack cannot run, and run
 * them against synack's own stack on a virtual clock.
 *
 *     const r = parseScript(text, 'blocking-accept.pkt');
 *     if (!r.ok) for (const e of r.errors) console.error(formatDiagnostic(e));
 *     else {
 *       const result = runScript(r.script, { personality: 'linux' });  // pass, fail or unsupported
 *       console.log(formatRunResult(result));
 *     }
 */
import type { Script, ScriptError, Unsupported } from './ast.js';
import { lex } from './lexer.js';
import { parseTokens } from './parser.js';
import { unsupportedOf } from './support.js';

export type * from './ast.js';
export { lex, SourceMap, type LexResult, type Token, type TokenKind } from './lexer.js';
export { formatAssertion, formatDiagnostic, formatEvent, formatExpr, formatLoc, formatScript, formatSeconds, formatTcpOption, formatTime } from './format.js';
export { unsupportedOf } from './support.js';

export type ParseResult =
  /** The script parsed; it is runnable when `unsupported` is empty. */
  | { readonly ok: true; readonly script: Script; readonly unsupported: readonly Unsupported[] }
  /** Syntax or semantic errors, in source order (lexical errors alone when there are any). */
  | { readonly ok: false; readonly errors: readonly ScriptError[] };

/** Parse a script. `file` names it in every location. Never throws. */
export function parseScript(text: string, file: string): ParseResult {
  const lexed = lex(text, file);
  if (lexed.errors.length > 0) return { ok: false, errors: lexed.errors };
  const { script, errors } = parseTokens(lexed, text, file);
  if (script === null) return { ok: false, errors };
  return { ok: true, script, unsupported: unsupportedOf(script) };
}

export { eventsFor, expectedFailures } from './events.js';
export { runScript, type RunOptions } from './run.js';
export { formatRunResult, failureLine, judge, type Judgement, type RunFailure, type RunResult, type RunStats } from './outcome.js';
export { PERSONALITY_NAMES, isPersonalityName, personalityByName, type PersonalityName } from './env.js';
export { parseManifest, type ManifestRow } from './manifest.js';
