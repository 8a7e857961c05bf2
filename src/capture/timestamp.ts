/**
 * Timestamps: pcapng counts time in units of an interface's `if_tsresol` (10^-n or 2^-n seconds) in a
 * 64-bit number split in two 32-bit halves; synack keeps absolute time as whole seconds + nanoseconds.
 *
 * A 64-bit count does not fit a JS number exactly (2^53), and a BigInt per frame would allocate, so the
 * common resolutions (up to 2^32 units per second: 10^0..10^9 and 2^0..2^32) divide the count by 16-bit
 * limbs, where every intermediate stays below 2^48. Rarer resolutions (picoseconds, 2^-40) use BigInt.
 * Sub-nanosecond remainders are truncated, as Wireshark does (a 2^-20 s tick of 123457 reads .117737770).
 */

/** A decoded `if_tsresol` (pcapng §4.2 option 9): MSB clear = 10^-n s, MSB set = 2^-n s; default 6. */
export interface TsResolution {
  /** The option byte as stored. */
  readonly raw: number;
  /** Units per second; exact up to 2^53. */
  readonly unitsPerSec: number;
  /** Nanoseconds = remainder * mul (power of ten, n <= 9). */
  readonly mul: number;
  /** For 2^-n with n <= 32: nanoseconds = floor(remainder * 1953125 / 2^(n-9)) (1e9 = 2^9 * 1953125). */
  readonly pow2: number;
  /** Set when the fast path does not apply (units per second > 2^32). */
  readonly big: bigint | null;
}

const TWO32 = 4294967296;

/** Decodes an `if_tsresol` byte, or null when it names a resolution finer than a 64-bit count can hold. */
export function tsResolution(raw: number): TsResolution | null {
  const n = raw & 0x7f;
  if ((raw & 0x80) === 0) {
    // 10^19 is the largest power of ten below 2^64.
    if (n > 19) return null;
    if (n <= 9) return { raw, unitsPerSec: 10 ** n, mul: 10 ** (9 - n), pow2: -1, big: null };
    return { raw, unitsPerSec: 10 ** n, mul: 0, pow2: -1, big: 10n ** BigInt(n) };
  }
  if (n > 63) return null;
  if (n <= 32) return { raw, unitsPerSec: 2 ** n, mul: 0, pow2: n, big: null };
  return { raw, unitsPerSec: 2 ** n, mul: 0, pow2: -1, big: 1n << BigInt(n) };
}

export const MICROSECONDS: TsResolution = tsResolution(6) as TsResolution;
export const NANOSECONDS: TsResolution = tsResolution(9) as TsResolution;

/** Where a split timestamp goes: the reader's reused frame. */
export interface TimeOut {
  tsSec: number;
  tsNsec: number;
}

/** Converts the 64-bit unit count `hi:lo` at resolution `r` into seconds (+ `offsetSec`) and nanoseconds. */
export function unitsToTime(hi: number, lo: number, r: TsResolution, offsetSec: number, out: TimeOut): void {
  if (r.big !== null) {
    const units = (BigInt(hi) << 32n) | BigInt(lo);
    const sec = units / r.big;
    const rem = units % r.big;
    out.tsSec = Number(sec) + offsetSec;
    out.tsNsec = Number((rem * 1_000_000_000n) / r.big);
    return;
  }
  const d = r.unitsPerSec;
  // Long division of hi:lo by d, 16 bits at a time: a remainder < d <= 2^32 times 2^16 stays < 2^48.
  let cur = hi >>> 16;
  const q3 = Math.floor(cur / d);
  let rem = cur - q3 * d;
  cur = rem * 65536 + (hi & 0xffff);
  const q2 = Math.floor(cur / d);
  rem = cur - q2 * d;
  cur = rem * 65536 + (lo >>> 16);
  const q1 = Math.floor(cur / d);
  rem = cur - q1 * d;
  cur = rem * 65536 + (lo & 0xffff);
  const q0 = Math.floor(cur / d);
  rem = cur - q0 * d;
  out.tsSec = ((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0 + offsetSec;
  if (r.pow2 < 0) {
    out.tsNsec = rem * r.mul;
  } else {
    // rem < 2^32 and 1953125 < 2^21: the product is < 2^53, exact; dividing by a power of two is exact too.
    const x = rem * 1953125;
    out.tsNsec = r.pow2 >= 9 ? Math.floor(x / 2 ** (r.pow2 - 9)) : x * 2 ** (9 - r.pow2);
  }
}

/** Where `timeToNanoUnits` puts the two halves of the 64-bit nanosecond count. */
export interface Units64 {
  hi: number;
  lo: number;
}

/**
 * tsSec * 10^9 + tsNsec as two 32-bit halves, exactly (a plain multiply would round above 2^53).
 * Splitting the seconds at 2^16 keeps each partial product below 2^48.
 */
export function timeToNanoUnits(tsSec: number, tsNsec: number, out: Units64): void {
  timeToUnits(tsSec, tsNsec, 1_000_000_000, out);
}

/**
 * tsSec * perSec + sub (sub < perSec <= 10^9) as two 32-bit halves, exactly, for a count that fits 64
 * bits: microseconds (perSec 10^6, sub = tsNsec / 1000) as well as nanoseconds.
 */
export function timeToUnits(tsSec: number, sub: number, perSec: number, out: Units64): void {
  const sLo = tsSec % 65536;
  const sHi = (tsSec - sLo) / 65536;
  const a = sLo * perSec + sub; // < 2^46
  const b = sHi * perSec; // < 2^48 for any tsSec whose count fits 64 bits
  const bl = b % 65536;
  const bh = (b - bl) / 65536;
  const t = bl * 65536 + a; // < 2^47
  const tl = t % TWO32;
  out.lo = tl;
  out.hi = bh + (t - tl) / TWO32;
}

/** `1700000000.117737770`: the way tshark prints `frame.time_epoch`, for messages and tests. */
export function formatEpoch(tsSec: number, tsNsec: number): string {
  return `${tsSec}.${String(tsNsec).padStart(9, '0')}`;
}
