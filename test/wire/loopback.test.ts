import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocBytes, bytesOf, fromHex, hex } from '../../src/wire/bytes.js';
import { BsdAddressFamily, bsdFamilyNetwork } from '../../src/wire/linktype.js';
import {
  emitLoopbackRepr,
  LOOPBACK_HEADER_LEN,
  loopbackNext,
  loopbackReprHeaderLen,
  LoopbackView,
  parseLoopbackRepr,
} from '../../src/wire/loopback.js';
import type { LoopbackRepr } from '../../src/wire/loopback.js';

// zeek-irc-353-null.pcap frame 1 (88 bytes): macOS NULL header, AF_INET6 = 30 little-endian, SYN to [::1]:6666.
const IRC_1 = fromHex(
  '1e000000' +
    '600709f1002c06400000000000000000000000000000000100000000000000000000000000000001ff6c1a0a65a11fb100000000b002ffff0034000002043fc4010303050101080a32c61c300000000004020000',
);
// zeek-irc-353-null.pcap frame 3 (68 bytes): AF_INET = 2, SYN 127.0.0.1 -> 127.0.0.1:6666.
const IRC_3 = fromHex(
  '02000000' +
    '4500004000004000400600007f0000017f000001ff6d1a0a20d5cb3b00000000b002fffffe34000002043fd8010303050101080a32c61c300000000004020000',
);
// ndpi-pgsql2-null.pcapng frame 1, first 8 bytes: AF_INET.
const PGSQL2_1_HEAD = fromHex('02000000 45000034');

function viewOf(u8: Uint8Array): LoopbackView {
  const v = LoopbackView.check(bytesOf(u8), 0, u8.length);
  if (typeof v === 'string') throw new Error(v);
  return v;
}

/** IRC_1 with its header rewritten (the corpus has no big-endian NULL and no LOOP capture). */
function withHeader(header: string): Uint8Array {
  const u8 = IRC_1.slice();
  u8.set(fromHex(header), 0);
  return u8;
}

describe('NULL / LOOP', () => {
  it('deconstructs real NULL headers', () => {
    const v6 = viewOf(IRC_1);
    expect(v6.familyLe).toBe(30);
    expect(v6.detectedByteOrder).toBe('le');
    expect(v6.family('null')).toBe(BsdAddressFamily.INET6_DARWIN);
    expect(v6.payloadOffset).toBe(4);
    expect(v6.payloadLength).toBe(84);
    expect(loopbackNext(v6)).toEqual({ network: 'ipv6', family: 30, offset: 4, length: 84 });
    expect((IRC_1[4] as number) >> 4).toBe(6);

    expect(loopbackNext(viewOf(IRC_3))).toEqual({ network: 'ipv4', family: 2, offset: 4, length: 64 });
    expect(loopbackNext(viewOf(PGSQL2_1_HEAD))).toEqual({ network: 'ipv4', family: 2, offset: 4, length: 4 });
  });

  it('detects a big-endian NULL header', () => {
    // Constructed: IRC_1 as a big-endian host would have written it.
    const v = viewOf(withHeader('0000001e'));
    expect(v.familyLe).toBe(0x1e000000);
    expect(v.detectedByteOrder).toBe('be');
    expect(v.family('null')).toBe(30);
    expect(parseLoopbackRepr(v)).toEqual({ family: 30, byteOrder: 'be' });
    expect(loopbackNext(v).network).toBe('ipv6');
  });

  it('reads LOOP in network byte order, never guessing', () => {
    // LOOP (108) is in no capture: this is IRC_1 with an OpenBSD-style header, family 24 big-endian.
    const v = viewOf(withHeader('00000018'));
    expect(parseLoopbackRepr(v, 'loop')).toEqual({ family: 24, byteOrder: 'be' });
    expect(loopbackNext(v, 'loop')).toEqual({ network: 'ipv6', family: 24, offset: 4, length: 84 });
    // A little-endian family under LOOP is read as the big number it is, not swapped.
    const le = viewOf(IRC_3);
    expect(parseLoopbackRepr(le, 'loop')).toEqual({ family: 0x02000000, byteOrder: 'be' });
    expect(loopbackNext(le, 'loop').network).toBe('other');
    const out = allocBytes(4, 0xa5);
    emitLoopbackRepr(parseLoopbackRepr(le, 'loop'), out, 0);
    expect(hex(out.u8)).toBe('02000000');
  });

  it('constructs headers with the view setter', () => {
    const b = allocBytes(4, 0xa5);
    const v = new LoopbackView(b, 0, 4);
    v.setFamily(30, 'le');
    expect(hex(b.u8)).toBe(hex(IRC_1.subarray(0, 4)));
    v.setFamily(30, 'be');
    expect(hex(b.u8)).toBe('0000001e');
  });

  it('reports every prefix shorter than the header as truncated', () => {
    for (let n = 0; n < LOOPBACK_HEADER_LEN; n++) {
      expect(LoopbackView.check(bytesOf(IRC_3.subarray(0, n)), 0, n)).toBe('truncated');
    }
    expect(LoopbackView.check(bytesOf(IRC_3), 66, 4)).toBe('truncated');
  });

  it('keeps a value that is no family in either order', () => {
    // Constructed: 0x01000002 read little-endian has non-zero bits in both halves.
    const v = viewOf(withHeader('02000001'));
    expect(v.detectedByteOrder).toBe('le');
    const repr = parseLoopbackRepr(v);
    expect(repr).toEqual({ family: 0x01000002, byteOrder: 'le' });
    expect(loopbackNext(v).network).toBe('other');
    const out = allocBytes(4, 0xa5);
    emitLoopbackRepr(repr, out, 0);
    expect(hex(out.u8)).toBe('02000001');
    // AF_UNSPEC (0) is little-endian by default and names no network.
    expect(parseLoopbackRepr(viewOf(withHeader('00000000')))).toEqual({ family: 0, byteOrder: 'le' });
    expect([2, 24, 28, 30, 10, 0].map(bsdFamilyNetwork)).toEqual(['ipv4', 'ipv6', 'ipv6', 'ipv6', 'other', 'other']);
  });

  it('parses records', () => {
    expect(parseLoopbackRepr(viewOf(IRC_1))).toEqual({ family: 30, byteOrder: 'le' });
    expect(parseLoopbackRepr(viewOf(IRC_3))).toEqual({ family: 2, byteOrder: 'le' });
    expect(parseLoopbackRepr(viewOf(PGSQL2_1_HEAD))).toEqual({ family: 2, byteOrder: 'le' });
  });

  it('emits records to the real bytes', () => {
    const b = allocBytes(6, 0xa5);
    const repr: LoopbackRepr = { family: BsdAddressFamily.INET6_DARWIN, byteOrder: 'le' };
    expect(emitLoopbackRepr(repr, b, 1)).toBe(4);
    expect(loopbackReprHeaderLen(repr)).toBe(4);
    expect(hex(b.u8)).toBe(`a5${hex(IRC_1.subarray(0, 4))}a5`);
    emitLoopbackRepr({ family: 2, byteOrder: 'le' }, b, 1);
    expect(hex(b.u8.subarray(1, 5))).toBe(hex(IRC_3.subarray(0, 4)));
  });

  it('round-trips any family that fits 16 bits, in both byte orders', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffff }),
        fc.constantFrom('le' as const, 'be' as const),
        (family, byteOrder) => {
          const b = allocBytes(4, 0xa5);
          emitLoopbackRepr({ family, byteOrder }, b, 0);
          expect(parseLoopbackRepr(viewOf(b.u8))).toEqual({ family, byteOrder });
        },
      ),
    );
  });
});
