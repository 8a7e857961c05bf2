/**
 * IPv6 fixed header (RFC 8200 §3) and extension header chain (RFC 8200 §4; AH from RFC 4302; Jumbo
 * Payload from RFC 2675).
 *
 * Three levels, from cheapest to richest:
 * - `Ipv6Packet`, a checked view of the 40-byte fixed header: getters/setters, no copies;
 * - `walkIpv6Headers`, the allocation-free walker for hot paths: it steps over Hop-by-Hop, Routing,
 *   Fragment, AH and Destination Options headers (the ones Linux's ipv6_ext_hdr() names) and writes the
 *   upper-layer protocol and offset into a result object the caller reuses;
 * - `Ipv6Repr`, a record with every extension header kept in order (options of Hop-by-Hop and
 *   Destination Options decoded as TLVs, everything else raw enough to re-emit the exact bytes).
 *
 * Where a walk stops: at the first Next Header that is not one of the five above (an upper layer, ESP,
 * No Next Header 59, Mobility, anything unknown: what follows is opaque), and right after a Fragment
 * header whose offset is not 0 (the bytes after it are the middle of the fragmentable part, not a header).
 * A first fragment (offset 0) is walked on: RFC 8200 §4.5 (and RFC 7112) require it to hold the whole
 * header chain, so a chain running past it is an error.
 *
 * Payload length 0: with Next Header 59 it is a packet with nothing after the fixed header. With a
 * Hop-by-Hop header holding a Jumbo Payload option (RFC 2675) it is a jumbogram, and the option's value
 * becomes the payload length (codecs handle it; reassembly refuses jumbograms). Anything else with payload
 * length 0 is 'bad-length': no header fits in zero bytes. (TSO super-packets from Linux BIG TCP senders
 * can show this; they are not decodable as IPv6.)
 */
import { formatIpv6, writeIpv6 } from './address.js';
import type { Ipv6Address } from './address.js';
import type { Bytes } from './bytes.js';
import { copyOut } from './bytes.js';
import { pseudoHeaderSum } from './checksum.js';
import type { WireError } from './errors.js';
import { IpProtocol, isWalkedIpv6ExtensionHeader } from './ipproto.js';

/*
 * RFC 8200 §3:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version| Traffic Class |           Flow Label                  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |         Payload Length        |  Next Header  |   Hop Limit   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                                                               |
 *   +                                                               +
 *   |                                                               |
 *   +                         Source Address                        +
 *   |                                                               |
 *   +                                                               +
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                                                               |
 *   +                                                               +
 *   |                                                               |
 *   +                      Destination Address                      +
 *   |                                                               |
 *   +                                                               +
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
const F = {
  VER_TC_FLOW: 0,
  PAYLOAD_LEN: 4,
  NEXT_HEADER: 6,
  HOP_LIMIT: 7,
  SRC: 8,
  DST: 24,
} as const;

/*
 * Extension headers (RFC 8200 §4.3-4.6, RFC 4302 §2). Every one starts with Next Header; then:
 *
 *   Hop-by-Hop / Destination Options      Routing
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Next Header  |  Hdr Ext Len  |     |  Next Header  |  Hdr Ext Len  |  Routing Type | Segments Left |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Options (TLVs) ...                 |  type-specific data ...
 *   length (Hdr Ext Len + 1) × 8          length (Hdr Ext Len + 1) × 8
 *
 *   Fragment (8 bytes)
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                         Identification                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   Authentication Header, length (Payload Len + 2) × 4
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Next Header  |  Payload Len  |           Reserved            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 Security Parameters Index (SPI)               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Sequence Number Field                      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                Integrity Check Value-ICV (variable)           |
 */
const X = {
  NEXT_HEADER: 0,
  LEN: 1,
  ROUTING_TYPE: 2,
  SEGMENTS_LEFT: 3,
  FRAG_RESERVED: 1,
  FRAG_OFFSET_FLAGS: 2,
  FRAG_IDENT: 4,
  AH_RESERVED: 2,
  AH_SPI: 4,
  AH_SEQ: 8,
  AH_ICV: 12,
} as const;

export const IPV6_HEADER_LEN = 40;
export const IPV6_FRAGMENT_HEADER_LEN = 8;
/** Fixed part of the Authentication Header (RFC 4302 §2): before the ICV. */
export const IPV6_AH_FIXED_LEN = 12;
/** Default cap on extension headers one walk steps over; past it the walk answers 'bad-field'. */
export const IPV6_MAX_EXT_HEADERS = 16;

/** Option types inside Hop-by-Hop and Destination Options headers (IANA "Destination Options and Hop-by-Hop Options"). */
export const Ipv6OptionType = {
  PAD1: 0x00,
  PADN: 0x01,
  /** Router Alert (RFC 2711): MLD reports carry it. */
  ROUTER_ALERT: 0x05,
  CALIPSO: 0x07,
  /** Jumbo Payload (RFC 2675): 4-byte length, Hop-by-Hop only. */
  JUMBO: 0xc2,
  /** Home Address (RFC 6275), Destination Options only. */
  HOME_ADDRESS: 0xc9,
  /** Experimental (RFC 4727). */
  EXPERIMENTAL_1E: 0x1e,
} as const;

/** One TLV of a Hop-by-Hop or Destination Options header. `data` excludes the type and length bytes. */
export type Ipv6Option =
  | { kind: 'pad1' }
  | { kind: 'padn'; data: Uint8Array }
  | { kind: 'option'; type: number; data: Uint8Array };

/**
 * One extension header, in chain order. The Next Header fields are not stored: each is the type of the
 * header after it, and the last one is `Ipv6Repr.protocol`.
 */
export type Ipv6ExtHeader =
  | { kind: 'hop-by-hop'; options: Ipv6Option[] }
  | { kind: 'destination'; options: Ipv6Option[] }
  /** `data` is everything after the 4 fixed bytes (addresses of a type 0/2/4 header, SRH fields, ...). */
  | { kind: 'routing'; routingType: number; segmentsLeft: number; data: Uint8Array }
  | {
      kind: 'fragment';
      /** In bytes (the 13-bit field × 8). */
      offset: number;
      moreFragments: boolean;
      identification: number;
      /** The reserved byte, when not zero. */
      reserved?: number;
      /** The 2 reserved bits before M, when not zero. */
      reservedBits?: number;
    }
  | { kind: 'auth'; spi: number; sequence: number; icv: Uint8Array; reserved?: number };

export interface Ipv6Repr {
  trafficClass: number;
  flowLabel: number;
  hopLimit: number;
  src: Ipv6Address;
  dst: Ipv6Address;
  extensions: Ipv6ExtHeader[];
  /**
   * Where the walk stopped: the upper-layer protocol, or ESP, No Next Header, an unknown value, or (after
   * a non-first fragment) the Fragment header's Next Header.
   */
  protocol: number;
  /**
   * Bytes after the fixed header, extension headers included: the Payload Length field, or a Jumbo
   * Payload option's value (emit then writes 0 in the field; the Hop-by-Hop header must carry the option).
   */
  payloadLength: number;
}

/** Reusable result of `walkIpv6Headers`; make one with `newIpv6Chain()` and pass it to every walk. */
export interface Ipv6Chain {
  /** The Next Header value that ended the walk (see the file comment). */
  protocol: number;
  /** Absolute offset where that protocol's bytes begin. */
  offset: number;
  /** Bytes from `offset` to the end of the payload the header claims. */
  length: number;
  /** Bytes from `offset` that were captured (at most `length`). */
  capturedLength: number;
  /** Absolute offset of the Fragment header, or -1 without one. */
  fragmentHeader: number;
  /** Extension headers stepped over. */
  headers: number;
}

export function newIpv6Chain(): Ipv6Chain {
  return { protocol: 0, offset: 0, length: 0, capturedLength: 0, fragmentHeader: -1, headers: 0 };
}

// ---------------------------------------------------------------------------------------------------
// The view

/** A checked view of an IPv6 header at `off`, with `len` bytes available (header + captured payload). */
export class Ipv6Packet {
  private constructor(
    readonly b: Bytes,
    readonly off: number,
    readonly len: number,
    /** The Jumbo Payload length found by check(), or 0. */
    private readonly jumbo: number,
  ) {}

  /**
   * Validates once: 40 bytes present ('truncated'), version 6 ('bad-version'), and a payload length that
   * can be right (see the file comment for 0: 'bad-length' unless Next Header 59 or a jumbogram; a
   * jumbogram whose Hop-by-Hop header was not captured is 'truncated'). A payload length beyond the bytes
   * is not an error: `truncated` tells it. Extension headers are checked by the walker, not here.
   */
  static check(b: Bytes, off: number, len: number): Ipv6Packet | WireError {
    if (len < IPV6_HEADER_LEN || off < 0 || off + len > b.u8.length) return 'truncated';
    if ((b.u8[off] as number) >> 4 !== 6) return 'bad-version';
    if (b.dv.getUint16(off + F.PAYLOAD_LEN) !== 0) return new Ipv6Packet(b, off, len, 0);
    const nh = b.u8[off + F.NEXT_HEADER] as number;
    if (nh === IpProtocol.IPV6_NONXT) return new Ipv6Packet(b, off, len, 0);
    if (nh !== IpProtocol.HOPOPT) return 'bad-length';
    const jumbo = findJumbo(b, off + IPV6_HEADER_LEN, off + len);
    if (typeof jumbo === 'string') return jumbo;
    return new Ipv6Packet(b, off, len, jumbo);
  }

  /** A view with no checks, for emitting into a buffer the caller sized (no jumbogram support). */
  static unchecked(b: Bytes, off: number, len: number): Ipv6Packet {
    return new Ipv6Packet(b, off, len, 0);
  }

  get version(): number { return (this.b.u8[this.off] as number) >> 4; }
  set version(v: number) {
    const i = this.off + F.VER_TC_FLOW;
    this.b.u8[i] = ((v & 0xf) << 4) | ((this.b.u8[i] as number) & 0x0f);
  }
  get trafficClass(): number { return (this.b.dv.getUint16(this.off + F.VER_TC_FLOW) >> 4) & 0xff; }
  set trafficClass(v: number) {
    const i = this.off + F.VER_TC_FLOW;
    this.b.dv.setUint16(i, (this.b.dv.getUint16(i) & 0xf00f) | ((v & 0xff) << 4));
  }
  /** DSCP (RFC 2474): the high 6 bits of the traffic class. */
  get dscp(): number { return this.trafficClass >> 2; }
  /** ECN (RFC 3168): the low 2 bits of the traffic class. */
  get ecn(): number { return this.trafficClass & 3; }
  get flowLabel(): number { return this.b.dv.getUint32(this.off + F.VER_TC_FLOW) & 0xfffff; }
  set flowLabel(v: number) {
    const i = this.off + F.VER_TC_FLOW;
    this.b.dv.setUint32(i, ((this.b.dv.getUint32(i) & 0xfff00000) | (v & 0xfffff)) >>> 0);
  }
  /** The Payload Length field as written (0 for a jumbogram). */
  get payloadLengthField(): number { return this.b.dv.getUint16(this.off + F.PAYLOAD_LEN); }
  set payloadLengthField(v: number) { this.b.dv.setUint16(this.off + F.PAYLOAD_LEN, v); }
  get nextHeader(): number { return this.b.u8[this.off + F.NEXT_HEADER] as number; }
  set nextHeader(v: number) { this.b.u8[this.off + F.NEXT_HEADER] = v; }
  get hopLimit(): number { return this.b.u8[this.off + F.HOP_LIMIT] as number; }
  set hopLimit(v: number) { this.b.u8[this.off + F.HOP_LIMIT] = v; }
  get src(): Ipv6Address { return formatIpv6(this.b, this.off + F.SRC); }
  get dst(): Ipv6Address { return formatIpv6(this.b, this.off + F.DST); }
  setSrc(addr: Ipv6Address): void { writeIpv6(addr, this.b, this.off + F.SRC); }
  setDst(addr: Ipv6Address): void { writeIpv6(addr, this.b, this.off + F.DST); }
  /** Absolute offset of the source address (16 bytes; the destination follows), for keys and sums. */
  get addressOffset(): number { return this.off + F.SRC; }

  get isJumbogram(): boolean { return this.jumbo !== 0; }
  get payloadOffset(): number { return this.off + IPV6_HEADER_LEN; }
  /** Bytes after the fixed header that the header claims (Payload Length, or the Jumbo Payload length). */
  get payloadLength(): number { return this.jumbo !== 0 ? this.jumbo : this.payloadLengthField; }
  /** Payload bytes present: the claim, or less when the capture was cut short. */
  get capturedPayloadLength(): number { return Math.min(this.payloadLength, this.len - IPV6_HEADER_LEN); }
  /** The capture holds fewer payload bytes than the header claims. */
  get truncated(): boolean { return this.payloadLength > this.len - IPV6_HEADER_LEN; }

  /**
   * Pseudo-header partial sum (RFC 8200 §8.1) from the addresses in this header. With a Routing header
   * the sender sums the FINAL destination (the last segment), which the caller must supply instead.
   */
  pseudoHeaderSum(protocol: number, l4len: number): number {
    return pseudoHeaderSum(this.b, this.off + F.SRC, 16, protocol, l4len);
  }
}

/**
 * The Jumbo Payload length in the Hop-by-Hop header at `at` (bytes end at `capEnd`), or the reason a
 * payload length of 0 is wrong: no such option ('bad-length'), one that is malformed or not above 65535
 * ('bad-length', RFC 2675 §3), or a header not captured far enough to tell ('truncated').
 */
function findJumbo(b: Bytes, at: number, capEnd: number): number | WireError {
  const u = b.u8;
  if (at + 2 > capEnd) return 'truncated';
  const end = at + ((u[at + X.LEN] as number) + 1) * 8;
  for (let i = at + 2; i < end; ) {
    if (i >= capEnd) return 'truncated';
    const t = u[i] as number;
    if (t === Ipv6OptionType.PAD1) { i++; continue; }
    if (i + 2 > end) return 'bad-length';
    if (i + 2 > capEnd) return 'truncated';
    const l = u[i + 1] as number;
    if (t === Ipv6OptionType.JUMBO) {
      if (l !== 4 || i + 6 > end) return 'bad-length';
      if (i + 6 > capEnd) return 'truncated';
      const v = b.dv.getUint32(i + 2);
      return v > 0xffff ? v : 'bad-length';
    }
    i += 2 + l;
  }
  return 'bad-length';
}

// ---------------------------------------------------------------------------------------------------
// The walker

/** Length of the extension header of type `nh` at `p` (its length byte must be readable). */
function extHeaderLength(nh: number, u: Uint8Array, p: number): number {
  if (nh === IpProtocol.IPV6_FRAG) return IPV6_FRAGMENT_HEADER_LEN;
  // RFC 4302 §2.2: AH's Payload Len counts 32-bit words, minus 2.
  if (nh === IpProtocol.AH) return ((u[p + X.LEN] as number) + 2) * 4;
  return ((u[p + X.LEN] as number) + 1) * 8;
}

/**
 * Steps over the extension headers of `pkt` and fills `out` (see Ipv6Chain); allocates nothing.
 * Errors: a header reaching past the payload the header claims → 'bad-header-length' (also an AH
 * shorter than its 12 fixed bytes); one claimed but not all captured → 'truncated'; a Hop-by-Hop header
 * anywhere but first (RFC 8200 §4.3; Linux answers with a Parameter Problem) or more than `maxHeaders`
 * headers → 'bad-field'.
 */
export function walkIpv6Headers(pkt: Ipv6Packet, out: Ipv6Chain, maxHeaders: number = IPV6_MAX_EXT_HEADERS): Ipv6Chain | WireError {
  const u = pkt.b.u8;
  const claimedEnd = pkt.payloadOffset + pkt.payloadLength;
  const capEnd = pkt.payloadOffset + pkt.capturedPayloadLength;
  let nh = pkt.nextHeader;
  let p = pkt.payloadOffset;
  let count = 0;
  out.fragmentHeader = -1;
  while (isWalkedIpv6ExtensionHeader(nh)) {
    if (nh === IpProtocol.HOPOPT && count !== 0) return 'bad-field';
    if (count >= maxHeaders) return 'bad-field';
    if (p + 2 > claimedEnd) return 'bad-header-length';
    if (p + 2 > capEnd) return 'truncated';
    const hlen = extHeaderLength(nh, u, p);
    if (nh === IpProtocol.AH && hlen < IPV6_AH_FIXED_LEN) return 'bad-header-length';
    if (p + hlen > claimedEnd) return 'bad-header-length';
    if (p + hlen > capEnd) return 'truncated';
    count++;
    const next = u[p + X.NEXT_HEADER] as number;
    if (nh === IpProtocol.IPV6_FRAG) {
      out.fragmentHeader = p;
      const later = (pkt.b.dv.getUint16(p + X.FRAG_OFFSET_FLAGS) & 0xfff8) !== 0;
      p += hlen;
      nh = next;
      if (later) break;
      continue;
    }
    p += hlen;
    nh = next;
  }
  out.protocol = nh;
  out.offset = p;
  out.length = claimedEnd - p;
  out.capturedLength = capEnd - p;
  out.headers = count;
  return out;
}

/** Fragment offset in bytes of the Fragment header at absolute offset `at`. */
export function ipv6FragmentOffset(b: Bytes, at: number): number {
  return b.dv.getUint16(at + X.FRAG_OFFSET_FLAGS) & 0xfff8;
}
/** The M flag of the Fragment header at `at`. */
export function ipv6MoreFragments(b: Bytes, at: number): boolean {
  return (b.dv.getUint16(at + X.FRAG_OFFSET_FLAGS) & 1) !== 0;
}
/** The Identification of the Fragment header at `at`. */
export function ipv6FragmentId(b: Bytes, at: number): number {
  return b.dv.getUint32(at + X.FRAG_IDENT);
}
/** The Next Header of the extension header at `at`. */
export function ipv6ExtNextHeader(b: Bytes, at: number): number {
  return b.u8[at + X.NEXT_HEADER] as number;
}

// ---------------------------------------------------------------------------------------------------
// Options (Hop-by-Hop and Destination Options TLVs, RFC 8200 §4.2)

/**
 * The TLVs in b[off, off+len). 'bad-option' for a TLV without room for its length byte or running past
 * the header: Linux's ip6_parse_tlv() drops such packets. Policy checks Linux adds on top (PadN of more
 * than 7 bytes, non-zero PadN contents, option counts) are not format errors and are kept as read.
 */
export function parseIpv6Options(b: Bytes, off: number, len: number): Ipv6Option[] | WireError {
  const u = b.u8;
  const end = off + len;
  const out: Ipv6Option[] = [];
  for (let i = off; i < end; ) {
    const t = u[i] as number;
    if (t === Ipv6OptionType.PAD1) {
      out.push({ kind: 'pad1' });
      i++;
      continue;
    }
    if (i + 2 > end) return 'bad-option';
    const l = u[i + 1] as number;
    if (i + 2 + l > end) return 'bad-option';
    const data = copyOut(b, i + 2, l);
    out.push(t === Ipv6OptionType.PADN ? { kind: 'padn', data } : { kind: 'option', type: t, data });
    i += 2 + l;
  }
  return out;
}

export function ipv6OptionsLen(options: readonly Ipv6Option[]): number {
  let n = 0;
  for (const o of options) n += o.kind === 'pad1' ? 1 : 2 + o.data.length;
  return n;
}

/** Writes the TLVs at `off`; returns their length. */
export function emitIpv6Options(options: readonly Ipv6Option[], b: Bytes, off: number): number {
  const u = b.u8;
  let i = off;
  for (const o of options) {
    if (o.kind === 'pad1') {
      u[i++] = Ipv6OptionType.PAD1;
      continue;
    }
    if (o.data.length > 255) throw new RangeError(`IPv6 option data over 255 bytes: ${o.data.length}`);
    u[i] = o.kind === 'padn' ? Ipv6OptionType.PADN : o.type;
    u[i + 1] = o.data.length;
    u.set(o.data, i + 2);
    i += 2 + o.data.length;
  }
  return i - off;
}

// ---------------------------------------------------------------------------------------------------
// The record

function extHeaderType(h: Ipv6ExtHeader): number {
  switch (h.kind) {
    case 'hop-by-hop':
      return IpProtocol.HOPOPT;
    case 'destination':
      return IpProtocol.IPV6_OPTS;
    case 'routing':
      return IpProtocol.IPV6_ROUTE;
    case 'fragment':
      return IpProtocol.IPV6_FRAG;
    case 'auth':
      return IpProtocol.AH;
    default: {
      const never: never = h;
      throw new Error(`unknown IPv6 extension header ${JSON.stringify(never)}`);
    }
  }
}

/** Bytes one extension header takes on the wire. */
export function ipv6ExtHeaderLen(h: Ipv6ExtHeader): number {
  switch (h.kind) {
    case 'hop-by-hop':
    case 'destination':
      return 2 + ipv6OptionsLen(h.options);
    case 'routing':
      return 4 + h.data.length;
    case 'fragment':
      return IPV6_FRAGMENT_HEADER_LEN;
    case 'auth':
      return IPV6_AH_FIXED_LEN + h.icv.length;
    default: {
      const never: never = h;
      throw new Error(`unknown IPv6 extension header ${JSON.stringify(never)}`);
    }
  }
}

function parseExtHeader(nh: number, b: Bytes, p: number, hlen: number): Ipv6ExtHeader | WireError {
  const dv = b.dv;
  switch (nh) {
    case IpProtocol.HOPOPT:
    case IpProtocol.IPV6_OPTS: {
      const options = parseIpv6Options(b, p + 2, hlen - 2);
      if (typeof options === 'string') return options;
      return nh === IpProtocol.HOPOPT ? { kind: 'hop-by-hop', options } : { kind: 'destination', options };
    }
    case IpProtocol.IPV6_ROUTE:
      return {
        kind: 'routing',
        routingType: b.u8[p + X.ROUTING_TYPE] as number,
        segmentsLeft: b.u8[p + X.SEGMENTS_LEFT] as number,
        data: copyOut(b, p + 4, hlen - 4),
      };
    case IpProtocol.IPV6_FRAG: {
      const word = dv.getUint16(p + X.FRAG_OFFSET_FLAGS);
      const h: Ipv6ExtHeader = {
        kind: 'fragment',
        offset: word & 0xfff8,
        moreFragments: (word & 1) !== 0,
        identification: dv.getUint32(p + X.FRAG_IDENT),
      };
      const reserved = b.u8[p + X.FRAG_RESERVED] as number;
      if (reserved !== 0) h.reserved = reserved;
      if ((word & 6) !== 0) h.reservedBits = (word >> 1) & 3;
      return h;
    }
    default: {
      // AH, the only other header the walker steps over.
      const h: Ipv6ExtHeader = {
        kind: 'auth',
        spi: dv.getUint32(p + X.AH_SPI),
        sequence: dv.getUint32(p + X.AH_SEQ),
        icv: copyOut(b, p + X.AH_ICV, hlen - IPV6_AH_FIXED_LEN),
      };
      const reserved = dv.getUint16(p + X.AH_RESERVED);
      if (reserved !== 0) h.reserved = reserved;
      return h;
    }
  }
}

/**
 * The record of `pkt`: fixed header fields, every extension header the walker steps over (with the same
 * stopping rules and errors, plus 'bad-option' for malformed TLVs), and where the walk stopped.
 */
export function parseIpv6Repr(pkt: Ipv6Packet, maxHeaders: number = IPV6_MAX_EXT_HEADERS): Ipv6Repr | WireError {
  const chain = walkIpv6Headers(pkt, newIpv6Chain(), maxHeaders);
  if (typeof chain === 'string') return chain;
  const b = pkt.b;
  const extensions: Ipv6ExtHeader[] = [];
  let nh = pkt.nextHeader;
  let p = pkt.payloadOffset;
  for (let i = 0; i < chain.headers; i++) {
    const hlen = extHeaderLength(nh, b.u8, p);
    const h = parseExtHeader(nh, b, p, hlen);
    if (typeof h === 'string') return h;
    extensions.push(h);
    nh = b.u8[p + X.NEXT_HEADER] as number;
    p += hlen;
  }
  return {
    trafficClass: pkt.trafficClass,
    flowLabel: pkt.flowLabel,
    hopLimit: pkt.hopLimit,
    src: pkt.src,
    dst: pkt.dst,
    extensions,
    protocol: chain.protocol,
    payloadLength: pkt.payloadLength,
  };
}

/** Header bytes emit writes for `repr`: 40 plus every extension header. */
export function ipv6ReprHeaderLen(repr: Ipv6Repr): number {
  let n = IPV6_HEADER_LEN;
  for (const h of repr.extensions) n += ipv6ExtHeaderLen(h);
  return n;
}

function emitExtHeader(h: Ipv6ExtHeader, next: number, b: Bytes, p: number): number {
  const u = b.u8;
  const dv = b.dv;
  const hlen = ipv6ExtHeaderLen(h);
  u[p + X.NEXT_HEADER] = next;
  switch (h.kind) {
    case 'hop-by-hop':
    case 'destination':
    case 'routing':
      if (hlen % 8 !== 0 || hlen > 2048) throw new RangeError(`IPv6 ${h.kind} header must be a multiple of 8 bytes up to 2048: ${hlen}`);
      u[p + X.LEN] = hlen / 8 - 1;
      if (h.kind === 'routing') {
        u[p + X.ROUTING_TYPE] = h.routingType;
        u[p + X.SEGMENTS_LEFT] = h.segmentsLeft;
        u.set(h.data, p + 4);
      } else {
        emitIpv6Options(h.options, b, p + 2);
      }
      break;
    case 'fragment':
      if (!Number.isInteger(h.offset) || h.offset < 0 || h.offset % 8 !== 0 || h.offset > 0xfff8) {
        throw new RangeError(`IPv6 fragment offset must be a multiple of 8 in 0..65528: ${h.offset}`);
      }
      u[p + X.FRAG_RESERVED] = h.reserved ?? 0;
      dv.setUint16(p + X.FRAG_OFFSET_FLAGS, h.offset | (((h.reservedBits ?? 0) & 3) << 1) | (h.moreFragments ? 1 : 0));
      dv.setUint32(p + X.FRAG_IDENT, h.identification >>> 0);
      break;
    case 'auth':
      if (hlen % 4 !== 0 || hlen > 1028) throw new RangeError(`AH must be a multiple of 4 bytes up to 1028: ${hlen}`);
      u[p + X.LEN] = hlen / 4 - 2;
      dv.setUint16(p + X.AH_RESERVED, h.reserved ?? 0);
      dv.setUint32(p + X.AH_SPI, h.spi >>> 0);
      dv.setUint32(p + X.AH_SEQ, h.sequence >>> 0);
      u.set(h.icv, p + X.AH_ICV);
      break;
    default: {
      const never: never = h;
      throw new Error(`unknown IPv6 extension header ${JSON.stringify(never)}`);
    }
  }
  return hlen;
}

/**
 * Writes the fixed header and the extension headers at `off` (the upper-layer bytes are the caller's)
 * and returns their length. Next Header fields are chained from the extension kinds and `protocol`. A
 * payload length over 65535 is written as 0 (a jumbogram: RFC 2675 wants the Jumbo option in the record's
 * Hop-by-Hop header). Throws RangeError for a record that cannot be encoded.
 */
export function emitIpv6Repr(repr: Ipv6Repr, b: Bytes, off: number): number {
  if (!Number.isInteger(repr.payloadLength) || repr.payloadLength < 0 || repr.payloadLength > 0xffffffff) {
    throw new RangeError(`IPv6 payload length out of range: ${repr.payloadLength}`);
  }
  const pkt = Ipv6Packet.unchecked(b, off, IPV6_HEADER_LEN);
  b.dv.setUint32(off + F.VER_TC_FLOW, ((6 << 28) | ((repr.trafficClass & 0xff) << 20) | (repr.flowLabel & 0xfffff)) >>> 0);
  pkt.payloadLengthField = repr.payloadLength > 0xffff ? 0 : repr.payloadLength;
  const exts = repr.extensions;
  const first = exts[0];
  pkt.nextHeader = first !== undefined ? extHeaderType(first) : repr.protocol;
  pkt.hopLimit = repr.hopLimit;
  pkt.setSrc(repr.src);
  pkt.setDst(repr.dst);
  let p = off + IPV6_HEADER_LEN;
  for (let i = 0; i < exts.length; i++) {
    const after = exts[i + 1];
    p += emitExtHeader(exts[i] as Ipv6ExtHeader, after !== undefined ? extHeaderType(after) : repr.protocol, b, p);
  }
  return p - off;
}
