/**
 * packetdrill scripts: parse (this folder's public face), print, and list what synack cannot run.
 *
 *     const r = parseScript(text, 'blocking-accept.pkt');
 *     if (!r.ok) for (const e of r.errors) console.error(formatDiagnostic(e));
 *     else if (r.unsupported.length > 0) skip(r.unsupported);
 *     else run(r.script);
 */
import type { Event, Loc, Script, ScriptError, Unsupported } from './ast.js';
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

/**
 * The `// Failure: MESSAGE` comments of packetdrill's runner self-tests (socket_err.pkt and friends): the
 * script must fail, with this message, at the event after the comment.
 */
export function expectedFailures(script: Script): { readonly loc: Loc; readonly message: string }[] {
  const out: { loc: Loc; message: string }[] = [];
  for (const c of script.comments) {
    const m = /^\s*Failure:\s*(.*?)\s*$/s.exec(c.text);
    if (m !== null) out.push({ loc: c.loc, message: m[1] as string });
  }
  return out;
}

/** The events that run when exactly the names in `defines` are defined (`-D NAME`), in order. */
export function eventsFor(script: Script, defines: ReadonlySet<string>): Event[] {
  const out: Event[] = [];
  for (const item of script.items) {
    if (item.kind !== 'ifdef') out.push(item);
    else if (defines.has(item.name)) out.push(...item.items);
  }
  return out;
}
