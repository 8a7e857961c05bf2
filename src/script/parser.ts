/**
 * Tokens to a Script, following google/packetdrill's grammar (parser.y) for the subset NOTES.md §1
 * describes, plus nplab's `#ifdef`, `...(n)`, `A:B(n)!`, `TS val ...`, `ecr N!` and `<hex>` options.
 *
 *     script  := option* init? (event | #ifdef NAME event* #endif)+ cleanup?
 *     event   := time action          one event per line
 *     time    := T | +T | * | T~T | +T~+T
 *     action  := packet | [...END] syscall | `command` | %{ code }%
 *     packet  := (<|>) [ip_info] [sport>dport] flags seq [ack N] [win N] [urg N] [<options>]
 *     syscall := name(args) = result [ERRNO] [(note)]
 *
 * It also makes the semantic checks packetdrill makes while parsing (sequence ranges add up, inbound
 * packets give a window, `*` and ranges only on outbound packets, option lists pad to 4 bytes, values fit
 * their fields), and a few it makes later at run time but that a parser can see (unknown system calls
 * and errno names, argument counts, times going backwards). Every error is `expected X, found Y` or a
 * plain sentence, at a file:line:column. After an error the parser resumes at the next line, so one
 * run reports every broken line.
 *
 * Internally a parse function returns null after recording an error; nothing is thrown.
 */
import type {
  Conditional,
  Event,
  Expr,
  FlagsSpec,
  IpInfo,
  Loc,
  NumberField,
  PacketEvent,
  Script,
  ScriptError,
  ScriptItem,
  ScriptOption,
  SeqSpec,
  ShellCommand,
  SyscallEvent,
  TcpOptionSpec,
  TcpOptionsSpec,
  TimeSpec,
} from './ast.js';
import { TcpFlags } from '../wire/tcp.js';
import { codeBody } from './code.js';
import { formatSeconds } from './format.js';
import type { LexResult, Token } from './lexer.js';
import { SourceMap } from './lexer.js';
import { shellSteps } from './shell.js';
import { ARG_FUNCTIONS, ERRNO_NAMES, IP_VERSIONS, OPTIONS, OTHER_PACKETS, OTHER_TCP_OPTIONS, SYSCALLS, arityAccepts, arityText } from './tables.js';

const U16 = 0xffff;
const U32 = 0xffffffff;
const MAX_ERRORS = 100;

/** packetdrill's flag letters (tcp_packet.c): `.` is ACK, digits are an AccECN ACE value. */
const FLAG_BITS: Readonly<Record<string, number>> = {
  '.': TcpFlags.ACK,
  F: TcpFlags.FIN,
  S: TcpFlags.SYN,
  R: TcpFlags.RST,
  P: TcpFlags.PSH,
  E: TcpFlags.ECE,
  W: TcpFlags.CWR,
  A: TcpFlags.AE,
  U: TcpFlags.URG,
};

const OPTION_LIST_HELP = 'a TCP option (nop, eol, mss N, wscale N, sackOK, sack A:B, TS val N ecr N, md5, FO, FOEXP)';

/** How a token reads in "found ..." (quoted source text, shortened). */
function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of file';
    case 'backquote':
      return 'a `command`';
    case 'code':
      return 'a %{ code }% block';
    case 'option':
      return `option '--${t.value}'`;
    default: {
      const text = t.text.length > 40 ? `${t.text.slice(0, 37)}...` : t.text;
      return `'${text}'`;
    }
  }
}

/** Exact microseconds from a decimal seconds literal ("0.100", ".1", "2"); digits past 1 µs are dropped. */
function usecsOf(text: string): number {
  const dot = text.indexOf('.');
  const whole = dot < 0 ? text : text.slice(0, dot);
  const frac = dot < 0 ? '' : text.slice(dot + 1);
  return Number(whole === '' ? '0' : whole) * 1_000_000 + Number(frac.padEnd(6, '0').slice(0, 6));
}

function isHexBlob(text: string): boolean {
  return text.length > 0 && text.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(text);
}

/** Bytes a TCP option takes on the wire, or null when the text form does not say (kept-as-text options). */
function optionBytes(o: TcpOptionSpec): number | null {
  switch (o.kind) {
    case 'nop':
    case 'eol':
      return 1;
    case 'mss':
      return 4;
    case 'wscale':
      return 3;
    case 'sack-permitted':
      return 2;
    case 'sack':
      return 2 + 8 * o.blocks.length;
    case 'timestamps':
      return 10;
    case 'md5':
      return o.digest === null ? 18 : 2 + o.digest.length / 2;
    case 'fast-open':
      return (o.experimental ? 4 : 2) + o.cookie.length / 2;
    case 'other':
      return null;
  }
}

export interface ParseOutput {
  /** null when there were errors. */
  readonly script: Script | null;
  readonly errors: readonly ScriptError[];
}

class Parser {
  private pos = 0;
  /** Where the event or option being parsed began (for placing "found end of line"). */
  private constructStart = 0;
  readonly errors: ScriptError[] = [];
  /** The scripted time of the previous event in µs, for "time goes backwards". */
  private timeline = 0;
  private readonly toks: readonly Token[];

  constructor(
    lexed: LexResult,
    private readonly map: SourceMap,
  ) {
    this.toks = lexed.tokens;
  }

  // ------------------------------------------------------------------ token helpers

  private peek(k = 0): Token {
    const i = Math.min(this.pos + k, this.toks.length - 1);
    return this.toks[i] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private loc(t: Token): Loc {
    return this.map.loc(t.offset);
  }

  private isPunct(t: Token, c: string): boolean {
    return t.kind === 'punct' && t.text === c;
  }

  /** The next token is on the same line as the previous one (and is not the end of the file). */
  private sameLine(): boolean {
    const t = this.peek();
    return t.kind !== 'eof' && !t.newlineBefore;
  }

  private error(loc: Loc, message: string): null {
    if (this.errors.length < MAX_ERRORS) this.errors.push({ loc, message });
    return null;
  }

  /**
   * `expected X, found Y`. When an event is under way and the offending token starts a later line, the
   * error is placed just past the previous token and reads "found end of line": that is where the
   * missing thing belonged.
   */
  private expected(what: string): null {
    const t = this.peek();
    const prev = this.pos > this.constructStart ? this.toks[this.pos - 1] : undefined;
    if (prev !== undefined && (t.kind === 'eof' || t.newlineBefore)) {
      return this.error(this.map.loc(prev.end), `expected ${what}, found end of ${t.kind === 'eof' ? 'file' : 'line'}`);
    }
    return this.error(this.loc(t), `expected ${what}, found ${describe(t)}`);
  }

  private expectPunct(c: string, what: string): Token | null {
    const t = this.peek();
    if (this.isPunct(t, c)) return this.next();
    return this.expected(what);
  }

  /** Skip to the start of the next line (at least one token when nothing was consumed since `start`). */
  private recover(start: number): void {
    if (this.pos === start) this.next();
    while (this.peek().kind !== 'eof' && !this.peek().newlineBefore) this.next();
  }

  /** A non-negative integer that fits `max`, after `what` was expected. */
  private unsigned(what: string, max: number, name: string): NumberField | null {
    const t = this.peek();
    if (t.kind !== 'integer') return this.expected(what);
    this.next();
    const value = Number(t.text);
    if (!(value >= 0 && value <= max)) return this.error(this.loc(t), `${name} ${t.text} is out of range (0 to ${max})`);
    return { value, loc: this.loc(t) };
  }

  // ------------------------------------------------------------------ script

  parseScript(): Script | null {
    const options: ScriptOption[] = [];
    while (this.peek().kind === 'option') {
      const start = this.pos;
      const o = this.option();
      if (o === null) this.recover(start);
      else options.push(o);
    }
    let init: ShellCommand | null = null;
    if (this.peek().kind === 'backquote') init = this.shellCommand(this.next());

    const items: ScriptItem[] = [];
    let cleanup: ShellCommand | null = null;
    let events = 0;
    while (this.peek().kind !== 'eof') {
      const t = this.peek();
      const start = this.pos;
      if (t.kind === 'backquote') {
        // An untimed command after the events is the cleanup command; it must end the script.
        if (events === 0) {
          this.constructStart = this.pos;
          this.expected('a time before this command (only one untimed command may precede the first event)');
          this.recover(start);
          continue;
        }
        cleanup = this.shellCommand(this.next());
        if (this.peek().kind !== 'eof') {
          this.constructStart = this.pos;
          this.expected('end of file after the cleanup command (an untimed `command` must come last)');
          this.recover(this.pos);
        }
        continue;
      }
      if (t.kind === 'ifdef') {
        const c = this.conditional();
        if (c !== null) {
          items.push(c);
          events += c.items.length;
        }
        continue;
      }
      if (t.kind === 'endif') {
        this.error(this.loc(t), '#endif without #ifdef');
        this.next();
        continue;
      }
      if (t.kind === 'option') {
        this.constructStart = this.pos;
        this.expected('an event (options must come before the first event)');
        this.recover(start);
        continue;
      }
      const e = this.event();
      if (e !== null) {
        items.push(e);
        events++;
      }
    }
    if (events === 0 && this.errors.length === 0) {
      this.constructStart = this.pos;
      this.expected('an event, such as 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3');
    }
    if (this.errors.length > 0) return null;
    return { file: this.map.file, options, init, items, cleanup, comments: [] };
  }

  private option(): ScriptOption | null {
    this.constructStart = this.pos;
    const t = this.next();
    const loc = this.loc(t);
    const name = t.value;
    const value = t.optionValue;
    const info = OPTIONS[name];
    if (info === undefined) return this.error(loc, `unknown option '--${name}'`);
    if (info.value === 'none' && value !== null) return this.error(loc, `option '--${name}' takes no value`);
    if (info.value !== 'none' && value === null) return this.error(loc, `option '--${name}' needs a value (--${name}=...)`);
    if (value !== null) {
      const valueLoc = this.map.loc(t.offset + 3 + name.length);
      if (info.value === 'integer' && !/^[0-9]+$/.test(value)) return this.error(valueLoc, `expected an integer for '--${name}', found '${value}'`);
      if (info.value === 'number' && !/^([0-9]+|[0-9]*\.[0-9]+)$/.test(value)) return this.error(valueLoc, `expected a number for '--${name}', found '${value}'`);
      if (name === 'ip_version' && !IP_VERSIONS.includes(value)) {
        return this.error(valueLoc, `expected ipv4, ipv6 or ipv4-mapped-ipv6 for '--ip_version', found '${value}'`);
      }
    }
    if (this.sameLine()) return this.expected(`end of line after option '--${name}'`);
    return { kind: 'option', name, value, loc };
  }

  private shellCommand(t: Token): ShellCommand {
    const base = t.valueOffset;
    return { text: t.value, steps: shellSteps(t.value, (off) => this.map.loc(base + off)), loc: this.loc(t) };
  }

  private conditional(): Conditional | null {
    const open = this.next();
    const before = this.timeline;
    const items: Event[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') {
        return this.error(this.loc(open), `unterminated '#ifdef ${open.value}': expected #endif before end of file`);
      }
      if (t.kind === 'endif') break;
      const start = this.pos;
      if (t.kind === 'ifdef') {
        this.error(this.loc(t), `#ifdef inside '#ifdef ${open.value}' (line ${open.line}): they do not nest`);
        this.next();
        continue;
      }
      if (t.kind === 'backquote' || t.kind === 'option') {
        this.constructStart = this.pos;
        this.expected('an event inside the #ifdef block');
        this.recover(start);
        continue;
      }
      const e = this.event();
      if (e !== null) items.push(e);
    }
    const close = this.next();
    // The block may not run: events after it are timed from what came before it.
    this.timeline = before;
    return { kind: 'ifdef', name: open.value, items, loc: this.loc(open), endLoc: this.loc(close) };
  }

  // ------------------------------------------------------------------ events

  private event(): Event | null {
    const start = this.pos;
    this.constructStart = start;
    const e = this.eventBody();
    if (e === null) {
      this.recover(start);
      return null;
    }
    if (this.sameLine()) {
      this.expected(`end of line after the ${e.kind === 'syscall' ? 'system call' : e.kind === 'shell' ? 'command' : e.kind === 'code' ? 'code block' : 'event'}`);
      this.recover(start);
      return null;
    }
    if (!this.checkTime(e)) return null;
    return e;
  }

  private eventBody(): Event | null {
    const time = this.time();
    if (time === null) return null;
    const t = this.peek();
    const loc = time.loc;
    if (this.isPunct(t, '<') || this.isPunct(t, '>')) return this.packet(time);
    if (t.kind === 'ellipsis') return this.syscall(time);
    if (t.kind === 'word') {
      if (this.isPunct(this.peek(1), '(')) return this.syscall(time);
      return this.expected("'<' or '>' (a packet), a system call, a `command` or a %{ code }% block");
    }
    if (t.kind === 'backquote') {
      this.next();
      return { kind: 'shell', time, loc, command: this.shellCommand(t) };
    }
    if (t.kind === 'code') {
      this.next();
      const base = t.valueOffset;
      return { kind: 'code', time, loc, text: t.value, body: codeBody(t.value, (off) => this.map.loc(base + off)) };
    }
    return this.expected("'<' or '>' (a packet), a system call, a `command` or a %{ code }% block");
  }

  private timeValue(what: string): { usecs: number; loc: Loc } | null {
    const t = this.peek();
    if (t.kind !== 'integer' && t.kind !== 'float') return this.expected(what);
    this.next();
    const loc = this.loc(t);
    if (t.text.startsWith('-')) return this.error(loc, `negative time ${t.text}`);
    const usecs = usecsOf(t.text);
    if (!Number.isSafeInteger(usecs)) return this.error(loc, `time ${t.text} is out of range`);
    return { usecs, loc };
  }

  private time(): TimeSpec | null {
    const t = this.peek();
    const loc = this.loc(t);
    const what = 'an event time (such as 0, 0.100, +0.1, * or 0.1~0.2)';
    if (this.isPunct(t, '*')) {
      this.next();
      return { kind: 'any', loc };
    }
    if (this.isPunct(t, '+')) {
      this.next();
      const a = this.timeValue("a time after '+'");
      if (a === null) return null;
      if (!this.isPunct(this.peek(), '~')) return { kind: 'relative', usecs: a.usecs, loc };
      this.next();
      if (this.expectPunct('+', "'+' after '~' (a relative range is written +A~+B)") === null) return null;
      const b = this.timeValue("a time after '~+'");
      if (b === null) return null;
      return { kind: 'relative-range', startUsecs: a.usecs, endUsecs: b.usecs, loc };
    }
    if (t.kind === 'integer' || t.kind === 'float') {
      const a = this.timeValue(what);
      if (a === null) return null;
      if (!this.isPunct(this.peek(), '~')) return { kind: 'absolute', usecs: a.usecs, loc };
      this.next();
      if (this.isPunct(this.peek(), '+')) return this.expected("an absolute time after '~' (an absolute range is written A~B)");
      const b = this.timeValue("a time after '~'");
      if (b === null) return null;
      return { kind: 'absolute-range', startUsecs: a.usecs, endUsecs: b.usecs, loc };
    }
    return this.expected(what);
  }

  /** The checks that need the whole event: which time forms it may use, and the timeline. */
  private checkTime(e: Event): boolean {
    const t = e.time;
    const outboundPacket = e.kind === 'packet' && e.direction === 'outbound';
    if (t.kind === 'any' && !outboundPacket) {
      this.error(t.loc, "the time '*' (any time) is only allowed on outbound packets");
      return false;
    }
    if ((t.kind === 'absolute-range' || t.kind === 'relative-range') && !outboundPacket) {
      this.error(t.loc, 'a time range is only allowed on outbound packets');
      return false;
    }
    if ((t.kind === 'absolute-range' || t.kind === 'relative-range') && t.endUsecs < t.startUsecs) {
      this.error(t.loc, `time range is backwards: it ends (${formatSeconds(t.endUsecs)}) before it starts (${formatSeconds(t.startUsecs)})`);
      return false;
    }
    if (e.kind === 'syscall' && e.blockingEnd !== null) {
      const startUsecs = t.kind === 'absolute' || t.kind === 'relative' ? t.usecs : 0;
      if (e.blockingEnd.usecs < startUsecs) {
        this.error(
          e.blockingEnd.loc,
          `the blocking call returns (${formatSeconds(e.blockingEnd.usecs)}) before it starts (${formatSeconds(startUsecs)})`,
        );
        return false;
      }
    }
    const start = t.kind === 'absolute' ? t.usecs : t.kind === 'absolute-range' ? t.startUsecs : null;
    if (start !== null && start < this.timeline) {
      this.error(t.loc, `time goes backwards: ${formatSeconds(start)} is before the previous event (at ${formatSeconds(this.timeline)})`);
      return false;
    }
    if (start !== null) this.timeline = start;
    if (t.kind === 'relative') this.timeline += t.usecs;
    if (t.kind === 'relative-range') this.timeline += t.startUsecs;
    return true;
  }

  // ------------------------------------------------------------------ packets

  private packet(time: TimeSpec): Event | null {
    const dirTok = this.next();
    const direction = dirTok.text === '<' ? 'inbound' : 'outbound';
    let ipInfo: IpInfo | null = null;
    if (this.isPunct(this.peek(), '(') || this.isPunct(this.peek(), '[')) {
      ipInfo = this.ipInfo();
      if (ipInfo === null) return null;
    }
    const kindTok = this.peek();
    if (kindTok.kind === 'word' && OTHER_PACKETS[kindTok.text] !== undefined) {
      // Not TCP (or encapsulated): keep the action as text.
      let last = this.next();
      while (this.sameLine()) last = this.next();
      return { kind: 'opaque', time, loc: time.loc, what: OTHER_PACKETS[kindTok.text] as string, text: this.map.text.slice(dirTok.offset, last.end) };
    }
    let ports: PacketEvent['ports'] = null;
    if (kindTok.kind === 'integer' && this.isPunct(this.peek(1), '>')) {
      const src = this.unsigned('a source port', U16, 'source port');
      this.next(); // '>'
      const dst = src === null ? null : this.unsigned("a destination port after '>'", U16, 'destination port');
      if (src === null || dst === null) return null;
      ports = { src: src.value, dst: dst.value, loc: src.loc };
    }
    const flags = this.flags();
    if (flags === null) return null;
    const seq = this.seq();
    if (seq === null) return null;

    // ack, win and urg, in this order, each optional; then the options.
    type Field = 'ack' | 'win' | 'urg';
    const fields: readonly Field[] = ['ack', 'win', 'urg'];
    const limits: Record<Field, number> = { ack: U32, win: U16, urg: U16 };
    const found: Record<Field, NumberField | null> = { ack: null, win: null, urg: null };
    let next = 0; // index of the first field still allowed
    for (;;) {
      const t = this.peek();
      if (!this.sameLine() || t.kind !== 'word') break;
      const i = fields.indexOf(t.text as Field);
      const f = fields[i];
      if (f === undefined) break;
      if (i < next) {
        return this.error(this.loc(t), found[f] !== null ? `'${f}' given twice` : `'${f}' must come before '${fields[next - 1]}'`);
      }
      this.next();
      const v = this.unsigned(`a number after '${f}'`, limits[f], f);
      if (v === null) return null;
      found[f] = { value: v.value, loc: this.loc(t) };
      next = i + 1;
    }
    let options: TcpOptionsSpec = { kind: 'none' };
    if (this.sameLine() && this.isPunct(this.peek(), '<')) {
      const o = this.options();
      if (o === null) return null;
      options = o;
    }
    if (this.sameLine()) {
      const rest = options.kind === 'none' ? [...fields.slice(next).map((f) => `'${f}'`), "'<' (TCP options)"] : [];
      return this.expected(rest.length > 0 ? `${rest.join(', ')} or end of line` : 'end of line after the TCP options');
    }

    const loc = this.loc(dirTok);
    if (direction === 'inbound' && found.win === null) {
      return this.error(loc, "an inbound packet must give its window ('win N')");
    }
    if (direction === 'inbound' && options.kind === 'any') {
      return this.error(options.loc, "'<...>' (any options) is only allowed on outbound packets");
    }
    return { kind: 'packet', time, loc: time.loc, direction, ipInfo, ports, flags, seq, ack: found.ack, win: found.win, urg: found.urg, options };
  }

  private ipInfo(): IpInfo | null {
    const open = this.next();
    const close = open.text === '(' ? ')' : ']';
    while (this.sameLine() && !this.isPunct(this.peek(), close)) this.next();
    if (!this.sameLine()) return this.expected(`'${close}' closing the IP header information`);
    const end = this.next();
    const text = this.map.text.slice(open.end, end.offset).trim().replace(/\s+/g, ' ');
    return { text, bracket: open.text as '(' | '[', loc: this.loc(open) };
  }

  private flags(): FlagsSpec | null {
    const first = this.peek();
    const loc = this.loc(first);
    if (this.isPunct(first, '-')) {
      this.next();
      return { text: '', bits: 0, ace: null, loc };
    }
    const part = (t: Token): boolean => t.kind === 'word' || this.isPunct(t, '.') || (t.kind === 'float' && t.text.startsWith('.'));
    if (!part(first)) return this.expected('TCP flags (such as S, S., ., P., F., R or -)');
    let text = '';
    do text += this.next().text;
    while (part(this.peek()) && !this.peek().spaceBefore);

    let bits = 0;
    let ace: number | null = null;
    let ecn = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i] as string;
      const at = { ...loc, column: loc.column + i };
      const bit = FLAG_BITS[c];
      if (bit !== undefined) {
        if (c === 'E' || c === 'W' || c === 'A') ecn = true;
        bits |= bit;
      } else if (c >= '0' && c <= '7') {
        if (ace !== null) return this.error(at, `conflicting TCP flags in '${text}': only one AccECN ACE digit`);
        ace = Number(c);
      } else {
        return this.error(at, `invalid TCP flag '${c}' in '${text}' (flags are . F S R P E W A U, or one AccECN ACE digit 0-7)`);
      }
    }
    if (ace !== null) {
      if (ecn) return this.error(loc, `conflicting TCP flags in '${text}': an AccECN ACE digit cannot be combined with E, W or A`);
      // RFC 9768 §3.2.2: the ACE field is AE (high), CWR, ECE (low).
      if (ace & 1) bits |= TcpFlags.ECE;
      if (ace & 2) bits |= TcpFlags.CWR;
      if (ace & 4) bits |= TcpFlags.AE;
    }
    return { text, bits, ace, loc };
  }

  private seq(): SeqSpec | null {
    const first = this.peek();
    const loc = this.loc(first);
    if (first.kind === 'ellipsis') {
      // nplab: ...(LEN), any sequence number.
      this.next();
      if (this.expectPunct('(', "'(' and the payload length after '...'") === null) return null;
      const len = this.unsigned('the payload length', U16, 'payload length');
      if (len === null || this.expectPunct(')', "')' after the payload length") === null) return null;
      return { kind: 'any', length: len.value, loc };
    }
    if (first.kind !== 'integer') return this.expected('a sequence range such as 1:1001(1000)');
    const start = this.unsigned('a sequence range such as 1:1001(1000)', U32, 'sequence number');
    if (start === null) return null;
    if (this.expectPunct(':', "':' in the sequence range start:end(length)") === null) return null;
    const end = this.unsigned("the end sequence number after ':'", U32, 'sequence number');
    if (end === null) return null;
    if (this.expectPunct('(', "'(' and the payload length") === null) return null;
    const len = this.unsigned('the payload length', U16, 'payload length');
    if (len === null) return null;
    if (this.expectPunct(')', "')' after the payload length") === null) return null;
    let absolute = false;
    if (this.isPunct(this.peek(), '!') && !this.peek().spaceBefore) {
      this.next();
      absolute = true;
    }
    if (end.value !== start.value + len.value) {
      return this.error(
        loc,
        `inconsistent sequence range ${start.value}:${end.value}(${len.value}): the end must be start + length = ${start.value + len.value}`,
      );
    }
    return { kind: 'range', start: start.value, end: end.value, length: len.value, absolute, loc };
  }

  private options(): TcpOptionsSpec | null {
    const open = this.next();
    const loc = this.loc(open);
    const t = this.peek();
    if (t.kind === 'ellipsis' && this.isPunct(this.peek(1), '>')) {
      this.next();
      this.next();
      return { kind: 'any', loc };
    }
    if ((t.kind === 'word' || t.kind === 'integer') && this.isPunct(this.peek(1), '>') && isHexBlob(t.text)) {
      // nplab: the option bytes as hex.
      this.next();
      this.next();
      if (t.text.length / 2 > 40) return this.error(loc, `TCP options take ${t.text.length / 2} bytes, more than the 40 a TCP header holds`);
      return { kind: 'raw', hex: t.text, loc };
    }
    const list: TcpOptionSpec[] = [];
    for (;;) {
      if (!this.sameLine()) return this.expected(OPTION_LIST_HELP);
      const o = this.tcpOption();
      if (o === null) return null;
      list.push(o);
      const sep = this.peek();
      if (this.sameLine() && this.isPunct(sep, ',')) {
        this.next();
        continue;
      }
      if (this.sameLine() && this.isPunct(sep, '>')) {
        this.next();
        break;
      }
      return this.expected("',' or '>' in the TCP option list");
    }
    let bytes = 0;
    for (const o of list) {
      const b = optionBytes(o);
      if (b === null) return { kind: 'list', options: list, loc };
      bytes += b;
    }
    if (bytes > 40) return this.error(loc, `TCP options take ${bytes} bytes, more than the 40 a TCP header holds`);
    if (bytes % 4 !== 0) {
      return this.error(loc, `TCP options take ${bytes} bytes, not a multiple of 4 (${bytes % 4} excess; pad with nop or eol)`);
    }
    return { kind: 'list', options: list, loc };
  }

  /** A token that can carry a hex cookie or digest: a word or integer on the same line. */
  private hexArgument(): Token | null {
    const t = this.peek();
    return this.sameLine() && (t.kind === 'word' || t.kind === 'integer') ? t : null;
  }

  private tcpOption(): TcpOptionSpec | null {
    const t = this.peek();
    if (t.kind !== 'word') return this.expected(OPTION_LIST_HELP);
    const loc = this.loc(t);
    switch (t.text) {
      case 'nop':
        this.next();
        return { kind: 'nop', loc };
      case 'eol':
        this.next();
        return { kind: 'eol', loc };
      case 'sackOK':
        this.next();
        return { kind: 'sack-permitted', loc };
      case 'mss': {
        this.next();
        const v = this.unsigned("a number after 'mss'", U16, 'mss');
        return v === null ? null : { kind: 'mss', value: v.value, loc };
      }
      case 'wscale': {
        this.next();
        const v = this.unsigned("a number after 'wscale'", 0xff, 'wscale');
        return v === null ? null : { kind: 'wscale', shift: v.value, loc };
      }
      case 'sack': {
        this.next();
        const blocks: { left: number; right: number; loc: Loc }[] = [];
        do {
          const left = this.unsigned(blocks.length === 0 ? "a SACK block (left:right) after 'sack'" : 'a SACK block (left:right)', U32, 'SACK edge');
          if (left === null) return null;
          if (this.expectPunct(':', "':' in the SACK block left:right") === null) return null;
          const right = this.unsigned("the right edge of the SACK block after ':'", U32, 'SACK edge');
          if (right === null) return null;
          blocks.push({ left: left.value, right: right.value, loc: left.loc });
        } while (this.sameLine() && this.peek().kind === 'integer');
        return { kind: 'sack', blocks, loc };
      }
      case 'TS': {
        this.next();
        const val = this.peek();
        if (!(val.kind === 'word' && val.text === 'val')) return this.expected("'val' after 'TS' (TS val N ecr N)");
        this.next();
        let tsVal: number | null = null;
        if (this.peek().kind === 'ellipsis') this.next();
        else {
          const v = this.unsigned("a number or '...' after 'val'", U32, 'TS val');
          if (v === null) return null;
          tsVal = v.value;
        }
        const ecr = this.peek();
        if (!(ecr.kind === 'word' && ecr.text === 'ecr')) return this.expected("'ecr' after the TS val (TS val N ecr N)");
        this.next();
        const e = this.unsigned("a number after 'ecr'", U32, 'TS ecr');
        if (e === null) return null;
        let ecrAbsolute = false;
        if (this.isPunct(this.peek(), '!') && !this.peek().spaceBefore) {
          this.next();
          ecrAbsolute = true;
        }
        return { kind: 'timestamps', val: tsVal, ecr: e.value, ecrAbsolute, loc };
      }
      case 'md5': {
        this.next();
        const d = this.hexArgument();
        if (d === null) return this.expected("a hex digest or 'valid' after 'md5'");
        this.next();
        if (d.text === 'valid') return { kind: 'md5', digest: null, loc };
        if (!isHexBlob(d.text) || d.text.length > 32) return this.error(this.loc(d), `TCP MD5 digest '${d.text}' is not a hex string of at most 16 bytes`);
        return { kind: 'md5', digest: d.text, loc };
      }
      case 'FO':
      case 'FOEXP': {
        this.next();
        const c = this.hexArgument();
        let cookie = '';
        if (c !== null) {
          this.next();
          if (!isHexBlob(c.text)) return this.error(this.loc(c), `TCP Fast Open cookie '${c.text}' is not an even number of hex digits`);
          cookie = c.text;
        }
        return { kind: 'fast-open', experimental: t.text === 'FOEXP', cookie, loc };
      }
      default: {
        if (!OTHER_TCP_OPTIONS.has(t.text)) return this.expected(OPTION_LIST_HELP);
        // Known to packetdrill, not modelled: keep its text up to the next ',' or '>'.
        let last = this.next();
        while (this.sameLine() && !this.isPunct(this.peek(), ',') && !this.isPunct(this.peek(), '>')) last = this.next();
        return { kind: 'other', name: t.text, text: this.map.text.slice(t.offset, last.end), loc };
      }
    }
  }

  // ------------------------------------------------------------------ system calls

  private syscall(time: TimeSpec): SyscallEvent | null {
    let blockingEnd: SyscallEvent['blockingEnd'] = null;
    if (this.peek().kind === 'ellipsis') {
      this.next();
      blockingEnd = this.timeValue("the time the blocking call returns, after '...'");
      if (blockingEnd === null) return null;
    }
    const nameTok = this.peek();
    if (nameTok.kind !== 'word') return this.expected('a system call name');
    const name = nameTok.text;
    const nameLoc = this.loc(nameTok);
    const info = SYSCALLS[name];
    if (info === undefined) return this.error(nameLoc, `unknown system call '${name}'`);
    this.next();
    if (this.expectPunct('(', `'(' after '${name}'`) === null) return null;
    const args: Expr[] = [];
    if (this.isPunct(this.peek(), ')')) this.next();
    else {
      for (;;) {
        const e = this.expr('an argument');
        if (e === null) return null;
        args.push(e);
        if (this.isPunct(this.peek(), ',')) {
          this.next();
          continue;
        }
        if (this.isPunct(this.peek(), ')')) {
          this.next();
          break;
        }
        return this.expected("',' or ')' in the argument list");
      }
    }
    if (!arityAccepts(info.arity, args.length)) {
      return this.error(nameLoc, `${name}() takes ${arityText(info.arity)}, found ${args.length}`);
    }
    if (this.expectPunct('=', "'=' and the expected result") === null) return null;
    const result = this.expr("the expected result after '='");
    if (result === null) return null;
    let errno: SyscallEvent['errno'] = null;
    if (this.sameLine() && this.peek().kind === 'word') {
      const t = this.peek();
      if (!ERRNO_NAMES.has(t.text)) return this.expected('an errno name such as ECONNREFUSED');
      this.next();
      errno = { name: t.text, loc: this.loc(t) };
    }
    let note: string | null = null;
    if (this.sameLine() && this.isPunct(this.peek(), '(')) {
      const open = this.next();
      let depth = 1;
      while (this.sameLine()) {
        const t = this.next();
        if (this.isPunct(t, '(')) depth++;
        else if (this.isPunct(t, ')') && --depth === 0) {
          note = this.map.text.slice(open.end, t.offset).trim().replace(/\s+/g, ' ');
          break;
        }
      }
      if (note === null) return this.expected("')' closing the note");
    }
    return { kind: 'syscall', time, loc: time.loc, name, blockingEnd, args, result, errno, note };
  }

  private expr(what: string): Expr | null {
    const first = this.term(what);
    if (first === null) return null;
    if (!this.isPunct(this.peek(), '|')) return first;
    const terms: Expr[] = [first];
    while (this.isPunct(this.peek(), '|')) {
      this.next();
      const t = this.term("a value after '|'");
      if (t === null) return null;
      terms.push(t);
    }
    return { kind: 'or', terms, loc: first.loc };
  }

  private list(close: ']' | '}', what: string): Expr[] | null {
    const items: Expr[] = [];
    if (this.isPunct(this.peek(), close)) {
      this.next();
      return items;
    }
    for (;;) {
      const e = this.expr(what);
      if (e === null) return null;
      items.push(e);
      if (this.isPunct(this.peek(), ',')) {
        this.next();
        continue;
      }
      if (this.isPunct(this.peek(), close)) {
        this.next();
        return items;
      }
      return this.expected(`',' or '${close}'`);
    }
  }

  private term(what: string): Expr | null {
    const t = this.peek();
    const loc = this.loc(t);
    switch (t.kind) {
      case 'ellipsis':
        this.next();
        return { kind: 'ellipsis', loc };
      case 'integer':
      case 'hex': {
        this.next();
        const value = t.kind === 'hex' ? parseInt(t.text.slice(2), 16) : Number(t.text);
        if (!Number.isSafeInteger(value)) return this.error(loc, `number ${t.text} is out of range`);
        return { kind: 'int', value, hex: t.kind === 'hex', loc };
      }
      case 'string': {
        this.next();
        const ellipsis = this.peek().kind === 'ellipsis';
        if (ellipsis) this.next();
        return { kind: 'string', value: t.value, ellipsis, loc };
      }
      case 'word': {
        this.next();
        if (this.isPunct(this.peek(), '(')) {
          if (!ARG_FUNCTIONS.has(t.text)) return this.error(loc, `unknown function '${t.text}' (known: ${[...ARG_FUNCTIONS].join(', ')})`);
          this.next();
          const args: Expr[] = [];
          if (this.isPunct(this.peek(), ')')) this.next();
          else {
            for (;;) {
              const e = this.expr(`an argument of ${t.text}()`);
              if (e === null) return null;
              args.push(e);
              if (this.isPunct(this.peek(), ',')) {
                this.next();
                continue;
              }
              if (this.isPunct(this.peek(), ')')) {
                this.next();
                break;
              }
              return this.expected("',' or ')'");
            }
          }
          return { kind: 'call', name: t.text, args, loc };
        }
        if (this.isPunct(this.peek(), '=')) {
          this.next();
          const value = this.expr(`a value for '${t.text}'`);
          if (value === null) return null;
          return { kind: 'field', name: t.text, value, loc };
        }
        return { kind: 'word', name: t.text, loc };
      }
      case 'punct':
        if (t.text === '[') {
          this.next();
          const items = this.list(']', 'a value in the list');
          return items === null ? null : { kind: 'list', items, loc };
        }
        if (t.text === '{') {
          this.next();
          const items = this.list('}', 'a field such as onoff=1');
          return items === null ? null : { kind: 'struct', items, loc };
        }
        return this.expected(what);
      default:
        return this.expected(what);
    }
  }
}

/** Parse lexed tokens. Comments are attached from the lex result. */
export function parseTokens(lexed: LexResult, text: string, file: string): ParseOutput {
  const map = new SourceMap(text, file);
  const p = new Parser(lexed, map);
  const script = p.parseScript();
  const errors = [...p.errors].sort((a, b) => a.loc.line - b.loc.line || a.loc.column - b.loc.column);
  if (script === null || errors.length > 0) return { script: null, errors };
  return { script: { ...script, comments: lexed.comments }, errors: [] };
}
