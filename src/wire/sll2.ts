/**
 * Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276): v1's fields reordered so the protocol comes first,
 * plus the interface index, which tells frames from different devices of an "any" capture apart.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Protocol type         |        Reserved (MBZ)         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Interface index                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          ARPHRD type          |  Packet type  |  Addr length  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * +      Link-layer address (8 bytes; unused bytes are zero)      +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Protocol, packet type and ARPHRD values are those of v1 (sll.ts). The interface index is signed, as
 * Linux's `int ifindex` is.
 */
import { copyOut } from './bytes.js';
import type { Bytes } from './bytes.js';
import type { WireError } from './errors.js';
import type { LinkNext } from './linktype.js';
import { linkAddressText, SLL_ADDR_FIELD_LEN, writeAddressField } from './sll.js';

const F = {
  PROTOCOL: 0,
  RESERVED: 2,
  IFINDEX: 4,
  ARPHRD_TYPE: 8,
  PACKET_TYPE: 10,
  ADDR_LEN: 11,
  ADDR: 12,
} as const;

export const SLL2_HEADER_LEN = 20;

export class Sll2View {
  constructor(
    readonly b: Bytes,
    readonly off: number,
    readonly len: number,
  ) {}

  static check(b: Bytes, off: number, len: number): Sll2View | WireError {
    if (len < SLL2_HEADER_LEN || off + len > b.u8.length) return 'truncated';
    return new Sll2View(b, off, len);
  }

  get protocol(): number { return this.b.dv.getUint16(this.off + F.PROTOCOL); }
  get reserved(): number { return this.b.dv.getUint16(this.off + F.RESERVED); }
  get ifindex(): number { return this.b.dv.getInt32(this.off + F.IFINDEX); }
  get arphrdType(): number { return this.b.dv.getUint16(this.off + F.ARPHRD_TYPE); }
  get packetType(): number { return this.b.u8[this.off + F.PACKET_TYPE] as number; }
  get addrLen(): number { return this.b.u8[this.off + F.ADDR_LEN] as number; }
  get addrOffset(): number { return this.off + F.ADDR; }
  /** The address as colon hex, `addrLen` bytes (at most 8); a MAC for ARPHRD_ETHER. */
  get addressText(): string { return linkAddressText(this.b, this.off + F.ADDR, this.addrLen); }
  get payloadOffset(): number { return this.off + SLL2_HEADER_LEN; }
  get payloadLength(): number { return this.len - SLL2_HEADER_LEN; }

  set protocol(v: number) { this.b.dv.setUint16(this.off + F.PROTOCOL, v); }
  set reserved(v: number) { this.b.dv.setUint16(this.off + F.RESERVED, v); }
  set ifindex(v: number) { this.b.dv.setInt32(this.off + F.IFINDEX, v); }
  set arphrdType(v: number) { this.b.dv.setUint16(this.off + F.ARPHRD_TYPE, v); }
  set packetType(v: number) { this.b.u8[this.off + F.PACKET_TYPE] = v; }
  set addrLen(v: number) { this.b.u8[this.off + F.ADDR_LEN] = v; }
}

export interface Sll2Repr {
  protocol: number;
  /** The must-be-zero field; present only when the bytes hold something else. */
  reserved?: number;
  ifindex: number;
  arphrdType: number;
  packetType: number;
  addrLen: number;
  /** All 8 bytes of the address field, including the bytes past `addrLen`. */
  address: Uint8Array;
}

export function parseSll2Repr(view: Sll2View): Sll2Repr {
  const repr: Sll2Repr = {
    protocol: view.protocol,
    ifindex: view.ifindex,
    arphrdType: view.arphrdType,
    packetType: view.packetType,
    addrLen: view.addrLen,
    address: copyOut(view.b, view.addrOffset, SLL_ADDR_FIELD_LEN),
  };
  if (view.reserved !== 0) repr.reserved = view.reserved;
  return repr;
}

export function sll2ReprHeaderLen(_repr: Sll2Repr): number {
  return SLL2_HEADER_LEN;
}

export function emitSll2Repr(repr: Sll2Repr, b: Bytes, off: number): number {
  const view = new Sll2View(b, off, SLL2_HEADER_LEN);
  view.protocol = repr.protocol;
  view.reserved = repr.reserved ?? 0;
  view.ifindex = repr.ifindex;
  view.arphrdType = repr.arphrdType;
  view.packetType = repr.packetType;
  view.addrLen = repr.addrLen;
  writeAddressField(repr.address, b, view.addrOffset);
  return SLL2_HEADER_LEN;
}

export function sll2Next(view: Sll2View): LinkNext {
  return { protocol: view.protocol, offset: view.payloadOffset, length: view.payloadLength };
}
