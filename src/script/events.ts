/** Which events of a script run, and which failures a runner self-test expects. */
import type { Event, Loc, Script } from './ast.js';

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
