import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocBytes, bytesOf, fromHex, hex } from '../../src/wire/bytes.js';
import { ArphrdType, sllAddressOfMac, sllAddressText, SllPacketType } from '../../src/wire/sll.js';
import {
  emitSll2Repr,
  parseSll2Repr,
  SLL2_HEADER_LEN,
  sll2Next,
  sll2ReprHeaderLen,
  Sll2View,
} from '../../src/wire/sll2.js';
import type { Sll2Repr } from '../../src/wire/sll2.js';

// sv-decode-sll2-01.pcap frame 1 (80 bytes): outgoing SYN on ifindex 2, Ethernet, from aa:76:30:71:b0:e7.
const SLL2_1 = fromHex(
  '0800 0000 00000002 0001 04 06 aa763071b0e70000' +
    '4500003c45a94000400670b0c0a801fdc0a80115dc9e00508b0b439300000000a002faf0d70c0000020405b40402080ac5be80530000000001030307',
);
// zeek-tls-openjdk-sll2.pcap frame 1, first 24 bytes.
const OPENJDK_1_HEAD = fromHex('0800 0000 00000002 0001 04 06 fa37dc8dafab0000 4500003c');

function viewOf(u8: Uint8Array): Sll2View {
  const v = Sll2View.check(bytesOf(u8), 0, u8.length);
  if (typeof v === 'string') throw new Error(v);
  return v;
}

describe('Linux cooked capture v2', () => {
  it('deconstructs real headers', () => {
    const v = viewOf(SLL2_1);
    expect(v.protocol).toBe(0x0800);
    expect(v.reserved).toBe(0);
    expect(v.ifindex).toBe(2);
    expect(v.arphrdType).toBe(ArphrdType.ETHER);
    expect(v.packetType).toBe(SllPacketType.OUTGOING);
    expect(v.addrLen).toBe(6);
    expect(v.addressText).toBe('aa:76:30:71:b0:e7');
    expect(v.payloadOffset).toBe(20);
    expect(v.payloadLength).toBe(60);
    expect(sll2Next(v)).toEqual({ protocol: 0x0800, offset: 20, length: 60 });
    expect(viewOf(OPENJDK_1_HEAD).addressText).toBe('fa:37:dc:8d:af:ab');
  });

  it('constructs a header with the view setters', () => {
    const b = allocBytes(SLL2_HEADER_LEN, 0xa5);
    const v = new Sll2View(b, 0, SLL2_HEADER_LEN);
    v.protocol = 0x0800;
    v.reserved = 0;
    v.ifindex = 2;
    v.arphrdType = 1;
    v.packetType = 4;
    v.addrLen = 6;
    b.u8.set(fromHex('fa37dc8dafab0000'), v.addrOffset);
    expect(hex(b.u8)).toBe(hex(OPENJDK_1_HEAD.subarray(0, 20)));
  });

  it('reports every prefix shorter than the header as truncated', () => {
    for (let n = 0; n < SLL2_HEADER_LEN; n++) {
      expect(Sll2View.check(bytesOf(SLL2_1.subarray(0, n)), 0, n)).toBe('truncated');
    }
    expect(Sll2View.check(bytesOf(SLL2_1), 70, 20)).toBe('truncated');
  });

  it('keeps odd field values: reserved bits, a negative ifindex, a long address', () => {
    // Built from SLL2_1: reserved 0x1234, ifindex 0xffffffff, address length 20.
    const u8 = SLL2_1.slice(0, 24);
    u8.set([0x12, 0x34, 0xff, 0xff, 0xff, 0xff], 2);
    u8[11] = 20;
    const v = viewOf(u8);
    expect(v.ifindex).toBe(-1);
    expect(v.addressText).toBe('aa:76:30:71:b0:e7:00:00');
    const repr = parseSll2Repr(v);
    expect(repr.reserved).toBe(0x1234);
    const out = allocBytes(20, 0xa5);
    emitSll2Repr(repr, out, 0);
    expect(hex(out.u8)).toBe(hex(u8.subarray(0, 20)));
  });

  it('parses the record', () => {
    const repr = parseSll2Repr(viewOf(SLL2_1));
    expect(repr).toEqual({
      protocol: 0x0800,
      ifindex: 2,
      arphrdType: 1,
      packetType: 4,
      addrLen: 6,
      address: fromHex('aa763071b0e70000'),
    });
    expect('reserved' in repr).toBe(false);
    expect(sllAddressText(repr)).toBe('aa:76:30:71:b0:e7');
  });

  it('emits the record to the real bytes', () => {
    const repr: Sll2Repr = {
      protocol: 0x0800,
      ifindex: 2,
      arphrdType: ArphrdType.ETHER,
      packetType: SllPacketType.OUTGOING,
      addrLen: 6,
      address: sllAddressOfMac('aa:76:30:71:b0:e7'),
    };
    const b = allocBytes(21, 0xa5);
    expect(emitSll2Repr(repr, b, 0)).toBe(20);
    expect(sll2ReprHeaderLen(repr)).toBe(20);
    expect(hex(b.u8)).toBe(`${hex(SLL2_1.subarray(0, 20))}a5`);
  });

  it('round-trips any record', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.option(fc.integer({ min: 1, max: 0xffff }), { nil: undefined }),
        fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: 0, max: 0xff }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        (protocol, reserved, ifindex, arphrdType, packetType, addrLen, address) => {
          const repr: Sll2Repr = { protocol, ifindex, arphrdType, packetType, addrLen, address };
          if (reserved !== undefined) repr.reserved = reserved;
          const b = allocBytes(SLL2_HEADER_LEN, 0xa5);
          emitSll2Repr(repr, b, 0);
          expect(parseSll2Repr(viewOf(b.u8))).toEqual(repr);
        },
      ),
    );
  });
});
