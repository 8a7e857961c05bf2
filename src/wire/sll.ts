/**
 * Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113): the pseudo-header libpcap writes when capturing on
 * "any" or on a device without a usable link header. It stands in for the link header that Linux took
 * off (or never had), and names the sender's link-layer address when the device has one.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Packet type          |          ARPHRD type          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Link-layer addr length    |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |      Link-layer address (8 bytes; unused bytes are zero)      |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |         Protocol type         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The protocol is an EtherType, except that Linux puts its own ETH_P_* pseudo-protocols (values below
 * 0x0600, `LinuxProtocol`) there for frames without one, and the GRE protocol or netlink family for some
 * ARPHRD types. An address longer than 8 bytes (InfiniBand's 20) keeps its true length in the length
 * field but only its first 8 bytes, as libpcap writes it; that is not an error.
 */
import type { MacAddress } from './address.js';
import { writeMac } from './address.js';
import { bytesOf, copyOut } from './bytes.js';
import type { Bytes } from './bytes.js';
import type { WireError } from './errors.js';
import type { LinkNext } from './linktype.js';

const F = {
  PACKET_TYPE: 0,
  ARPHRD_TYPE: 2,
  ADDR_LEN: 4,
  ADDR: 6,
  PROTOCOL: 14,
} as const;

export const SLL_HEADER_LEN = 16;
/** Size of the address field in both SLL versions. */
export const SLL_ADDR_FIELD_LEN = 8;

/** Linux `sll_pkttype` (PACKET_* in linux/if_packet.h): where the frame was going relative to us. */
export const SllPacketType = {
  /** Addressed to this host. */
  HOST: 0,
  BROADCAST: 1,
  MULTICAST: 2,
  /** Addressed to another host (promiscuous capture). */
  OTHERHOST: 3,
  /** Sent by this host. */
  OUTGOING: 4,
} as const;

/** Linux ARPHRD_* device types (linux/if_arp.h) seen in cooked captures. */
export const ArphrdType = {
  NETROM: 0,
  ETHER: 1,
  IEEE802: 6,
  INFINIBAND: 32,
  PPP: 512,
  TUNNEL: 768,
  TUNNEL6: 769,
  LOOPBACK: 772,
  SIT: 776,
  IPGRE: 778,
  IEEE80211: 801,
  IEEE80211_RADIOTAP: 803,
  NETLINK: 824,
  NONE: 0xfffe,
  VOID: 0xffff,
} as const;

/** Linux ETH_P_* pseudo-protocols that cooked headers carry instead of an EtherType. */
export const LinuxProtocol = {
  /** Novell "raw" 802.3 frame, no LLC. */
  P_802_3: 0x0001,
  /** 802.2 LLC frame. */
  P_802_2: 0x0004,
  CAN: 0x000c,
  CANFD: 0x000d,
} as const;

export class SllView {
  constructor(
    readonly b: Bytes,
    readonly off: number,
    readonly len: number,
  ) {}

  static check(b: Bytes, off: number, len: number): SllView | WireError {
    if (len < SLL_HEADER_LEN || off + len > b.u8.length) return 'truncated';
    return new SllView(b, off, len);
  }

  get packetType(): number { return this.b.dv.getUint16(this.off + F.PACKET_TYPE); }
  get arphrdType(): number { return this.b.dv.getUint16(this.off + F.ARPHRD_TYPE); }
  get addrLen(): number { return this.b.dv.getUint16(this.off + F.ADDR_LEN); }
  /** Offset of the 8-byte address field. */
  get addrOffset(): number { return this.off + F.ADDR; }
  /** The address as colon hex, `addrLen` bytes (at most 8); a MAC for ARPHRD_ETHER. */
  get addressText(): string { return linkAddressText(this.b, this.off + F.ADDR, this.addrLen); }
  get protocol(): number { return this.b.dv.getUint16(this.off + F.PROTOCOL); }
  get payloadOffset(): number { return this.off + SLL_HEADER_LEN; }
  get payloadLength(): number { return this.len - SLL_HEADER_LEN; }

  set packetType(v: number) { this.b.dv.setUint16(this.off + F.PACKET_TYPE, v); }
  set arphrdType(v: number) { this.b.dv.setUint16(this.off + F.ARPHRD_TYPE, v); }
  set addrLen(v: number) { this.b.dv.setUint16(this.off + F.ADDR_LEN, v); }
  set protocol(v: number) { this.b.dv.setUint16(this.off + F.PROTOCOL, v); }
}

export interface SllRepr {
  packetType: number;
  arphrdType: number;
  /** The length field as captured (may exceed 8, see the file comment). */
  addrLen: number;
  /** All 8 bytes of the address field, including the bytes past `addrLen`. */
  address: Uint8Array;
  protocol: number;
}

export function parseSllRepr(view: SllView): SllRepr {
  return {
    packetType: view.packetType,
    arphrdType: view.arphrdType,
    addrLen: view.addrLen,
    address: copyOut(view.b, view.addrOffset, SLL_ADDR_FIELD_LEN),
    protocol: view.protocol,
  };
}

export function sllReprHeaderLen(_repr: SllRepr): number {
  return SLL_HEADER_LEN;
}

export function emitSllRepr(repr: SllRepr, b: Bytes, off: number): number {
  const view = new SllView(b, off, SLL_HEADER_LEN);
  view.packetType = repr.packetType;
  view.arphrdType = repr.arphrdType;
  view.addrLen = repr.addrLen;
  writeAddressField(repr.address, b, view.addrOffset);
  view.protocol = repr.protocol;
  return SLL_HEADER_LEN;
}

export function sllNext(view: SllView): LinkNext {
  return { protocol: view.protocol, offset: view.payloadOffset, length: view.payloadLength };
}

/** The address of a record as colon hex (`addrLen` bytes, at most 8). */
export function sllAddressText(repr: { addrLen: number; address: Uint8Array }): string {
  return linkAddressText(bytesOf(repr.address), 0, Math.min(repr.addrLen, repr.address.length));
}

/** An 8-byte address field holding `mac` and two zero bytes, as Linux fills it for Ethernet. */
export function sllAddressOfMac(mac: MacAddress): Uint8Array {
  const u8 = new Uint8Array(SLL_ADDR_FIELD_LEN);
  writeMac(mac, bytesOf(u8), 0);
  return u8;
}

/** Colon hex of min(len, 8) bytes at `off` (shared with sll2.ts). */
export function linkAddressText(b: Bytes, off: number, len: number): string {
  let s = '';
  const n = Math.min(len, SLL_ADDR_FIELD_LEN);
  for (let i = 0; i < n; i++) {
    if (i) s += ':';
    s += (b.u8[off + i] as number).toString(16).padStart(2, '0');
  }
  return s;
}

/** Copies an 8-byte address field (shared with sll2.ts). */
export function writeAddressField(address: Uint8Array, b: Bytes, off: number): void {
  if (address.length !== SLL_ADDR_FIELD_LEN) {
    throw new RangeError(`SLL address field must be ${SLL_ADDR_FIELD_LEN} bytes, got ${address.length}`);
  }
  b.u8.set(address, off);
}
