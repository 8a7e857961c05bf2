/**
 * The hot path: one pass over a frame that finds every layer's offset and the few fields demux needs,
 * writing numbers into a FrameInfo the caller reuses. No records, no strings, no copies. Anything the
 * frame does not hold is said once, as `error` + the layer and offset where decoding stopped; what was
 * decoded before that point stays valid (a frame with a bad TCP option list still has its addresses).
 *
 *   link (Ethernet | SLL | SLL2 | NULL/LOOP | raw) → VLAN tags → IPv4 | IPv6 (+ext headers) | ARP → TCP
 */
import type { Bytes } from './bytes.js';
import type { WireError } from './errors.js';
import { EthernetView, ETHERNET_HEADER_LEN } from './ethernet.js';
import { EtherType, LinkType, ETHERNET_MAX_LENGTH_FIELD, bsdFamilyNetwork } from './linktype.js';
import { LoopbackView } from './loopback.js';
import { SllView } from './sll.js';
import { Sll2View } from './sll2.js';
import { isVlanTpid, VlanView, VLAN_MAX_DEPTH, VLAN_TAG_LEN } from './vlan.js';
import { Ipv4Packet, IPV4_HEADER_LEN } from './ipv4.js';
import { ipv4HeaderVerifies } from './checksum.js';
import { Ipv6Packet, newIpv6Chain, walkIpv6Headers, ipv6FragmentOffset, ipv6MoreFragments, ipv6FragmentId } from './ipv6.js';
import { IpProtocol } from './ipproto.js';
import { TcpPacket, TCP_HEADER_LEN } from './tcp.js';

/** The layer a decoding problem was found in. */
export type Layer = 'link' | 'vlan' | 'ipv4' | 'ipv6' | 'arp' | 'tcp';

/** What the link layer carries. 'none': the link header itself could not be read. */
export type NetKind = 'none' | 'ipv4' | 'ipv6' | 'arp' | 'other';

/** Link types synack decodes; a capture of any other type is reported frame by frame as 'other'. */
export function isSupportedLinkType(linkType: number): boolean {
  switch (linkType) {
    case LinkType.NULL:
    case LinkType.ETHERNET:
    case LinkType.RAW_DLT12:
    case LinkType.RAW_DLT14:
    case LinkType.RAW:
    case LinkType.LOOP:
    case LinkType.LINUX_SLL:
    case LinkType.IPV4:
    case LinkType.IPV6:
    case LinkType.LINUX_SLL2:
      return true;
    default:
      return false;
  }
}

/**
 * Everything decodeFrame learns about one frame, as numbers. Offsets are absolute positions in `bytes`.
 * Reuse one instance for a whole capture; `decodeFrame` resets every field it may not reach.
 */
export class FrameInfo {
  bytes: Bytes | null = null;
  frameOffset = 0;
  capLen = 0;
  linkType = 0;

  net: NetKind = 'none';
  /** EtherType (or SLL protocol, or BSD family for NULL/LOOP; -1 for raw-IP link types) after VLAN tags. */
  protocol = -1;
  vlanCount = 0;
  /** VLAN ids, outermost first; `vlanCount` of them are valid. */
  readonly vlanIds = new Uint16Array(VLAN_MAX_DEPTH);
  netOffset = 0;

  /** IP header length (IPv6: the fixed 40 bytes plus extension headers walked). */
  ipHeaderLength = 0;
  /** Offset of the source address; the destination follows it (4 or 16 bytes each). */
  addrOffset = 0;
  addrLen: 0 | 4 | 16 = 0;
  ttl = 0;
  /** Upper-layer protocol (IpProtocol), -1 when there is no IP layer. */
  l4Protocol = -1;
  l4Offset = 0;
  /** Bytes of the upper layer the IP header claims. */
  l4Length = 0;
  /** Bytes of the upper layer present in the capture (less than l4Length when truncated). */
  l4Captured = 0;
  /** The IP datagram ends before the captured frame does: bytes of padding or trailer after it. */
  trailerLength = 0;
  /** IPv4 header checksum verified (always true for IPv6, which has none). */
  ipChecksumOk = true;

  fragment = false;
  /** Fragment offset in bytes, more-fragments flag and identification (IPv4 16 bits, IPv6 32 bits). */
  fragOffset = 0;
  fragMore = false;
  fragId = 0;

  /**
   * TCP header found: valid, or cut by the capture after its fixed 20 bytes (then `error` is 'truncated'
   * and `tcpHeaderLength` is what the header claims). Not TCP, or a fragment, leaves it false.
   */
  tcp = false;
  tcpHeaderLength = 0;
  /** Payload bytes the segment carries, per the IP length. */
  tcpPayloadLength = 0;

  error: WireError | null = null;
  errorLayer: Layer | null = null;
  /** Offset of the failing header, relative to the frame start (as Wireshark shows byte positions). */
  errorOffset = 0;

  /** True when the capture holds fewer bytes of the IP datagram than its header claims. */
  get truncated(): boolean {
    return this.l4Captured < this.l4Length;
  }
}

const chain = newIpv6Chain();

function fail(info: FrameInfo, layer: Layer, off: number, reason: WireError): FrameInfo {
  info.error = reason;
  info.errorLayer = layer;
  info.errorOffset = off - info.frameOffset;
  return info;
}

function reset(info: FrameInfo, linkType: number, b: Bytes, off: number, capLen: number): void {
  info.bytes = b;
  info.frameOffset = off;
  info.capLen = capLen;
  info.linkType = linkType;
  info.net = 'none';
  info.protocol = -1;
  info.vlanCount = 0;
  info.netOffset = off;
  info.ipHeaderLength = 0;
  info.addrOffset = 0;
  info.addrLen = 0;
  info.ttl = 0;
  info.l4Protocol = -1;
  info.l4Offset = 0;
  info.l4Length = 0;
  info.l4Captured = 0;
  info.trailerLength = 0;
  info.ipChecksumOk = true;
  info.fragment = false;
  info.fragOffset = 0;
  info.fragMore = false;
  info.fragId = 0;
  info.tcp = false;
  info.tcpHeaderLength = 0;
  info.tcpPayloadLength = 0;
  info.error = null;
  info.errorLayer = null;
  info.errorOffset = 0;
}

/** Decodes the frame b.u8[off, off+capLen) of link type `linkType` into `info` and returns it. */
export function decodeFrame(linkType: number, b: Bytes, off: number, capLen: number, info: FrameInfo): FrameInfo {
  if (linkType === LinkType.ETHERNET && decodeEthernetIpv4Tcp(b, off, capLen, info)) return info;
  return decodeFrameGeneral(linkType, b, off, capLen, info);
}

/**
 * For a pass that wants only a few frames (the listener pre-pass: SYNs), what the most common frame of
 * a busy capture says at fixed offsets, before any decoding: untagged Ethernet carrying an IPv4 header
 * of 20 bytes that is not a fragment gives its TCP flags byte (frame byte 47) when the datagram is TCP,
 * and 0 when it is not TCP (or too short to be); any other frame gives -1 (decode it to know).
 * Whatever it gives, decodeFrame finds no TCP header or one with these flags: the IP header's own
 * length puts the TCP header at byte 34, and an unfragmented datagram is never reassembled.
 */
export function ethernetIpv4TcpFlags(b: Bytes, off: number, capLen: number): number {
  const u8 = b.u8;
  const p = off + ETHERNET_HEADER_LEN;
  if (capLen < ETHERNET_HEADER_LEN + IPV4_HEADER_LEN || off < 0 || off + capLen > u8.length) return -1;
  // EtherType 0x0800, version 4 with IHL 5, fragment offset and MF clear (DF may be set).
  if (u8[off + 12] !== 0x08 || u8[off + 13] !== 0x00 || u8[p] !== 0x45 || ((u8[p + 6] as number) & 0x3f) !== 0 || u8[p + 7] !== 0) return -1;
  // A frame too short for a whole TCP header never decodes as TCP.
  if (u8[p + 9] !== IpProtocol.TCP || capLen < ETHERNET_HEADER_LEN + IPV4_HEADER_LEN + TCP_HEADER_LEN) return 0;
  return u8[p + IPV4_HEADER_LEN + 13] as number;
}

/**
 * The offset of the TCP header of the common frame of a busy capture (untagged Ethernet, an IPv4 header
 * that is not a fragment and claims a length, a TCP header present whole), or -1 for any other frame.
 * For such a frame decodeFrame gives `tcp` with this `l4Offset`.
 */
export function ethernetIpv4TcpOffset(b: Bytes, off: number, capLen: number): number {
  const u8 = b.u8;
  const dv = b.dv;
  const end = off + capLen;
  const p = off + ETHERNET_HEADER_LEN;
  if (off < 0 || end > u8.length || capLen < ETHERNET_HEADER_LEN + IPV4_HEADER_LEN + TCP_HEADER_LEN) return -1;
  if (dv.getUint16(off + ETHERNET_HEADER_LEN - 2) !== EtherType.IPV4) return -1;
  const vi = u8[p] as number;
  const hl = (vi & 0xf) * 4;
  const len = end - p;
  if (vi >> 4 !== 4 || hl < IPV4_HEADER_LEN || hl > len) return -1;
  const total = dv.getUint16(p + 2);
  // A total length of 0 (TSO) and fragments take the general path.
  if (total < hl || (dv.getUint16(p + 6) & 0x3fff) !== 0 || u8[p + 9] !== IpProtocol.TCP) return -1;
  const l4 = p + hl;
  const l4Length = total - hl;
  const l4Captured = l4Length < len - hl ? l4Length : len - hl;
  // TcpPacket.check's conditions for a header that is there whole.
  if (l4Length < TCP_HEADER_LEN || l4Captured < TCP_HEADER_LEN) return -1;
  const thl = ((u8[l4 + 12] as number) >> 4) * 4;
  if (thl < TCP_HEADER_LEN || thl > l4Length || thl > l4Captured) return -1;
  return l4;
}

/**
 * decodeFrame's fast path: the frame ethernetIpv4TcpOffset accepts, in one pass. Fills `info` exactly
 * as the general path would (test/wire/decode-fast.test.ts checks every frame of every shared capture)
 * without making a view per layer; any other frame returns false, and the general path decodes it.
 * Every field is written once, here (not reset first and then overwritten): this runs for nearly
 * every frame of a replay.
 */
function decodeEthernetIpv4Tcp(b: Bytes, off: number, capLen: number, info: FrameInfo): boolean {
  const l4 = ethernetIpv4TcpOffset(b, off, capLen);
  if (l4 < 0) return false;
  const u8 = b.u8;
  const p = off + ETHERNET_HEADER_LEN;
  const hl = l4 - p;
  const l4Length = b.dv.getUint16(p + 2) - hl;
  const room = off + capLen - l4;
  const l4Captured = l4Length < room ? l4Length : room;
  const thl = ((u8[l4 + 12] as number) >> 4) * 4;
  info.bytes = b;
  info.frameOffset = off;
  info.capLen = capLen;
  info.linkType = LinkType.ETHERNET;
  info.net = 'ipv4';
  info.protocol = EtherType.IPV4;
  info.vlanCount = 0;
  info.netOffset = p;
  info.ipHeaderLength = hl;
  info.addrOffset = p + 12;
  info.addrLen = 4;
  info.ttl = u8[p + 8] as number;
  info.l4Protocol = IpProtocol.TCP;
  info.l4Offset = l4;
  info.l4Length = l4Length;
  info.l4Captured = l4Captured;
  info.trailerLength = room - l4Captured;
  info.ipChecksumOk = ipv4HeaderVerifies(b, p, hl);
  info.fragment = false;
  info.fragOffset = 0;
  info.fragMore = false;
  info.fragId = 0;
  info.tcp = true;
  info.tcpHeaderLength = thl;
  info.tcpPayloadLength = l4Length - thl;
  info.error = null;
  info.errorLayer = null;
  info.errorOffset = 0;
  return true;
}

/** decodeFrame without the fast path (tests compare the two). */
export function decodeFrameGeneral(linkType: number, b: Bytes, off: number, capLen: number, info: FrameInfo): FrameInfo {
  reset(info, linkType, b, off, capLen);
  const end = off + capLen;
  let p: number;
  let protocol: number;
  switch (linkType) {
    case LinkType.ETHERNET: {
      const eth = EthernetView.check(b, off, capLen);
      if (typeof eth === 'string') return fail(info, 'link', off, eth);
      protocol = eth.etherType;
      p = off + ETHERNET_HEADER_LEN;
      // An 802.3 length field: LLC follows, nothing synack decodes.
      if (protocol <= ETHERNET_MAX_LENGTH_FIELD) {
        info.protocol = protocol;
        info.net = 'other';
        info.netOffset = p;
        return info;
      }
      break;
    }
    case LinkType.LINUX_SLL: {
      const sll = SllView.check(b, off, capLen);
      if (typeof sll === 'string') return fail(info, 'link', off, sll);
      protocol = sll.protocol;
      p = sll.payloadOffset;
      break;
    }
    case LinkType.LINUX_SLL2: {
      const sll2 = Sll2View.check(b, off, capLen);
      if (typeof sll2 === 'string') return fail(info, 'link', off, sll2);
      protocol = sll2.protocol;
      p = sll2.payloadOffset;
      break;
    }
    case LinkType.NULL:
    case LinkType.LOOP: {
      const lo = LoopbackView.check(b, off, capLen);
      if (typeof lo === 'string') return fail(info, 'link', off, lo);
      const family = lo.family(linkType === LinkType.LOOP ? 'loop' : 'null');
      info.protocol = family;
      const kind = bsdFamilyNetwork(family);
      return decodeIp(info, kind === 'other' ? 'other' : kind, b, lo.payloadOffset, end);
    }
    case LinkType.RAW_DLT12:
    case LinkType.RAW_DLT14:
    case LinkType.RAW: {
      if (capLen < 1) return fail(info, 'link', off, 'truncated');
      const version = (b.u8[off] as number) >> 4;
      return decodeIp(info, version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : 'other', b, off, end);
    }
    case LinkType.IPV4:
      return decodeIp(info, 'ipv4', b, off, end);
    case LinkType.IPV6:
      return decodeIp(info, 'ipv6', b, off, end);
    default:
      info.net = 'other';
      return info;
  }
  // EtherType-carrying link layers: walk VLAN tags (Ethernet, and SLL/SLL2 when the kernel left them in).
  while (isVlanTpid(protocol)) {
    if (info.vlanCount >= VLAN_MAX_DEPTH) break;
    const tag = VlanView.check(b, p, end - p);
    if (typeof tag === 'string') return fail(info, 'vlan', p, tag);
    info.vlanIds[info.vlanCount++] = tag.vid;
    protocol = tag.etherType;
    p += VLAN_TAG_LEN;
  }
  info.protocol = protocol;
  if (protocol === EtherType.IPV4) return decodeIp(info, 'ipv4', b, p, end);
  if (protocol === EtherType.IPV6) return decodeIp(info, 'ipv6', b, p, end);
  info.netOffset = p;
  info.net = protocol === EtherType.ARP ? 'arp' : 'other';
  return info;
}

function decodeIp(info: FrameInfo, kind: 'ipv4' | 'ipv6' | 'other', b: Bytes, p: number, end: number): FrameInfo {
  info.netOffset = p;
  info.net = kind;
  if (kind === 'ipv4') {
    const ip = Ipv4Packet.check(b, p, end - p);
    if (typeof ip === 'string') return fail(info, 'ipv4', p, ip);
    info.ipHeaderLength = ip.headerLength;
    info.addrOffset = ip.addressOffset;
    info.addrLen = 4;
    info.ttl = ip.ttl;
    info.l4Protocol = ip.protocol;
    info.l4Offset = ip.payloadOffset;
    info.l4Length = ip.payloadLength;
    info.l4Captured = ip.capturedPayloadLength;
    info.trailerLength = end - info.l4Offset - info.l4Captured;
    info.ipChecksumOk = ip.verifyChecksum();
    if (ip.isFragment) {
      info.fragment = true;
      info.fragOffset = ip.fragmentOffset;
      info.fragMore = ip.moreFragments;
      info.fragId = ip.identification;
      return info;
    }
  } else if (kind === 'ipv6') {
    const ip = Ipv6Packet.check(b, p, end - p);
    if (typeof ip === 'string') return fail(info, 'ipv6', p, ip);
    info.addrOffset = ip.addressOffset;
    info.addrLen = 16;
    info.ttl = ip.hopLimit;
    const walked = walkIpv6Headers(ip, chain);
    if (typeof walked === 'string') return fail(info, 'ipv6', p, walked);
    info.ipHeaderLength = walked.offset - p;
    info.l4Protocol = walked.protocol;
    info.l4Offset = walked.offset;
    info.l4Length = walked.length;
    info.l4Captured = walked.capturedLength;
    info.trailerLength = end - info.l4Offset - info.l4Captured;
    if (walked.fragmentHeader >= 0) {
      const at = walked.fragmentHeader;
      info.fragOffset = ipv6FragmentOffset(b, at);
      info.fragMore = ipv6MoreFragments(b, at);
      // An atomic fragment (offset 0, M clear; RFC 6946) is a whole datagram: decode on.
      if (info.fragOffset !== 0 || info.fragMore) {
        info.fragment = true;
        info.fragId = ipv6FragmentId(b, at);
        return info;
      }
    }
  } else {
    return info;
  }
  if (info.l4Protocol === IpProtocol.TCP) decodeTcp(info, b);
  return info;
}

/** Checks the TCP header at info.l4Offset (also used on reassembled datagrams, with their own bytes). */
export function decodeTcp(info: FrameInfo, b: Bytes): FrameInfo {
  const tcp = TcpPacket.check(b, info.l4Offset, info.l4Captured, info.l4Length);
  if (typeof tcp === 'string') {
    // A header the capture cut inside its options still has its fixed 20 bytes: ports, seq, ack, flags
    // and window are known (tcpdump and tshark show them too), and a snaplen-cut SYN is still a SYN to
    // demux. The frame keeps the 'truncated' error; the options are readable only as far as captured.
    if (tcp === 'truncated' && info.l4Captured >= TCP_HEADER_LEN) {
      info.tcp = true;
      info.tcpHeaderLength = ((b.u8[info.l4Offset + 12] as number) >> 4) * 4;
      info.tcpPayloadLength = info.l4Length - info.tcpHeaderLength;
    }
    return fail(info, 'tcp', info.l4Offset, tcp);
  }
  info.tcp = true;
  info.tcpHeaderLength = tcp.headerLength;
  info.tcpPayloadLength = info.l4Length - tcp.headerLength;
  return info;
}
