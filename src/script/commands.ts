/**
 * What a script does besides packets and system calls: its shell commands (sysctls, the Linux
 * defaults.sh, FreeBSD's sockstat and tcpdrop), its `%{ }%` TCP_INFO assertions, and the list of what
 * a run cannot do (found before it starts, so an unsupported script is skipped, never half run).
 */
import type { Socket } from '../socket/socket.js';
import type { Host } from '../stack/host.js';
import type { Endpoint } from '../tcp/env.js';
import { abort } from '../tcp/user-calls.js';
import type { CodeEvent, Event, Loc, Script, ShellCommand, ShellStep, Unsupported } from './ast.js';
import { applyLinuxDefaults, applySysctl, sysctlProblem } from './env.js';
import type { Knobs } from './env.js';
import { RuntimeUnsupported, ScriptFailure } from './outcome.js';
import type { ScriptSocket } from './packets.js';
import { unsupportedOf } from './support.js';
import { secs } from './timing.js';

/** What commands need from the runner. */
export interface CommandContext {
  readonly host: Host;
  readonly knobs: Knobs;
  now(): number;
  note(line: string): void;
  /** Something changed sockets: a blocked call may return. */
  afterActivity(): void;
}

export function sameEndpoint(a: Endpoint | null, b: Endpoint): boolean {
  return a !== null && a.addr === b.addr && a.port === b.port;
}

function countable(s: Socket, family: 4 | 6 | null, port: number | null): boolean {
  if (family !== null && (s.domain === 'inet' ? 4 : 6) !== family) return false;
  if (port !== null && s.tcb.local.port !== port && s.tcb.remote.port !== port) return false;
  return true;
}

/** Runs one command of a backquoted shell line. */
export function runShellStep(step: ShellStep, cmd: ShellCommand, ctx: CommandContext): void {
  const t = secs(ctx.now());
  switch (step.kind) {
    case 'linux-defaults':
      applyLinuxDefaults(ctx.knobs);
      ctx.note(`${t} ${step.path}: Linux defaults (tcp_rmem 4096 540000 15728640, syn/synack retries 5)`);
      return;
    case 'sysctl-set':
      applySysctl(step.name, step.value, ctx.knobs);
      ctx.note(`${t} sysctl ${step.name}=${step.value}`);
      return;
    case 'sysctl-restore':
      // set_sysctls.py's restore script: each run has its own personality copy, nothing to restore.
      ctx.note(`${t} ${step.path}: nothing to restore`);
      return;
    case 'socket-count': {
      // FreeBSD sockstat(1) lists every TCP socket, embryonic and TIME-WAIT ones included.
      const n = ctx.host.sockets.list().filter((s) => countable(s, step.family, step.port) && s.tcb.state === step.state).length;
      ctx.note(`${t} sockets in ${step.state}: ${n} (script wants ${step.count})`);
      if (n !== step.count) {
        throw new ScriptFailure(step.loc, `error executing command '${cmd.text.trim()}': ${n} TCP socket${n === 1 ? '' : 's'} in ${step.state}, expected ${step.count}`);
      }
      return;
    }
    case 'drop-state': {
      // FreeBSD tcpdrop(8): tcp_drop on every connection in the state (a RST where one is due).
      const victims = ctx.host.sockets.list().filter((s) => s.tcb.state === step.state);
      for (const s of victims) abort(s.tcb, ctx.now());
      ctx.afterActivity();
      ctx.note(`${t} tcpdrop: ${victims.length} connection${victims.length === 1 ? '' : 's'} in ${step.state} dropped`);
      return;
    }
    case 'unknown':
      throw new RuntimeUnsupported(step.loc, `shell command \`${step.text}\``);
    default: {
      const never: never = step;
      return never;
    }
  }
}

/** The live socket behind a script socket (by descriptor, else by its 4-tuple). */
export function liveSocketOf(host: Host, sock: ScriptSocket): Socket | undefined {
  if (sock.liveFd !== null) {
    const s = host.sockets.fds.get(sock.liveFd);
    if (s !== undefined) return s;
  }
  if (sock.local === null || sock.remote === null) return undefined;
  return host.sockets.list().find((s) => sameEndpoint(sock.local, s.tcb.local) && sameEndpoint(sock.remote, s.tcb.remote));
}

/** TCP_INFO as a `%{ }%` block saw it. */
export interface CodeSnapshot {
  readonly ev: CodeEvent;
  readonly state: string;
  readonly advmss: number;
  readonly sndMss: number;
}

/** code.c: TCP_INFO of the socket under test, taken at the event; the assertions run after the script. */
export function snapshot(e: CodeEvent, host: Host, sut: ScriptSocket | null): CodeSnapshot {
  if (e.body.kind !== 'assertions') throw new RuntimeUnsupported(e.body.loc, e.body.reason);
  const s = sut === null ? undefined : liveSocketOf(host, sut);
  if (s === undefined) throw new ScriptFailure(e.loc, 'error collecting data for code: no socket under test');
  return { ev: e, state: s.tcb.state, advmss: s.tcb.advMss, sndMss: s.tcb.sndMss };
}

/** The assertions of a block against its snapshot; the first false one fails the script. */
export function evaluate(c: CodeSnapshot): void {
  if (c.ev.body.kind !== 'assertions') return;
  for (const a of c.ev.body.assertions) {
    if (a.kind === 'tcpi-state') {
      const holds = (c.state === a.state) === (a.op === '==');
      if (!holds) throw new ScriptFailure(a.loc, `error executing code: AssertionError: tcpi_state ${a.op} ${a.symbol} is false: tcpi_state was ${c.state}`, `tcpi_state ${a.op} ${a.state}`, `tcpi_state ${c.state}`);
    } else {
      const got = a.field === 'tcpi_advmss' ? c.advmss : c.sndMss;
      const holds = (got === a.value) === (a.op === '==');
      if (!holds) throw new ScriptFailure(a.loc, `error executing code: AssertionError: ${a.field} ${a.op} ${a.value} is false: ${a.field} was ${got}`, `${a.field} ${a.op} ${a.value}`, `${a.field} ${got}`);
    }
  }
}

/**
 * Everything of the script that a run on this personality cannot do: what unsupportedOf finds (outside
 * the #ifdef blocks that do not run), sysctls of the other system, Linux's defaults.sh on FreeBSD.
 */
export function runnerUnsupported(script: Script, events: readonly Event[], defined: ReadonlySet<string>, family: 'linux' | 'freebsd', personalityName: string): Unsupported[] {
  const out: Unsupported[] = [];
  const inactive = script.items.filter((i) => i.kind === 'ifdef' && !defined.has(i.name));
  const inInactive = (loc: Loc): boolean =>
    inactive.some((i) => i.kind === 'ifdef' && (loc.line > i.loc.line || (loc.line === i.loc.line && loc.column >= i.loc.column)) && loc.line <= i.endLoc.line);
  for (const u of unsupportedOf(script)) if (!inInactive(u.loc)) out.push(u);
  const steps: ShellStep[] = [...(script.init?.steps ?? []), ...(script.cleanup?.steps ?? [])];
  for (const e of events) if (e.kind === 'shell') steps.push(...e.command.steps);
  for (const s of steps) {
    if (s.kind === 'sysctl-set') {
      const why = sysctlProblem(s.name, s.value, family);
      if (why !== null && !out.some((p) => p.loc === s.loc)) out.push({ loc: s.loc, what: why });
    } else if (s.kind === 'linux-defaults' && family !== 'linux') {
      out.push({ loc: s.loc, what: `Linux init script ${s.path} under the ${personalityName} personality` });
    }
  }
  return out.sort((a, b) => a.loc.line - b.loc.line || a.loc.column - b.loc.column);
}
