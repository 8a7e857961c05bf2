/**
 * Ethernet II header (IEEE 802.3 clause 3.2, DIX framing). The FCS is not in captures and not modelled.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Destination address                       |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                        Source address                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     EtherType (or length)     |  payload (first VLAN tag, IP, ARP, ...)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * A value <= 1500 in the EtherType slot is an 802.3 length and the payload starts with an LLC header;
 * such frames decode with `etherType` holding the length and the payload left opaque (nothing above
 * needs LLC). Short frames carry padding up to 60 bytes: it stays in the payload, and the IP layer's own
 * length tells where the datagram ends.
 */
import { formatMac, writeMac } from './address.js';
import type { MacAddress } from './address.js';
import type { Bytes } from './bytes.js';
import type { WireError } from './errors.js';
import { ETHERNET_MAX_LENGTH_FIELD } from './linktype.js';
import type { LinkNext } from './linktype.js';

const F = {
  DST: 0,
  SRC: 6,
  ETHER_TYPE: 12,
} as const;

export const ETHERNET_HEADER_LEN = 14;

export class EthernetView {
  constructor(
    readonly b: Bytes,
    readonly off: number,
    readonly len: number,
  ) {}

  static check(b: Bytes, off: number, len: number): EthernetView | WireError {
    if (len < ETHERNET_HEADER_LEN || off + len > b.u8.length) return 'truncated';
    return new EthernetView(b, off, len);
  }

  get dst(): MacAddress { return formatMac(this.b, this.off + F.DST); }
  get src(): MacAddress { return formatMac(this.b, this.off + F.SRC); }
  get etherType(): number { return this.b.dv.getUint16(this.off + F.ETHER_TYPE); }
  /** 802.3 framing: the EtherType slot holds the payload length. */
  get isLengthField(): boolean { return this.etherType <= ETHERNET_MAX_LENGTH_FIELD; }
  /** The I/G bit (first bit on the wire): group address, which includes broadcast. */
  get dstIsGroup(): boolean { return ((this.b.u8[this.off + F.DST] as number) & 1) !== 0; }
  get dstIsBroadcast(): boolean {
    const u = this.b.u8;
    for (let i = 0; i < 6; i++) if (u[this.off + F.DST + i] !== 0xff) return false;
    return true;
  }
  get payloadOffset(): number { return this.off + ETHERNET_HEADER_LEN; }
  get payloadLength(): number { return this.len - ETHERNET_HEADER_LEN; }

  setDst(mac: MacAddress): void { writeMac(mac, this.b, this.off + F.DST); }
  setSrc(mac: MacAddress): void { writeMac(mac, this.b, this.off + F.SRC); }
  set etherType(v: number) { this.b.dv.setUint16(this.off + F.ETHER_TYPE, v); }
}

/**
 * The Ethernet header. With VLAN tags, `etherType` is the outermost tag's TPID (vlan.ts explains where
 * each TPID lives); otherwise it is the payload's EtherType, or the 802.3 length.
 */
export interface EthernetRepr {
  dst: MacAddress;
  src: MacAddress;
  etherType: number;
}

export function parseEthernetRepr(view: EthernetView): EthernetRepr {
  return { dst: view.dst, src: view.src, etherType: view.etherType };
}

export function ethernetReprHeaderLen(_repr: EthernetRepr): number {
  return ETHERNET_HEADER_LEN;
}

export function emitEthernetRepr(repr: EthernetRepr, b: Bytes, off: number): number {
  const view = new EthernetView(b, off, ETHERNET_HEADER_LEN);
  view.setDst(repr.dst);
  view.setSrc(repr.src);
  view.etherType = repr.etherType;
  return ETHERNET_HEADER_LEN;
}

/** The EtherType (or 802.3 length) and the payload after the 14-byte header; VLAN tags are not walked. */
export function ethernetNext(view: EthernetView): LinkNext {
  return { protocol: view.etherType, offset: view.payloadOffset, length: view.payloadLength };
}
