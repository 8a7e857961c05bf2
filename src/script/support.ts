/**
 * Which parts of a parsed script synack's runner does not implement. The runner skips a script with any
 * finding (reported as unsupported, never as passed). This is policy, kept apart from the grammar: the
 * tables in tables.ts (and the sysctl rules in env.ts) say what is supported, and widening support means
 * editing them (and the runner).
 */
import type { Event, Expr, Script, ShellCommand, TcpOptionsSpec, Unsupported } from './ast.js';
import { formatTcpOption } from './format.js';
import { OPTIONS, SYMBOLS, SYSCALLS } from './tables.js';
import { sysctlUnsupported } from './env.js';

function shell(cmd: ShellCommand, out: Unsupported[]): void {
  for (const s of cmd.steps) {
    if (s.kind === 'unknown') out.push({ loc: s.loc, what: `shell command \`${s.text}\`` });
    else if (s.kind === 'sysctl-set') {
      // The sysctls the runner maps (env.ts); whether one fits the personality is the runner's check.
      const why = sysctlUnsupported(s.name, s.value);
      if (why !== null) out.push({ loc: s.loc, what: why });
    }
  }
}

function expr(e: Expr, out: Unsupported[]): void {
  switch (e.kind) {
    case 'word':
      if (!SYMBOLS.has(e.name)) out.push({ loc: e.loc, what: `symbol ${e.name}` });
      return;
    case 'or':
      for (const t of e.terms) expr(t, out);
      return;
    case 'list':
    case 'struct':
      for (const t of e.items) expr(t, out);
      return;
    case 'field':
      expr(e.value, out);
      return;
    case 'call': // the parser only accepts the functions of ARG_FUNCTIONS
      for (const t of e.args) expr(t, out);
      return;
    case 'ellipsis':
    case 'int':
    case 'string':
      return;
  }
}

function options(o: TcpOptionsSpec, out: Unsupported[]): void {
  if (o.kind === 'raw') out.push({ loc: o.loc, what: 'TCP options as raw hex' });
  if (o.kind !== 'list') return;
  for (const opt of o.options) {
    if (opt.kind === 'md5') out.push({ loc: opt.loc, what: 'TCP option md5' });
    else if (opt.kind === 'fast-open') out.push({ loc: opt.loc, what: `TCP option ${opt.experimental ? 'FOEXP' : 'FO'} (TCP Fast Open)` });
    else if (opt.kind === 'other') out.push({ loc: opt.loc, what: `TCP option ${opt.name} (${formatTcpOption(opt)})` });
  }
}

function event(e: Event, out: Unsupported[]): void {
  switch (e.kind) {
    case 'packet':
      if (e.ipInfo !== null) out.push({ loc: e.ipInfo.loc, what: `IP header expectation (${e.ipInfo.text})` });
      if (e.ports !== null) out.push({ loc: e.ports.loc, what: 'explicit port numbers' });
      if (e.flags.ace !== null) out.push({ loc: e.flags.loc, what: 'AccECN ACE value in the flags' });
      options(e.options, out);
      return;
    case 'syscall': {
      if (SYSCALLS[e.name]?.supported !== true) out.push({ loc: e.loc, what: `system call ${e.name}` });
      for (const a of e.args) expr(a, out);
      expr(e.result, out);
      return;
    }
    case 'shell':
      shell(e.command, out);
      return;
    case 'code':
      if (e.body.kind === 'python') out.push({ loc: e.body.loc, what: e.body.reason });
      return;
    case 'opaque':
      out.push({ loc: e.loc, what: e.what });
      return;
  }
}

/** Every construct of the script the runner cannot execute, in source order. */
export function unsupportedOf(script: Script): Unsupported[] {
  const out: Unsupported[] = [];
  for (const o of script.options) {
    const info = OPTIONS[o.name];
    if (info === undefined || !info.supported) out.push({ loc: o.loc, what: `option --${o.name}` });
    else if (info.values !== undefined && o.value !== null && !info.values.includes(o.value)) {
      out.push({ loc: o.loc, what: `option --${o.name}=${o.value}` });
    }
  }
  if (script.init !== null) shell(script.init, out);
  for (const item of script.items) {
    if (item.kind === 'ifdef') for (const e of item.items) event(e, out);
    else event(item, out);
  }
  if (script.cleanup !== null) shell(script.cleanup, out);
  return out;
}
