/**
 * Whole frames as records: `parseFrame` turns captured bytes into a FrameRepr (link header, VLAN tags,
 * network header, transport), `emitFrame` writes one back. parseFrame never fails: a layer that cannot
 * be decoded is kept as raw bytes and named in `problem`, so emitFrame(parseFrame(x)) reproduces every
 * frame byte for byte (the round-trip test runs this on every frame of every capture). Hot paths use
 * decode.ts instead; records are for the segments a socket accepts, for tests and for building frames.
 */
import { allocBytes, copyOut } from './bytes.js';
import type { Bytes } from './bytes.js';
import type { WireError } from './errors.js';
import { ArpView, parseArpRepr, arpReprLen, emitArpRepr } from './arp.js';
import type { ArpRepr } from './arp.js';
import { EthernetView, parseEthernetRepr, emitEthernetRepr, ETHERNET_HEADER_LEN } from './ethernet.js';
import type { EthernetRepr } from './ethernet.js';
import { Icmpv6View, parseIcmpv6Repr, icmpv6ReprLen, emitIcmpv6Repr } from './icmpv6.js';
import type { Icmpv6Repr } from './icmpv6.js';
import { IpProtocol } from './ipproto.js';
import { Ipv4Packet, parseIpv4Repr, ipv4ReprHeaderLen, emitIpv4Repr } from './ipv4.js';
import type { Ipv4Repr } from './ipv4.js';
import { Ipv6Packet, parseIpv6Repr, ipv6ReprHeaderLen, emitIpv6Repr } from './ipv6.js';
import type { Ipv6Repr } from './ipv6.js';
import { EtherType, LinkType, ETHERNET_MAX_LENGTH_FIELD, bsdFamilyNetwork } from './linktype.js';
import { LoopbackView, parseLoopbackRepr, emitLoopbackRepr, LOOPBACK_HEADER_LEN } from './loopback.js';
import type { LoopbackRepr } from './loopback.js';
import { SllView, parseSllRepr, emitSllRepr, SLL_HEADER_LEN } from './sll.js';
import type { SllRepr } from './sll.js';
import { Sll2View, parseSll2Repr, emitSll2Repr, SLL2_HEADER_LEN } from './sll2.js';
import type { Sll2Repr } from './sll2.js';
import { TcpPacket, parseTcpRepr, tcpReprHeaderLen, emitTcpRepr } from './tcp.js';
import type { TcpRepr } from './tcp.js';
import { pseudoHeaderSumOf } from './checksum.js';
import { isVlanTpid, VlanView, parseVlanTag, emitVlanTags, VLAN_MAX_DEPTH, VLAN_TAG_LEN } from './vlan.js';
import type { VlanTag } from './vlan.js';
import type { Layer } from './decode.js';

export type LinkRepr =
  | { kind: 'ethernet'; header: EthernetRepr }
  | { kind: 'sll'; header: SllRepr }
  | { kind: 'sll2'; header: Sll2Repr }
  | { kind: 'loopback'; header: LoopbackRepr }
  /** Raw-IP link types (12, 14, 101, 228, 229): no header. */
  | { kind: 'raw' }
  /** A link type synack does not decode: the whole frame is `net` raw bytes. */
  | { kind: 'unknown' };

export type TransportRepr =
  | { kind: 'tcp'; tcp: TcpRepr }
  | { kind: 'icmpv6'; icmpv6: Icmpv6Repr }
  /** UDP, ICMP, fragments, unknown protocols, or a header that failed to decode. */
  | { kind: 'raw'; bytes: Uint8Array };

export type NetRepr =
  | { kind: 'ipv4'; header: Ipv4Repr; payload: TransportRepr }
  | { kind: 'ipv6'; header: Ipv6Repr; payload: TransportRepr }
  | { kind: 'arp'; arp: ArpRepr }
  | { kind: 'raw'; bytes: Uint8Array };

export interface FrameProblem {
  layer: Layer;
  reason: WireError;
  /** Byte offset of the failing header from the start of the frame. */
  offset: number;
}

export interface FrameRepr {
  linkType: number;
  link: LinkRepr;
  /** 802.1Q/802.1ad tags, outermost first (Ethernet, and SLL/SLL2 when tags were left in). */
  vlans: VlanTag[];
  /**
   * For EtherType-carrying links: the EtherType after the last VLAN tag (the link header's own field
   * holds the first tag's TPID when there are tags). Unused for raw and loopback links.
   */
  etherType?: number;
  net: NetRepr;
  /** Captured bytes after the network packet (Ethernet padding, an FCS, trailers). */
  trailer?: Uint8Array;
  /** The first layer that could not be decoded; it and everything after it is kept raw. */
  problem?: FrameProblem;
}

/** Parses a captured frame. Never fails: see the file comment. */
export function parseFrame(linkType: number, b: Bytes, off: number, capLen: number): FrameRepr {
  const end = off + capLen;
  const repr: FrameRepr = { linkType, link: { kind: 'unknown' }, vlans: [], net: { kind: 'raw', bytes: copyOut(b, off, capLen) } };
  const problem = (layer: Layer, at: number, reason: WireError): FrameRepr => {
    repr.problem = { layer, reason, offset: at - off };
    repr.net = { kind: 'raw', bytes: copyOut(b, at, end - at) };
    return repr;
  };
  let p: number;
  let protocol: number;
  switch (linkType) {
    case LinkType.ETHERNET: {
      const v = EthernetView.check(b, off, capLen);
      if (typeof v === 'string') return problem('link', off, v);
      repr.link = { kind: 'ethernet', header: parseEthernetRepr(v) };
      protocol = v.etherType;
      p = off + ETHERNET_HEADER_LEN;
      if (protocol <= ETHERNET_MAX_LENGTH_FIELD) {
        repr.etherType = protocol;
        repr.net = { kind: 'raw', bytes: copyOut(b, p, end - p) };
        return repr;
      }
      break;
    }
    case LinkType.LINUX_SLL: {
      const v = SllView.check(b, off, capLen);
      if (typeof v === 'string') return problem('link', off, v);
      repr.link = { kind: 'sll', header: parseSllRepr(v) };
      protocol = v.protocol;
      p = v.payloadOffset;
      break;
    }
    case LinkType.LINUX_SLL2: {
      const v = Sll2View.check(b, off, capLen);
      if (typeof v === 'string') return problem('link', off, v);
      repr.link = { kind: 'sll2', header: parseSll2Repr(v) };
      protocol = v.protocol;
      p = v.payloadOffset;
      break;
    }
    case LinkType.NULL:
    case LinkType.LOOP: {
      const v = LoopbackView.check(b, off, capLen);
      if (typeof v === 'string') return problem('link', off, v);
      const header = parseLoopbackRepr(v, linkType === LinkType.LOOP ? 'loop' : 'null');
      repr.link = { kind: 'loopback', header };
      const kind = bsdFamilyNetwork(header.family);
      return parseNet(repr, kind === 'other' ? -1 : kind === 'ipv4' ? 4 : 6, b, off, v.payloadOffset, end);
    }
    case LinkType.RAW_DLT12:
    case LinkType.RAW_DLT14:
    case LinkType.RAW:
      repr.link = { kind: 'raw' };
      return parseNet(repr, capLen > 0 ? (b.u8[off] as number) >> 4 : -1, b, off, off, end);
    case LinkType.IPV4:
      repr.link = { kind: 'raw' };
      return parseNet(repr, 4, b, off, off, end);
    case LinkType.IPV6:
      repr.link = { kind: 'raw' };
      return parseNet(repr, 6, b, off, off, end);
    default:
      return repr;
  }
  while (isVlanTpid(protocol) && repr.vlans.length < VLAN_MAX_DEPTH) {
    const tag = VlanView.check(b, p, end - p);
    if (typeof tag === 'string') return problem('vlan', p, tag);
    repr.vlans.push(parseVlanTag(tag, protocol));
    protocol = tag.etherType;
    p += VLAN_TAG_LEN;
  }
  repr.etherType = protocol;
  if (protocol === EtherType.IPV4) return parseNet(repr, 4, b, off, p, end);
  if (protocol === EtherType.IPV6) return parseNet(repr, 6, b, off, p, end);
  if (protocol === EtherType.ARP) {
    const v = ArpView.check(b, p, end - p);
    if (typeof v === 'string') return problem('arp', p, v);
    repr.net = { kind: 'arp', arp: parseArpRepr(v) };
    const used = v.packetLength;
    if (p + used < end) repr.trailer = copyOut(b, p + used, end - p - used);
    return repr;
  }
  repr.net = { kind: 'raw', bytes: copyOut(b, p, end - p) };
  return repr;
}

function parseNet(repr: FrameRepr, version: number, b: Bytes, frameOff: number, p: number, end: number): FrameRepr {
  const raw = (): FrameRepr => {
    repr.net = { kind: 'raw', bytes: copyOut(b, p, end - p) };
    return repr;
  };
  const problem = (layer: Layer, at: number, reason: WireError): FrameRepr => {
    repr.problem = { layer, reason, offset: at - frameOff };
    return raw();
  };
  if (version === 4) {
    const ip = Ipv4Packet.check(b, p, end - p);
    if (typeof ip === 'string') return problem('ipv4', p, ip);
    const header = parseIpv4Repr(ip);
    if (typeof header === 'string') return problem('ipv4', p, header);
    const l4 = ip.payloadOffset;
    const captured = ip.capturedPayloadLength;
    const fragment = ip.isFragment;
    const payload = parseTransport(repr, ip.protocol, fragment, b, frameOff, l4, captured, ip.payloadLength, header.src, header.dst);
    repr.net = { kind: 'ipv4', header, payload };
    if (l4 + captured < end) repr.trailer = copyOut(b, l4 + captured, end - l4 - captured);
    return repr;
  }
  if (version === 6) {
    const ip = Ipv6Packet.check(b, p, end - p);
    if (typeof ip === 'string') return problem('ipv6', p, ip);
    const header = parseIpv6Repr(ip);
    if (typeof header === 'string') return problem('ipv6', p, header);
    const l4 = p + ipv6ReprHeaderLen(header);
    const claimedEnd = ip.payloadOffset + ip.payloadLength;
    const capturedEnd = ip.payloadOffset + ip.capturedPayloadLength;
    const frag = header.extensions.find((h) => h.kind === 'fragment');
    const fragment = frag !== undefined && frag.kind === 'fragment' && (frag.offset !== 0 || frag.moreFragments);
    const payload = parseTransport(repr, header.protocol, fragment, b, frameOff, l4, capturedEnd - l4, claimedEnd - l4, header.src, header.dst);
    repr.net = { kind: 'ipv6', header, payload };
    if (capturedEnd < end) repr.trailer = copyOut(b, capturedEnd, end - capturedEnd);
    return repr;
  }
  return raw();
}

function parseTransport(
  repr: FrameRepr,
  protocol: number,
  fragment: boolean,
  b: Bytes,
  frameOff: number,
  off: number,
  captured: number,
  claimed: number,
  src: string,
  dst: string,
): TransportRepr {
  const raw = (): TransportRepr => ({ kind: 'raw', bytes: copyOut(b, off, captured) });
  if (fragment) return raw();
  if (protocol === IpProtocol.TCP) {
    const pkt = TcpPacket.check(b, off, captured, claimed);
    if (typeof pkt === 'string') {
      repr.problem = { layer: 'tcp', reason: pkt, offset: off - frameOff };
      return raw();
    }
    // The checksum covers the claimed segment; over a truncated one it cannot verify, and parse keeps it.
    const tcp = parseTcpRepr(pkt, pseudoHeaderSumOf(src, dst, IpProtocol.TCP, claimed));
    if (typeof tcp === 'string') {
      repr.problem = { layer: 'tcp', reason: tcp, offset: off - frameOff };
      return raw();
    }
    return { kind: 'tcp', tcp };
  }
  if (protocol === IpProtocol.ICMPV6 && captured === claimed) {
    const v = Icmpv6View.check(b, off, captured);
    if (typeof v === 'string') return raw();
    return { kind: 'icmpv6', icmpv6: parseIcmpv6Repr(v, pseudoHeaderSumOf(src, dst, IpProtocol.ICMPV6, captured)) };
  }
  return raw();
}

function transportLen(t: TransportRepr): number {
  switch (t.kind) {
    case 'tcp':
      return tcpReprHeaderLen(t.tcp) + t.tcp.payload.length;
    case 'icmpv6':
      return icmpv6ReprLen(t.icmpv6);
    case 'raw':
      return t.bytes.length;
    default: {
      const never: never = t;
      throw new Error(`unknown transport ${JSON.stringify(never)}`);
    }
  }
}

function linkHeaderLen(link: LinkRepr): number {
  switch (link.kind) {
    case 'ethernet':
      return ETHERNET_HEADER_LEN;
    case 'sll':
      return SLL_HEADER_LEN;
    case 'sll2':
      return SLL2_HEADER_LEN;
    case 'loopback':
      return LOOPBACK_HEADER_LEN;
    case 'raw':
    case 'unknown':
      return 0;
    default: {
      const never: never = link;
      throw new Error(`unknown link ${JSON.stringify(never)}`);
    }
  }
}

function netLen(net: NetRepr): number {
  switch (net.kind) {
    case 'ipv4':
      return ipv4ReprHeaderLen(net.header) + transportLen(net.payload);
    case 'ipv6':
      return ipv6ReprHeaderLen(net.header) + transportLen(net.payload);
    case 'arp':
      return arpReprLen(net.arp);
    case 'raw':
      return net.bytes.length;
    default: {
      const never: never = net;
      throw new Error(`unknown network layer ${JSON.stringify(never)}`);
    }
  }
}

/** Bytes emitFrame writes for `repr`. */
export function frameLen(repr: FrameRepr): number {
  return linkHeaderLen(repr.link) + VLAN_TAG_LEN * repr.vlans.length + netLen(repr.net) + (repr.trailer?.length ?? 0);
}

/** Writes a frame; derived fields (lengths the records leave out, checksums) are computed. */
export function emitFrame(repr: FrameRepr): Uint8Array {
  const b = allocBytes(frameLen(repr));
  emitFrameInto(repr, b, 0);
  return b.u8;
}

/** Writes a frame at `off` (the buffer must hold frameLen(repr) bytes) and returns its length. */
export function emitFrameInto(repr: FrameRepr, b: Bytes, off: number): number {
  let p = off;
  const link = repr.link;
  switch (link.kind) {
    case 'ethernet':
      p += emitEthernetRepr(link.header, b, p);
      break;
    case 'sll':
      p += emitSllRepr(link.header, b, p);
      break;
    case 'sll2':
      p += emitSll2Repr(link.header, b, p);
      break;
    case 'loopback':
      p += emitLoopbackRepr(link.header, b, p);
      break;
    case 'raw':
    case 'unknown':
      break;
    default: {
      const never: never = link;
      throw new Error(`unknown link ${JSON.stringify(never)}`);
    }
  }
  if (repr.vlans.length > 0) p += emitVlanTags(repr.vlans, repr.etherType ?? 0, b, p);
  const net = repr.net;
  switch (net.kind) {
    case 'ipv4': {
      p += emitIpv4Repr(net.header, b, p);
      p += emitTransport(net.payload, b, p, net.header.src, net.header.dst, net.header.payloadLength);
      break;
    }
    case 'ipv6': {
      const hl = emitIpv6Repr(net.header, b, p);
      p += hl;
      p += emitTransport(net.payload, b, p, net.header.src, net.header.dst, net.header.payloadLength - (hl - 40));
      break;
    }
    case 'arp':
      p += emitArpRepr(net.arp, b, p);
      break;
    case 'raw':
      b.u8.set(net.bytes, p);
      p += net.bytes.length;
      break;
    default: {
      const never: never = net;
      throw new Error(`unknown network layer ${JSON.stringify(never)}`);
    }
  }
  if (repr.trailer) {
    b.u8.set(repr.trailer, p);
    p += repr.trailer.length;
  }
  return p - off;
}

/** `claimed`: the upper-layer length the IP header announces, which the pseudo-header sums. */
function emitTransport(t: TransportRepr, b: Bytes, off: number, src: string, dst: string, claimed: number): number {
  switch (t.kind) {
    case 'tcp':
      return emitTcpRepr(t.tcp, b, off, pseudoHeaderSumOf(src, dst, IpProtocol.TCP, claimed));
    case 'icmpv6':
      return emitIcmpv6Repr(t.icmpv6, b, off, pseudoHeaderSumOf(src, dst, IpProtocol.ICMPV6, icmpv6ReprLen(t.icmpv6)));
    case 'raw':
      b.u8.set(t.bytes, off);
      return t.bytes.length;
    default: {
      const never: never = t;
      throw new Error(`unknown transport ${JSON.stringify(never)}`);
    }
  }
}
