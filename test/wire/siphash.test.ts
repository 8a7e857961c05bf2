import { describe, expect, test } from 'vitest';
import { sipHash24, sipKeyFrom, sipKeyFromBytes } from '../../src/wire/siphash.js';

// Reference vectors of the SipHash paper and its reference implementation (vectors.h): key 00..0f,
// message 00 01 .. (len - 1), SipHash-2-4 output as a 64-bit integer.
const VECTORS: Array<[number, string]> = [
  [0, '726fdb47dd0e0e31'],
  [1, '74f839c593dc67fd'],
  [2, '0d6c8009d9a94f5a'],
  [7, 'ab0200f58b01d137'],
  [8, '93f5f5799a932462'],
  [9, '9e0082df0ba9e4b0'],
  [15, 'a129ca6149be45e5'],
  [16, '3f2acc7f57c29bdb'],
  [33, 'a7f32346f95978e3'],
  [63, '958a324ceb064572'],
];

const key = sipKeyFromBytes(Uint8Array.from({ length: 16 }, (_, i) => i));
const msg = Uint8Array.from({ length: 64 }, (_, i) => i);

function hex64(out: Uint32Array): string {
  return (out[1] as number).toString(16).padStart(8, '0') + (out[0] as number).toString(16).padStart(8, '0');
}

describe('SipHash-2-4', () => {
  test.each(VECTORS)('reference vector, %i-byte message', (len, want) => {
    const out = new Uint32Array(2);
    sipHash24(key, msg, len, out);
    expect(hex64(out)).toBe(want);
  });

  test('reads only msg[0..len)', () => {
    const a = new Uint32Array(2);
    const b = new Uint32Array(2);
    const longer = msg.slice();
    longer[20] = 0xff;
    sipHash24(key, msg, 15, a);
    sipHash24(key, longer, 15, b);
    expect(hex64(a)).toBe(hex64(b));
  });

  test('keys come from the random source', () => {
    let n = 0;
    const k = sipKeyFrom({ nextU32: () => ++n });
    expect([...k]).toEqual([1, 2, 3, 4]);
    expect(() => sipKeyFromBytes(new Uint8Array(15))).toThrow(RangeError);
  });
});
