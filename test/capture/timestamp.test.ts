/**
 * Timestamp arithmetic against a BigInt reference: the 16-bit-limb division for every resolution up
 * to 2^32 units per second, the BigInt path beyond, and the exact nanosecond split the writer uses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatEpoch, timeToNanoUnits, tsResolution, unitsToTime } from '../../src/capture/timestamp.js';

/** Reference: seconds and truncated nanoseconds of `units` at `perSec` units per second, plus `offset`. */
function reference(units: bigint, perSec: bigint, offset: number): { tsSec: number; tsNsec: number } {
  return { tsSec: Number(units / perSec) + offset, tsNsec: Number(((units % perSec) * 1_000_000_000n) / perSec) };
}

const allResolutions = [...Array.from({ length: 20 }, (_, n) => n), ...Array.from({ length: 64 }, (_, n) => 0x80 | n)];

describe('if_tsresol', () => {
  it('decodes powers of ten and of two, and refuses what 64 bits cannot count', () => {
    expect(tsResolution(6)?.unitsPerSec).toBe(1e6);
    expect(tsResolution(9)?.unitsPerSec).toBe(1e9);
    expect(tsResolution(0x80 | 10)?.unitsPerSec).toBe(1024);
    expect(tsResolution(19)?.unitsPerSec).toBe(1e19);
    expect(tsResolution(20)).toBeNull();
    expect(tsResolution(0x80 | 63)?.unitsPerSec).toBe(2 ** 63);
    expect(tsResolution(0x80 | 64)).toBeNull();
  });

  it('unitsToTime equals the BigInt reference for every resolution (fast-check over 64-bit counts)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...allResolutions), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: -2e9, max: 2e9 }), (raw, units, offset) => {
        const r = tsResolution(raw)!;
        const perSec = raw & 0x80 ? 1n << BigInt(raw & 0x7f) : 10n ** BigInt(raw);
        const out = { tsSec: 0, tsNsec: 0 };
        unitsToTime(Number(units >> 32n), Number(units & 0xffffffffn), r, offset, out);
        const want = reference(units, perSec, offset);
        // Seconds above 2^53 cannot be exact in a JS number; compare those as the nearest double.
        expect(out).toEqual({ tsSec: Number(BigInt(want.tsSec - offset)) + offset, tsNsec: want.tsNsec });
      }),
      { numRuns: 3000 },
    );
  });

  it('known values', () => {
    const out = { tsSec: 0, tsNsec: 0 };
    // 2^-20 s ticks: 123457 of them is 117737770.08 ns, truncated (tshark prints .117737770).
    unitsToTime(0, 123_457, tsResolution(0x80 | 20)!, 1_700_000_000, out);
    expect(formatEpoch(out.tsSec, out.tsNsec)).toBe('1700000000.117737770');
    // The largest count at microseconds.
    unitsToTime(0xffffffff, 0xffffffff, tsResolution(6)!, 0, out);
    expect(out).toEqual({ tsSec: 18446744073709, tsNsec: 551615000 });
  });
});

describe('timeToNanoUnits', () => {
  it('splits tsSec * 10^9 + tsNsec into exact 32-bit halves (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 18_446_744_072 }), fc.integer({ min: 0, max: 999_999_999 }), (s, ns) => {
        const u = { hi: 0, lo: 0 };
        timeToNanoUnits(s, ns, u);
        const v = BigInt(s) * 1_000_000_000n + BigInt(ns);
        expect(u).toEqual({ hi: Number(v >> 32n), lo: Number(v & 0xffffffffn) });
      }),
      { numRuns: 3000 },
    );
  });
});
