/**
 * The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit words.
 * Sums are kept unfolded in a JS number (safe far beyond any packet length) and folded once at the end.
 */
import type { Bytes } from './bytes.js';

/** Adds the 16-bit big-endian words of b[off, off+len) to `acc`; an odd last byte is padded with zero. */
export function sum16(b: Bytes, off: number, len: number, acc = 0): number {
  const dv = b.dv;
  let i = off;
  const end = off + len - 1;
  for (; i < end; i += 2) acc += dv.getUint16(i);
  if (i === end) acc += (b.u8[i] as number) << 8;
  return acc;
}

/** Folds a running sum to 16 bits and complements it: the value that goes in the checksum field. */
export function finishChecksum(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/** True when a region that includes its own checksum field sums to 0xffff (i.e. verifies). */
export function checksumOk(acc: number): boolean {
  return finishChecksum(acc) === 0;
}

/**
 * `checksumOk(sum16(b, off, len, acc))`, four bytes at a time: what verifying every captured segment
 * costs. The ones' complement sum does not depend on byte order (RFC 1071 §2(B)): read little-endian,
 * each 16-bit word is its big-endian value times 2^8 modulo 0xffff (a byte swap), and a 32-bit word is
 * its two halves (2^16 ≡ 1). So the little-endian sum, folded to 16 bits and byte-swapped, stands for
 * the big-endian one. Only integer operations: a modulo of a sum past 2^31 would be a floating-point
 * remainder, slower than the whole loop.
 */
export function sumVerifies(b: Bytes, off: number, len: number, acc: number): boolean {
  const dv = b.dv;
  let s = 0;
  let i = off;
  for (const end4 = off + len - 3; i < end4; i += 4) {
    const w = dv.getUint32(i, true);
    s += (w >>> 16) + (w & 0xffff);
  }
  const end = off + len;
  if (end - i >= 2) {
    s += dv.getUint16(i, true);
    i += 2;
  }
  // A last odd byte is the high byte of a big-endian word padded with zero: the low byte of a little-endian one.
  if (i < end) s += b.u8[i] as number;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  // Folded, a positive sum is 1..0xffff and verifies at 0xffff; a zero sum (no bytes, no pseudo-header) does not.
  return finishChecksum(acc + (((s & 0xff) << 8) | (s >>> 8))) === 0;
}

/**
 * Partial sum of the TCP/UDP pseudo-header, read from the IP header bytes themselves: source and
 * destination address (4 or 16 bytes each, adjacent in both IPv4 and IPv6), protocol and upper-layer
 * length (RFC 9293 §3.1 for IPv4, RFC 8200 §8.1 for IPv6).
 */
export function pseudoHeaderSum(b: Bytes, addrOff: number, addrLen: 4 | 16, proto: number, l4len: number): number {
  return sum16(b, addrOff, 2 * addrLen) + proto + (l4len & 0xffff) + Math.floor(l4len / 0x10000);
}

/** Pseudo-header sum from text addresses, for callers building a segment from records. */
export function pseudoHeaderSumOf(src: string, dst: string, proto: number, l4len: number): number {
  return addressSum(src) + addressSum(dst) + proto + (l4len & 0xffff) + Math.floor(l4len / 0x10000);
}

import { isIpv4, writeIpv4, writeIpv6 } from './address.js';
import { allocBytes } from './bytes.js';

const scratch = allocBytes(16);
function addressSum(addr: string): number {
  if (isIpv4(addr)) {
    writeIpv4(addr, scratch, 0);
    return sum16(scratch, 0, 4);
  }
  writeIpv6(addr, scratch, 0);
  return sum16(scratch, 0, 16);
}
