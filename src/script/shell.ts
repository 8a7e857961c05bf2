/**
 * What a backquoted command means to synack. packetdrill runs it with system(); synack cannot, so it
 * recognises the few command shapes the conformance scripts use (NOTES.md §1.5, §1.9) and keeps anything
 * else as `unknown` (the runner then skips the script): the Linux defaults.sh baseline, sysctl
 * assignments (FreeBSD `sysctl -w`, Linux `sysctl -w` and packetdrill's set_sysctls.py), the restore
 * script set_sysctls.py leaves behind, FreeBSD's sockstat state count and tcpdrop.
 */
import type { Loc, ShellStep, TcpStateName } from './ast.js';
import { STATE_NAMES } from './tables.js';

/** Turns an offset inside the command text into a location in the script. */
export type LocAt = (offsetInText: number) => Loc;

interface Piece {
  readonly text: string;
  readonly offset: number;
}

/** Split on `sep` (a regex with the g flag), keeping offsets; empty pieces dropped, pieces trimmed. */
function split(text: string, offset: number, sep: RegExp): Piece[] {
  const out: Piece[] = [];
  let last = 0;
  const push = (a: number, b: number): void => {
    const raw = text.slice(a, b);
    const lead = raw.length - raw.trimStart().length;
    const trimmed = raw.trim();
    if (trimmed.length > 0) out.push({ text: trimmed, offset: offset + a + lead });
  };
  for (const m of text.matchAll(sep)) {
    push(last, m.index);
    last = m.index + m[0].length;
  }
  push(last, text.length);
  return out;
}

function words(piece: Piece): Piece[] {
  return split(piece.text, piece.offset, /\s+/g);
}

function stateOf(name: string): TcpStateName | null {
  return STATE_NAMES[name] ?? null;
}

/** `name=value` (value may be empty), both sides non-empty names. */
function assignment(word: string): { name: string; value: string } | null {
  const eq = word.indexOf('=');
  if (eq <= 0) return null;
  return { name: word.slice(0, eq), value: word.slice(eq + 1) };
}

function sysctlStep(w: Piece[], locAt: LocAt): ShellStep[] | null {
  // sysctl [-q] [-e] -w name=value ... (FreeBSD needs no -w, Linux does; accept both).
  const out: ShellStep[] = [];
  for (const word of w.slice(1)) {
    if (/^-[qew]+$/.test(word.text)) continue;
    const a = assignment(word.text);
    if (a === null) return null; // a read (`sysctl net.inet.tcp.x`) or an unknown flag
    out.push({ kind: 'sysctl-set', name: a.name, value: a.value, loc: locAt(word.offset) });
  }
  return out.length > 0 ? out : null;
}

function setSysctlsStep(w: Piece[], locAt: LocAt): ShellStep[] | null {
  // set_sysctls.py /proc/sys/net/ipv4/tcp_syn_retries=1 ...
  const out: ShellStep[] = [];
  for (const word of w.slice(1)) {
    const a = assignment(word.text);
    if (a === null || !a.name.startsWith('/proc/sys/')) return null;
    const name = a.name.slice('/proc/sys/'.length).split('/').join('.');
    out.push({ kind: 'sysctl-set', name, value: a.value, loc: locAt(word.offset) });
  }
  return out.length > 0 ? out : null;
}

/**
 * `sockstat -4 -P tcp [-p PORT] -s [-p PORT] | grep NAME... | grep -c STATE | grep N`. The greps before
 * `-c` only narrow the listing to packetdrill's own sockets, which in synack are all the sockets there
 * are. The last grep matches N as a substring of the count, which the scripts use as "count is N".
 */
function sockstatStep(stages: Piece[], locAt: LocAt): ShellStep | null {
  const first = stages[0];
  if (first === undefined) return null;
  const w = words(first).map((p) => p.text);
  if (w[0] !== 'sockstat') return null;
  let family: 4 | 6 | null = null;
  let port: number | null = null;
  let tcp = false;
  for (let i = 1; i < w.length; i++) {
    const a = w[i];
    if (a === '-4') family = 4;
    else if (a === '-6') family = 6;
    else if (a === '-s' || a === '-l' || a === '-c' || a === '-n') continue;
    else if (a === '-P' && w[i + 1] === 'tcp') {
      tcp = true;
      i++;
    } else if (a === '-p' && /^[0-9]+$/.test(w[i + 1] ?? '')) {
      port = Number(w[i + 1]);
      i++;
    } else return null;
  }
  if (!tcp) return null;
  let state: TcpStateName | null = null;
  let count: number | null = null;
  for (const stage of stages.slice(1)) {
    const g = words(stage).map((p) => p.text);
    if (g[0] !== 'grep') return null;
    if (state === null) {
      if (g.length === 2) continue; // a name filter before the count
      if (g.length === 3 && g[1] === '-c') {
        state = stateOf(g[2] as string);
        if (state === null) return null;
        continue;
      }
      return null;
    }
    if (count !== null || g.length !== 2 || !/^[0-9]+$/.test(g[1] as string)) return null;
    count = Number(g[1]);
  }
  if (state === null || count === null) return null;
  return { kind: 'socket-count', family, port, state, count, loc: locAt(first.offset) };
}

function commandSteps(cmd: Piece, locAt: LocAt): ShellStep[] {
  const unknown: ShellStep[] = [{ kind: 'unknown', text: cmd.text, loc: locAt(cmd.offset) }];
  const stages = split(cmd.text, cmd.offset, /\|/g);
  if (stages.length > 1) {
    const s = sockstatStep(stages, locAt);
    return s === null ? unknown : [s];
  }
  const w = words(cmd);
  const head = w[0]?.text ?? '';
  const base = head.slice(head.lastIndexOf('/') + 1);
  if (base === 'defaults.sh' && w.length === 1) return [{ kind: 'linux-defaults', path: head, loc: locAt(cmd.offset) }];
  if (/^sysctl_restore_.*\.sh$/.test(base) && w.length === 1) return [{ kind: 'sysctl-restore', path: head, loc: locAt(cmd.offset) }];
  if (head === 'sysctl') return sysctlStep(w, locAt) ?? unknown;
  if (base === 'set_sysctls.py') return setSysctlsStep(w, locAt) ?? unknown;
  if (head === 'tcpdrop' && w.length === 3 && w[1]?.text === '-s') {
    const state = stateOf(w[2]?.text ?? '');
    if (state !== null) return [{ kind: 'drop-state', state, loc: locAt(cmd.offset) }];
  }
  return unknown;
}

/**
 * The steps of a command text. Commands are separated by newlines, `;` and `&&` (as the shell would run
 * them in sequence); text with quotes, substitutions or redirections other than the sockstat pipeline is
 * kept whole as `unknown`.
 */
export function shellSteps(text: string, locAt: LocAt): ShellStep[] {
  if (/['"\\<>]|\$\(|\|\||(?<!&)&(?!&)/.test(text)) {
    const lead = text.length - text.trimStart().length;
    return [{ kind: 'unknown', text: text.trim(), loc: locAt(lead) }];
  }
  const out: ShellStep[] = [];
  for (const cmd of split(text, 0, /\n|;|&&/g)) out.push(...commandSteps(cmd, locAt));
  return out;
}
