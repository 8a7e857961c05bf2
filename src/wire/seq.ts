/**
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4, RFC 1982 serial-number arithmetic).
 *
 * Sequence numbers are plain JS numbers holding the raw unsigned 32-bit value, 0 <= s < 2^32, exactly as
 * the wire codec returns them. Every function here is a couple of integer operations: no classes, no
 * allocation, safe on hot paths.
 *
 * Comparisons use the signed 32-bit distance, as Linux's before()/after() do: `a` is "less than" `b` when
 * b lies in the 2^31 numbers following a. Two numbers exactly 2^31 apart are the case RFC 1982 §3.2 leaves
 * undefined; here (as in Linux) each is then "less than" the other, so callers must keep windows below 2^31
 * (TCP's are at most 2^30, RFC 7323 §2.3).
 */

/** a + n mod 2^32; n may be negative or larger than 2^32 (any safe integer). */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/**
 * The signed distance a - b, in [-2^31, 2^31): positive when a is after b. `seqAdd(b, seqSub(a, b)) === a`
 * for any a and b.
 */
export function seqSub(a: number, b: number): number {
  return (a - b) | 0;
}

/** a < b in sequence space. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a <= b in sequence space. */
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** a > b in sequence space. */
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** a >= b in sequence space. */
export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/**
 * lo <= x < hi in sequence space: closed at lo, open at hi, the shape of RFC 9293 §3.10.7.4's segment
 * acceptability test `RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND` (seqBetween(rcvNxt, segSeq, rcvNxt + rcvWnd)).
 *
 * The other tests map onto it by moving the ends one step:
 * - the last octet of a segment, `RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND`: x = SEG.SEQ+SEG.LEN-1;
 * - an acceptable ACK, `SND.UNA < SEG.ACK =< SND.NXT` (§3.10.7.4, fifth check):
 *   seqBetween(sndUna + 1, segAck, sndNxt + 1).
 *
 * Measured as unsigned distances from lo, so any range up to 2^32 - 1 long works, wrapping or not. An empty
 * range (lo === hi) contains nothing: with RCV.WND = 0 the RFC's separate zero-window rules apply.
 */
export function seqBetween(lo: number, x: number, hi: number): boolean {
  return ((x - lo) >>> 0) < ((hi - lo) >>> 0);
}

/** The later of a and b in sequence space. */
export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) >= 0 ? a : b;
}

/** The earlier of a and b in sequence space. */
export function seqMin(a: number, b: number): number {
  return ((a - b) | 0) <= 0 ? a : b;
}
