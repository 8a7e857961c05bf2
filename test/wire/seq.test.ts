import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { seqAdd, seqBetween, seqGe, seqGt, seqLe, seqLt, seqMax, seqMin, seqSub } from '../../src/wire/seq.js';

const TWO32 = 2 ** 32;
const TWO31 = 2 ** 31;
const u32 = fc.integer({ min: 0, max: TWO32 - 1 });
/** A forward distance that sequence comparisons can see: 0 < n < 2^31. */
const ahead = fc.integer({ min: 1, max: TWO31 - 1 });

describe('sequence arithmetic', () => {
  it('adds modulo 2^32', () => {
    expect(seqAdd(0xffffffff, 1)).toBe(0);
    expect(seqAdd(0xfffffff0, 0x20)).toBe(0x10);
    expect(seqAdd(5, -10)).toBe(TWO32 - 5);
    expect(seqAdd(0, TWO32)).toBe(0);
    expect(seqAdd(1, 3 * TWO32 + 2)).toBe(3);
  });

  it('subtracts to a signed distance', () => {
    expect(seqSub(0x10, 0xfffffff0)).toBe(0x20);
    expect(seqSub(0xfffffff0, 0x10)).toBe(-0x20);
    expect(seqSub(7, 7)).toBe(0);
    expect(seqSub(TWO31 - 1, 0)).toBe(TWO31 - 1);
    // Exactly half the space apart: the RFC 1982 undefined case, which comes out negative as in Linux.
    expect(seqSub(TWO31, 0)).toBe(-TWO31);
  });

  it('compares across the wrap', () => {
    // Real values near the top of the space: zeek-tcp-options.pcap frame 1 sends TS val 4294923497 and
    // frame 3 (same host) 4294923545; zeek-tcp-fast-open.pcap frame 2 sends TS val 4294965494, 1802 ticks
    // before the wrap.
    expect(seqLt(4294923497, 4294923545)).toBe(true);
    expect(seqLt(4294965494, seqAdd(4294965494, 3802))).toBe(true);
    expect(seqAdd(4294965494, 3802)).toBe(2000);
    expect(seqGt(2000, 4294965494)).toBe(true);
    expect(seqSub(2000, 4294965494)).toBe(3802);
    expect(seqLe(3, 3)).toBe(true);
    expect(seqGe(3, 3)).toBe(true);
    expect(seqLt(3, 3)).toBe(false);
    expect(seqGt(3, 3)).toBe(false);
    expect(seqMax(0xfffffffe, 1)).toBe(1);
    expect(seqMin(0xfffffffe, 1)).toBe(0xfffffffe);
  });

  it('tests RFC 9293 acceptability with seqBetween (closed at lo, open at hi)', () => {
    const rcvNxt = 0xfffffff0;
    const rcvWnd = 0x40;
    const hi = seqAdd(rcvNxt, rcvWnd);
    expect(seqBetween(rcvNxt, rcvNxt, hi)).toBe(true); // RCV.NXT =< SEG.SEQ
    expect(seqBetween(rcvNxt, seqAdd(rcvNxt, -1), hi)).toBe(false);
    expect(seqBetween(rcvNxt, 0, hi)).toBe(true); // across the wrap
    expect(seqBetween(rcvNxt, seqAdd(hi, -1), hi)).toBe(true);
    expect(seqBetween(rcvNxt, hi, hi)).toBe(false); // SEG.SEQ < RCV.NXT+RCV.WND
    expect(seqBetween(rcvNxt, rcvNxt, rcvNxt)).toBe(false); // zero window: nothing
    // SND.UNA < SEG.ACK =< SND.NXT as seqBetween(SND.UNA + 1, SEG.ACK, SND.NXT + 1)
    const sndUna = 0xffffffff;
    const sndNxt = 9;
    const ackOk = (a: number): boolean => seqBetween(seqAdd(sndUna, 1), a, seqAdd(sndNxt, 1));
    expect(ackOk(sndUna)).toBe(false);
    expect(ackOk(0)).toBe(true);
    expect(ackOk(sndNxt)).toBe(true);
    expect(ackOk(10)).toBe(false);
    // Ranges longer than 2^31 still work (unsigned distances).
    expect(seqBetween(0, 0xc0000000, 0xf0000000)).toBe(true);
  });

  it('orders a after a + n for 0 < n < 2^31 (property)', () => {
    fc.assert(
      fc.property(u32, ahead, (a, n) => {
        const b = seqAdd(a, n);
        return (
          b >= 0 && b < TWO32 &&
          seqLt(a, b) && seqLe(a, b) && seqGt(b, a) && seqGe(b, a) &&
          !seqLt(b, a) && !seqGe(a, b) &&
          seqSub(b, a) === n && seqSub(a, b) === -n &&
          seqMax(a, b) === b && seqMin(a, b) === a && seqMax(b, a) === b && seqMin(b, a) === a
        );
      }),
      { numRuns: 5000 },
    );
  });

  it('wraps explicitly: the properties hold for a right below 2^32 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 20 }), ahead, (below, n) => {
        const a = TWO32 - below;
        const b = seqAdd(a, n);
        return seqLt(a, b) && seqSub(b, a) === n && (n < below ? b > a : b < a);
      }),
    );
  });

  it('inverts add with sub, and sub with add (property)', () => {
    fc.assert(
      fc.property(u32, u32, (a, b) => seqAdd(b, seqSub(a, b)) === a && seqSub(seqAdd(a, b), a) === (b | 0)),
    );
  });

  it('seqBetween agrees with counting forward from lo (property)', () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 0, max: TWO32 - 1 }), fc.integer({ min: 0, max: TWO32 - 1 }), (lo, len, d) => {
        // x is d steps after lo; it lies in [lo, lo + len) exactly when d < len.
        return seqBetween(lo, seqAdd(lo, d), seqAdd(lo, len)) === d < len;
      }),
      { numRuns: 5000 },
    );
  });

  it('is a strict order within any half of the space (property)', () => {
    fc.assert(
      fc.property(u32, ahead, ahead, (a, m, n) => {
        fc.pre(m + n < TWO31);
        const b = seqAdd(a, m);
        const c = seqAdd(b, n);
        return seqLt(a, b) && seqLt(b, c) && seqLt(a, c);
      }),
    );
  });
});
