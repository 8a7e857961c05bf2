/**
 * The printer: a Script back to packetdrill text. `parseScript(formatScript(s))` gives `s` again, apart
 * from locations (checked on every shared script). Layout is canonical (one event per line, times in
 * seconds with the fewest digits, single spaces); comments come back where they were, between the same
 * events, with a comment that shared a line with an event kept at the end of that line, and blank lines
 * between paragraphs are kept (one blank line per gap).
 */
import type {
  Assertion,
  Comment,
  Event,
  Expr,
  Loc,
  PacketEvent,
  Script,
  ScriptError,
  ScriptOption,
  SyscallEvent,
  TcpOptionSpec,
  TcpOptionsSpec,
  TimeSpec,
  Unsupported,
} from './ast.js';

/** `file:line:column`. */
export function formatLoc(loc: Loc): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

/** `file:line:column: message` for an error, `file:line:column: unsupported: what` for a finding. */
export function formatDiagnostic(d: ScriptError | Unsupported): string {
  return 'message' in d ? `${formatLoc(d.loc)}: ${d.message}` : `${formatLoc(d.loc)}: unsupported: ${d.what}`;
}

/** Microseconds as seconds with the fewest digits: 0 → "0", 100000 → "0.1", 1250 → "0.00125". */
export function formatSeconds(usecs: number): string {
  const whole = Math.floor(usecs / 1_000_000);
  const frac = usecs - whole * 1_000_000;
  if (frac === 0) return String(whole);
  return `${whole}.${String(frac).padStart(6, '0').replace(/0+$/, '')}`;
}

export function formatTime(t: TimeSpec): string {
  switch (t.kind) {
    case 'absolute':
      return formatSeconds(t.usecs);
    case 'relative':
      return `+${formatSeconds(t.usecs)}`;
    case 'any':
      return '*';
    case 'absolute-range':
      return `${formatSeconds(t.startUsecs)}~${formatSeconds(t.endUsecs)}`;
    case 'relative-range':
      return `+${formatSeconds(t.startUsecs)}~+${formatSeconds(t.endUsecs)}`;
    default:
      return unreachable(t);
  }
}

function unreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}

export function formatExpr(e: Expr): string {
  switch (e.kind) {
    case 'ellipsis':
      return '...';
    case 'int':
      return e.hex ? `0x${e.value.toString(16)}` : String(e.value);
    case 'word':
      return e.name;
    case 'string':
      return `"${e.value}"${e.ellipsis ? '...' : ''}`;
    case 'or':
      return e.terms.map(formatExpr).join(' | ');
    case 'list':
      return `[${e.items.map(formatExpr).join(', ')}]`;
    case 'struct':
      return `{${e.items.map(formatExpr).join(', ')}}`;
    case 'field':
      return `${e.name}=${formatExpr(e.value)}`;
    case 'call':
      return `${e.name}(${e.args.map(formatExpr).join(', ')})`;
    default:
      return unreachable(e);
  }
}

export function formatTcpOption(o: TcpOptionSpec): string {
  switch (o.kind) {
    case 'nop':
      return 'nop';
    case 'eol':
      return 'eol';
    case 'mss':
      return `mss ${o.value}`;
    case 'wscale':
      return `wscale ${o.shift}`;
    case 'sack-permitted':
      return 'sackOK';
    case 'sack':
      return `sack ${o.blocks.map((b) => `${b.left}:${b.right}`).join(' ')}`;
    case 'timestamps':
      return `TS val ${o.val === null ? '...' : o.val} ecr ${o.ecr}${o.ecrAbsolute ? '!' : ''}`;
    case 'md5':
      return o.digest === null ? 'md5 valid' : `md5 ${o.digest}`;
    case 'fast-open':
      return `${o.experimental ? 'FOEXP' : 'FO'}${o.cookie === '' ? '' : ` ${o.cookie}`}`;
    case 'other':
      return o.text;
    default:
      return unreachable(o);
  }
}

function formatOptions(o: TcpOptionsSpec): string | null {
  switch (o.kind) {
    case 'none':
      return null;
    case 'any':
      return '<...>';
    case 'raw':
      return `<${o.hex}>`;
    case 'list':
      return `<${o.options.map(formatTcpOption).join(',')}>`;
    default:
      return unreachable(o);
  }
}

function formatPacket(p: PacketEvent): string {
  const parts: string[] = [p.direction === 'inbound' ? '<' : '>'];
  if (p.ipInfo !== null) parts.push(p.ipInfo.bracket === '(' ? `(${p.ipInfo.text})` : `[${p.ipInfo.text}]`);
  if (p.ports !== null) parts.push(`${p.ports.src}>${p.ports.dst}`);
  parts.push(p.flags.text === '' ? '-' : p.flags.text);
  parts.push(p.seq.kind === 'any' ? `...(${p.seq.length})` : `${p.seq.start}:${p.seq.end}(${p.seq.length})${p.seq.absolute ? '!' : ''}`);
  if (p.ack !== null) parts.push(`ack ${p.ack.value}`);
  if (p.win !== null) parts.push(`win ${p.win.value}`);
  if (p.urg !== null) parts.push(`urg ${p.urg.value}`);
  const opts = formatOptions(p.options);
  if (opts !== null) parts.push(opts);
  return parts.join(' ');
}

function formatSyscall(s: SyscallEvent): string {
  let out = `${s.name}(${s.args.map(formatExpr).join(', ')}) = ${formatExpr(s.result)}`;
  if (s.errno !== null) out += ` ${s.errno.name}`;
  if (s.note !== null) out += ` (${s.note})`;
  return out;
}

export function formatAssertion(a: Assertion): string {
  const tail = a.message === null ? '' : `, ${a.message}`;
  return a.kind === 'tcpi-state' ? `assert tcpi_state ${a.op} ${a.symbol}${tail}` : `assert ${a.field} ${a.op} ${a.value}${tail}`;
}

/** One event on one line (a multi-line command or code block keeps its newlines). */
export function formatEvent(e: Event): string {
  const time = formatTime(e.time);
  switch (e.kind) {
    case 'packet':
      return `${time} ${formatPacket(e)}`;
    case 'syscall':
      return e.blockingEnd === null ? `${time} ${formatSyscall(e)}` : `${time}...${formatSeconds(e.blockingEnd.usecs)} ${formatSyscall(e)}`;
    case 'shell':
      return `${time} \`${e.command.text}\``;
    case 'code':
      return `${time} %{ ${e.text} }%`;
    case 'opaque':
      return `${time} ${e.text}`;
    default:
      return unreachable(e);
  }
}

function formatOption(o: ScriptOption): string {
  if (o.value === null) return `--${o.name}`;
  return /^[^\s"]*$/.test(o.value) && o.value !== '' ? `--${o.name}=${o.value}` : `--${o.name}="${o.value}"`;
}

function formatComment(c: Comment): string {
  return c.kind === 'line' ? `//${c.text}` : `/*${c.text}*/`;
}

interface Entry {
  readonly loc: Loc;
  readonly text: string;
}

function before(a: Loc, b: Loc): boolean {
  return a.line < b.line || (a.line === b.line && a.column < b.column);
}

/** The script as packetdrill text, ending with a newline. */
export function formatScript(script: Script): string {
  const entries: Entry[] = [];
  for (const o of script.options) entries.push({ loc: o.loc, text: formatOption(o) });
  if (script.init !== null) entries.push({ loc: script.init.loc, text: `\`${script.init.text}\`` });
  for (const item of script.items) {
    if (item.kind === 'ifdef') {
      entries.push({ loc: item.loc, text: `#ifdef ${item.name}` });
      for (const e of item.items) entries.push({ loc: e.loc, text: formatEvent(e) });
      entries.push({ loc: item.endLoc, text: '#endif' });
    } else {
      entries.push({ loc: item.loc, text: formatEvent(item) });
    }
  }
  if (script.cleanup !== null) entries.push({ loc: script.cleanup.loc, text: `\`${script.cleanup.text}\`` });

  // Merge comments back between the entries by source position. A comment on the line where the
  // previous entry starts stays at the end of that line; a gap of blank lines in the source becomes one
  // blank line.
  const lines: string[] = [];
  const comments = script.comments;
  let ci = 0;
  let lastLine = -1; // source line where the last printed entry or comment starts
  let lastEnd = -1; // source line where it ends
  const place = (loc: Loc, text: string): void => {
    if (lastEnd >= 0 && loc.line > lastEnd + 1) lines.push('');
    lines.push(text);
    lastLine = loc.line;
    lastEnd = loc.line + (text.match(/\n/g)?.length ?? 0);
  };
  const emitComment = (c: Comment): void => {
    const text = formatComment(c);
    if (c.loc.line === lastLine && lines.length > 0) {
      lines[lines.length - 1] += ` ${text}`;
      lastEnd = Math.max(lastEnd, c.loc.line + (text.match(/\n/g)?.length ?? 0));
    } else place(c.loc, text);
  };
  for (const entry of entries) {
    while (ci < comments.length && before((comments[ci] as Comment).loc, entry.loc)) emitComment(comments[ci++] as Comment);
    place(entry.loc, entry.text);
  }
  while (ci < comments.length) emitComment(comments[ci++] as Comment);
  return `${lines.join('\n')}\n`;
}
