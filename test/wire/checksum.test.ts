/**
 * sumVerifies (four bytes at a time, little-endian) must say exactly what checksumOk(sum16(...)) says
 * (two bytes at a time, big-endian, RFC 1071): on random bytes at every alignment and length, on
 * regions that do verify (a checksum filled in), and on the sums where the two could part: zero bytes,
 * sums that are multiples of 0xffff, a zero accumulator.
 */
import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { bytesOf } from '../../src/wire/bytes.js';
import { checksumOk, finishChecksum, ipv4HeaderVerifies, pseudoHeaderSum, segmentVerifies, sum16, sumVerifies } from '../../src/wire/checksum.js';

const reference = (u8: Uint8Array, off: number, len: number, acc: number): boolean => checksumOk(sum16(bytesOf(u8), off, len, acc));

describe('sumVerifies = checksumOk(sum16)', () => {
  it('on random bytes, offsets, lengths and accumulators', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 7 }), fc.nat({ max: 0x3ffff }), (data, lead, acc) => {
        const u8 = new Uint8Array(lead + data.length + 4).fill(0xa5);
        u8.set(data, lead);
        expect(sumVerifies(bytesOf(u8), lead, data.length, acc)).toBe(reference(u8, lead, data.length, acc));
      }),
      { numRuns: 20_000 },
    );
  });

  it('on regions whose checksum is filled in (they verify), and on each of them with one byte changed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 200 }), fc.nat({ max: 0x3ffff }), fc.nat(), (data, acc, which) => {
        // The first two bytes are the checksum field: fill it so that the whole region verifies.
        const u8 = data.slice();
        u8[0] = 0;
        u8[1] = 0;
        const c = finishChecksum(sum16(bytesOf(u8), 0, u8.length, acc));
        u8[0] = c >> 8;
        u8[1] = c & 0xff;
        expect(reference(u8, 0, u8.length, acc)).toBe(true);
        expect(sumVerifies(bytesOf(u8), 0, u8.length, acc)).toBe(true);
        const at = which % u8.length;
        u8[at] = (u8[at] as number) ^ 0x10;
        expect(sumVerifies(bytesOf(u8), 0, u8.length, acc)).toBe(reference(u8, 0, u8.length, acc));
      }),
      { numRuns: 5_000 },
    );
  });

  it('on the edge sums: all zero, multiples of 0xffff, zero accumulator', () => {
    const cases: Array<[number[], number]> = [
      [[], 0],
      [[0, 0, 0, 0], 0],
      [[0, 0, 0], 0xffff],
      [[0xff, 0xff], 0],
      [[0xff, 0xff, 0xff, 0xff], 0],
      [[0xff, 0xff, 0xff, 0xff, 0xff], 0],
      [[0xff], 0xff],
      [[0x00, 0xff], 0xff00],
      [[0x12, 0x34, 0xed, 0xcb], 0],
      [[0x12, 0x34, 0xed, 0xcb], 0xffff],
      [[0x80, 0x00, 0x7f, 0xff, 0x00], 0],
    ];
    for (const [bytes, acc] of cases) {
      const u8 = Uint8Array.from(bytes);
      expect([bytes, acc, sumVerifies(bytesOf(u8), 0, u8.length, acc)]).toEqual([bytes, acc, reference(u8, 0, u8.length, acc)]);
    }
  });
});

describe('segmentVerifies = checksumOk(sum16(segment, pseudoHeaderSum))', () => {
  const referenceSegment = (u8: Uint8Array, addrOff: number, addrLen: 4 | 16, proto: number, off: number, len: number): boolean => {
    const b = bytesOf(u8);
    return checksumOk(sum16(b, off, len, pseudoHeaderSum(b, addrOff, addrLen, proto, len)));
  };

  it('on random addresses and segments at every alignment, for IPv4 and IPv6', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom<4 | 16>(4, 16),
        fc.nat({ max: 255 }),
        fc.nat({ max: 7 }),
        (addrs, data, addrLen, proto, lead) => {
          // The addresses sit before the segment, as in a frame; `lead` moves both off alignment.
          const u8 = new Uint8Array(lead + 2 * addrLen + data.length + 4).fill(0xa5);
          u8.set(addrs.subarray(0, 2 * addrLen), lead);
          u8.set(data, lead + 2 * addrLen);
          const off = lead + 2 * addrLen;
          expect(segmentVerifies(bytesOf(u8), lead, addrLen, proto, off, data.length)).toBe(referenceSegment(u8, lead, addrLen, proto, off, data.length));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('on segments whose checksum is filled in (they verify), and on each of them with one byte changed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 52, maxLength: 240 }), fc.constantFrom<4 | 16>(4, 16), fc.nat(), (data, addrLen, which) => {
        // Addresses first, then a segment of 20 bytes or more whose bytes 16-17 (TCP's checksum field) are filled in.
        const u8 = data.slice();
        const off = 2 * addrLen;
        const len = u8.length - off;
        u8[off + 16] = 0;
        u8[off + 17] = 0;
        const b = bytesOf(u8);
        const c = finishChecksum(sum16(b, off, len, pseudoHeaderSum(b, 0, addrLen, 6, len)));
        u8[off + 16] = c >> 8;
        u8[off + 17] = c & 0xff;
        expect(segmentVerifies(b, 0, addrLen, 6, off, len)).toBe(true);
        const at = which % u8.length;
        u8[at] = (u8[at] as number) ^ 0x01;
        expect(segmentVerifies(b, 0, addrLen, 6, off, len)).toBe(referenceSegment(u8, 0, addrLen, 6, off, len));
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('ipv4HeaderVerifies = checksumOk(sum16(header))', () => {
  it('on random headers of every length, filled in or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 60, maxLength: 60 }), fc.integer({ min: 5, max: 15 }), fc.nat({ max: 3 }), fc.boolean(), (data, ihl, lead, fill) => {
        const hl = ihl * 4;
        const u8 = new Uint8Array(lead + hl + 2).fill(0xa5);
        u8.set(data.subarray(0, hl), lead);
        const b = bytesOf(u8);
        if (fill) {
          u8[lead + 10] = 0;
          u8[lead + 11] = 0;
          const c = finishChecksum(sum16(b, lead, hl));
          u8[lead + 10] = c >> 8;
          u8[lead + 11] = c & 0xff;
        }
        expect(ipv4HeaderVerifies(b, lead, hl)).toBe(checksumOk(sum16(b, lead, hl)));
      }),
      { numRuns: 20_000 },
    );
  });

  it('on the edge headers: all zero, all 0xff', () => {
    for (const v of [0, 0xff]) {
      const u8 = new Uint8Array(20).fill(v);
      expect([v, ipv4HeaderVerifies(bytesOf(u8), 0, 20)]).toEqual([v, checksumOk(sum16(bytesOf(u8), 0, 20))]);
    }
  });
});

describe('finishChecksum', () => {
  it('folds sums past 2^32 as the ones-complement sum they stand for (BigInt reference)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }), (big) => {
        // The ones' complement sum of a non-negative total: its value mod 0xffff, 0xffff for a positive multiple.
        const folded = big === 0n ? 0n : big % 0xffffn === 0n ? 0xffffn : big % 0xffffn;
        expect(finishChecksum(Number(big))).toBe(Number(~folded & 0xffffn));
      }),
      { numRuns: 10_000 },
    );
  });
});
