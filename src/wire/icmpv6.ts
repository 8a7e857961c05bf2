/**
 * ICMPv6 (RFC 4443) with Neighbor Discovery's Neighbor Solicitation and Advertisement (RFC 4861 §4.3,
 * §4.4): enough for a host to answer NS for its own addresses and to resolve its peers. Every other
 * message (echo, errors, router solicitation/advertisement, redirect, MLD) keeps its body as raw bytes.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |           Checksum            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|S|O|          Reserved (all 32 bits reserved in an NS)       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * +                                                               +
 * |                  Target Address (NS and NA)                   |
 * +                                                               +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Options: Type (1) | Length (1, in units of 8 bytes) | data...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-
 *
 * The checksum covers the IPv6 pseudo-header (source, destination, upper-layer length, next header 58;
 * RFC 8200 §8.1) and the whole message, so the view is given the message's exact length (the IPv6
 * payload minus extension headers, without Ethernet padding) and the pseudo-header sum
 * (`pseudoHeaderSum(ipBytes, ipOff + 8, 16, 58, len)` or `pseudoHeaderSumOf(src, dst, 58, len)`).
 *
 * Validity checks that need the IP header (hop limit 255, RFC 4861 §7.1) or policy (code 0, target not
 * multicast, no source link-layer option from the unspecified address) belong to the host; the codec
 * only refuses what it cannot decode: a short NS/NA ('truncated') or a broken option ('bad-option').
 */
import { formatIpv6, formatMac, writeIpv6, writeMac } from './address.js';
import type { Ipv6Address, MacAddress } from './address.js';
import { copyOut } from './bytes.js';
import type { Bytes } from './bytes.js';
import { finishChecksum, sum16 } from './checksum.js';
import type { WireError } from './errors.js';

const F = {
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  BODY: 4,
  // Neighbor Solicitation / Advertisement
  ND_FLAGS: 4,
  ND_TARGET: 8,
  ND_OPTIONS: 24,
} as const;

/** IPv6 next-header value of ICMPv6, for the pseudo-header. */
export const IPPROTO_ICMPV6 = 58;
export const ICMPV6_HEADER_LEN = 4;
/** Fixed part of an NS or NA, before its options. */
export const NEIGHBOR_MESSAGE_LEN = 24;

export const Icmpv6Type = {
  DESTINATION_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  MLD_QUERY: 130,
  MLD_REPORT: 131,
  MLD_DONE: 132,
  ROUTER_SOLICITATION: 133,
  ROUTER_ADVERTISEMENT: 134,
  NEIGHBOR_SOLICITATION: 135,
  NEIGHBOR_ADVERTISEMENT: 136,
  REDIRECT: 137,
  MLDV2_REPORT: 143,
} as const;

/** NDP option types (RFC 4861 §4.6, RFC 7527 for the nonce that DAD probes carry). */
export const NdpOptionType = {
  SOURCE_LINK_ADDRESS: 1,
  TARGET_LINK_ADDRESS: 2,
  PREFIX_INFORMATION: 3,
  REDIRECTED_HEADER: 4,
  MTU: 5,
  NONCE: 14,
} as const;

/** NA flag bits in the first 32-bit word after the checksum (RFC 4861 §4.4). */
const NA_ROUTER = 0x80000000;
const NA_SOLICITED = 0x40000000;
const NA_OVERRIDE = 0x20000000;
const NA_RESERVED = 0x1fffffff;

function isNeighborType(type: number): boolean {
  return type === Icmpv6Type.NEIGHBOR_SOLICITATION || type === Icmpv6Type.NEIGHBOR_ADVERTISEMENT;
}

/**
 * RFC 4861 §4.6: every option is a whole number of 8-byte units, and "Nodes MUST silently discard an ND
 * packet that contains an option with length zero" (a zero length would also never advance).
 */
function checkNdpOptions(b: Bytes, off: number, end: number): WireError | null {
  let pos = off;
  while (pos < end) {
    if (end - pos < 2) return 'bad-option';
    const units = b.u8[pos + 1] as number;
    if (units === 0 || pos + 8 * units > end) return 'bad-option';
    pos += 8 * units;
  }
  return null;
}

export class Icmpv6View {
  constructor(
    readonly b: Bytes,
    readonly off: number,
    readonly len: number,
  ) {}

  /** NS and NA are checked to their full fixed size and their options walked, so all getters are safe. */
  static check(b: Bytes, off: number, len: number): Icmpv6View | WireError {
    if (len < ICMPV6_HEADER_LEN || off + len > b.u8.length) return 'truncated';
    const view = new Icmpv6View(b, off, len);
    if (isNeighborType(view.type)) {
      if (len < NEIGHBOR_MESSAGE_LEN) return 'truncated';
      const bad = checkNdpOptions(b, off + F.ND_OPTIONS, off + len);
      if (bad !== null) return bad;
    }
    return view;
  }

  get type(): number { return this.b.u8[this.off + F.TYPE] as number; }
  get code(): number { return this.b.u8[this.off + F.CODE] as number; }
  get checksum(): number { return this.b.dv.getUint16(this.off + F.CHECKSUM); }
  get bodyOffset(): number { return this.off + F.BODY; }
  get bodyLength(): number { return this.len - F.BODY; }
  get isNeighborSolicitation(): boolean { return this.type === Icmpv6Type.NEIGHBOR_SOLICITATION; }
  get isNeighborAdvertisement(): boolean { return this.type === Icmpv6Type.NEIGHBOR_ADVERTISEMENT; }

  // NS / NA only (check made sure the bytes are there).
  /** The 32-bit word after the checksum: NA flags, or the NS reserved field. */
  get ndFlags(): number { return this.b.dv.getUint32(this.off + F.ND_FLAGS); }
  get router(): boolean { return (this.ndFlags & NA_ROUTER) !== 0; }
  get solicited(): boolean { return (this.ndFlags & NA_SOLICITED) !== 0; }
  get override(): boolean { return (this.ndFlags & NA_OVERRIDE) !== 0; }
  get targetOffset(): number { return this.off + F.ND_TARGET; }
  get target(): Ipv6Address { return formatIpv6(this.b, this.off + F.ND_TARGET); }
  get optionsOffset(): number { return this.off + F.ND_OPTIONS; }
  get optionsLength(): number { return this.len - F.ND_OPTIONS; }

  /**
   * Offset of the 6-byte address in the first source (1) or target (2) link-layer address option of
   * length 1, or -1: lets a host learn a neighbour's MAC without building a record.
   */
  linkAddressOffset(optionType: number): number {
    const end = this.off + this.len;
    for (let pos = this.optionsOffset; pos + 8 <= end; ) {
      const units = this.b.u8[pos + 1] as number;
      if (units === 0) return -1;
      if (this.b.u8[pos] === optionType && units === 1) return pos + 2;
      pos += 8 * units;
    }
    return -1;
  }

  /** The value emit would put in the checksum field: computed with the field taken as zero. */
  computeChecksum(pseudo: number): number {
    return finishChecksum(pseudo + sum16(this.b, this.off, this.len) - this.checksum);
  }
  verifyChecksum(pseudo: number): boolean {
    return finishChecksum(pseudo + sum16(this.b, this.off, this.len)) === 0;
  }
  fillChecksum(pseudo: number): void {
    this.checksum = this.computeChecksum(pseudo);
  }

  set type(v: number) { this.b.u8[this.off + F.TYPE] = v; }
  set code(v: number) { this.b.u8[this.off + F.CODE] = v; }
  set checksum(v: number) { this.b.dv.setUint16(this.off + F.CHECKSUM, v); }
  set ndFlags(v: number) { this.b.dv.setUint32(this.off + F.ND_FLAGS, v >>> 0); }
  setTarget(addr: Ipv6Address): void { writeIpv6(addr, this.b, this.off + F.ND_TARGET); }
}

/**
 * An NDP option. Link-layer address options of one 8-byte unit carry a MAC (Ethernet, RFC 2464 §6);
 * any other option, or a link-layer option of another size, keeps the bytes after its type and length
 * (`data.length + 2` is a multiple of 8).
 */
export type NdpOption =
  | { kind: 'source-link-address'; mac: MacAddress }
  | { kind: 'target-link-address'; mac: MacAddress }
  | { kind: 'raw'; type: number; data: Uint8Array };

/**
 * Neighbor Solicitation. `code` and `reserved` must be zero (RFC 4861 §4.3) and are present only when
 * the bytes say otherwise; `checksum` likewise only when it is not the right one.
 */
export interface Icmpv6NeighborSolicitationRepr {
  kind: 'neighbor-solicitation';
  code?: number;
  reserved?: number;
  target: Ipv6Address;
  options: NdpOption[];
  checksum?: number;
}

/** Neighbor Advertisement; `reserved` is the 29 bits after R, S and O. */
export interface Icmpv6NeighborAdvertisementRepr {
  kind: 'neighbor-advertisement';
  code?: number;
  router: boolean;
  solicited: boolean;
  override: boolean;
  reserved?: number;
  target: Ipv6Address;
  options: NdpOption[];
  checksum?: number;
}

/** Any other message: the bytes after the checksum, as they are. */
export interface Icmpv6OtherRepr {
  kind: 'other';
  type: number;
  code: number;
  body: Uint8Array;
  checksum?: number;
}

export type Icmpv6Repr = Icmpv6NeighborSolicitationRepr | Icmpv6NeighborAdvertisementRepr | Icmpv6OtherRepr;

function parseNdpOptions(b: Bytes, off: number, end: number): NdpOption[] {
  const options: NdpOption[] = [];
  // check() has walked these already: every length is non-zero and inside the message.
  for (let pos = off; pos < end; ) {
    const type = b.u8[pos] as number;
    const units = b.u8[pos + 1] as number;
    if (units === 1 && type === NdpOptionType.SOURCE_LINK_ADDRESS) {
      options.push({ kind: 'source-link-address', mac: formatMac(b, pos + 2) });
    } else if (units === 1 && type === NdpOptionType.TARGET_LINK_ADDRESS) {
      options.push({ kind: 'target-link-address', mac: formatMac(b, pos + 2) });
    } else {
      options.push({ kind: 'raw', type, data: copyOut(b, pos + 2, 8 * units - 2) });
    }
    pos += 8 * units;
  }
  return options;
}

/** `pseudo` is the pseudo-header sum for this message (file comment); it decides whether `checksum` is set. */
export function parseIcmpv6Repr(view: Icmpv6View, pseudo: number): Icmpv6Repr {
  const stored = view.checksum;
  const wrong = stored !== view.computeChecksum(pseudo);
  const type = view.type;
  const code = view.code;
  let repr: Icmpv6Repr;
  if (type === Icmpv6Type.NEIGHBOR_SOLICITATION) {
    const ns: Icmpv6NeighborSolicitationRepr = {
      kind: 'neighbor-solicitation',
      target: view.target,
      options: parseNdpOptions(view.b, view.optionsOffset, view.off + view.len),
    };
    if (code !== 0) ns.code = code;
    if (view.ndFlags !== 0) ns.reserved = view.ndFlags;
    repr = ns;
  } else if (type === Icmpv6Type.NEIGHBOR_ADVERTISEMENT) {
    const flags = view.ndFlags;
    const na: Icmpv6NeighborAdvertisementRepr = {
      kind: 'neighbor-advertisement',
      router: view.router,
      solicited: view.solicited,
      override: view.override,
      target: view.target,
      options: parseNdpOptions(view.b, view.optionsOffset, view.off + view.len),
    };
    if (code !== 0) na.code = code;
    if ((flags & NA_RESERVED) !== 0) na.reserved = flags & NA_RESERVED;
    repr = na;
  } else {
    repr = { kind: 'other', type, code, body: copyOut(view.b, view.bodyOffset, view.bodyLength) };
  }
  if (wrong) repr.checksum = stored;
  return repr;
}

export function ndpOptionLen(option: NdpOption): number {
  return option.kind === 'raw' ? option.data.length + 2 : 8;
}

export function ndpOptionsLen(options: readonly NdpOption[]): number {
  let n = 0;
  for (const o of options) n += ndpOptionLen(o);
  return n;
}

/** The whole message's length: what goes into the pseudo-header and the IPv6 payload length. */
export function icmpv6ReprLen(repr: Icmpv6Repr): number {
  if (repr.kind === 'other') return ICMPV6_HEADER_LEN + repr.body.length;
  return NEIGHBOR_MESSAGE_LEN + ndpOptionsLen(repr.options);
}

function emitNdpOptions(options: readonly NdpOption[], b: Bytes, off: number): number {
  let pos = off;
  for (const o of options) {
    if (o.kind === 'raw') {
      const total = o.data.length + 2;
      if (total % 8 !== 0 || total > 8 * 255) {
        throw new RangeError(`NDP option ${o.type}: ${o.data.length} data bytes is not 8n - 2 (n <= 255)`);
      }
      b.u8[pos] = o.type;
      b.u8[pos + 1] = total / 8;
      b.u8.set(o.data, pos + 2);
      pos += total;
    } else {
      b.u8[pos] = o.kind === 'source-link-address' ? NdpOptionType.SOURCE_LINK_ADDRESS : NdpOptionType.TARGET_LINK_ADDRESS;
      b.u8[pos + 1] = 1;
      writeMac(o.mac, b, pos + 2);
      pos += 8;
    }
  }
  return pos - off;
}

/**
 * Writes the message and its checksum (computed from `pseudo`, the pseudo-header sum for
 * `icmpv6ReprLen(repr)` bytes, unless the record carries one). Returns the bytes written.
 */
export function emitIcmpv6Repr(repr: Icmpv6Repr, b: Bytes, off: number, pseudo: number): number {
  const len = icmpv6ReprLen(repr);
  const view = new Icmpv6View(b, off, len);
  view.checksum = 0;
  if (repr.kind === 'other') {
    view.type = repr.type;
    view.code = repr.code;
    b.u8.set(repr.body, view.bodyOffset);
  } else {
    view.code = repr.code ?? 0;
    if (repr.kind === 'neighbor-solicitation') {
      view.type = Icmpv6Type.NEIGHBOR_SOLICITATION;
      view.ndFlags = repr.reserved ?? 0;
    } else {
      view.type = Icmpv6Type.NEIGHBOR_ADVERTISEMENT;
      view.ndFlags =
        (repr.router ? NA_ROUTER : 0) |
        (repr.solicited ? NA_SOLICITED : 0) |
        (repr.override ? NA_OVERRIDE : 0) |
        ((repr.reserved ?? 0) & NA_RESERVED);
    }
    view.setTarget(repr.target);
    emitNdpOptions(repr.options, b, view.optionsOffset);
  }
  if (repr.checksum !== undefined) view.checksum = repr.checksum;
  else view.fillChecksum(pseudo);
  return len;
}

/** The MAC of the first source or target link-layer address option, if any. */
export function ndpLinkAddress(
  options: readonly NdpOption[],
  kind: 'source-link-address' | 'target-link-address',
): MacAddress | undefined {
  for (const o of options) if (o.kind === kind) return o.mac;
  return undefined;
}
