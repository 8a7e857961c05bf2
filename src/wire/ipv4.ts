/**
 * IPv4 header and options (RFC 791 §3.1; DSCP from RFC 2474, ECN from RFC 3168, the reserved flag bit
 * from RFC 791 "must be zero").
 *
 * Two levels:
 * - `Ipv4Packet`, a checked view: field getters/setters over the caller's bytes, no copies;
 * - `Ipv4Repr`, a record with every field and option decoded; `emitIpv4Repr(parseIpv4Repr(p))` gives
 *   back the exact header bytes (padding after an EOL, a lying total length and a wrong checksum
 *   included).
 *
 * Lengths as captures show them. The view tells three lengths apart and lets the caller decide:
 * - the header's claim: `totalLength` and `payloadLength` (total length − header length);
 * - what was captured: `capturedPayloadLength`, never more than the claim (Ethernet padding after the
 *   datagram is not payload), and less when the snap length cut the frame (`truncated`);
 * - a total length of 0: what a capture taken on a host with TCP segmentation offload shows for the
 *   super-packets the stack hands the NIC (Wireshark prints "0 (likely TSO)"). The view accepts it and
 *   takes the captured bytes as the payload; any other total length below the header length is
 *   'bad-length'. Offloaded super-packets with a non-zero total length simply claim more than a wire
 *   frame could carry, which the view allows as it allows any claim up to 65535.
 */
import { formatIpv4, writeIpv4 } from './address.js';
import type { Ipv4Address } from './address.js';
import type { Bytes } from './bytes.js';
import { copyOut } from './bytes.js';
import { checksumOk, finishChecksum, pseudoHeaderSum, sum16 } from './checksum.js';
import type { WireError } from './errors.js';

/*
 * RFC 791 §3.1, with the TOS byte split as RFC 2474 and RFC 3168 do:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version|  IHL  |   DSCP    |ECN|          Total Length         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |         Identification        |R|D|M|      Fragment Offset    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Time to Live |    Protocol   |         Header Checksum       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       Source Address                          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Destination Address                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Options                    |    Padding    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * R: reserved, must be zero; D: Don't Fragment; M: More Fragments. The fragment offset counts 8-byte
 * units; the view and the record give it in bytes.
 */
const F = {
  VER_IHL: 0,
  TOS: 1,
  TOTAL_LEN: 2,
  IDENT: 4,
  FLAGS_FRAG: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC: 12,
  DST: 16,
  OPTIONS: 20,
} as const;

const FLAG_RESERVED = 0x8000;
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const FRAG_OFFSET_MASK = 0x1fff;

/** Header length without options (IHL 5). */
export const IPV4_HEADER_LEN = 20;
/** Where the source address starts in the header (the destination follows it). */
export const IPV4_ADDRESS_OFFSET = F.SRC;
/** IHL is 4 bits: at most 60 header bytes, so at most 40 of options. */
export const IPV4_MAX_OPTIONS_LEN = 40;
/** The largest fragment offset the 13-bit field can carry, in bytes. */
export const IPV4_MAX_FRAGMENT_OFFSET = FRAG_OFFSET_MASK * 8;

/** Option types (IANA "IP Option Numbers"): copy flag, class and number in one byte. */
export const Ipv4OptionType = {
  /** End of Option List: the rest of the header is padding. */
  EOL: 0,
  NOP: 1,
  /** Record Route (RFC 791). */
  RR: 7,
  /** Quick-Start (RFC 4782). */
  QS: 25,
  /** Internet Timestamp (RFC 791). */
  TS: 68,
  /** Traceroute (RFC 1393). */
  TR: 82,
  /** Basic Security (RFC 1108). */
  SEC: 130,
  /** Loose Source and Record Route (RFC 791). */
  LSRR: 131,
  /** Commercial IP Security Option (CIPSO). */
  CIPSO: 134,
  /** Stream ID (RFC 791, obsolete). */
  SID: 136,
  /** Strict Source and Record Route (RFC 791). */
  SSRR: 137,
  /** Router Alert (RFC 2113). */
  RA: 148,
} as const;

/**
 * One option as it sits on the wire. `data` excludes the type and length bytes. Anything but EOL and NOP
 * is kept raw: the codec never needs the meaning of Record Route or Timestamp, only their bytes.
 */
export type Ipv4Option =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'option'; type: number; data: Uint8Array };

export interface Ipv4Repr {
  /** Differentiated Services code point (RFC 2474), the high 6 bits of the old TOS byte. */
  dscp: number;
  /** ECN codepoint (RFC 3168), the low 2 bits. */
  ecn: number;
  identification: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in BYTES (the 13-bit field × 8): a multiple of 8, at most 65528. */
  fragmentOffset: number;
  ttl: number;
  /** IpProtocol value; unknown values are kept. */
  protocol: number;
  src: Ipv4Address;
  dst: Ipv4Address;
  /**
   * In wire order, NOPs and the EOL included; nothing after the EOL (that is padding). When the options
   * do not fill a multiple of 4 bytes, emit pads with zero bytes, which read back as an EOL.
   */
  options: Ipv4Option[];
  /**
   * Bytes after the header that the datagram carries: total length − header length (the claim, which a
   * truncated capture holds less of). With a total length of 0 (TSO), the bytes captured after the header.
   */
  payloadLength: number;

  // Fidelity fields: parse sets them only when the bytes differ from what emit computes by itself.
  /** The reserved flag bit, when set. */
  reservedFlag?: boolean;
  /**
   * The bytes after an EOL, when they are not the zeros emit pads with (non-zero bytes, or an IHL that
   * reserves more than the next 4-byte boundary).
   */
  padding?: Uint8Array;
  /** The total length field when it is not header length + payloadLength (0 from TSO). */
  totalLength?: number;
  /** The checksum field when it is not the one emit would compute (a corrupted or mangled header). */
  checksum?: number;
}

// ---------------------------------------------------------------------------------------------------
// The view

/** A checked view of an IPv4 header at `off`, with `len` bytes available (header + captured payload). */
export class Ipv4Packet {
  private constructor(
    readonly b: Bytes,
    readonly off: number,
    readonly len: number,
  ) {}

  /**
   * Validates once: 20 bytes present ('truncated'), version 4 ('bad-version'), an IHL of at least 5 whose
   * header fits in the bytes ('bad-header-length'), and a total length that covers the header
   * ('bad-length'; 0 is accepted, see the file comment). A total length beyond the bytes is not an error:
   * `truncated` tells it.
   */
  static check(b: Bytes, off: number, len: number): Ipv4Packet | WireError {
    if (len < IPV4_HEADER_LEN || off < 0 || off + len > b.u8.length) return 'truncated';
    const vi = b.u8[off + F.VER_IHL] as number;
    if (vi >> 4 !== 4) return 'bad-version';
    const hl = (vi & 0xf) * 4;
    if (hl < IPV4_HEADER_LEN || hl > len) return 'bad-header-length';
    const total = b.dv.getUint16(off + F.TOTAL_LEN);
    if (total !== 0 && total < hl) return 'bad-length';
    return new Ipv4Packet(b, off, len);
  }

  /** A view with no checks, for emitting into a buffer the caller sized. */
  static unchecked(b: Bytes, off: number, len: number): Ipv4Packet {
    return new Ipv4Packet(b, off, len);
  }

  get version(): number { return (this.b.u8[this.off + F.VER_IHL] as number) >> 4; }
  set version(v: number) {
    const i = this.off + F.VER_IHL;
    this.b.u8[i] = ((v & 0xf) << 4) | ((this.b.u8[i] as number) & 0x0f);
  }
  /** Header length in 32-bit words. */
  get ihl(): number { return (this.b.u8[this.off + F.VER_IHL] as number) & 0xf; }
  set ihl(words: number) {
    const i = this.off + F.VER_IHL;
    this.b.u8[i] = ((this.b.u8[i] as number) & 0xf0) | (words & 0xf);
  }
  /** Header length in bytes, options included. */
  get headerLength(): number { return this.ihl * 4; }
  /** The whole second byte (DSCP and ECN). */
  get tos(): number { return this.b.u8[this.off + F.TOS] as number; }
  set tos(v: number) { this.b.u8[this.off + F.TOS] = v; }
  get dscp(): number { return this.tos >> 2; }
  set dscp(v: number) { this.tos = ((v & 0x3f) << 2) | (this.tos & 3); }
  get ecn(): number { return this.tos & 3; }
  set ecn(v: number) { this.tos = (this.tos & 0xfc) | (v & 3); }
  get totalLength(): number { return this.b.dv.getUint16(this.off + F.TOTAL_LEN); }
  set totalLength(v: number) { this.b.dv.setUint16(this.off + F.TOTAL_LEN, v); }
  get identification(): number { return this.b.dv.getUint16(this.off + F.IDENT); }
  set identification(v: number) { this.b.dv.setUint16(this.off + F.IDENT, v); }
  get reservedFlag(): boolean { return (this.b.dv.getUint16(this.off + F.FLAGS_FRAG) & FLAG_RESERVED) !== 0; }
  set reservedFlag(v: boolean) { this.setFlag(FLAG_RESERVED, v); }
  get dontFragment(): boolean { return (this.b.dv.getUint16(this.off + F.FLAGS_FRAG) & FLAG_DF) !== 0; }
  set dontFragment(v: boolean) { this.setFlag(FLAG_DF, v); }
  get moreFragments(): boolean { return (this.b.dv.getUint16(this.off + F.FLAGS_FRAG) & FLAG_MF) !== 0; }
  set moreFragments(v: boolean) { this.setFlag(FLAG_MF, v); }
  /** Fragment offset in bytes (the field × 8). */
  get fragmentOffset(): number { return (this.b.dv.getUint16(this.off + F.FLAGS_FRAG) & FRAG_OFFSET_MASK) * 8; }
  set fragmentOffset(bytes: number) {
    const i = this.off + F.FLAGS_FRAG;
    this.b.dv.setUint16(i, (this.b.dv.getUint16(i) & ~FRAG_OFFSET_MASK & 0xffff) | fragmentField(bytes));
  }
  /** Part of a fragmented datagram: More Fragments set, or a non-zero offset (RFC 791 §3.2). */
  get isFragment(): boolean { return (this.b.dv.getUint16(this.off + F.FLAGS_FRAG) & (FLAG_MF | FRAG_OFFSET_MASK)) !== 0; }
  get ttl(): number { return this.b.u8[this.off + F.TTL] as number; }
  set ttl(v: number) { this.b.u8[this.off + F.TTL] = v; }
  get protocol(): number { return this.b.u8[this.off + F.PROTOCOL] as number; }
  set protocol(v: number) { this.b.u8[this.off + F.PROTOCOL] = v; }
  get checksum(): number { return this.b.dv.getUint16(this.off + F.CHECKSUM); }
  set checksum(v: number) { this.b.dv.setUint16(this.off + F.CHECKSUM, v); }
  /** Source address as a u32, for hot paths (no string). */
  get srcU32(): number { return this.b.dv.getUint32(this.off + F.SRC); }
  get dstU32(): number { return this.b.dv.getUint32(this.off + F.DST); }
  get src(): Ipv4Address { return formatIpv4(this.b, this.off + F.SRC); }
  get dst(): Ipv4Address { return formatIpv4(this.b, this.off + F.DST); }
  setSrc(addr: Ipv4Address): void { writeIpv4(addr, this.b, this.off + F.SRC); }
  setDst(addr: Ipv4Address): void { writeIpv4(addr, this.b, this.off + F.DST); }
  /** Absolute offset of the source address (the destination follows it), for pseudo-header sums. */
  get addressOffset(): number { return this.off + F.SRC; }

  get optionsOffset(): number { return this.off + F.OPTIONS; }
  get optionsLength(): number { return this.headerLength - IPV4_HEADER_LEN; }
  get payloadOffset(): number { return this.off + this.headerLength; }
  /**
   * Payload bytes the header claims (total length − header length); with a total length of 0 (TSO), the
   * bytes captured after the header.
   */
  get payloadLength(): number {
    const total = this.totalLength;
    return total === 0 ? this.len - this.headerLength : total - this.headerLength;
  }
  /** Payload bytes present: the claim, or less when the capture was cut short. */
  get capturedPayloadLength(): number { return Math.min(this.payloadLength, this.len - this.headerLength); }
  /** The capture holds fewer payload bytes than the header claims (snap length, or a short read). */
  get truncated(): boolean { return this.payloadLength > this.len - this.headerLength; }

  /** True when the header checksum verifies (RFC 791 §3.1: over the header only). */
  verifyChecksum(): boolean { return checksumOk(sum16(this.b, this.off, this.headerLength)); }
  /** Computes and writes the header checksum. */
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = finishChecksum(sum16(this.b, this.off, this.headerLength));
  }
  /** The TCP/UDP pseudo-header partial sum (RFC 9293 §3.1) for an upper-layer length, by default the payload's. */
  pseudoHeaderSum(l4len: number = this.payloadLength): number {
    return pseudoHeaderSum(this.b, this.off + F.SRC, 4, this.protocol, l4len);
  }

  private setFlag(bit: number, on: boolean): void {
    const i = this.off + F.FLAGS_FRAG;
    const v = this.b.dv.getUint16(i);
    this.b.dv.setUint16(i, on ? v | bit : v & ~bit & 0xffff);
  }
}

function fragmentField(bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < 0 || bytes % 8 !== 0 || bytes > IPV4_MAX_FRAGMENT_OFFSET) {
    throw new RangeError(`IPv4 fragment offset must be a multiple of 8 in 0..${IPV4_MAX_FRAGMENT_OFFSET}: ${bytes}`);
  }
  return bytes / 8;
}

// ---------------------------------------------------------------------------------------------------
// Options

/**
 * The options in b[off, off+len) (the option area of a header) and the bytes after an EOL. 'bad-option'
 * for a type other than EOL/NOP without room for its length byte, a length below 2, or a length running
 * past the header: Linux's ip_options_compile() rejects the packet in each case.
 */
export function parseIpv4Options(b: Bytes, off: number, len: number): { options: Ipv4Option[]; padding?: Uint8Array } | WireError {
  const u = b.u8;
  const end = off + len;
  const options: Ipv4Option[] = [];
  for (let i = off; i < end; ) {
    const type = u[i] as number;
    if (type === Ipv4OptionType.EOL) {
      options.push({ kind: 'eol' });
      const after = i + 1;
      // RFC 791 on End of Option List: "This is used at the end of all options, not the end of each
      // option, and need only be used if the end of the options would not otherwise coincide with the
      // end of the internet header." What follows is padding: keep it unless it is what emit writes.
      const wouldPad = (4 - ((after - off) % 4)) % 4;
      let zeros = true;
      for (let j = after; j < end; j++) if (u[j] !== 0) { zeros = false; break; }
      if (!zeros || end - after !== wouldPad) return { options, padding: copyOut(b, after, end - after) };
      return { options };
    }
    if (type === Ipv4OptionType.NOP) {
      options.push({ kind: 'nop' });
      i++;
      continue;
    }
    if (i + 1 >= end) return 'bad-option';
    const optLen = u[i + 1] as number;
    if (optLen < 2 || i + optLen > end) return 'bad-option';
    options.push({ kind: 'option', type, data: copyOut(b, i + 2, optLen - 2) });
    i += optLen;
  }
  return { options };
}

function optionLen(o: Ipv4Option): number {
  return o.kind === 'option' ? 2 + o.data.length : 1;
}

/** Bytes the option area takes: the options, then `padding` or zeros up to a multiple of 4. */
export function ipv4OptionsLen(options: readonly Ipv4Option[], padding?: Uint8Array): number {
  let n = 0;
  for (const o of options) n += optionLen(o);
  return padding !== undefined ? n + padding.length : n + ((4 - (n % 4)) % 4);
}

/** Writes the option area at `off`; returns its length. Throws for an option that cannot be encoded. */
export function emitIpv4Options(options: readonly Ipv4Option[], b: Bytes, off: number, padding?: Uint8Array): number {
  const u = b.u8;
  let i = off;
  for (const o of options) {
    switch (o.kind) {
      case 'eol':
        u[i++] = Ipv4OptionType.EOL;
        break;
      case 'nop':
        u[i++] = Ipv4OptionType.NOP;
        break;
      case 'option':
        if (o.data.length > 253) throw new RangeError(`IPv4 option ${o.type} too long: ${o.data.length} data bytes`);
        u[i] = o.type;
        u[i + 1] = 2 + o.data.length;
        u.set(o.data, i + 2);
        i += 2 + o.data.length;
        break;
      default: {
        const never: never = o;
        throw new Error(`unknown IPv4 option ${JSON.stringify(never)}`);
      }
    }
  }
  if (padding !== undefined) {
    u.set(padding, i);
    i += padding.length;
  } else {
    while ((i - off) % 4 !== 0) u[i++] = 0;
  }
  return i - off;
}

// ---------------------------------------------------------------------------------------------------
// The record

export function parseIpv4Repr(pkt: Ipv4Packet): Ipv4Repr | WireError {
  const parsed = parseIpv4Options(pkt.b, pkt.optionsOffset, pkt.optionsLength);
  if (typeof parsed === 'string') return parsed;
  const hl = pkt.headerLength;
  const repr: Ipv4Repr = {
    dscp: pkt.dscp,
    ecn: pkt.ecn,
    identification: pkt.identification,
    dontFragment: pkt.dontFragment,
    moreFragments: pkt.moreFragments,
    fragmentOffset: pkt.fragmentOffset,
    ttl: pkt.ttl,
    protocol: pkt.protocol,
    src: pkt.src,
    dst: pkt.dst,
    options: parsed.options,
    payloadLength: pkt.payloadLength,
  };
  if (pkt.reservedFlag) repr.reservedFlag = true;
  if (parsed.padding !== undefined) repr.padding = parsed.padding;
  if (pkt.totalLength !== hl + repr.payloadLength) repr.totalLength = pkt.totalLength;
  // The field is one aligned word of the unfolded sum, so subtracting it gives the sum emit would start from.
  const expected = finishChecksum(sum16(pkt.b, pkt.off, hl) - pkt.checksum);
  if (pkt.checksum !== expected) repr.checksum = pkt.checksum;
  return repr;
}

/** Header bytes emit writes for `repr` (20 + options + padding). */
export function ipv4ReprHeaderLen(repr: Ipv4Repr): number {
  return IPV4_HEADER_LEN + ipv4OptionsLen(repr.options, repr.padding);
}

/**
 * Writes the header at `off` (the payload is the caller's) and returns its length. Total length and
 * checksum are computed unless the record carries them. Throws RangeError for a record that cannot be
 * encoded (options over 40 bytes, a total length over 65535, a fragment offset not a multiple of 8).
 */
export function emitIpv4Repr(repr: Ipv4Repr, b: Bytes, off: number): number {
  const optLen = ipv4OptionsLen(repr.options, repr.padding);
  if (optLen > IPV4_MAX_OPTIONS_LEN || optLen % 4 !== 0) {
    throw new RangeError(`IPv4 options must take a multiple of 4 bytes up to ${IPV4_MAX_OPTIONS_LEN}: ${optLen}`);
  }
  const hl = IPV4_HEADER_LEN + optLen;
  const total = repr.totalLength ?? hl + repr.payloadLength;
  if (!Number.isInteger(total) || total < 0 || total > 0xffff) throw new RangeError(`IPv4 total length out of range: ${total}`);
  const pkt = Ipv4Packet.unchecked(b, off, hl);
  b.u8[off + F.VER_IHL] = 0x40 | (hl / 4);
  b.u8[off + F.TOS] = ((repr.dscp & 0x3f) << 2) | (repr.ecn & 3);
  pkt.totalLength = total;
  pkt.identification = repr.identification;
  b.dv.setUint16(
    off + F.FLAGS_FRAG,
    (repr.reservedFlag ? FLAG_RESERVED : 0) |
      (repr.dontFragment ? FLAG_DF : 0) |
      (repr.moreFragments ? FLAG_MF : 0) |
      fragmentField(repr.fragmentOffset),
  );
  pkt.ttl = repr.ttl;
  pkt.protocol = repr.protocol;
  pkt.checksum = 0;
  pkt.setSrc(repr.src);
  pkt.setDst(repr.dst);
  emitIpv4Options(repr.options, b, off + F.OPTIONS, repr.padding);
  if (repr.checksum !== undefined) pkt.checksum = repr.checksum;
  else pkt.fillChecksum();
  return hl;
}
