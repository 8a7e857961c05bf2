import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocBytes, bytesOf, fromHex, hex } from '../../src/wire/bytes.js';
import {
  ArphrdType,
  emitSllRepr,
  parseSllRepr,
  SLL_HEADER_LEN,
  sllAddressOfMac,
  sllAddressText,
  sllNext,
  sllReprHeaderLen,
  SllPacketType,
  SllView,
} from '../../src/wire/sll.js';
import type { SllRepr } from '../../src/wire/sll.js';

// tcpdump-tcp-handshake-nano-sll.pcap frame 1 (76 bytes): outgoing SYN on a PPP device (ARPHRD 512),
// no link-layer address.
const NANO_1 = fromHex(
  '0004 0200 0000 0000000000000000 0800' +
    '4500003c29a940004006db5f839bd7458974515eb64000502f842acb00000000a0026a4050c40000020405500402080a436a03620000000001030307',
);
// tcpdump-resp-1-benchmark-sll.pcap frame 1, first 20 bytes: loopback device (ARPHRD 772), address
// length 6 with an all-zero address.
const RESP_1_HEAD = fromHex('0000 0304 0006 0000000000000000 0800 4500003c');
// ppp-pcapng-example.pcapng frame 139 (interface 1, SLL), first 20 bytes: IPv6 to us from a MAC. The two
// address bytes past the 6 used ones are not zero (f6 7f): the record must keep them.
const PPP_EXAMPLE_139_HEAD = fromHex('0000 0001 0006 0012441e7400f67f 86dd 60000000');

function viewOf(u8: Uint8Array): SllView {
  const v = SllView.check(bytesOf(u8), 0, u8.length);
  if (typeof v === 'string') throw new Error(v);
  return v;
}

describe('Linux cooked capture v1', () => {
  it('deconstructs real headers', () => {
    const v = viewOf(NANO_1);
    expect(v.packetType).toBe(SllPacketType.OUTGOING);
    expect(v.arphrdType).toBe(ArphrdType.PPP);
    expect(v.addrLen).toBe(0);
    expect(v.addressText).toBe('');
    expect(v.protocol).toBe(0x0800);
    expect(v.payloadOffset).toBe(16);
    expect(v.payloadLength).toBe(60);
    expect(sllNext(v)).toEqual({ protocol: 0x0800, offset: 16, length: 60 });

    const lo = viewOf(RESP_1_HEAD);
    expect([lo.packetType, lo.arphrdType, lo.addrLen]).toEqual([SllPacketType.HOST, ArphrdType.LOOPBACK, 6]);
    expect(lo.addressText).toBe('00:00:00:00:00:00');

    const e = viewOf(PPP_EXAMPLE_139_HEAD);
    expect(e.arphrdType).toBe(ArphrdType.ETHER);
    expect(e.addressText).toBe('00:12:44:1e:74:00');
    expect(e.protocol).toBe(0x86dd);
  });

  it('constructs a header with the view setters', () => {
    const b = allocBytes(SLL_HEADER_LEN, 0xa5);
    const v = new SllView(b, 0, SLL_HEADER_LEN);
    v.packetType = 0;
    v.arphrdType = 772;
    v.addrLen = 6;
    b.u8.fill(0, v.addrOffset, v.addrOffset + 8);
    v.protocol = 0x0800;
    expect(hex(b.u8)).toBe(hex(RESP_1_HEAD.subarray(0, 16)));
  });

  it('reports every prefix shorter than the header as truncated', () => {
    for (let n = 0; n < SLL_HEADER_LEN; n++) {
      expect(SllView.check(bytesOf(NANO_1.subarray(0, n)), 0, n)).toBe('truncated');
    }
    expect(SllView.check(bytesOf(NANO_1), 70, 16)).toBe('truncated');
  });

  it('keeps an address length beyond the 8-byte field', () => {
    // Built from NANO_1: an InfiniBand-style 20-byte address of which the header holds the first 8,
    // as libpcap writes it. Not an error; the length survives the round trip.
    const u8 = NANO_1.slice(0, 20);
    u8.set([0x00, 0x20, 0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8], 2);
    const v = viewOf(u8);
    expect(v.addrLen).toBe(20);
    expect(v.addressText).toBe('01:02:03:04:05:06:07:08');
    const repr = parseSllRepr(v);
    expect(sllAddressText(repr)).toBe('01:02:03:04:05:06:07:08');
    const out = allocBytes(16, 0xa5);
    emitSllRepr(repr, out, 0);
    expect(hex(out.u8)).toBe(hex(u8.subarray(0, 16)));
  });

  it('parses the record', () => {
    expect(parseSllRepr(viewOf(NANO_1))).toEqual({
      packetType: 4,
      arphrdType: 512,
      addrLen: 0,
      address: new Uint8Array(8),
      protocol: 0x0800,
    });
    const e = parseSllRepr(viewOf(PPP_EXAMPLE_139_HEAD));
    expect(e).toEqual({
      packetType: 0,
      arphrdType: 1,
      addrLen: 6,
      address: fromHex('0012441e7400f67f'),
      protocol: 0x86dd,
    });
    expect(sllAddressText(e)).toBe('00:12:44:1e:74:00');
  });

  it('emits the record to the real bytes', () => {
    const repr: SllRepr = {
      packetType: SllPacketType.HOST,
      arphrdType: ArphrdType.ETHER,
      addrLen: 6,
      address: fromHex('0012441e7400f67f'),
      protocol: 0x86dd,
    };
    const b = allocBytes(18, 0xa5);
    expect(emitSllRepr(repr, b, 1)).toBe(16);
    expect(sllReprHeaderLen(repr)).toBe(16);
    expect(hex(b.u8)).toBe(`a5${hex(PPP_EXAMPLE_139_HEAD.subarray(0, 16))}a5`);
    // A builder that only has a MAC gets the zero padding Linux normally leaves.
    expect(hex(sllAddressOfMac('00:12:44:1e:74:00'))).toBe('0012441e74000000');
    // Bytes past addrLen are part of the record: non-zero ones come back too.
    const odd = { ...repr, addrLen: 4 };
    const b2 = allocBytes(16, 0xa5);
    emitSllRepr(odd, b2, 0);
    expect(parseSllRepr(viewOf(b2.u8))).toEqual(odd);
    expect(() => emitSllRepr({ ...repr, address: new Uint8Array(6) }, b2, 0)).toThrow(RangeError);
  });

  it('round-trips any record', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.integer({ min: 0, max: 0xffff }),
        (packetType, arphrdType, addrLen, address, protocol) => {
          const repr: SllRepr = { packetType, arphrdType, addrLen, address, protocol };
          const b = allocBytes(SLL_HEADER_LEN, 0xa5);
          emitSllRepr(repr, b, 0);
          expect(parseSllRepr(viewOf(b.u8))).toEqual(repr);
        },
      ),
    );
  });
});
