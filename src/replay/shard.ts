/**
 * The shard of a TCP frame in a parallel replay: a symmetric hash of its 4-tuple, as a NIC's
 * receive-side scaling spreads flows over queues with a symmetric key, so both directions of a
 * connection (and every connection reusing the 4-tuple, on any VLAN or interface) reach the same
 * shard, which then owns everything about that 4-tuple.
 *
 * The hash, so other tools (or machines) can split a capture the same way:
 *   fmix32(x) = murmur3's finalizer: x ^= x >>> 16; x *= 0x85ebca6b; x ^= x >>> 13; x *= 0xc2b2ae35; x ^= x >>> 16
 *   addr(A)   = the IPv4 address as a big-endian u32; for IPv6 (other than v4-mapped ::ffff:a.b.c.d,
 *               which is its IPv4 address) fmix32(w0 ^ fmix32(w1 ^ fmix32(w2 ^ fmix32(w3)))) over
 *               its four big-endian words
 *   end(A, P) = fmix32(addr(A) ^ (P * 0x9e3779b1))                      (u32 arithmetic throughout)
 *   hash      = fmix32(end(src, sport) + end(dst, dport))               (the sum: either order)
 *   shard     = hash mod N
 * The link (VLAN tags, capture interface) is left out on purpose: a reply that comes back untagged
 * still belongs to its connection (tracker.ts adopts it), so it must reach the same shard.
 */
import type { Bytes } from '../wire/bytes.js';

function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function endHash(addr: number, port: number): number {
  return fmix32(addr ^ Math.imul(port, 0x9e3779b1));
}

/** An address (4 or 16 bytes at b[off..]) as the hash's 32-bit word. */
function addrWord(b: Bytes, off: number, len: number): number {
  const dv = b.dv;
  if (len === 4) return dv.getUint32(off);
  const w0 = dv.getUint32(off);
  const w1 = dv.getUint32(off + 4);
  const w2 = dv.getUint32(off + 8);
  const w3 = dv.getUint32(off + 12);
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return w3;
  return fmix32(w0 ^ fmix32(w1 ^ fmix32(w2 ^ fmix32(w3))));
}

/**
 * The symmetric 4-tuple hash of a TCP segment: addresses at b[addrOff..] (source then destination,
 * `addrLen` bytes each, as the IP header holds them), ports at b[l4Off..].
 */
export function tupleHash(b: Bytes, addrOff: number, addrLen: number, l4Off: number): number {
  const dv = b.dv;
  const x = endHash(addrWord(b, addrOff, addrLen), dv.getUint16(l4Off));
  const y = endHash(addrWord(b, addrOff + addrLen, addrLen), dv.getUint16(l4Off + 2));
  return fmix32((x + y) >>> 0);
}

/** The same hash from address words (IPv4: the address in `a3`/`z3`, the rest 0 and `v6` false). */
export function tupleHashWords(v6: boolean, a: readonly number[], aPort: number, z: readonly number[], zPort: number): number {
  const word = (w: readonly number[]): number => {
    const [w0 = 0, w1 = 0, w2 = 0, w3 = 0] = w;
    if (!v6 || (w0 === 0 && w1 === 0 && w2 === 0xffff)) return w3 >>> 0;
    return fmix32(w0 ^ fmix32(w1 ^ fmix32(w2 ^ fmix32(w3))));
  };
  return fmix32((endHash(word(a), aPort) + endHash(word(z), zPort)) >>> 0);
}
