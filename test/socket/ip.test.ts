import { describe, expect, test } from 'vitest';
import { ipKeyOrThrow, ipKeyText, isAnyKey, isV4Like, parseIp } from '../../src/socket/ip.js';

describe('socket address keys', () => {
  test('IPv4 text is stored v4-mapped, family 4', () => {
    expect(parseIp('198.18.0.1')).toEqual({ family: 4, w0: 0, w1: 0, w2: 0xffff, w3: 0xc6120001 });
    expect(parseIp('::ffff:198.18.0.1')).toEqual({ family: 6, w0: 0, w1: 0, w2: 0xffff, w3: 0xc6120001 });
    expect(parseIp('2001:db8::1')).toEqual({ family: 6, w0: 0x20010db8, w1: 0, w2: 0, w3: 1 });
    expect(parseIp('256.1.1.1')).toBeUndefined();
    expect(parseIp('')).toBeUndefined();
    expect(() => ipKeyOrThrow('nope')).toThrow(RangeError);
  });

  test('wildcards and v4-likeness', () => {
    expect(isAnyKey(ipKeyOrThrow('0.0.0.0'))).toBe(true);
    expect(isAnyKey(ipKeyOrThrow('::'))).toBe(true);
    expect(isAnyKey(ipKeyOrThrow('::ffff:0.0.0.0'))).toBe(false); // a v4-mapped wildcard is not ::
    expect(isV4Like(ipKeyOrThrow('::ffff:0.0.0.0'))).toBe(true);
    expect(isV4Like(ipKeyOrThrow('::1'))).toBe(false);
  });

  test('text round trip in canonical form', () => {
    for (const [i, o] of [
      ['198.18.0.1', '198.18.0.1'],
      ['2001:DB8:0:0:1::1', '2001:db8::1:0:0:1'],
      ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
      ['::', '::'],
    ]) {
      expect(ipKeyText(ipKeyOrThrow(i!))).toBe(o);
    }
  });
});
