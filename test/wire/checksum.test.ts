/**
 * sumVerifies (four bytes at a time, little-endian) must say exactly what checksumOk(sum16(...)) says
 * (two bytes at a time, big-endian, RFC 1071): on random bytes at every alignment and length, on
 * regions that do verify (a checksum filled in), and on the sums where the two could part: zero bytes,
 * sums that are multiples of 0xffff, a zero accumulator.
 */
import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { bytesOf } from '../../src/wire/bytes.js';
import { checksumOk, finishChecksum, sum16, sumVerifies } from '../../src/wire/checksum.js';

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
