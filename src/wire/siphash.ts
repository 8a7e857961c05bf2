/**
 * SipHash-2-4 (Aumasson and Bernstein, 2012) on 32-bit halves, for the keyed hash Linux puts in
 * front of ephemeral port selection: secure_ipv4_port_ephemeral / secure_ipv6_port_ephemeral hash
 * (local address, remote address, remote port) with a boot-time secret (RFC 6056 section 3.3.4 "F").
 * Not on a per-packet path (connect() only), but allocation-free anyway: the caller passes the
 * output words. The key comes from the injected random source, never from Math.random.
 */

/** 128-bit key as four 32-bit words: k0 low, k0 high, k1 low, k1 high (k0, k1 little-endian). */
export type SipKey = Uint32Array;

export interface RandomSource {
  nextU32(): number;
}

export function sipKeyFrom(rand: RandomSource): SipKey {
  const k = new Uint32Array(4);
  for (let i = 0; i < 4; i++) k[i] = rand.nextU32();
  return k;
}

/** Key from 16 bytes, k0 = bytes 0..7 and k1 = bytes 8..15 little-endian, as the reference code reads it. */
export function sipKeyFromBytes(bytes: Uint8Array): SipKey {
  if (bytes.length !== 16) throw new RangeError('a SipHash key is 16 bytes');
  const k = new Uint32Array(4);
  for (let i = 0; i < 4; i++) k[i] = le32(bytes, 4 * i);
  return k;
}

// State words: v0 = S[0] (low), S[1] (high); v1 = S[2..3]; v2 = S[4..5]; v3 = S[6..7]; message word S[8..9].
const S = new Uint32Array(10);
const V0 = 0;
const V1 = 2;
const V2 = 4;
const V3 = 6;
const M = 8;

function add(a: number, b: number): void {
  const lo = (S[a] as number) + (S[b] as number);
  S[a] = lo;
  S[a + 1] = (S[a + 1] as number) + (S[b + 1] as number) + (lo > 0xffffffff ? 1 : 0);
}

function xor(a: number, b: number): void {
  S[a] = (S[a] as number) ^ (S[b] as number);
  S[a + 1] = (S[a + 1] as number) ^ (S[b + 1] as number);
}

function rotl(a: number, n: number): void {
  const lo = S[a] as number;
  const hi = S[a + 1] as number;
  if (n === 32) {
    S[a] = hi;
    S[a + 1] = lo;
    return;
  }
  S[a + 1] = (hi << n) | (lo >>> (32 - n));
  S[a] = (lo << n) | (hi >>> (32 - n));
}

function sipRound(): void {
  add(V0, V1); rotl(V1, 13); xor(V1, V0); rotl(V0, 32);
  add(V2, V3); rotl(V3, 16); xor(V3, V2);
  add(V0, V3); rotl(V3, 21); xor(V3, V0);
  add(V2, V1); rotl(V1, 17); xor(V1, V2); rotl(V2, 32);
}

function le32(b: Uint8Array, off: number): number {
  return ((b[off] as number) | ((b[off + 1] as number) << 8) | ((b[off + 2] as number) << 16) | ((b[off + 3] as number) << 24)) >>> 0;
}

function compress(lo: number, hi: number): void {
  S[M] = lo;
  S[M + 1] = hi;
  xor(V3, M);
  sipRound();
  sipRound();
  xor(V0, M);
}

/** SipHash-2-4 of msg[0..len) under key; writes the 64-bit result to out[0] (low) and out[1] (high). */
export function sipHash24(key: SipKey, msg: Uint8Array, len: number, out: Uint32Array): void {
  const k0lo = key[0] as number;
  const k0hi = key[1] as number;
  const k1lo = key[2] as number;
  const k1hi = key[3] as number;
  // "somepseudorandomlygeneratedbytes", the initialisation constants of the paper.
  S[V0] = k0lo ^ 0x70736575; S[V0 + 1] = k0hi ^ 0x736f6d65;
  S[V1] = k1lo ^ 0x6e646f6d; S[V1 + 1] = k1hi ^ 0x646f7261;
  S[V2] = k0lo ^ 0x6e657261; S[V2 + 1] = k0hi ^ 0x6c796765;
  S[V3] = k1lo ^ 0x79746573; S[V3 + 1] = k1hi ^ 0x74656462;
  const whole = len - (len % 8);
  for (let off = 0; off < whole; off += 8) compress(le32(msg, off), le32(msg, off + 4));
  // Last block: the 0..7 remaining bytes, little-endian, with len mod 256 in the top byte.
  let lo = 0;
  let hi = ((len & 0xff) << 24) >>> 0;
  for (let i = 0; i < len - whole; i++) {
    const byte = msg[whole + i] as number;
    if (i < 4) lo |= byte << (8 * i);
    else hi |= byte << (8 * (i - 4));
  }
  compress(lo >>> 0, hi >>> 0);
  S[V2] = (S[V2] as number) ^ 0xff;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  out[0] = (S[V0] as number) ^ (S[V1] as number) ^ (S[V2] as number) ^ (S[V3] as number);
  out[1] = (S[V0 + 1] as number) ^ (S[V1 + 1] as number) ^ (S[V2 + 1] as number) ^ (S[V3 + 1] as number);
}
