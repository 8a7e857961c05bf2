/**
 * The typed tree of a packetdrill script, in the dialect subset described in
 * shared/conformance/packetdrill/NOTES.md (google/packetdrill plus the nplab extensions the FreeBSD suite
 * uses). Every node carries `loc` (file, 1-based line and column) so the runner can name the line it is
 * executing, and so an `unsupported` finding points at the construct that caused it.
 *
 * The tree is complete for every syntactically valid script, including constructs synack does not run:
 * those stay in the tree in a form the printer can re-emit (an unknown shell command keeps its text, a
 * Python block keeps its code), and `unsupportedOf` (support.ts) lists them. Times are integer
 * microseconds, as everywhere in synack.
 */
import type { TcpState } from '../tcp/state.js';

/** Where a node starts. `line` and `column` are 1-based; a column counts UTF-16 code units (a tab is 1). */
export interface Loc {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** A syntax or semantic error: the script cannot be run at all. */
export interface ScriptError {
  readonly loc: Loc;
  readonly message: string;
}

/** A construct synack's runner does not implement: the script is skipped (not passed), with this reason. */
export interface Unsupported {
  readonly loc: Loc;
  /** What it was, short enough for a table: "system call epoll_wait", "TCP option FO". */
  readonly what: string;
}

// ---------------------------------------------------------------------------------------------------
// The script

export interface Script {
  readonly file: string;
  /** `--name=value` lines before the first event (they are command-line flags in packetdrill). */
  readonly options: readonly ScriptOption[];
  /** An untimed backquoted command before the first event (packetdrill's init command). */
  readonly init: ShellCommand | null;
  /** Events in order, with the nplab `#ifdef NAME ... #endif` blocks kept as blocks. */
  readonly items: readonly ScriptItem[];
  /** An untimed backquoted command after the last event. */
  readonly cleanup: ShellCommand | null;
  /** Every comment, in source order (the runner reads `// Failure:` ones; the printer keeps them all). */
  readonly comments: readonly Comment[];
}

export interface Comment {
  readonly kind: 'line' | 'block';
  /** The text between `//` and the end of the line, or between `/*` and `*\/`, untouched. */
  readonly text: string;
  readonly loc: Loc;
}

export interface ScriptOption {
  readonly kind: 'option';
  /** Without the leading `--`. */
  readonly name: string;
  /** The text after `=` (quotes removed), or null for a bare flag such as `--dry_run`. */
  readonly value: string | null;
  readonly loc: Loc;
}

export type ScriptItem = Event | Conditional;

/** nplab `#ifdef NAME` ... `#endif` (not nested): the events run only when NAME is defined (`-D NAME`). */
export interface Conditional {
  readonly kind: 'ifdef';
  readonly name: string;
  readonly items: readonly Event[];
  readonly loc: Loc;
  /** Where the `#endif` is. */
  readonly endLoc: Loc;
}

export type Event = PacketEvent | SyscallEvent | ShellEvent | CodeEvent | OpaqueEvent;

// ---------------------------------------------------------------------------------------------------
// Time

/**
 * When an event happens. Relative times are offsets from the previous event (NOTES.md §1.2); `*` and the
 * two range forms are only legal on outbound packets.
 */
export type TimeSpec =
  | { readonly kind: 'absolute'; readonly usecs: number; readonly loc: Loc }
  | { readonly kind: 'relative'; readonly usecs: number; readonly loc: Loc }
  | { readonly kind: 'any'; readonly loc: Loc }
  | { readonly kind: 'absolute-range'; readonly startUsecs: number; readonly endUsecs: number; readonly loc: Loc }
  | { readonly kind: 'relative-range'; readonly startUsecs: number; readonly endUsecs: number; readonly loc: Loc };

interface EventBase {
  readonly time: TimeSpec;
  /** Where the event starts (its time). */
  readonly loc: Loc;
}

// ---------------------------------------------------------------------------------------------------
// Packets

export type Direction = 'inbound' | 'outbound';

/** A number written after a keyword (`ack 1`, `win 32792`, `urg 0`). */
export interface NumberField {
  readonly value: number;
  readonly loc: Loc;
}

export interface PacketEvent extends EventBase {
  readonly kind: 'packet';
  /** `<` is inbound (the runner injects it), `>` outbound (synack must send it). */
  readonly direction: Direction;
  /** `(ect0)`, `[tos 0x10]`, `(ttl 64)`, ...: IP header expectations, kept as written. */
  readonly ipInfo: IpInfo | null;
  /** Explicit `sport>dport` (legal, rare). */
  readonly ports: { readonly src: number; readonly dst: number; readonly loc: Loc } | null;
  readonly flags: FlagsSpec;
  readonly seq: SeqSpec;
  readonly ack: NumberField | null;
  /** Mandatory inbound; omitted outbound means "don't check the window". */
  readonly win: NumberField | null;
  readonly urg: NumberField | null;
  readonly options: TcpOptionsSpec;
}

export interface IpInfo {
  /** The text between the brackets, whitespace collapsed. */
  readonly text: string;
  readonly bracket: '(' | '[';
  readonly loc: Loc;
}

export interface FlagsSpec {
  /** The flag characters as written ('' for `-`, no flags): any of `.FSRPEWAU` or one ACE digit 0-7. */
  readonly text: string;
  /** TcpFlags bits (src/wire/tcp.ts); an ACE digit sets ECE (1), CWR (2) and AE (4) as RFC 9768 encodes it. */
  readonly bits: number;
  /** The AccECN ACE digit when one was written, else null. */
  readonly ace: number | null;
  readonly loc: Loc;
}

/**
 * `start:end(length)`, optionally with nplab's `!` (absolute: used as written, not relative to the ISN),
 * or nplab's `...(length)` (any sequence number).
 */
export type SeqSpec =
  | {
      readonly kind: 'range';
      readonly start: number;
      readonly end: number;
      readonly length: number;
      readonly absolute: boolean;
      readonly loc: Loc;
    }
  | { readonly kind: 'any'; readonly length: number; readonly loc: Loc };

/**
 * The option list. `none`: the list was omitted (outbound: "expect no options"); `any`: `<...>` (don't
 * check, outbound only); `raw`: nplab's hex blob `<0204...>`.
 */
export type TcpOptionsSpec =
  | { readonly kind: 'none' }
  | { readonly kind: 'any'; readonly loc: Loc }
  | { readonly kind: 'list'; readonly options: readonly TcpOptionSpec[]; readonly loc: Loc }
  | { readonly kind: 'raw'; readonly hex: string; readonly loc: Loc };

export type TcpOptionSpec =
  | { readonly kind: 'nop'; readonly loc: Loc }
  | { readonly kind: 'eol'; readonly loc: Loc }
  | { readonly kind: 'mss'; readonly value: number; readonly loc: Loc }
  | { readonly kind: 'wscale'; readonly shift: number; readonly loc: Loc }
  | { readonly kind: 'sack-permitted'; readonly loc: Loc }
  | { readonly kind: 'sack'; readonly blocks: readonly SackBlock[]; readonly loc: Loc }
  | {
      readonly kind: 'timestamps';
      /** null for nplab's `TS val ...` (don't check). */
      readonly val: number | null;
      readonly ecr: number;
      /** nplab's `ecr N!`: compare the echo as written instead of mapping it. */
      readonly ecrAbsolute: boolean;
      readonly loc: Loc;
    }
  | { readonly kind: 'md5'; readonly digest: string | null; readonly loc: Loc }
  /** TCP Fast Open, RFC 7413 (kind 34, `FO`) or the experimental kind 254 form (`FOEXP`); cookie as hex. */
  | { readonly kind: 'fast-open'; readonly experimental: boolean; readonly cookie: string; readonly loc: Loc }
  /** An option packetdrill knows but this dialect does not model (AccECN, generic `gen-N`, ...), as written. */
  | { readonly kind: 'other'; readonly name: string; readonly text: string; readonly loc: Loc };

export interface SackBlock {
  readonly left: number;
  readonly right: number;
  readonly loc: Loc;
}

// ---------------------------------------------------------------------------------------------------
// System calls

export interface SyscallEvent extends EventBase {
  readonly kind: 'syscall';
  readonly name: string;
  /**
   * For a blocking call `T...END name(...)`: END, on the same base as the event time (for a relative
   * time, END is added to the same anchor). null for a call that must return at once.
   */
  readonly blockingEnd: { readonly usecs: number; readonly loc: Loc } | null;
  readonly args: readonly Expr[];
  readonly result: Expr;
  /** `= -1 ECONNREFUSED`: the errno the call must fail with. */
  readonly errno: { readonly name: string; readonly loc: Loc } | null;
  /** The parenthesised free text after the result, whitespace collapsed (packetdrill ignores it). */
  readonly note: string | null;
}

export type Expr =
  /** `...`: the runner fills it in (addresses, buffers, the socket domain). */
  | { readonly kind: 'ellipsis'; readonly loc: Loc }
  | { readonly kind: 'int'; readonly value: number; readonly hex: boolean; readonly loc: Loc }
  /** A symbolic constant: SOCK_STREAM, SO_ERROR, ECONNRESET, ... */
  | { readonly kind: 'word'; readonly name: string; readonly loc: Loc }
  /** A C string, escapes kept as written; `"..."...` (trailing ellipsis) compares a prefix. */
  | { readonly kind: 'string'; readonly value: string; readonly ellipsis: boolean; readonly loc: Loc }
  /** `a | b | c`. */
  | { readonly kind: 'or'; readonly terms: readonly Expr[]; readonly loc: Loc }
  /** `[a, b]`: an int pointer (in/out) or an array. */
  | { readonly kind: 'list'; readonly items: readonly Expr[]; readonly loc: Loc }
  /** `{a, b}`: a struct such as `{onoff=1, linger=0}` or `{fd=4, events=POLLIN}`. */
  | { readonly kind: 'struct'; readonly items: readonly Expr[]; readonly loc: Loc }
  /** `name=value` inside a struct. */
  | { readonly kind: 'field'; readonly name: string; readonly value: Expr; readonly loc: Loc }
  /** `htons(8080)`, `inet_addr("192.0.2.1")`. */
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly loc: Loc };

// ---------------------------------------------------------------------------------------------------
// Shell commands

export interface ShellEvent extends EventBase {
  readonly kind: 'shell';
  readonly command: ShellCommand;
}

/** A backquoted command: its text as written, and what synack understood of it, step by step. */
export interface ShellCommand {
  readonly text: string;
  readonly steps: readonly ShellStep[];
  readonly loc: Loc;
}

/** The TCP states as RFC 9293 spells them: the TCP core's own type. */
export type TcpStateName = TcpState;

export type ShellStep =
  /** The Linux sysctl baseline (`../common/defaults.sh`, `./defaults.sh`): selects the modern-Linux profile. */
  | { readonly kind: 'linux-defaults'; readonly path: string; readonly loc: Loc }
  /**
   * One sysctl assignment: FreeBSD `sysctl -w net.inet.tcp.insecure_rst=0`, Linux `sysctl -w
   * net.ipv4.tcp_syn_retries=1` or packetdrill's `set_sysctls.py /proc/sys/net/ipv4/tcp_syn_retries=1`
   * (name given dotted).
   */
  | { readonly kind: 'sysctl-set'; readonly name: string; readonly value: string; readonly loc: Loc }
  /** `/tmp/sysctl_restore_${PPID}.sh`, written by set_sysctls.py: undoes the sysctls (a no-op for synack). */
  | { readonly kind: 'sysctl-restore'; readonly path: string; readonly loc: Loc }
  /**
   * FreeBSD `sockstat -4 -P tcp [-p PORT] -s | grep ... | grep -c STATE | grep N`: the number of the
   * script's TCP sockets in STATE must read N.
   */
  | {
      readonly kind: 'socket-count';
      readonly family: 4 | 6 | null;
      readonly port: number | null;
      readonly state: TcpStateName;
      readonly count: number;
      readonly loc: Loc;
    }
  /** FreeBSD `tcpdrop -s STATE`: drop every connection in STATE. */
  | { readonly kind: 'drop-state'; readonly state: TcpStateName; readonly loc: Loc }
  /** Anything else, as written. */
  | { readonly kind: 'unknown'; readonly text: string; readonly loc: Loc };

// ---------------------------------------------------------------------------------------------------
// %{ Python }% blocks

export interface CodeEvent extends EventBase {
  readonly kind: 'code';
  /** The code between `%{` and `}%`, spaces and tabs at both ends removed (as packetdrill does). */
  readonly text: string;
  readonly body: CodeBody;
}

/**
 * `assertions` when every statement is one of the TCP_INFO assertions synack evaluates (NOTES.md §1.5),
 * else `python` with the first statement it could not read.
 */
export type CodeBody =
  | { readonly kind: 'assertions'; readonly assertions: readonly Assertion[] }
  | { readonly kind: 'python'; readonly reason: string; readonly loc: Loc };

export type Assertion =
  | {
      readonly kind: 'tcpi-state';
      readonly op: '==' | '!=';
      /** As written: TCPI_ESTABLISHED. */
      readonly symbol: string;
      readonly state: TcpStateName;
      /** The Python assert message expression after the comma, as written, or null. */
      readonly message: string | null;
      readonly loc: Loc;
    }
  | {
      readonly kind: 'tcpi-value';
      readonly field: TcpiField;
      readonly op: '==' | '!=';
      readonly value: number;
      /** The Python assert message expression after the comma, as written, or null. */
      readonly message: string | null;
      readonly loc: Loc;
    };

/** The TCP_INFO fields synack can answer (the MSS pair of NOTES.md §1.5). */
export type TcpiField = 'tcpi_advmss' | 'tcpi_snd_mss';

// ---------------------------------------------------------------------------------------------------
// Everything else

/** An event of a kind synack does not run (an ICMP or UDP packet, an encapsulated packet), as written. */
export interface OpaqueEvent extends EventBase {
  readonly kind: 'opaque';
  /** Short description for reports: "ICMP packet". */
  readonly what: string;
  /** The source text of the action, from its first token to the end of the line. */
  readonly text: string;
}
