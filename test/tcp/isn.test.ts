/**
 * RFC 6528 ISNs (keyed hash + clock) and the test helpers' determinism.
 */
import { describe, expect, test } from 'vitest';
import { clockTicks, rfc6528Isn, sipHash24 } from '../../src/tcp/isn.js';
import { ManualClock } from '../../src/testing/clock.js';
import { fixedIsn } from '../../src/testing/isn.js';
import { seededRandom } from '../../src/testing/random.js';

const A = { addr: '198.18.0.1', port: 80 };
const B = { addr: '198.18.0.2', port: 40000 };

describe('SipHash-2-4', () => {
  test('the reference vector: key 00..0f, message 00..0e → a129ca6149be45e5', () => {
    const msg = new Uint8Array(15).map((_, i) => i);
    const k0 = 0x0706050403020100n;
    const k1 = 0x0f0e0d0c0b0a0908n;
    expect(sipHash24(k0, k1, msg).toString(16)).toBe('a129ca6149be45e5');
  });
  test('the reference vector for the empty message → 726fdb47dd0e0e31', () => {
    expect(sipHash24(0x0706050403020100n, 0x0f0e0d0c0b0a0908n, new Uint8Array(0)).toString(16)).toBe('726fdb47dd0e0e31');
  });
});

describe('rfc6528Isn', () => {
  test('same 4-tuple and time → same ISN; another port → another ISN', () => {
    const src = rfc6528Isn(seededRandom(1));
    expect(src.isn(A, B, 0)).toBe(src.isn(A, B, 0));
    expect(src.isn(A, B, 0)).not.toBe(src.isn(A, { ...B, port: 40001 }, 0));
    expect(src.isn(A, B, 0)).not.toBe(src.isn({ addr: '2001:db8::1', port: 80 }, { addr: '2001:db8::2', port: 40000 }, 0));
  });
  test('the key comes from the random source: another seed, another ISN', () => {
    expect(rfc6528Isn(seededRandom(1)).isn(A, B, 0)).not.toBe(rfc6528Isn(seededRandom(2)).isn(A, B, 0));
  });
  test('the clock part: Linux ticks of 64 ns, 15.625 per µs', () => {
    const src = rfc6528Isn(seededRandom(1));
    const base = src.isn(A, B, 0);
    expect((src.isn(A, B, 64) - base) >>> 0).toBe(1000);
    expect((src.isn(A, B, 1_000_000) - base) >>> 0).toBe(15_625_000);
    const rfc = rfc6528Isn(seededRandom(1), { tickNs: 4000 });
    expect((rfc.isn(A, B, 4_000_000) - rfc.isn(A, B, 0)) >>> 0).toBe(1_000_000);
  });
  test('clockTicks stays exact for epoch-sized clocks', () => {
    const us = 1_767_225_600_123_456; // 2026 in µs since 1970
    expect(clockTicks(us, 64)).toBe(Number((BigInt(us) * 1000n / 64n) & 0xffffffffn));
  });
  test('the timestamp offset depends on the addresses only', () => {
    const src = rfc6528Isn(seededRandom(1));
    expect(src.tsOffset(A, B)).toBe(src.tsOffset({ ...A, port: 1 }, { ...B, port: 2 }));
    expect(src.tsOffset(A, B)).not.toBe(src.tsOffset(A, { ...B, addr: '198.18.0.3' }));
  });
});

describe('testing helpers', () => {
  test('fixedIsn: the same ISN, or a step between connections; no TS offset', () => {
    const f = fixedIsn(10000);
    expect([f.isn(A, B, 0), f.isn(A, B, 5)]).toEqual([10000, 10000]);
    const s = fixedIsn(0xffffffff, 2);
    expect([s.isn(A, B, 0), s.isn(A, B, 0)]).toEqual([0xffffffff, 1]);
    expect(f.tsOffset(A, B)).toBe(0);
  });
  test('seededRandom: reproducible, 32-bit', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff)).toBe(true);
    expect(new Set(xs).size).toBe(5);
  });
  test('ManualClock moves only forward', () => {
    const c = new ManualClock(5);
    expect(c.advance(10)).toBe(15);
    expect(() => c.set(3)).toThrow(RangeError);
  });
});
