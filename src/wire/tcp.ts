/**
 * TCP header and options (RFC 9293 §3.1, §3.2; flag bit 8 from RFC 9768).
 *
 * Three levels, from cheapest to richest:
 * - `TcpPacket`, a checked view: field getters/setters over the caller's bytes, no copies;
 * - the option walker (`findTcpOption`, `getTcpMss`, ...): reads one option in place, allocates nothing
 *   and never throws, for demux and other hot paths;
 * - `TcpRepr`, a record with every field and option decoded, built only for segments a socket accepts;
 *   `emitTcpRepr(parseTcpRepr(p, sum), ..., sum)` gives back the exact bytes.
 *
 * Malformed options (a length byte of 0 or 1, or one reaching past the header) never make the header
 * unusable: the view checks only the fixed header and the data offset. Like Linux's tcp_parse_options(),
 * which stops at the first such option and keeps what it read before, the walker answers from options
 * before the bad one and returns TCP_OPTION_MALFORMED only when it hits the bad one first;
 * `parseTcpRepr` keeps the options before it and the raw rest in `malformedOptions`; the strict
 * `parseTcpOptions` and `checkTcpOptions` return 'bad-option'.
 */
import type { Bytes } from './bytes.js';
import { copyOut, hex } from './bytes.js';
import { finishChecksum, sum16, sumVerifies } from './checksum.js';
import type { WireError } from './errors.js';

/*
 * RFC 9293 §3.1, with the last reserved bit named AE by RFC 9768 (it was NS in RFC 3540):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          Source Port          |       Destination Port        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                        Sequence Number                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Acknowledgment Number                      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Data |     |A|C|E|U|A|P|R|S|F|                               |
 *   | Offset| Rsv |E|W|C|R|C|S|S|Y|I|            Window             |
 *   |       |     | |R|E|G|K|H|T|N|N|                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           Checksum            |         Urgent Pointer        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                           [Options]                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                             Data                              :
 */
const F = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ: 4,
  ACK: 8,
  DATA_OFF: 12, // high nibble: header length in 32-bit words; then 3 reserved bits; low bit: AE
  FLAGS: 13,
  WINDOW: 14,
  CHECKSUM: 16,
  URGENT: 18,
  OPTIONS: 20,
} as const;

/** Header length without options. */
export const TCP_HEADER_LEN = 20;
/** The 4-bit data offset allows 60 header bytes, so at most 40 of options. */
export const TCP_MAX_OPTIONS_LEN = 40;

export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
  AE: 0x100, // bit 8 (ex-NS), RFC 9768
} as const;

export const TcpOptionKind = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WSCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
  FAST_OPEN: 34,
  EXPERIMENTAL: 254,
} as const;

/** RFC 6994 ExID that marks the pre-IANA TCP Fast Open option inside kind 254 (RFC 7413 §4.1.1). */
export const TFO_EXPERIMENT_MAGIC = 0xf989;

export type TcpOption =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sack-permitted' }
  | { kind: 'sack'; blocks: Array<[left: number, right: number]> }
  | { kind: 'timestamps'; tsVal: number; tsEcr: number }
  /** kind 34; an empty cookie is a cookie request (RFC 7413 §4.1.1). */
  | { kind: 'fast-open'; cookie: Uint8Array }
  /** kind 254 with ExID 0xF989: Fast Open before it had a kind of its own. */
  | { kind: 'fast-open-exp'; cookie: Uint8Array }
  /**
   * Any other kind, kept raw; `data` excludes the kind and length bytes (for kind 254 it starts with the
   * ExID). A known kind whose length byte does not match its fixed size (an MSS of length 3, a SACK that
   * is not 2 + 8n long) is kept here too, as Linux ignores such an option rather than trusting it.
   */
  | { kind: 'unknown'; type: number; data: Uint8Array };

export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  /** Raw u32 as a JS number; compare with seq.ts. */
  seq: number;
  /** Raw u32, kept even when ACK is not set. */
  ack: number;
  /** TcpFlags bitmask, 9 bits. */
  flags: number;
  /** Raw 16-bit field, unscaled. */
  window: number;
  /** Raw, kept even when URG is not set. */
  urgent: number;
  /** In wire order, NOPs and the EOL included; nothing after the EOL (that is padding). */
  options: TcpOption[];
  payload: Uint8Array;

  // Fidelity fields: parse sets them only when the bytes differ from what emit computes by itself.
  /** The checksum field when it is not the one emit would compute (bad, or offloaded). */
  checksum?: number;
  /** The 3 reserved bits between the data offset and AE, when not zero. */
  reserved?: number;
  /**
   * The bytes after an EOL, when they are not the zeros emit pads with (non-zero bytes, or a data
   * offset that reserves more than the next 4-byte boundary).
   */
  padding?: Uint8Array;
  /**
   * Raw bytes from the first malformed option (length byte 0 or 1, or past the header) to the end of the
   * option space. `options` holds what came before it. Set only by parse; a segment with this field is
   * one Linux would still process, honouring only the options before the bad one.
   */
  malformedOptions?: Uint8Array;
}

// ---------------------------------------------------------------------------------------------------
// The view

/** A checked view of a TCP header at `off`, `len` bytes available (header + captured payload). */
export class TcpPacket {
  private constructor(
    readonly b: Bytes,
    readonly off: number,
    readonly len: number,
  ) {}

  /**
   * Validates once: at least 20 bytes, a data offset of 5..15 words, and the header inside the bytes.
   *
   * `len` is what the view may read: the segment's bytes as captured, never more than the IP header
   * announces (no link-layer trailer). `segmentLen`, when given, is the segment length the IP header
   * announces; it tells a capture cut short by the snap length ('truncated': the header fits in the
   * segment but was not all captured) from a header that lies ('bad-header-length': data offset < 5 or
   * beyond the segment). Without it the bytes are taken as the whole segment, so a data offset past them
   * is 'bad-header-length'. An announced length too short for the fixed header is 'bad-length'.
   */
  static check(b: Bytes, off: number, len: number, segmentLen?: number): TcpPacket | WireError {
    if (segmentLen !== undefined && segmentLen < TCP_HEADER_LEN) return 'bad-length';
    if (len < TCP_HEADER_LEN || off < 0 || off + len > b.u8.length) return 'truncated';
    const hl = ((b.u8[off + F.DATA_OFF] as number) >> 4) * 4;
    if (hl < TCP_HEADER_LEN || hl > (segmentLen ?? len)) return 'bad-header-length';
    if (hl > len) return 'truncated';
    return new TcpPacket(b, off, len);
  }

  /** A view with no checks, for emitting into a buffer the caller sized. */
  static unchecked(b: Bytes, off: number, len: number): TcpPacket {
    return new TcpPacket(b, off, len);
  }

  get srcPort(): number { return this.b.dv.getUint16(this.off + F.SRC_PORT); }
  set srcPort(v: number) { this.b.dv.setUint16(this.off + F.SRC_PORT, v); }
  get dstPort(): number { return this.b.dv.getUint16(this.off + F.DST_PORT); }
  set dstPort(v: number) { this.b.dv.setUint16(this.off + F.DST_PORT, v); }
  get seq(): number { return this.b.dv.getUint32(this.off + F.SEQ); }
  set seq(v: number) { this.b.dv.setUint32(this.off + F.SEQ, v >>> 0); }
  get ack(): number { return this.b.dv.getUint32(this.off + F.ACK); }
  set ack(v: number) { this.b.dv.setUint32(this.off + F.ACK, v >>> 0); }
  /** The data offset field: header length in 32-bit words. */
  get dataOffset(): number { return (this.b.u8[this.off + F.DATA_OFF] as number) >> 4; }
  set dataOffset(words: number) {
    const i = this.off + F.DATA_OFF;
    this.b.u8[i] = ((words & 0xf) << 4) | ((this.b.u8[i] as number) & 0x0f);
  }
  /** Header length in bytes, options included. */
  get headerLength(): number { return this.dataOffset * 4; }
  /** The 3 reserved bits (after the data offset, before AE). */
  get reserved(): number { return ((this.b.u8[this.off + F.DATA_OFF] as number) >> 1) & 0x7; }
  set reserved(v: number) {
    const i = this.off + F.DATA_OFF;
    this.b.u8[i] = ((this.b.u8[i] as number) & 0xf1) | ((v & 0x7) << 1);
  }
  /** The 9 flag bits, TcpFlags; AE comes from the low bit of byte 12. */
  get flags(): number { return this.b.dv.getUint16(this.off + F.DATA_OFF) & 0x1ff; }
  set flags(v: number) {
    const i = this.off + F.DATA_OFF;
    this.b.u8[i] = ((this.b.u8[i] as number) & 0xfe) | ((v >> 8) & 1);
    this.b.u8[i + 1] = v & 0xff;
  }
  get window(): number { return this.b.dv.getUint16(this.off + F.WINDOW); }
  set window(v: number) { this.b.dv.setUint16(this.off + F.WINDOW, v); }
  get checksum(): number { return this.b.dv.getUint16(this.off + F.CHECKSUM); }
  set checksum(v: number) { this.b.dv.setUint16(this.off + F.CHECKSUM, v); }
  get urgent(): number { return this.b.dv.getUint16(this.off + F.URGENT); }
  set urgent(v: number) { this.b.dv.setUint16(this.off + F.URGENT, v); }

  get optionsOffset(): number { return this.off + F.OPTIONS; }
  get optionsLength(): number { return this.headerLength - TCP_HEADER_LEN; }
  get payloadOffset(): number { return this.off + this.headerLength; }
  /** Payload bytes available (captured), which is less than the segment's when the capture was cut. */
  get payloadLength(): number { return this.len - this.headerLength; }

  /** MSS value, or a negative TCP_OPTION_* code. */
  get mss(): number { return getTcpMss(this.b, this.optionsOffset, this.optionsLength); }
  /** Raw window-scale shift (not clamped to 14), or a negative TCP_OPTION_* code. */
  get windowScale(): number { return getTcpWindowScale(this.b, this.optionsOffset, this.optionsLength); }
  get sackPermitted(): boolean { return hasTcpSackPermitted(this.b, this.optionsOffset, this.optionsLength); }
  /** Offset of TSval (TSecr follows 4 bytes later), or a negative TCP_OPTION_* code. */
  get timestampsOffset(): number { return findTcpTimestamps(this.b, this.optionsOffset, this.optionsLength); }
  /** 'bad-option' when the option list holds a malformed option before its end, else null. */
  optionsError(): WireError | null { return checkTcpOptions(this.b, this.optionsOffset, this.optionsLength); }

  /** True when the segment (all `len` bytes) checksums right with this pseudo-header partial sum. */
  verifyChecksum(pseudoSum: number): boolean { return verifyTcpChecksum(this.b, this.off, this.len, pseudoSum); }
  /** Computes and writes the checksum over all `len` bytes. */
  fillChecksum(pseudoSum: number): void { fillTcpChecksum(this.b, this.off, this.len, pseudoSum); }
}

// ---------------------------------------------------------------------------------------------------
// Checksums (RFC 9293 §3.1: over the pseudo-header, the header with the checksum field as zero, the data)

/** True when b[off, off+len) (a whole segment) sums right with `pseudoSum` (checksum.ts pseudoHeaderSum). */
export function verifyTcpChecksum(b: Bytes, off: number, len: number, pseudoSum: number): boolean {
  return sumVerifies(b, off, len, pseudoSum);
}

/** Writes the checksum of the segment b[off, off+len). */
export function fillTcpChecksum(b: Bytes, off: number, len: number, pseudoSum: number): void {
  b.dv.setUint16(off + F.CHECKSUM, 0);
  b.dv.setUint16(off + F.CHECKSUM, finishChecksum(sum16(b, off, len, pseudoSum)));
}

/** The checksum a sender would put in the segment, whatever its checksum field holds now. */
function expectedChecksum(b: Bytes, off: number, len: number, pseudoSum: number): number {
  // The field is one aligned word of the plain (unfolded) sum, so subtracting it is exact.
  return finishChecksum(sum16(b, off, len, pseudoSum) - b.dv.getUint16(off + F.CHECKSUM));
}

// ---------------------------------------------------------------------------------------------------
// The option walker: allocation-free, never throws

/** The option is not there (the list ended, at an EOL or at the end of the option space). */
export const TCP_OPTION_ABSENT = -1;
/** The walk met a malformed option (length 0/1, or past the end) before finding the one asked for. */
export const TCP_OPTION_MALFORMED = -2;

/**
 * Offset of the body (the byte after kind and length) of the first option of `kind` in b[off, off+len),
 * or TCP_OPTION_ABSENT / TCP_OPTION_MALFORMED. With `optLen` >= 0, only an option whose length byte
 * equals it counts (others of that kind are stepped over, as Linux ignores an MSS or timestamps option
 * of the wrong size). Single-byte kinds (EOL, NOP) cannot be searched for: they return ABSENT.
 *
 * The walk stops at an EOL (RFC 9293 §3.2: what follows is padding). It reads only inside both the given
 * range and the buffer, so any bytes, offsets and lengths are safe.
 */
export function findTcpOption(b: Bytes, off: number, len: number, kind: number, optLen = -1): number {
  const u = b.u8;
  if (kind === TcpOptionKind.EOL || kind === TcpOptionKind.NOP) return TCP_OPTION_ABSENT;
  let i = off > 0 ? off : 0;
  const end = Math.min(off + len, u.length);
  while (i < end) {
    const k = u[i] as number;
    if (k === TcpOptionKind.EOL) return TCP_OPTION_ABSENT;
    if (k === TcpOptionKind.NOP) { i++; continue; }
    if (i + 1 >= end) return TCP_OPTION_MALFORMED;
    const l = u[i + 1] as number;
    if (l < 2 || i + l > end) return TCP_OPTION_MALFORMED;
    if (k === kind && (optLen < 0 || l === optLen)) return i + 2;
    i += l;
  }
  return TCP_OPTION_ABSENT;
}

/** 'bad-option' when a malformed option comes before the end of the list (EOL or end of space), else null. */
export function checkTcpOptions(b: Bytes, off: number, len: number): WireError | null {
  // A kind that never appears as a multi-byte option makes the walker run the whole list.
  return findTcpOption(b, off, len, 0x100) === TCP_OPTION_MALFORMED ? 'bad-option' : null;
}

/** The MSS option's value (RFC 9293 §3.7.1), or a negative TCP_OPTION_* code. */
export function getTcpMss(b: Bytes, off: number, len: number): number {
  const at = findTcpOption(b, off, len, TcpOptionKind.MSS, 4);
  return at < 0 ? at : b.dv.getUint16(at);
}

/** The window-scale shift as sent (RFC 7323 §2.3; clamping to 14 is the receiver's job), or a negative code. */
export function getTcpWindowScale(b: Bytes, off: number, len: number): number {
  const at = findTcpOption(b, off, len, TcpOptionKind.WSCALE, 3);
  return at < 0 ? at : (b.u8[at] as number);
}

/** Whether SACK-permitted (RFC 2018 §2) is present before the list ends or breaks. */
export function hasTcpSackPermitted(b: Bytes, off: number, len: number): boolean {
  return findTcpOption(b, off, len, TcpOptionKind.SACK_PERMITTED, 2) >= 0;
}

/**
 * Offset of TSval in the timestamps option (RFC 7323 §3.2; TSecr is at +4), or a negative code. Returned
 * as an offset because TSval and TSecr use all 32 bits: read them with `b.dv.getUint32(at)`.
 */
export function findTcpTimestamps(b: Bytes, off: number, len: number): number {
  return findTcpOption(b, off, len, TcpOptionKind.TIMESTAMPS, 10);
}

// ---------------------------------------------------------------------------------------------------
// Options as records

/**
 * Decodes options from b[off, off+len) into `out`, up to and including an EOL. Returns the bytes consumed,
 * or -(consumed + 1) when a malformed option starts at off + consumed.
 */
function decodeOptions(b: Bytes, off: number, len: number, out: TcpOption[]): number {
  const u = b.u8;
  const end = off + len;
  let i = off;
  while (i < end) {
    const k = u[i] as number;
    if (k === TcpOptionKind.EOL) {
      out.push({ kind: 'eol' });
      return i + 1 - off;
    }
    if (k === TcpOptionKind.NOP) {
      out.push({ kind: 'nop' });
      i++;
      continue;
    }
    if (i + 1 >= end) return -(i - off + 1);
    const l = u[i + 1] as number;
    if (l < 2 || i + l > end) return -(i - off + 1);
    const p = i + 2;
    const n = l - 2;
    out.push(decodeOne(b, k, p, n));
    i += l;
  }
  return i - off;
}

function decodeOne(b: Bytes, k: number, p: number, n: number): TcpOption {
  const dv = b.dv;
  switch (k) {
    case TcpOptionKind.MSS:
      if (n === 2) return { kind: 'mss', value: dv.getUint16(p) };
      break;
    case TcpOptionKind.WSCALE:
      if (n === 1) return { kind: 'wscale', shift: b.u8[p] as number };
      break;
    case TcpOptionKind.SACK_PERMITTED:
      if (n === 0) return { kind: 'sack-permitted' };
      break;
    case TcpOptionKind.SACK:
      // RFC 2018 §3: length 8n + 2.
      if (n % 8 === 0) {
        const blocks: Array<[number, number]> = [];
        for (let j = p; j < p + n; j += 8) blocks.push([dv.getUint32(j), dv.getUint32(j + 4)]);
        return { kind: 'sack', blocks };
      }
      break;
    case TcpOptionKind.TIMESTAMPS:
      if (n === 8) return { kind: 'timestamps', tsVal: dv.getUint32(p), tsEcr: dv.getUint32(p + 4) };
      break;
    case TcpOptionKind.FAST_OPEN:
      // Any cookie length is kept as sent; RFC 7413 §4.1.1's 4..16 even bytes is the TFO logic's check.
      return { kind: 'fast-open', cookie: copyOut(b, p, n) };
    case TcpOptionKind.EXPERIMENTAL:
      if (n >= 2 && dv.getUint16(p) === TFO_EXPERIMENT_MAGIC) {
        return { kind: 'fast-open-exp', cookie: copyOut(b, p + 2, n - 2) };
      }
      break;
  }
  return { kind: 'unknown', type: k, data: copyOut(b, p, n) };
}

/**
 * All options in b[off, off+len), in wire order, up to and including an EOL (the bytes after it are
 * padding and are not decoded). 'bad-option' when an option before the end has a length byte of 0 or 1
 * or one reaching past `len` (the strict form; `parseTcpRepr` keeps the good prefix instead).
 */
export function parseTcpOptions(b: Bytes, off: number, len: number): TcpOption[] | WireError {
  if (off < 0 || off + len > b.u8.length) return 'truncated';
  const out: TcpOption[] = [];
  return decodeOptions(b, off, len, out) < 0 ? 'bad-option' : out;
}

/** Encoded length of an option list, without padding. */
export function tcpOptionsLen(options: readonly TcpOption[]): number {
  let n = 0;
  for (const o of options) n += optionLen(o);
  return n;
}

function optionLen(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
    case 'nop':
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
    case 'fast-open':
      return 2 + o.cookie.length;
    case 'fast-open-exp':
      return 4 + o.cookie.length;
    case 'unknown':
      return 2 + o.data.length;
    default:
      return unreachable(o);
  }
}

/** Writes the options at `off`, without padding; returns the bytes written. */
export function emitTcpOptions(options: readonly TcpOption[], b: Bytes, off: number): number {
  const u = b.u8;
  const dv = b.dv;
  let i = off;
  for (const o of options) {
    switch (o.kind) {
      case 'eol':
        u[i++] = TcpOptionKind.EOL;
        break;
      case 'nop':
        u[i++] = TcpOptionKind.NOP;
        break;
      case 'mss':
        u[i] = TcpOptionKind.MSS;
        u[i + 1] = 4;
        dv.setUint16(i + 2, o.value);
        i += 4;
        break;
      case 'wscale':
        u[i] = TcpOptionKind.WSCALE;
        u[i + 1] = 3;
        u[i + 2] = o.shift;
        i += 3;
        break;
      case 'sack-permitted':
        u[i] = TcpOptionKind.SACK_PERMITTED;
        u[i + 1] = 2;
        i += 2;
        break;
      case 'sack':
        u[i] = TcpOptionKind.SACK;
        u[i + 1] = 2 + 8 * o.blocks.length;
        i += 2;
        for (const [l, r] of o.blocks) {
          dv.setUint32(i, l >>> 0);
          dv.setUint32(i + 4, r >>> 0);
          i += 8;
        }
        break;
      case 'timestamps':
        u[i] = TcpOptionKind.TIMESTAMPS;
        u[i + 1] = 10;
        dv.setUint32(i + 2, o.tsVal >>> 0);
        dv.setUint32(i + 6, o.tsEcr >>> 0);
        i += 10;
        break;
      case 'fast-open':
        u[i] = TcpOptionKind.FAST_OPEN;
        u[i + 1] = 2 + o.cookie.length;
        u.set(o.cookie, i + 2);
        i += 2 + o.cookie.length;
        break;
      case 'fast-open-exp':
        u[i] = TcpOptionKind.EXPERIMENTAL;
        u[i + 1] = 4 + o.cookie.length;
        dv.setUint16(i + 2, TFO_EXPERIMENT_MAGIC);
        u.set(o.cookie, i + 4);
        i += 4 + o.cookie.length;
        break;
      case 'unknown':
        u[i] = o.type;
        u[i + 1] = 2 + o.data.length;
        u.set(o.data, i + 2);
        i += 2 + o.data.length;
        break;
      default:
        unreachable(o);
    }
  }
  return i - off;
}

// ---------------------------------------------------------------------------------------------------
// The record

/**
 * Decodes the whole header and copies the captured payload.
 *
 * `pseudoSum` (checksum.ts pseudoHeaderSum / pseudoHeaderSumOf, with the segment length the IP header
 * gives) lets parse tell a right checksum from a wrong one: the field is kept in `checksum` only when it
 * differs from what emitTcpRepr would compute with the same sum, so round trips are exact and a record of
 * a good segment has no checksum. (A segment whose payload the capture cut cannot be summed, so its
 * field is always kept.) Without `pseudoSum` the checksum is treated as derived (the caller verified it
 * with verifyTcpChecksum, or does not care) and not recorded.
 *
 * Never fails on a checked view: malformed options go to `malformedOptions` (see the module comment).
 */
export function parseTcpRepr(pkt: TcpPacket, pseudoSum?: number): TcpRepr | WireError {
  const b = pkt.b;
  const optOff = pkt.optionsOffset;
  const optLen = pkt.optionsLength;
  const options: TcpOption[] = [];
  const used = decodeOptions(b, optOff, optLen, options);
  const repr: TcpRepr = {
    srcPort: pkt.srcPort,
    dstPort: pkt.dstPort,
    seq: pkt.seq,
    ack: pkt.ack,
    flags: pkt.flags,
    window: pkt.window,
    urgent: pkt.urgent,
    options,
    payload: copyOut(b, pkt.payloadOffset, pkt.payloadLength),
  };
  if (used < 0) {
    const bad = -used - 1;
    repr.malformedOptions = copyOut(b, optOff + bad, optLen - bad);
  } else if (used < optLen && !isPadding(b.u8, optOff + used, optLen - used, used)) {
    repr.padding = copyOut(b, optOff + used, optLen - used);
  }
  const reserved = pkt.reserved;
  if (reserved !== 0) repr.reserved = reserved;
  if (pseudoSum !== undefined) {
    const field = pkt.checksum;
    if (field !== expectedChecksum(b, pkt.off, pkt.len, pseudoSum)) repr.checksum = field;
  }
  return repr;
}

/** Whether u[at, at+n) is exactly the zero padding emit writes after `used` option bytes. */
function isPadding(u: Uint8Array, at: number, n: number, used: number): boolean {
  if (n !== pad4(used) - used) return false;
  for (let i = at; i < at + n; i++) if (u[i] !== 0) return false;
  return true;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Header length emit writes for `repr`: 20 + options (+ kept raw bytes), padded to 4. Throws past 60. */
export function tcpReprHeaderLen(repr: TcpRepr): number {
  const raw =
    tcpOptionsLen(repr.options) + (repr.malformedOptions?.length ?? 0) + (repr.padding?.length ?? 0);
  if (raw > TCP_MAX_OPTIONS_LEN) {
    throw new RangeError(`TCP options take ${raw} bytes; the header has room for ${TCP_MAX_OPTIONS_LEN}`);
  }
  return TCP_HEADER_LEN + pad4(raw);
}

/**
 * Writes header, options and payload at `off`; returns the bytes written (header + payload).
 *
 * Options go out in the order given; when they do not end on a 4-byte boundary the tail is filled with
 * zero bytes (an EOL then zero padding, RFC 9293 §3.2, as BSD's tcp_addoptions() pads; Linux never needs
 * to, as it aligns every option with NOPs, which is the caller's choice here).
 *
 * The checksum: `repr.checksum` when set (to reproduce a captured segment); otherwise computed with
 * `pseudoSum` (which must count the same segment length); with null, left 0 for a later fillTcpChecksum
 * or for offload. Throws (programmer error) for options beyond 40 bytes or a buffer too small.
 */
export function emitTcpRepr(repr: TcpRepr, b: Bytes, off: number, pseudoSum: number | null): number {
  const hl = tcpReprHeaderLen(repr);
  const total = hl + repr.payload.length;
  if (off < 0 || off + total > b.u8.length) {
    throw new RangeError(`emitTcpRepr: ${total} bytes do not fit at ${off} in a buffer of ${b.u8.length}`);
  }
  const u = b.u8;
  const dv = b.dv;
  dv.setUint16(off + F.SRC_PORT, repr.srcPort);
  dv.setUint16(off + F.DST_PORT, repr.dstPort);
  dv.setUint32(off + F.SEQ, repr.seq >>> 0);
  dv.setUint32(off + F.ACK, repr.ack >>> 0);
  u[off + F.DATA_OFF] = ((hl / 4) << 4) | (((repr.reserved ?? 0) & 0x7) << 1) | ((repr.flags >> 8) & 1);
  u[off + F.FLAGS] = repr.flags & 0xff;
  dv.setUint16(off + F.WINDOW, repr.window);
  dv.setUint16(off + F.CHECKSUM, 0);
  dv.setUint16(off + F.URGENT, repr.urgent);
  let i = off + F.OPTIONS;
  i += emitTcpOptions(repr.options, b, i);
  if (repr.malformedOptions) {
    u.set(repr.malformedOptions, i);
    i += repr.malformedOptions.length;
  }
  if (repr.padding) {
    u.set(repr.padding, i);
    i += repr.padding.length;
  }
  u.fill(0, i, off + hl);
  u.set(repr.payload, off + hl);
  if (repr.checksum !== undefined) dv.setUint16(off + F.CHECKSUM, repr.checksum);
  else if (pseudoSum !== null) dv.setUint16(off + F.CHECKSUM, finishChecksum(sum16(b, off, total, pseudoSum)));
  return total;
}

// ---------------------------------------------------------------------------------------------------
// tcpdump-style text

// tcpdump's tcp_flag_values order and letters: F S R P . U E W e ("none" for no flag at all).
const FLAG_LETTERS: ReadonlyArray<readonly [number, string]> = [
  [TcpFlags.FIN, 'F'],
  [TcpFlags.SYN, 'S'],
  [TcpFlags.RST, 'R'],
  [TcpFlags.PSH, 'P'],
  [TcpFlags.ACK, '.'],
  [TcpFlags.URG, 'U'],
  [TcpFlags.ECE, 'E'],
  [TcpFlags.CWR, 'W'],
  [TcpFlags.AE, 'e'],
];

/** Flags as tcpdump prints them between the brackets of "Flags [S.]": `S`, `S.`, `P.`, `.`, `SEW`, `none`. */
export function formatTcpFlags(flags: number): string {
  let s = '';
  for (const [bit, letter] of FLAG_LETTERS) if (flags & bit) s += letter;
  return s === '' ? 'none' : s;
}

// Names tcpdump gives kinds that this codec keeps raw.
const OPTION_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'eol'], [1, 'nop'], [2, 'mss'], [3, 'wscale'], [4, 'sackOK'], [5, 'sack'], [6, 'echo'],
  [7, 'echoreply'], [8, 'TS'], [11, 'cc'], [12, 'ccnew'], [19, 'md5'], [20, 'scps'], [28, 'uto'],
  [29, 'tcp-ao'], [30, 'mptcp'], [34, 'tfo'], [254, 'exp'],
]);

// Kinds decoded into their own TcpOption form: as 'unknown' they can only have a length that lies.
const FIXED_FORM_KINDS: ReadonlySet<number> = new Set([2, 3, 4, 5, 8]);

/**
 * Options as tcpdump prints them between "options [" and "]", with absolute sequence numbers in SACK
 * blocks (tcpdump -S): `mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7`, `sack 1 {l:r}`, `tfo cookiereq`,
 * `exp-tfo cookie 261fb060cecab690`, `unknown-99 0x0102`.
 */
export function formatTcpOptions(options: readonly TcpOption[]): string {
  return options.map(formatOption).join(',');
}

function formatOption(o: TcpOption): string {
  switch (o.kind) {
    case 'eol':
      return 'eol';
    case 'nop':
      return 'nop';
    case 'mss':
      return `mss ${o.value}`;
    case 'wscale':
      return `wscale ${o.shift}`;
    case 'sack-permitted':
      return 'sackOK';
    case 'sack':
      return `sack ${o.blocks.length} ${o.blocks.map(([l, r]) => `{${l}:${r}}`).join('')}`;
    case 'timestamps':
      return `TS val ${o.tsVal} ecr ${o.tsEcr}`;
    case 'fast-open':
      return `tfo${formatCookie(o.cookie)}`;
    case 'fast-open-exp':
      return `exp-tfo${formatCookie(o.cookie)}`;
    case 'unknown': {
      // Kind 254 under another ExID: tcpdump names the ExID (RFC 6994) and nothing else.
      if (o.type === TcpOptionKind.EXPERIMENTAL && o.data.length >= 2) {
        return `exp-${hex(o.data.subarray(0, 2))}`;
      }
      let s = OPTION_NAMES.get(o.type) ?? `unknown-${o.type}`;
      if (o.data.length > 0) s += ` 0x${hex(o.data)}`;
      // A kind we decode only lands here with a length byte that does not fit it; tcpdump flags that so.
      if (FIXED_FORM_KINDS.has(o.type)) s += `[len ${o.data.length + 2}]`;
      return s;
    }
    default:
      return unreachable(o);
  }
}

function formatCookie(cookie: Uint8Array): string {
  if (cookie.length === 0) return ' cookiereq';
  // RFC 7413 §4.1.1: 4 to 16 bytes, an even number.
  if (cookie.length % 2 !== 0 || cookie.length < 4 || cookie.length > 16) return ' (invalid)';
  return ` cookie ${hex(cookie)}`;
}

function unreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
