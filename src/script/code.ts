/**
 * The `%{ ... }%` blocks synack understands. packetdrill runs them with Python after the script, with the
 * TCP_INFO values snapshotted at that event. The conformance scripts only assert the connection state
 * and the two MSS values (NOTES.md §1.5), so that is the whole language here:
 *
 *     assert tcpi_state == TCPI_ESTABLISHED
 *     assert tcpi_advmss == 1100, tcpi_advmss; assert tcpi_snd_mss == 1100, tcpi_snd_mss
 *
 * Statements are separated by `;` or newlines. Anything else is Python synack does not run: the block
 * becomes `python`, with the first statement it could not read.
 */
import type { Assertion, CodeBody, TcpiField } from './ast.js';
import type { LocAt } from './shell.js';
import { STATE_NAMES } from './tables.js';

const TCPI_FIELDS: ReadonlySet<string> = new Set<TcpiField>(['tcpi_advmss', 'tcpi_snd_mss']);

// assert FIELD OP VALUE [, MESSAGE]
const ASSERT = /^assert\s+([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=)\s*([A-Za-z_][A-Za-z0-9_]*|[0-9]+)\s*(?:,\s*(\S.*))?$/;

export function codeBody(text: string, locAt: LocAt): CodeBody {
  const assertions: Assertion[] = [];
  const stmt = /[^;\n]+/g;
  for (const m of text.matchAll(stmt)) {
    const raw = m[0];
    const lead = raw.length - raw.trimStart().length;
    const s = raw.trim();
    if (s.length === 0) continue;
    const loc = locAt(m.index + lead);
    const a = ASSERT.exec(s);
    if (a === null) return { kind: 'python', reason: `Python statement '${s}'`, loc };
    const field = a[1] as string;
    const op = a[2] as '==' | '!=';
    const value = a[3] as string;
    const message = a[4] ?? null;
    if (field === 'tcpi_state') {
      // packetdrill's Python defines the states as TCPI_*; accept the kernel's TCP_* spelling too.
      const state = /^TCPI?_/.test(value) ? STATE_NAMES[value.replace(/^TCPI?_/, '')] : undefined;
      if (state === undefined) return { kind: 'python', reason: `Python statement '${s}'`, loc };
      assertions.push({ kind: 'tcpi-state', op, symbol: value, state, message, loc });
    } else if (TCPI_FIELDS.has(field) && /^[0-9]+$/.test(value)) {
      assertions.push({ kind: 'tcpi-value', field: field as TcpiField, op, value: Number(value), message, loc });
    } else {
      return { kind: 'python', reason: `Python statement '${s}'`, loc };
    }
  }
  return { kind: 'assertions', assertions };
}
