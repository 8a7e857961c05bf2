/**
 * BSD loopback headers: LINKTYPE_NULL (0) and LINKTYPE_LOOP (108). Both are one 32-bit address family
 * (AF_INET, AF_INET6) in front of the IP packet.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Address family                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * NULL stores the family in the byte order of the host that CAPTURED the packet, which need not be the
 * byte order of the file (a file may be rewritten, or read on another machine), so it is detected from
 * the value: families are small numbers, so if the bytes read little-endian have zero high 16 bits the
 * writer was little-endian, and if they have zero low 16 bits instead it was big-endian. LOOP (OpenBSD)
 * always uses network byte order. AF_INET6 differs between BSDs (linktype.ts, `BsdAddressFamily`).
 */
import type { Bytes } from './bytes.js';
import type { WireError } from './errors.js';
import { bsdFamilyNetwork } from './linktype.js';
import type { NetworkKind } from './linktype.js';

const F = {
  FAMILY: 0,
} as const;

export const LOOPBACK_HEADER_LEN = 4;

export type LoopbackByteOrder = 'le' | 'be';
/** Which link type the header came from: NULL detects the byte order, LOOP is always big-endian. */
export type LoopbackKind = 'null' | 'loop';

export class LoopbackView {
  constructor(
    readonly b: Bytes,
    readonly off: number,
    readonly len: number,
  ) {}

  static check(b: Bytes, off: number, len: number): LoopbackView | WireError {
    if (len < LOOPBACK_HEADER_LEN || off + len > b.u8.length) return 'truncated';
    return new LoopbackView(b, off, len);
  }

  get familyLe(): number { return this.b.dv.getUint32(this.off + F.FAMILY, true); }
  get familyBe(): number { return this.b.dv.getUint32(this.off + F.FAMILY, false); }
  /**
   * The capturing host's byte order, guessed from the value (file comment). A value that is small in
   * neither order (not a family at all) counts as little-endian, which still round-trips exactly.
   */
  get detectedByteOrder(): LoopbackByteOrder {
    const le = this.familyLe;
    if (le >>> 16 === 0) return 'le';
    return (le & 0xffff) === 0 ? 'be' : 'le';
  }
  byteOrder(kind: LoopbackKind): LoopbackByteOrder {
    return kind === 'loop' ? 'be' : this.detectedByteOrder;
  }
  family(kind: LoopbackKind): number {
    return this.byteOrder(kind) === 'be' ? this.familyBe : this.familyLe;
  }
  get payloadOffset(): number { return this.off + LOOPBACK_HEADER_LEN; }
  get payloadLength(): number { return this.len - LOOPBACK_HEADER_LEN; }

  setFamily(family: number, order: LoopbackByteOrder): void {
    this.b.dv.setUint32(this.off + F.FAMILY, family, order === 'le');
  }
}

export interface LoopbackRepr {
  family: number;
  byteOrder: LoopbackByteOrder;
}

export function parseLoopbackRepr(view: LoopbackView, kind: LoopbackKind = 'null'): LoopbackRepr {
  const byteOrder = view.byteOrder(kind);
  return { family: byteOrder === 'be' ? view.familyBe : view.familyLe, byteOrder };
}

export function loopbackReprHeaderLen(_repr: LoopbackRepr): number {
  return LOOPBACK_HEADER_LEN;
}

export function emitLoopbackRepr(repr: LoopbackRepr, b: Bytes, off: number): number {
  new LoopbackView(b, off, LOOPBACK_HEADER_LEN).setFamily(repr.family, repr.byteOrder);
  return LOOPBACK_HEADER_LEN;
}

/** What follows a NULL/LOOP header: the family, the network layer it names, and where its bytes are. */
export interface LoopbackNext {
  readonly network: NetworkKind;
  readonly family: number;
  readonly offset: number;
  readonly length: number;
}

export function loopbackNext(view: LoopbackView, kind: LoopbackKind = 'null'): LoopbackNext {
  const family = view.family(kind);
  return { network: bsdFamilyNetwork(family), family, offset: view.payloadOffset, length: view.payloadLength };
}
