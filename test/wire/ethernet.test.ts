import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocBytes, bytesOf, fromHex, hex } from '../../src/wire/bytes.js';
import {
  emitEthernetRepr,
  ETHERNET_HEADER_LEN,
  ethernetNext,
  ethernetReprHeaderLen,
  EthernetView,
  parseEthernetRepr,
} from '../../src/wire/ethernet.js';
import type { EthernetRepr } from '../../src/wire/ethernet.js';
import { EtherType, etherTypeName } from '../../src/wire/linktype.js';

// sv-syn-retransmit-with-ts.pcap frame 3 (78 bytes, untagged SYN-ACK 10.38.251.147:80 -> .146).
const SV_SYN_3 = fromHex(
  '005056011270 005056011276 0800' +
    '4500003c0000400040062f4a0a26fb930a26fb920050825c5a35aa599c9de949a0127120f90b0000020405b40402080a05307b6105313f6c01030307ca66c803',
);
// ARP request, broadcast. Captured by us: tcpdump on a veth pair between two throwaway network
// namespaces (198.18.0.1 -> 198.18.0.2), frame 17 of that capture; see arp.test.ts.
const ARP_REQUEST_FRAME = fromHex('ffffffffffff02000000000108060001080006040001020000000001c6120001000000000000c6120002');
// Neighbor solicitation to a solicited-node multicast group, same capture, frame 21 (first 14 bytes).
const NS_FRAME_HEAD = fromHex('3333ff00000202000000000186dd');

function viewOf(u8: Uint8Array): EthernetView {
  const v = EthernetView.check(bytesOf(u8), 0, u8.length);
  if (typeof v === 'string') throw new Error(`unexpected ${v}`);
  return v;
}

describe('Ethernet II', () => {
  it('deconstructs a real frame', () => {
    const v = viewOf(SV_SYN_3);
    expect(v.dst).toBe('00:50:56:01:12:70');
    expect(v.src).toBe('00:50:56:01:12:76');
    expect(v.etherType).toBe(0x0800);
    expect(v.isLengthField).toBe(false);
    expect(v.dstIsGroup).toBe(false);
    expect(v.dstIsBroadcast).toBe(false);
    expect(v.payloadOffset).toBe(14);
    expect(v.payloadLength).toBe(64);
    expect(SV_SYN_3[v.payloadOffset]).toBe(0x45);

    const arp = viewOf(ARP_REQUEST_FRAME);
    expect(arp.dstIsBroadcast).toBe(true);
    expect(arp.dstIsGroup).toBe(true);
    expect(arp.etherType).toBe(EtherType.ARP);

    const ns = viewOf(NS_FRAME_HEAD);
    expect(ns.dst).toBe('33:33:ff:00:00:02');
    expect(ns.dstIsGroup).toBe(true);
    expect(ns.dstIsBroadcast).toBe(false);
    expect(ns.etherType).toBe(EtherType.IPV6);
    expect(ns.payloadLength).toBe(0);
  });

  it('reads at an offset inside a larger buffer', () => {
    const big = new Uint8Array(7 + SV_SYN_3.length + 5);
    big.set(SV_SYN_3, 7);
    const v = EthernetView.check(bytesOf(big), 7, SV_SYN_3.length);
    if (typeof v === 'string') throw new Error(v);
    expect(v.src).toBe('00:50:56:01:12:76');
    expect(v.payloadOffset).toBe(21);
    expect(ethernetNext(v)).toEqual({ protocol: 0x0800, offset: 21, length: 64 });
  });

  it('constructs a header with the view setters', () => {
    const b = allocBytes(ETHERNET_HEADER_LEN, 0xa5);
    const v = new EthernetView(b, 0, ETHERNET_HEADER_LEN);
    v.setDst('00:50:56:01:12:70');
    v.setSrc('00:50:56:01:12:76');
    v.etherType = 0x0800;
    expect(hex(b.u8)).toBe(hex(SV_SYN_3.subarray(0, 14)));
  });

  it('reports every prefix shorter than the header as truncated', () => {
    for (let n = 0; n < ETHERNET_HEADER_LEN; n++) {
      expect(EthernetView.check(bytesOf(SV_SYN_3.subarray(0, n)), 0, n)).toBe('truncated');
    }
    // A length that runs past the buffer is truncated too, not a RangeError later.
    expect(EthernetView.check(bytesOf(SV_SYN_3), 70, 14)).toBe('truncated');
    expect(EthernetView.check(bytesOf(SV_SYN_3), 0, ETHERNET_HEADER_LEN)).toBeInstanceOf(EthernetView);
  });

  it('keeps 802.3 length frames opaque, even when the length lies', () => {
    // No capture in the corpus has an 802.3 frame: this one is built from SV_SYN_3 with an LLC-style
    // payload and the EtherType slot replaced by lengths.
    const u8 = SV_SYN_3.slice();
    u8[12] = 0x05;
    u8[13] = 0xdc; // 1500: the largest length, far more than the 64 bytes present
    const v = viewOf(u8);
    expect(v.isLengthField).toBe(true);
    expect(v.etherType).toBe(1500);
    expect(etherTypeName(v.etherType)).toBe('LENGTH(1500)');
    expect(ethernetNext(v)).toEqual({ protocol: 1500, offset: 14, length: 64 });
    const out = allocBytes(14, 0xa5);
    emitEthernetRepr(parseEthernetRepr(v), out, 0);
    expect(hex(out.u8)).toBe(hex(u8.subarray(0, 14)));
    // 0x0600 is the first EtherType.
    u8[12] = 0x06;
    u8[13] = 0x00;
    expect(viewOf(u8).isLengthField).toBe(false);
    expect(etherTypeName(0x1234)).toBe('0x1234');
    expect(etherTypeName(0x88a8)).toBe('QINQ');
  });

  it('parses the record', () => {
    expect(parseEthernetRepr(viewOf(SV_SYN_3))).toEqual({
      dst: '00:50:56:01:12:70',
      src: '00:50:56:01:12:76',
      etherType: 0x0800,
    });
    expect(parseEthernetRepr(viewOf(ARP_REQUEST_FRAME))).toEqual({
      dst: 'ff:ff:ff:ff:ff:ff',
      src: '02:00:00:00:00:01',
      etherType: 0x0806,
    });
  });

  it('emits the record to the real bytes', () => {
    const repr: EthernetRepr = { dst: '00:50:56:01:12:70', src: '00:50:56:01:12:76', etherType: EtherType.IPV4 };
    const b = allocBytes(ETHERNET_HEADER_LEN + 2, 0xa5);
    expect(emitEthernetRepr(repr, b, 0)).toBe(14);
    expect(ethernetReprHeaderLen(repr)).toBe(14);
    expect(hex(b.u8.subarray(0, 14))).toBe(hex(SV_SYN_3.subarray(0, 14)));
    expect(hex(b.u8.subarray(14))).toBe('a5a5');
  });

  it('round-trips any record', () => {
    const mac = fc
      .uint8Array({ minLength: 6, maxLength: 6 })
      .map((a) => Array.from(a, (x) => x.toString(16).padStart(2, '0')).join(':'));
    fc.assert(
      fc.property(mac, mac, fc.integer({ min: 0, max: 0xffff }), (dst, src, etherType) => {
        const repr: EthernetRepr = { dst, src, etherType };
        const b = allocBytes(ETHERNET_HEADER_LEN, 0xa5);
        emitEthernetRepr(repr, b, 0);
        const v = EthernetView.check(b, 0, ETHERNET_HEADER_LEN);
        if (typeof v === 'string') return false;
        expect(parseEthernetRepr(v)).toEqual(repr);
        return true;
      }),
    );
  });
});
