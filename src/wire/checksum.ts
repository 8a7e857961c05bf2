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
  return ~fold16(acc) & 0xffff;
}

/**
 * A non-negative running sum folded to 16 bits with end-around carries: 1..0xffff for a positive sum, 0
 * for 0. A sum that is a small integer (every packet's) takes two carries and no loop: the first leaves
 * at most 0x1fffe, the second at most 0xffff. Beyond 2^31, a division per step.
 */
function fold16(acc: number): number {
  if (acc <= 0x7fffffff) {
    const s = (acc & 0xffff) + (acc >>> 16);
    return (s & 0xffff) + (s >>> 16);
  }
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
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
  return fold16(acc + swapFolded(sumLe(b, off, len, 0))) === 0xffff;
}

/**
 * sumVerifies(b, off, hl, 0) for an IPv4 header of `hl` (20 or more) bytes, checked for nearly every
 * frame: the fixed 20 bytes as five words in one expression, the options (rare) after them.
 */
export function ipv4HeaderVerifies(b: Bytes, off: number, hl: number): boolean {
  const dv = b.dv;
  const w0 = dv.getUint32(off, true);
  const w1 = dv.getUint32(off + 4, true);
  const w2 = dv.getUint32(off + 8, true);
  const w3 = dv.getUint32(off + 12, true);
  const w4 = dv.getUint32(off + 16, true);
  let s = (w0 >>> 16) + (w0 & 0xffff) + (w1 >>> 16) + (w1 & 0xffff) + (w2 >>> 16) + (w2 & 0xffff);
  s += (w3 >>> 16) + (w3 & 0xffff) + (w4 >>> 16) + (w4 & 0xffff);
  if (hl > 20) s = sumLe(b, off + 20, hl - 20, s);
  // With no accumulator the byte swap cannot change the verdict: 0xffff swaps to itself.
  return fold16(s) === 0xffff;
}

/**
 * sumVerifies of a TCP or UDP segment b[off, off+len) with its pseudo-header (pseudoHeaderSum's: the
 * two addresses at `addrOff`, the protocol, the length `len`), in one pass: the addresses are summed
 * little-endian with the segment (any 16-bit-aligned run of bytes may join the sum; RFC 1071 §2(A)),
 * so only protocol and length are added after the byte swap.
 */
export function segmentVerifies(b: Bytes, addrOff: number, addrLen: 4 | 16, proto: number, off: number, len: number): boolean {
  let le = sumLe(b, off, len, 0);
  if (addrLen === 4) {
    // IPv4's two addresses as two words, in place (the call to sumLe is the larger cost for 8 bytes).
    const src = b.dv.getUint32(addrOff, true);
    const dst = b.dv.getUint32(addrOff + 4, true);
    le += (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
  } else {
    le = sumLe(b, addrOff, 32, le);
  }
  // An upper-layer length is below 2^32 (RFC 8200 §8.1: a 32-bit field), so a shift splits it.
  return fold16(swapFolded(le) + proto + (len & 0xffff) + (len >>> 16)) === 0xffff;
}

/**
 * `acc` plus the little-endian 16-bit words of b[off, off+len), a last odd byte as the low byte of a
 * word (the high byte of its big-endian word, padded with zero). Eight bytes a step, in two sums that
 * do not wait for each other; the split of each 32-bit word keeps every addition a small integer.
 */
function sumLe(b: Bytes, off: number, len: number, acc: number): number {
  const dv = b.dv;
  let s = acc;
  let t = 0;
  let i = off;
  const end = off + len;
  for (const end8 = end - 7; i < end8; i += 8) {
    const w = dv.getUint32(i, true);
    const v = dv.getUint32(i + 4, true);
    s += (w >>> 16) + (w & 0xffff);
    t += (v >>> 16) + (v & 0xffff);
  }
  const rest = end - i;
  if (rest >= 4) {
    const w = dv.getUint32(i, true);
    s += (w >>> 16) + (w & 0xffff);
    i += 4;
  }
  if ((rest & 2) !== 0) {
    t += dv.getUint16(i, true);
    i += 2;
  }
  if ((rest & 1) !== 0) t += b.u8[i] as number;
  return s + t;
}

/** A little-endian sum, folded and byte-swapped: the same 16-bit ones' complement value, big-endian. */
function swapFolded(le: number): number {
  const s = fold16(le);
  return ((s & 0xff) << 8) | (s >>> 8);
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
