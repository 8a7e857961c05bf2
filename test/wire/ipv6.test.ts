import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocBytes, bytesOf, fromHex, hex } from '../../src/wire/bytes.js';
import type { Bytes } from '../../src/wire/bytes.js';
import { checksumOk, sum16 } from '../../src/wire/checksum.js';
import { IpProtocol } from '../../src/wire/ipproto.js';
import {
  emitIpv6Repr,
  IPV6_HEADER_LEN,
  Ipv6OptionType,
  Ipv6Packet,
  ipv6ReprHeaderLen,
  newIpv6Chain,
  parseIpv6Options,
  parseIpv6Repr,
  walkIpv6Headers,
} from '../../src/wire/ipv6.js';
import type { Ipv6Chain, Ipv6ExtHeader, Ipv6Option, Ipv6Repr } from '../../src/wire/ipv6.js';
import { allIpPackets } from './ip-corpus.js';

/*
 * Vectors: IPv6 packets (Ethernet header stripped). "fixture" is fixtures/ip-ext-linux.pcap,
 * captured from the Linux 6.18 kernel for these tests (ip-corpus.ts says how); the field values in the
 * comments are tshark 4.0's. Some vectors keep only the first bytes of a longer frame: their payload
 * length then claims more than they hold, which the view reports as `truncated`.
 */
const V = {
  // ndpi-reddit-ipv6.pcap frame 1, bytes 14..94: a SYN, flow label 0x41a99, no extension headers.
  reddit:
    '60041a99002806402a01cb0120498b07991dec8528dff6292a0014504007080a000000000000200a' +
    '9c5c01bb84a077c500000000a002fd2090250000020405a00402080ad4dd60070000000001030307',
  // fixture frame 1: MLDv2 report from the kernel; Hop-by-Hop with Router Alert (MLD) and a 2-byte PadN.
  mld:
    '6000000000240001fe80000000000000000000fffe000001ff020000000000000000000000000016' +
    '3a00050200000100' + '8f0072070000000104000000ff0200000000000000000001ff000001',
  // fixture frame 26: UDP behind IPV6_HOPOPTS: experimental option 0x1e (abcd) and a 2-byte PadN.
  hbh:
    '6002e09b001f004020010db800000000000000000000000120010db8000000000000000000000002' +
    '11001e02abcd0100' + '9c40000900172b59' + '73796e61636b206970763620686268',
  // fixture frame 28: UDP behind IPV6_DSTOPTS: Pad1, experimental 0x1e (010203), PadN of 6.
  dst:
    '6002e09b002b3c4020010db800000000000000000000000120010db8000000000000000000000002' +
    '1101001e030102030106000000000000' + '9c400009001b3f5c' + '73796e61636b2069707636206473746f707473',
  // fixture frame 29, first 80 bytes: first fragment (offset 0, M) of id 0x70968b00 behind Hop-by-Hop and
  // Destination Options; payload length 1240; the UDP header follows the Fragment header.
  hbhDstFrag:
    '6002e09b04d8004020010db800000000000000000000000120010db8000000000000000000000002' +
    '3c001e02abcd0100' + '2c01001e030102030106000000000000' + '1100000170968b00' + '9c4000090580a144',
  // fixture frame 30, first 80 bytes: the last fragment (offset 1208, M clear) of the same datagram.
  laterFrag:
    '6002e09b00e8004020010db800000000000000000000000120010db8000000000000000000000002' +
    '3c001e02abcd0100' + '2c01001e030102030106000000000000' + '110004b870968b00' + 'f1fe0b1825323f4c',
  // fixture frame 31: UDP behind a Segment Routing header (type 4), one segment 2001:db8::2, segments left 0.
  srh:
    '6002e09b002f2b4020010db800000000000000000000000120010db8000000000000000000000002' +
    '1102040000000000' + '20010db8000000000000000000000002' + '9c4000090017204973796e61636b206970763620737268',
  // fixture frame 32, first 80 bytes: Segment Routing header, then the first fragment of id 0x03998215.
  srhFrag:
    '6002e09b04d82b4020010db800000000000000000000000120010db8000000000000000000000002' +
    '2c02040000000000' + '20010db8000000000000000000000002' + '1100000103998215' + '9c4000090580ede9',
  // fixture frame 23, first 56 bytes: plain first fragment of id 0x4ebecdae.
  frag:
    '6002e09b04d82c4020010db800000000000000000000000120010db8000000000000000000000002' +
    '110000014ebecdae' + '9c40000905804965',
  // Built by hand (the test kernel has no AH): fixture frame 26's UDP datagram behind an Authentication
  // Header, SPI 0x1000, sequence 1, 12-byte ICV a0..ab (Payload Len 4 = 24 bytes). tshark 4.0 dissects it
  // as "Authentication Header, Next header: UDP (17), Length: 4 (24 bytes), AH SPI: 0x00001000, AH
  // Sequence: 1, AH ICV: a0a1a2a3a4a5a6a7a8a9aaab" followed by the UDP datagram.
  ah:
    '6002e09b002f334020010db800000000000000000000000120010db8000000000000000000000002' +
    '1104000000001000' + '00000001a0a1a2a3a4a5a6a7a8a9aaab' + '9c40000900172b5973796e61636b206970763620686268',
} as const;

type Name = keyof typeof V;

function view(name: Name): Ipv6Packet {
  const bytes = fromHex(V[name]);
  const v = Ipv6Packet.check(bytesOf(bytes), 0, bytes.length);
  if (typeof v === 'string') throw new Error(`${name}: ${v}`);
  return v;
}

function check(bytes: Uint8Array, len = bytes.length): Ipv6Packet | string {
  return Ipv6Packet.check(bytesOf(bytes), 0, len);
}

function walk(v: Ipv6Packet | string, max?: number): Ipv6Chain | string {
  if (typeof v === 'string') return v;
  return walkIpv6Headers(v, newIpv6Chain(), max);
}

function parsed(name: Name): Ipv6Repr {
  const r = parseIpv6Repr(view(name));
  if (typeof r === 'string') throw new Error(`${name}: ${r}`);
  return r;
}

const data = (s: string): Uint8Array => fromHex(s);
const A = '2001:db8::1';
const B = '2001:db8::2';

describe('IPv6 view (RFC 8200 §3)', () => {
  it('deconstructs a real header', () => {
    const v = view('reddit');
    expect(v.version).toBe(6);
    expect(v.trafficClass).toBe(0);
    expect(v.flowLabel).toBe(0x41a99);
    expect(v.payloadLengthField).toBe(40);
    expect(v.payloadLength).toBe(40);
    expect(v.nextHeader).toBe(IpProtocol.TCP);
    expect(v.hopLimit).toBe(64);
    expect(v.src).toBe('2a01:cb01:2049:8b07:991d:ec85:28df:f629');
    expect(v.dst).toBe('2a00:1450:4007:80a::200a');
    expect(v.payloadOffset).toBe(40);
    expect(v.capturedPayloadLength).toBe(40);
    expect(v.truncated).toBe(false);
    expect(v.isJumbogram).toBe(false);
    // The TCP checksum verifies with the view's pseudo-header sum.
    expect(checksumOk(sum16(v.b, 40, 40, v.pseudoHeaderSum(IpProtocol.TCP, 40)))).toBe(true);

    const m = view('mld');
    expect(m.hopLimit).toBe(1);
    expect(m.src).toBe('fe80::ff:fe00:1');
    expect(m.dst).toBe('ff02::16');
    const f = view('frag');
    expect(f.payloadLength).toBe(1240);
    expect(f.capturedPayloadLength).toBe(16);
    expect(f.truncated).toBe(true);
  });

  it('walks real extension header chains without allocating a result', () => {
    const out = newIpv6Chain();
    const at = (name: Name): Ipv6Chain => {
      const r = walkIpv6Headers(view(name), out);
      if (typeof r === 'string') throw new Error(`${name}: ${r}`);
      expect(r).toBe(out);
      return { ...r };
    };
    expect(at('reddit')).toEqual({ protocol: 6, offset: 40, length: 40, capturedLength: 40, fragmentHeader: -1, headers: 0 });
    expect(at('mld')).toEqual({ protocol: 58, offset: 48, length: 28, capturedLength: 28, fragmentHeader: -1, headers: 1 });
    expect(at('hbh')).toEqual({ protocol: 17, offset: 48, length: 23, capturedLength: 23, fragmentHeader: -1, headers: 1 });
    expect(at('dst')).toEqual({ protocol: 17, offset: 56, length: 27, capturedLength: 27, fragmentHeader: -1, headers: 1 });
    // A first fragment is walked on to the upper layer; a later one stops after its Fragment header.
    expect(at('hbhDstFrag')).toEqual({ protocol: 17, offset: 72, length: 1208, capturedLength: 8, fragmentHeader: 64, headers: 3 });
    expect(at('laterFrag')).toEqual({ protocol: 17, offset: 72, length: 200, capturedLength: 8, fragmentHeader: 64, headers: 3 });
    expect(at('srh')).toEqual({ protocol: 17, offset: 64, length: 23, capturedLength: 23, fragmentHeader: -1, headers: 1 });
    expect(at('srhFrag')).toEqual({ protocol: 17, offset: 72, length: 1208, capturedLength: 8, fragmentHeader: 64, headers: 2 });
    expect(at('frag')).toEqual({ protocol: 17, offset: 48, length: 1232, capturedLength: 8, fragmentHeader: 40, headers: 1 });
    expect(at('ah')).toEqual({ protocol: 17, offset: 64, length: 23, capturedLength: 23, fragmentHeader: -1, headers: 1 });
  });

  it('stops at ESP, No Next Header and unknown headers', () => {
    for (const nh of [IpProtocol.ESP, IpProtocol.IPV6_NONXT, IpProtocol.MOBILITY, 253, 200]) {
      const u = fromHex(V.hbh);
      u[40] = nh; // the Hop-by-Hop header's Next Header
      expect(walk(check(u))).toEqual({ protocol: nh, offset: 48, length: 23, capturedLength: 23, fragmentHeader: -1, headers: 1 });
    }
  });

  it('constructs a header through the setters', () => {
    const b = allocBytes(40, 0xa5);
    const v = Ipv6Packet.unchecked(b, 0, 40);
    v.version = 6;
    v.trafficClass = 0;
    v.flowLabel = 0x41a99;
    v.payloadLengthField = 40;
    v.nextHeader = IpProtocol.TCP;
    v.hopLimit = 64;
    v.setSrc('2a01:cb01:2049:8b07:991d:ec85:28df:f629');
    v.setDst('2a00:1450:4007:80a::200a');
    expect(hex(b.u8)).toBe(V.reddit.slice(0, 80));
    v.trafficClass = 0xb9;
    expect([v.version, v.trafficClass, v.dscp, v.ecn, v.flowLabel]).toEqual([6, 0xb9, 0x2e, 1, 0x41a99]);
    v.flowLabel = 0xfffff;
    expect([v.version, v.trafficClass, v.flowLabel]).toEqual([6, 0xb9, 0xfffff]);
  });

  it('answers truncated for short headers and for extension headers the capture cut', () => {
    const u = fromHex(V.reddit);
    for (let n = 0; n < IPV6_HEADER_LEN; n++) expect(check(u, n)).toBe('truncated');
    expect(check(u, IPV6_HEADER_LEN)).toBeInstanceOf(Ipv6Packet);
    // Every cut inside the extension headers of a first fragment: the view is fine, the walk is not.
    const f = fromHex(V.hbhDstFrag);
    for (let n = IPV6_HEADER_LEN; n < 72; n++) expect(walk(check(f, n)), `cut at ${n}`).toBe('truncated');
    expect(walk(check(f, 72))).toMatchObject({ protocol: 17, offset: 72, capturedLength: 0 });
    const a = fromHex(V.ah);
    for (let n = IPV6_HEADER_LEN; n < 64; n++) expect(walk(check(a, n))).toBe('truncated');
  });

  it('rejects impossible versions, payload lengths and header lengths', () => {
    const set = (name: Name, at: number, value: number): Uint8Array => {
      const u = fromHex(V[name]);
      u[at] = value;
      return u;
    };
    expect(check(set('reddit', 0, 0x40))).toBe('bad-version');
    // Payload length 0: nothing fits in it but "no next header".
    const zero = set('reddit', 5, 0);
    expect(check(zero)).toBe('bad-length');
    zero[6] = IpProtocol.IPV6_NONXT;
    const empty = check(zero) as Ipv6Packet;
    expect([empty.payloadLength, empty.capturedPayloadLength]).toEqual([0, 0]);
    expect(walk(empty)).toMatchObject({ protocol: 59, offset: 40, length: 0 });
    // Extension headers that claim more than the payload length.
    expect(walk(check(set('hbh', 41, 3)))).toBe('bad-header-length'); // Hop-by-Hop of 32 bytes in 31
    expect(walk(check(set('ah', 41, 20)))).toBe('bad-header-length'); // AH of 88 bytes
    expect(walk(check(set('ah', 41, 0)))).toBe('bad-header-length'); // AH of 8 bytes < its 12 fixed
    // A payload length too small for even the first extension header's first two bytes.
    const tiny = set('hbh', 5, 1);
    expect(walk(check(tiny))).toBe('bad-header-length');
    // Hop-by-Hop anywhere but first (RFC 8200 §4.3).
    expect(walk(check(set('dst', 40, IpProtocol.HOPOPT)))).toBe('bad-field');
    // The chain-length cap.
    expect(walk(check(fromHex(V.hbhDstFrag)), 2)).toBe('bad-field');
    expect(walk(check(fromHex(V.hbhDstFrag)), 3)).toMatchObject({ headers: 3 });
  });

  it('accepts a jumbogram only with a Jumbo Payload option above 65535 (RFC 2675)', () => {
    // Hand-built: payload length 0, Hop-by-Hop with Jumbo Payload 70000 (0x00011170), then 8 bytes of UDP.
    const jumbo = (value: string, type = 'c2'): Uint8Array =>
      fromHex('6000000000000040' + '20010db8000000000000000000000001' + '20010db8000000000000000000000002' + `1100${type}04${value}` + '9c40000900000000');
    const v = check(jumbo('00011170')) as Ipv6Packet;
    expect(v).toBeInstanceOf(Ipv6Packet);
    expect(v.isJumbogram).toBe(true);
    expect(v.payloadLength).toBe(70000);
    expect(v.truncated).toBe(true);
    expect(walk(v)).toMatchObject({ protocol: 17, offset: 48, length: 70000 - 8, capturedLength: 8 });
    const r = parseIpv6Repr(v) as Ipv6Repr;
    expect(r.payloadLength).toBe(70000);
    const out = allocBytes(48, 0xa5);
    emitIpv6Repr(r, out, 0);
    expect(hex(out.u8)).toBe(hex(jumbo('00011170').subarray(0, 48)));
    expect(check(jumbo('0000ffff'))).toBe('bad-length'); // not above 65535
    expect(check(jumbo('00011170', '1e'))).toBe('bad-length'); // no Jumbo option
    expect(check(jumbo('00011170'), 44)).toBe('truncated'); // option not captured
  });

  it('rejects malformed option TLVs', () => {
    const opts = (h: string): ReturnType<typeof parseIpv6Options> => {
      const u = fromHex(h);
      return parseIpv6Options(bytesOf(u), 0, u.length);
    };
    expect(opts('1e05abcd0100')).toBe('bad-option'); // data past the header
    expect(opts('0000001e')).toBe('bad-option'); // no room for the length byte
    expect(opts('000001000102abcd')).toEqual([
      { kind: 'pad1' },
      { kind: 'pad1' },
      { kind: 'padn', data: new Uint8Array(0) },
      { kind: 'padn', data: data('abcd') }, // non-zero PadN contents are kept, not judged
    ]);
    const u = fromHex(V.dst);
    u[44] = 12; // option 0x1e claims 12 bytes, 1 more than the header holds
    expect(parseIpv6Repr(check(u) as Ipv6Packet)).toBe('bad-option');
  });
});

describe('IPv6 record', () => {
  const hbhOptions: Ipv6Option[] = [
    { kind: 'option', type: Ipv6OptionType.EXPERIMENTAL_1E, data: data('abcd') },
    { kind: 'padn', data: new Uint8Array(0) },
  ];
  const dstOptions: Ipv6Option[] = [
    { kind: 'pad1' },
    { kind: 'option', type: Ipv6OptionType.EXPERIMENTAL_1E, data: data('010203') },
    { kind: 'padn', data: new Uint8Array(6) },
  ];
  const base = { trafficClass: 0, flowLabel: 0x2e09b, hopLimit: 64, src: A, dst: B };
  const srh: Ipv6ExtHeader = { kind: 'routing', routingType: 4, segmentsLeft: 0, data: data('00000000' + '20010db8000000000000000000000002') };

  const expected: Record<Name, Ipv6Repr> = {
    reddit: {
      trafficClass: 0,
      flowLabel: 0x41a99,
      hopLimit: 64,
      src: '2a01:cb01:2049:8b07:991d:ec85:28df:f629',
      dst: '2a00:1450:4007:80a::200a',
      extensions: [],
      protocol: IpProtocol.TCP,
      payloadLength: 40,
    },
    mld: {
      trafficClass: 0,
      flowLabel: 0,
      hopLimit: 1,
      src: 'fe80::ff:fe00:1',
      dst: 'ff02::16',
      extensions: [
        {
          kind: 'hop-by-hop',
          options: [
            { kind: 'option', type: Ipv6OptionType.ROUTER_ALERT, data: data('0000') },
            { kind: 'padn', data: new Uint8Array(0) },
          ],
        },
      ],
      protocol: IpProtocol.ICMPV6,
      payloadLength: 36,
    },
    hbh: { ...base, extensions: [{ kind: 'hop-by-hop', options: hbhOptions }], protocol: IpProtocol.UDP, payloadLength: 31 },
    dst: { ...base, extensions: [{ kind: 'destination', options: dstOptions }], protocol: IpProtocol.UDP, payloadLength: 43 },
    hbhDstFrag: {
      ...base,
      extensions: [
        { kind: 'hop-by-hop', options: hbhOptions },
        { kind: 'destination', options: dstOptions },
        { kind: 'fragment', offset: 0, moreFragments: true, identification: 0x70968b00 },
      ],
      protocol: IpProtocol.UDP,
      payloadLength: 1240,
    },
    laterFrag: {
      ...base,
      extensions: [
        { kind: 'hop-by-hop', options: hbhOptions },
        { kind: 'destination', options: dstOptions },
        { kind: 'fragment', offset: 1208, moreFragments: false, identification: 0x70968b00 },
      ],
      protocol: IpProtocol.UDP,
      payloadLength: 232,
    },
    srh: { ...base, extensions: [srh], protocol: IpProtocol.UDP, payloadLength: 47 },
    srhFrag: {
      ...base,
      extensions: [srh, { kind: 'fragment', offset: 0, moreFragments: true, identification: 0x03998215 }],
      protocol: IpProtocol.UDP,
      payloadLength: 1240,
    },
    frag: {
      ...base,
      extensions: [{ kind: 'fragment', offset: 0, moreFragments: true, identification: 0x4ebecdae }],
      protocol: IpProtocol.UDP,
      payloadLength: 1240,
    },
    ah: {
      ...base,
      extensions: [{ kind: 'auth', spi: 0x1000, sequence: 1, icv: data('a0a1a2a3a4a5a6a7a8a9aaab') }],
      protocol: IpProtocol.UDP,
      payloadLength: 47,
    },
  };

  it('parses real packets into records', () => {
    for (const name of Object.keys(V) as Name[]) expect(parsed(name), name).toEqual(expected[name]);
  });

  it('emits records to the real bytes', () => {
    for (const name of Object.keys(V) as Name[]) {
      const r = expected[name];
      const hl = ipv6ReprHeaderLen(r);
      expect(hl).toBe((walk(view(name)) as Ipv6Chain).offset);
      const out = allocBytes(hl, 0xa5);
      expect(emitIpv6Repr(r, out, 0)).toBe(hl);
      expect(hex(out.u8), name).toBe(V[name].slice(0, 2 * hl));
    }
  });

  it('keeps reserved fields of Fragment and AH headers', () => {
    const u = fromHex(V.frag);
    u[41] = 0x5a; // reserved byte
    u[43] = (u[43] as number) | 0x06; // the two reserved bits
    const r = parseIpv6Repr(check(u) as Ipv6Packet) as Ipv6Repr;
    expect(r.extensions[0]).toEqual({ kind: 'fragment', offset: 0, moreFragments: true, identification: 0x4ebecdae, reserved: 0x5a, reservedBits: 3 });
    const out = allocBytes(48, 0xa5);
    emitIpv6Repr(r, out, 0);
    expect(hex(out.u8)).toBe(hex(u.subarray(0, 48)));

    const a = fromHex(V.ah);
    a[43] = 0x77;
    const ra = parseIpv6Repr(check(a) as Ipv6Packet) as Ipv6Repr;
    expect(ra.extensions[0]).toMatchObject({ kind: 'auth', reserved: 0x77 });
    const outa = allocBytes(64, 0xa5);
    emitIpv6Repr(ra, outa, 0);
    expect(hex(outa.u8)).toBe(hex(a.subarray(0, 64)));
  });

  it('refuses records it cannot encode', () => {
    const b = allocBytes(200);
    const r = expected.hbh;
    expect(() => emitIpv6Repr({ ...r, extensions: [{ kind: 'hop-by-hop', options: [{ kind: 'pad1' }] }] }, b, 0)).toThrow(RangeError);
    expect(() => emitIpv6Repr({ ...r, extensions: [{ kind: 'fragment', offset: 5, moreFragments: false, identification: 1 }] }, b, 0)).toThrow(RangeError);
    expect(() => emitIpv6Repr({ ...r, extensions: [{ kind: 'auth', spi: 1, sequence: 1, icv: new Uint8Array(2) }] }, b, 0)).toThrow(RangeError);
    expect(() => emitIpv6Repr({ ...r, src: '2001:db8::g' }, b, 0)).toThrow(RangeError);
  });

  it('round-trips every IPv6 header of every capture', () => {
    const packets = allIpPackets().filter((p) => p.version === 6);
    expect(packets.length).toBeGreaterThan(2000);
    const protocols = new Set<number>();
    for (const p of packets) {
      const v = Ipv6Packet.check(p.b, p.off, p.len);
      if (typeof v === 'string') throw new Error(`${p.file} frame ${p.frame}: ${v}`);
      const r = parseIpv6Repr(v);
      if (typeof r === 'string') throw new Error(`${p.file} frame ${p.frame}: ${r}`);
      const hl = ipv6ReprHeaderLen(r);
      const out = allocBytes(hl, 0xa5);
      emitIpv6Repr(r, out, 0);
      expect(hex(out.u8), `${p.file} frame ${p.frame}`).toBe(hex(p.b.u8.subarray(p.off, p.off + hl)));
      // tshark finds only TCP over IPv6 in shared/pcaps (`tshark -Y 'ipv6 && !tcp'`: no frame).
      if (p.file !== 'ip-ext-linux.pcap') expect(r.protocol, `${p.file} frame ${p.frame}`).toBe(IpProtocol.TCP);
      else protocols.add(r.protocol);
    }
    expect([...protocols].sort((x, y) => x - y)).toEqual([IpProtocol.UDP, IpProtocol.ICMPV6]);
  });
});

describe('IPv6 properties', () => {
  const tlvs: fc.Arbitrary<Ipv6Option[]> = fc.array(
    fc.oneof(
      fc.constant<Ipv6Option>({ kind: 'pad1' }),
      fc.uint8Array({ maxLength: 6 }).map((d): Ipv6Option => ({ kind: 'padn', data: d })),
      fc
        .record({ type: fc.integer({ min: 2, max: 255 }), data: fc.uint8Array({ maxLength: 12 }) })
        .map((o): Ipv6Option => ({ kind: 'option', type: o.type, data: o.data })),
    ),
    { maxLength: 5 },
  );
  // Pad the TLVs to a multiple of 8 with Pad1 so the header is encodable (2 bytes of header + options).
  const padded = tlvs.map((os) => {
    let n = 2 + os.reduce((s, o) => s + (o.kind === 'pad1' ? 1 : 2 + o.data.length), 0);
    const out = [...os];
    while (n % 8 !== 0) {
      out.push({ kind: 'pad1' });
      n++;
    }
    return out;
  });
  const middle: fc.Arbitrary<Ipv6ExtHeader> = fc.oneof(
    padded.map((options): Ipv6ExtHeader => ({ kind: 'destination', options })),
    fc
      .record({ routingType: fc.integer({ min: 0, max: 255 }), segmentsLeft: fc.integer({ min: 0, max: 255 }), words: fc.integer({ min: 0, max: 4 }) })
      .chain((r) => fc.uint8Array({ minLength: 4 + 8 * r.words, maxLength: 4 + 8 * r.words }).map((d): Ipv6ExtHeader => ({ kind: 'routing', routingType: r.routingType, segmentsLeft: r.segmentsLeft, data: d }))),
    fc
      .record({ spi: fc.nat(), sequence: fc.nat(), words: fc.integer({ min: 0, max: 5 }) })
      .chain((r) => fc.uint8Array({ minLength: 4 + 8 * r.words, maxLength: 4 + 8 * r.words }).map((icv): Ipv6ExtHeader => ({ kind: 'auth', spi: r.spi, sequence: r.sequence, icv }))),
    fc.record({ identification: fc.nat(), moreFragments: fc.constant(true) }).map((f): Ipv6ExtHeader => ({ kind: 'fragment', offset: 0, moreFragments: f.moreFragments, identification: f.identification })),
  );
  const repr: fc.Arbitrary<Ipv6Repr> = fc
    .record({
      trafficClass: fc.integer({ min: 0, max: 255 }),
      flowLabel: fc.integer({ min: 0, max: 0xfffff }),
      hopLimit: fc.integer({ min: 0, max: 255 }),
      src: fc.ipV6(),
      dst: fc.ipV6(),
      hbh: fc.option(padded, { nil: undefined }),
      middle: fc.array(middle, { maxLength: 4 }),
      protocol: fc.constantFrom(6, 17, 58, 50, 59, 135, 200),
      extra: fc.integer({ min: 0, max: 300 }),
    })
    .map((x) => {
      const extensions: Ipv6ExtHeader[] = x.hbh ? [{ kind: 'hop-by-hop', options: x.hbh }, ...x.middle] : x.middle;
      const r: Ipv6Repr = { trafficClass: x.trafficClass, flowLabel: x.flowLabel, hopLimit: x.hopLimit, src: x.src, dst: x.dst, extensions, protocol: x.protocol, payloadLength: 0 };
      r.payloadLength = ipv6ReprHeaderLen(r) - IPV6_HEADER_LEN + (x.protocol === 59 ? 0 : x.extra);
      return r;
    })
    // A chain and payload length of 0 is only legal with No Next Header.
    .filter((r) => r.payloadLength > 0 || r.protocol === 59);

  it('parse(emit(record)) is the record, and the walker agrees with it', () => {
    fc.assert(
      fc.property(repr, (r) => {
        const hl = ipv6ReprHeaderLen(r);
        const b = allocBytes(IPV6_HEADER_LEN + r.payloadLength, 0xa5);
        expect(emitIpv6Repr(r, b, 0)).toBe(hl);
        const v = Ipv6Packet.check(b, 0, b.u8.length);
        if (typeof v === 'string') throw new Error(v);
        const back = parseIpv6Repr(v);
        // fast-check's IPv6 text is not always RFC 5952 canonical: compare addresses as parsed back.
        expect(back).toEqual({ ...r, src: v.src, dst: v.dst });
        const c = walkIpv6Headers(v, newIpv6Chain()) as Ipv6Chain;
        expect([c.protocol, c.offset, c.headers]).toEqual([r.protocol, hl, r.extensions.length]);
      }),
    );
  });
});
