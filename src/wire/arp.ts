/**
 * ARP (RFC 826), also the carrier of RARP and InARP operations. The header names its own address sizes,
 * so any hardware/protocol pair decodes; Ethernet/IPv4 (6- and 4-byte addresses) gets text addresses in
 * the record, everything else keeps its addresses as raw bytes.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Hardware type         |         Protocol type         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Hw addr len  | Proto addr len|           Operation           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            Sender hardware address (hw addr len bytes)        |
 * |            Sender protocol address (proto addr len bytes)     |
 * |            Target hardware address (hw addr len bytes)        |
 * |            Target protocol address (proto addr len bytes)     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * On Ethernet the packet is 28 bytes and the frame is padded to 60; the padding is not part of ARP and
 * is left to whoever holds the frame. Whether a packet is acceptable for an interface (Linux's arp_rcv
 * drops a hardware length other than the device's, or a protocol length other than 4) is the host's
 * decision, not the codec's.
 */
import { formatIpv4, formatMac, writeIpv4, writeMac } from './address.js';
import type { Ipv4Address, MacAddress } from './address.js';
import { copyOut } from './bytes.js';
import type { Bytes } from './bytes.js';
import type { WireError } from './errors.js';
import { EtherType } from './linktype.js';

const F = {
  HARDWARE_TYPE: 0,
  PROTOCOL_TYPE: 2,
  HARDWARE_LEN: 4,
  PROTOCOL_LEN: 5,
  OPERATION: 6,
  ADDRESSES: 8,
} as const;

export const ARP_FIXED_LEN = 8;
/** The whole packet for Ethernet/IPv4. */
export const ARP_ETHERNET_IPV4_LEN = 28;

/** `ar_op` values (RFC 826, RFC 903 for RARP, RFC 2390 for InARP). */
export const ArpOperation = {
  REQUEST: 1,
  REPLY: 2,
  RARP_REQUEST: 3,
  RARP_REPLY: 4,
  INARP_REQUEST: 8,
  INARP_REPLY: 9,
} as const;

/** `ar_hrd` values (IANA "Hardware Types"). */
export const ArpHardwareType = {
  ETHERNET: 1,
  IEEE802: 6,
  INFINIBAND: 32,
} as const;

export class ArpView {
  constructor(
    readonly b: Bytes,
    readonly off: number,
    readonly len: number,
  ) {}

  /** Both address lengths come from the header, so the packet length is checked against them. */
  static check(b: Bytes, off: number, len: number): ArpView | WireError {
    if (len < ARP_FIXED_LEN || off + len > b.u8.length) return 'truncated';
    const view = new ArpView(b, off, len);
    if (len < view.packetLength) return 'truncated';
    return view;
  }

  get hardwareType(): number { return this.b.dv.getUint16(this.off + F.HARDWARE_TYPE); }
  get protocolType(): number { return this.b.dv.getUint16(this.off + F.PROTOCOL_TYPE); }
  get hardwareLen(): number { return this.b.u8[this.off + F.HARDWARE_LEN] as number; }
  get protocolLen(): number { return this.b.u8[this.off + F.PROTOCOL_LEN] as number; }
  get operation(): number { return this.b.dv.getUint16(this.off + F.OPERATION); }
  /** 8 + 2 * (hardware length + protocol length); the bytes after it (padding) are not ARP. */
  get packetLength(): number { return ARP_FIXED_LEN + 2 * (this.hardwareLen + this.protocolLen); }
  /** 6-byte hardware and 4-byte protocol addresses: the text getters below apply. */
  get isEthernetIpv4(): boolean { return this.hardwareLen === 6 && this.protocolLen === 4; }

  get senderHardwareOffset(): number { return this.off + F.ADDRESSES; }
  get senderProtocolOffset(): number { return this.senderHardwareOffset + this.hardwareLen; }
  get targetHardwareOffset(): number { return this.senderProtocolOffset + this.protocolLen; }
  get targetProtocolOffset(): number { return this.targetHardwareOffset + this.hardwareLen; }

  // Text and numeric addresses, meaningful only when isEthernetIpv4.
  get senderMac(): MacAddress { return formatMac(this.b, this.senderHardwareOffset); }
  get senderIp(): Ipv4Address { return formatIpv4(this.b, this.senderProtocolOffset); }
  get targetMac(): MacAddress { return formatMac(this.b, this.targetHardwareOffset); }
  get targetIp(): Ipv4Address { return formatIpv4(this.b, this.targetProtocolOffset); }
  get senderIpU32(): number { return this.b.dv.getUint32(this.senderProtocolOffset); }
  get targetIpU32(): number { return this.b.dv.getUint32(this.targetProtocolOffset); }

  set hardwareType(v: number) { this.b.dv.setUint16(this.off + F.HARDWARE_TYPE, v); }
  set protocolType(v: number) { this.b.dv.setUint16(this.off + F.PROTOCOL_TYPE, v); }
  set hardwareLen(v: number) { this.b.u8[this.off + F.HARDWARE_LEN] = v; }
  set protocolLen(v: number) { this.b.u8[this.off + F.PROTOCOL_LEN] = v; }
  set operation(v: number) { this.b.dv.setUint16(this.off + F.OPERATION, v); }
}

/**
 * A packet with 6-byte hardware and 4-byte protocol addresses. The types default to Ethernet and IPv4:
 * parse sets them only when the bytes hold something else (IEEE 802 hardware, say).
 */
export interface ArpEthernetIpv4Repr {
  kind: 'ethernet-ipv4';
  hardwareType?: number;
  protocolType?: number;
  operation: number;
  senderMac: MacAddress;
  senderIp: Ipv4Address;
  targetMac: MacAddress;
  targetIp: Ipv4Address;
}

/** Any other address sizes; the lengths are those of the arrays (sender and target must agree). */
export interface ArpRawRepr {
  kind: 'raw';
  hardwareType: number;
  protocolType: number;
  operation: number;
  senderHardware: Uint8Array;
  senderProtocol: Uint8Array;
  targetHardware: Uint8Array;
  targetProtocol: Uint8Array;
}

export type ArpRepr = ArpEthernetIpv4Repr | ArpRawRepr;

export function parseArpRepr(view: ArpView): ArpRepr {
  if (view.isEthernetIpv4) {
    const repr: ArpEthernetIpv4Repr = {
      kind: 'ethernet-ipv4',
      operation: view.operation,
      senderMac: view.senderMac,
      senderIp: view.senderIp,
      targetMac: view.targetMac,
      targetIp: view.targetIp,
    };
    if (view.hardwareType !== ArpHardwareType.ETHERNET) repr.hardwareType = view.hardwareType;
    if (view.protocolType !== EtherType.IPV4) repr.protocolType = view.protocolType;
    return repr;
  }
  return {
    kind: 'raw',
    hardwareType: view.hardwareType,
    protocolType: view.protocolType,
    operation: view.operation,
    senderHardware: copyOut(view.b, view.senderHardwareOffset, view.hardwareLen),
    senderProtocol: copyOut(view.b, view.senderProtocolOffset, view.protocolLen),
    targetHardware: copyOut(view.b, view.targetHardwareOffset, view.hardwareLen),
    targetProtocol: copyOut(view.b, view.targetProtocolOffset, view.protocolLen),
  };
}

/** Bytes `emitArpRepr` writes (no padding). */
export function arpReprLen(repr: ArpRepr): number {
  if (repr.kind === 'ethernet-ipv4') return ARP_ETHERNET_IPV4_LEN;
  return ARP_FIXED_LEN + 2 * (repr.senderHardware.length + repr.senderProtocol.length);
}

export function emitArpRepr(repr: ArpRepr, b: Bytes, off: number): number {
  const view = new ArpView(b, off, arpReprLen(repr));
  view.operation = repr.operation;
  if (repr.kind === 'ethernet-ipv4') {
    view.hardwareType = repr.hardwareType ?? ArpHardwareType.ETHERNET;
    view.protocolType = repr.protocolType ?? EtherType.IPV4;
    view.hardwareLen = 6;
    view.protocolLen = 4;
    writeMac(repr.senderMac, b, view.senderHardwareOffset);
    writeIpv4(repr.senderIp, b, view.senderProtocolOffset);
    writeMac(repr.targetMac, b, view.targetHardwareOffset);
    writeIpv4(repr.targetIp, b, view.targetProtocolOffset);
    return ARP_ETHERNET_IPV4_LEN;
  }
  const hlen = repr.senderHardware.length;
  const plen = repr.senderProtocol.length;
  if (repr.targetHardware.length !== hlen || repr.targetProtocol.length !== plen || hlen > 255 || plen > 255) {
    throw new RangeError(
      `ARP address sizes disagree or exceed 255: hardware ${hlen}/${repr.targetHardware.length}, ` +
        `protocol ${plen}/${repr.targetProtocol.length}`,
    );
  }
  view.hardwareType = repr.hardwareType;
  view.protocolType = repr.protocolType;
  view.hardwareLen = hlen;
  view.protocolLen = plen;
  b.u8.set(repr.senderHardware, view.senderHardwareOffset);
  b.u8.set(repr.senderProtocol, view.senderProtocolOffset);
  b.u8.set(repr.targetHardware, view.targetHardwareOffset);
  b.u8.set(repr.targetProtocol, view.targetProtocolOffset);
  return view.packetLength;
}
