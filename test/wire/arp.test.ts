import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ARP_ETHERNET_IPV4_LEN,
  ArpHardwareType,
  ArpOperation,
  arpReprLen,
  ArpView,
  emitArpRepr,
  parseArpRepr,
} from '../../src/wire/arp.js';
import type { ArpRawRepr, ArpRepr } from '../../src/wire/arp.js';
import { allocBytes, bytesOf, fromHex, hex } from '../../src/wire/bytes.js';

/*
 * No capture in /work/shared/pcaps holds ARP (tshark -Y arp finds nothing), so these packets were captured
 * for this test from the Linux 6.18 kernel: two throwaway network namespaces joined by a veth pair,
 * sa-lt-a = 02:00:00:00:00:01, 198.18.0.1/24 and sa-lt-b = 02:00:00:00:00:02, 198.18.0.2/24, `tcpdump -w`
 * (4.99.3) on sa-lt-b while `bash -c 'echo > /dev/tcp/198.18.0.2/80'` ran in the first namespace; the
 * namespaces were deleted afterwards. veth does not pad, so the frames are 42 bytes. "veth capture
 * frame N" below numbers frames of that capture (icmpv6.test.ts uses the same one).
 */
// veth capture frame 17, bytes 14..42: who has 198.18.0.2? tell 198.18.0.1.
const REQUEST = fromHex('0001 0800 06 04 0001 020000000001 c6120001 000000000000 c6120002');
// veth capture frame 18, bytes 14..42: 198.18.0.2 is at 02:00:00:00:00:02.
const REPLY = fromHex('0001 0800 06 04 0002 020000000002 c6120002 020000000001 c6120001');

function viewOf(u8: Uint8Array): ArpView {
  const v = ArpView.check(bytesOf(u8), 0, u8.length);
  if (typeof v === 'string') throw new Error(v);
  return v;
}

describe('ARP', () => {
  it('deconstructs a real request', () => {
    const v = viewOf(REQUEST);
    expect(v.hardwareType).toBe(ArpHardwareType.ETHERNET);
    expect(v.protocolType).toBe(0x0800);
    expect(v.hardwareLen).toBe(6);
    expect(v.protocolLen).toBe(4);
    expect(v.operation).toBe(ArpOperation.REQUEST);
    expect(v.packetLength).toBe(28);
    expect(v.isEthernetIpv4).toBe(true);
    expect([v.senderHardwareOffset, v.senderProtocolOffset, v.targetHardwareOffset, v.targetProtocolOffset]).toEqual([
      8, 14, 18, 24,
    ]);
    expect(v.senderMac).toBe('02:00:00:00:00:01');
    expect(v.senderIp).toBe('198.18.0.1');
    expect(v.targetMac).toBe('00:00:00:00:00:00');
    expect(v.targetIp).toBe('198.18.0.2');
    expect(v.senderIpU32).toBe(0xc6120001);
    expect(v.targetIpU32).toBe(0xc6120002);
  });

  it('ignores Ethernet padding after the packet', () => {
    // The request as a real NIC would send it: padded to a 60-byte frame (18 zero bytes after ARP).
    const padded = new Uint8Array(46);
    padded.set(REQUEST);
    const v = viewOf(padded);
    expect(v.len).toBe(46);
    expect(v.packetLength).toBe(28);
    expect(parseArpRepr(v)).toEqual(parseArpRepr(viewOf(REQUEST)));
  });

  it('constructs a reply with the view setters', () => {
    const b = allocBytes(ARP_ETHERNET_IPV4_LEN, 0xa5);
    const v = new ArpView(b, 0, ARP_ETHERNET_IPV4_LEN);
    v.hardwareType = 1;
    v.protocolType = 0x0800;
    v.hardwareLen = 6;
    v.protocolLen = 4;
    v.operation = 2;
    b.u8.set(fromHex('020000000002 c6120002 020000000001 c6120001'), v.senderHardwareOffset);
    expect(hex(b.u8)).toBe(hex(REPLY));
  });

  it('reports every prefix shorter than the packet as truncated', () => {
    for (let n = 0; n < ARP_ETHERNET_IPV4_LEN; n++) {
      expect(ArpView.check(bytesOf(REQUEST.subarray(0, n)), 0, n)).toBe('truncated');
    }
    expect(ArpView.check(bytesOf(REQUEST), 4, 28)).toBe('truncated');
  });

  it('rejects address lengths that need more bytes than there are', () => {
    // Constructed from REQUEST: a hardware length of 255 asks for 8 + 2 * (255 + 4) = 526 bytes.
    const u8 = REQUEST.slice();
    u8[4] = 255;
    expect(ArpView.check(bytesOf(u8), 0, u8.length)).toBe('truncated');
    u8[4] = 6;
    u8[5] = 5; // protocol length 5: 30 bytes needed, 28 present
    expect(ArpView.check(bytesOf(u8), 0, u8.length)).toBe('truncated');
  });

  it('keeps other address sizes raw', () => {
    // Constructed: 8-byte hardware and 16-byte protocol addresses, an operation no one uses.
    const u8 = fromHex(
      '0020 86dd 08 10 0009 0102030405060708 20010db8000000000000000000000001 1112131415161718 20010db8000000000000000000000002',
    );
    const v = viewOf(u8);
    expect(v.isEthernetIpv4).toBe(false);
    expect(v.packetLength).toBe(56);
    const repr = parseArpRepr(v);
    expect(repr).toEqual({
      kind: 'raw',
      hardwareType: 32,
      protocolType: 0x86dd,
      operation: 9,
      senderHardware: fromHex('0102030405060708'),
      senderProtocol: fromHex('20010db8000000000000000000000001'),
      targetHardware: fromHex('1112131415161718'),
      targetProtocol: fromHex('20010db8000000000000000000000002'),
    });
    expect(arpReprLen(repr)).toBe(56);
    const out = allocBytes(57, 0xa5);
    expect(emitArpRepr(repr, out, 0)).toBe(56);
    expect(hex(out.u8)).toBe(`${hex(u8)}a5`);
    const bad: ArpRawRepr = { ...(repr as ArpRawRepr), targetProtocol: new Uint8Array(4) };
    expect(() => emitArpRepr(bad, out, 0)).toThrow(RangeError);
    // Zero-length addresses are legal too: the packet is just the 8-byte fixed part.
    const empty = fromHex('0001 0800 00 00 0001');
    expect(parseArpRepr(viewOf(empty))).toMatchObject({ kind: 'raw', senderHardware: new Uint8Array(0) });
  });

  it('parses the records', () => {
    expect(parseArpRepr(viewOf(REQUEST))).toEqual({
      kind: 'ethernet-ipv4',
      operation: 1,
      senderMac: '02:00:00:00:00:01',
      senderIp: '198.18.0.1',
      targetMac: '00:00:00:00:00:00',
      targetIp: '198.18.0.2',
    });
    expect(parseArpRepr(viewOf(REPLY))).toEqual({
      kind: 'ethernet-ipv4',
      operation: 2,
      senderMac: '02:00:00:00:00:02',
      senderIp: '198.18.0.2',
      targetMac: '02:00:00:00:00:01',
      targetIp: '198.18.0.1',
    });
    // IEEE 802 hardware with Ethernet-sized addresses keeps its type (constructed from REPLY).
    const u8 = REPLY.slice();
    u8[1] = 6;
    expect(parseArpRepr(viewOf(u8))).toMatchObject({ kind: 'ethernet-ipv4', hardwareType: 6 });
    expect('protocolType' in parseArpRepr(viewOf(u8))).toBe(false);
  });

  it('emits the records to the real bytes', () => {
    const reply: ArpRepr = {
      kind: 'ethernet-ipv4',
      operation: ArpOperation.REPLY,
      senderMac: '02:00:00:00:00:02',
      senderIp: '198.18.0.2',
      targetMac: '02:00:00:00:00:01',
      targetIp: '198.18.0.1',
    };
    const b = allocBytes(30, 0xa5);
    expect(emitArpRepr(reply, b, 1)).toBe(28);
    expect(arpReprLen(reply)).toBe(28);
    expect(hex(b.u8)).toBe(`a5${hex(REPLY)}a5`);
    const request: ArpRepr = {
      kind: 'ethernet-ipv4',
      operation: ArpOperation.REQUEST,
      senderMac: '02:00:00:00:00:01',
      senderIp: '198.18.0.1',
      targetMac: '00:00:00:00:00:00',
      targetIp: '198.18.0.2',
    };
    const b2 = allocBytes(28, 0xa5);
    emitArpRepr(request, b2, 0);
    expect(hex(b2.u8)).toBe(hex(REQUEST));
  });

  it('round-trips any Ethernet/IPv4 record', () => {
    const mac = fc
      .uint8Array({ minLength: 6, maxLength: 6 })
      .map((a) => Array.from(a, (x) => x.toString(16).padStart(2, '0')).join(':'));
    const ip = fc.ipV4();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        mac,
        ip,
        mac,
        ip,
        (hardwareType, protocolType, operation, senderMac, senderIp, targetMac, targetIp) => {
          const repr: ArpRepr = { kind: 'ethernet-ipv4', operation, senderMac, senderIp, targetMac, targetIp };
          if (hardwareType !== 1) repr.hardwareType = hardwareType;
          if (protocolType !== 0x0800) repr.protocolType = protocolType;
          const b = allocBytes(28, 0xa5);
          emitArpRepr(repr, b, 0);
          expect(parseArpRepr(viewOf(b.u8))).toEqual(repr);
        },
      ),
    );
  });
});
