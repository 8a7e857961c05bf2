import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocBytes, bytesOf, fromHex, hex } from '../../src/wire/bytes.js';
import type { Bytes } from '../../src/wire/bytes.js';
import { checksumOk, finishChecksum, pseudoHeaderSumOf, sum16 } from '../../src/wire/checksum.js';
import { IpProtocol } from '../../src/wire/ipproto.js';
import {
  emitIpv4Repr,
  IPV4_HEADER_LEN,
  Ipv4OptionType,
  Ipv4Packet,
  ipv4ReprHeaderLen,
  parseIpv4Options,
  parseIpv4Repr,
} from '../../src/wire/ipv4.js';
import type { Ipv4Option, Ipv4Repr } from '../../src/wire/ipv4.js';
import { truthOf } from '../corpus.js';
import { allIpPackets } from './ip-corpus.js';

/*
 * Vectors: whole IP packets (Ethernet header stripped). "fixture" is fixtures/ip-ext-linux.pcap,
 * captured from the Linux 6.18 kernel for these tests (ip-corpus.ts says how); field values in the
 * comments are tshark 4.0's.
 */
const V = {
  // zeek-tcp-options.pcap frame 1, bytes 14..78: a SYN, no IP options. The frame ends with 4 bytes after
  // the 60-byte datagram (total length 60), which are not payload.
  syn:
    '4500003ca912400040064d59c0a80166c101c140' +
    '8ffd0050df91fdfb00000000a00216d02a1c0000020405b40402080affff54e900000000010303066199607c',
  // fixture frame 9, bytes 14..: UDP 40000 -> 9, IHL 7: NOP, Record Route (length 7, pointer 8,
  // 198.18.0.1 recorded by the sender), DF, id 0x844d, checksum 0x5a1f.
  nopRr:
    '47000036844d400040115a1fc6120001c612000201070708c6120001' + '9c400009001a8c53' + '73796e61636b2069707634206e6f702b7272',
  // fixture frame 11: Record Route alone; the kernel pads the 7 bytes with one EOL.
  rrEol:
    '47000036845840004011056ac6120001c6120002070708c612000100' + '9c400009001a8c4f' + '73796e61636b20697076342072722b656f6c',
  // fixture frame 13: IHL 8, Timestamp option (type 68, length 12, pointer 9, flag 0: one timestamp
  // 77...: 0x04a45820 recorded, one slot free).
  ts: '480000368461400040117d5dc6120001c6120002440c090004a45820000000009c40000900168c4f' + '73796e61636b2069707634207473',
  // fixture frame 16, header only (bytes 14..42): second fragment of id 0x846b, offset 156*8 = 1248, MF
  // clear, total length 188; the Record Route of the first fragment became 7 NOPs + EOL
  // (ip_options_fragment()).
  fragNops: '470000bc846b009c401162ffc6120001c61200020101010101010100',
  // fixture frame 15, header only: the first fragment, MF set, total length 1276, still with Record Route.
  fragFirst: '470004fc846b200040112091c6120001c6120002070708c612000100',
} as const;

function pkt(name: keyof typeof V): { b: Bytes; bytes: Uint8Array; view: Ipv4Packet } {
  const bytes = fromHex(V[name]);
  const b = bytesOf(bytes);
  const view = Ipv4Packet.check(b, 0, bytes.length);
  if (typeof view === 'string') throw new Error(`${name}: ${view}`);
  return { b, bytes, view };
}

function check(bytes: Uint8Array, len = bytes.length): Ipv4Packet | string {
  return Ipv4Packet.check(bytesOf(bytes), 0, len);
}

function parsed(name: keyof typeof V): Ipv4Repr {
  const r = parseIpv4Repr(pkt(name).view);
  if (typeof r === 'string') throw new Error(`${name}: ${r}`);
  return r;
}

const data = (s: string): Uint8Array => fromHex(s);

describe('IPv4 view (RFC 791)', () => {
  it('deconstructs a real SYN header', () => {
    const { view } = pkt('syn');
    expect(view.version).toBe(4);
    expect(view.ihl).toBe(5);
    expect(view.headerLength).toBe(20);
    expect(view.dscp).toBe(0);
    expect(view.ecn).toBe(0);
    expect(view.totalLength).toBe(60);
    expect(view.identification).toBe(0xa912);
    expect(view.reservedFlag).toBe(false);
    expect(view.dontFragment).toBe(true);
    expect(view.moreFragments).toBe(false);
    expect(view.fragmentOffset).toBe(0);
    expect(view.isFragment).toBe(false);
    expect(view.ttl).toBe(64);
    expect(view.protocol).toBe(IpProtocol.TCP);
    expect(view.checksum).toBe(0x4d59);
    expect(view.src).toBe('192.168.1.102');
    expect(view.dst).toBe('193.1.193.64');
    expect(view.srcU32).toBe(0xc0a80166);
    expect(view.dstU32).toBe(0xc101c140);
    expect(view.optionsLength).toBe(0);
    expect(view.payloadOffset).toBe(20);
    // 64 bytes follow the Ethernet header but the datagram is 60: the last 4 are not payload.
    expect(view.payloadLength).toBe(40);
    expect(view.capturedPayloadLength).toBe(40);
    expect(view.truncated).toBe(false);
    expect(view.verifyChecksum()).toBe(true);
    // The TCP checksum of the segment verifies with the view's pseudo-header sum.
    expect(checksumOk(sum16(view.b, 20, 40, view.pseudoHeaderSum()))).toBe(true);
  });

  it('deconstructs real headers with options and fragments', () => {
    const a = pkt('nopRr').view;
    expect(a.ihl).toBe(7);
    expect(a.optionsOffset).toBe(20);
    expect(a.optionsLength).toBe(8);
    expect(a.payloadOffset).toBe(28);
    expect(a.payloadLength).toBe(26);
    expect(a.protocol).toBe(IpProtocol.UDP);
    expect(a.src).toBe('198.18.0.1');
    expect(a.dst).toBe('198.18.0.2');
    expect(a.verifyChecksum()).toBe(true);
    // The UDP checksum field (0x8c53) holds the folded pseudo-header sum and nothing else: the veth
    // passed the packet with checksum offload pending (CHECKSUM_PARTIAL), before anyone finished it.
    expect(a.b.dv.getUint16(34)).toBe(~finishChecksum(a.pseudoHeaderSum()) & 0xffff);

    const f = pkt('fragNops').view;
    expect(f.isFragment).toBe(true);
    expect(f.moreFragments).toBe(false);
    expect(f.fragmentOffset).toBe(1248);
    expect(f.identification).toBe(0x846b);
    expect(f.payloadLength).toBe(160);
    // Only the header was kept in the vector: the view says so instead of failing.
    expect(f.capturedPayloadLength).toBe(0);
    expect(f.truncated).toBe(true);
    expect(f.verifyChecksum()).toBe(true);

    const g = pkt('fragFirst').view;
    expect(g.isFragment).toBe(true);
    expect(g.moreFragments).toBe(true);
    expect(g.fragmentOffset).toBe(0);
    expect(g.payloadLength).toBe(1248);
    expect(pkt('ts').view.headerLength).toBe(32);
  });

  it('constructs a header through the setters', () => {
    const b = allocBytes(20, 0xa5);
    const v = Ipv4Packet.unchecked(b, 0, 20);
    v.version = 4;
    v.ihl = 5;
    v.dscp = 0;
    v.ecn = 0;
    v.totalLength = 60;
    v.identification = 0xa912;
    v.reservedFlag = false;
    v.dontFragment = true;
    v.moreFragments = false;
    v.fragmentOffset = 0;
    v.ttl = 64;
    v.protocol = IpProtocol.TCP;
    v.setSrc('192.168.1.102');
    v.setDst('193.1.193.64');
    v.fillChecksum();
    expect(hex(b.u8)).toBe(V.syn.slice(0, 40));

    // Flags and offset share a word: setting one must not disturb the others.
    v.moreFragments = true;
    v.fragmentOffset = 1248;
    v.reservedFlag = true;
    expect([v.dontFragment, v.moreFragments, v.reservedFlag, v.fragmentOffset]).toEqual([true, true, true, 1248]);
    v.dontFragment = false;
    expect([v.dontFragment, v.moreFragments, v.reservedFlag, v.fragmentOffset]).toEqual([false, true, true, 1248]);
    v.ecn = 3;
    v.dscp = 0x2e;
    expect(v.tos).toBe(0xbb);
    expect(() => (v.fragmentOffset = 12)).toThrow(RangeError);
  });

  it('answers truncated for every prefix shorter than the fixed header', () => {
    const bytes = fromHex(V.syn);
    for (let n = 0; n < IPV4_HEADER_LEN; n++) expect(check(bytes, n)).toBe('truncated');
    expect(check(bytes, IPV4_HEADER_LEN)).toBeInstanceOf(Ipv4Packet);
    // With options (IHL 7), the 20..27-byte prefixes cut the header the IHL announces.
    const opt = fromHex(V.nopRr);
    for (let n = 0; n < IPV4_HEADER_LEN; n++) expect(check(opt, n)).toBe('truncated');
    for (let n = IPV4_HEADER_LEN; n < 28; n++) expect(check(opt, n)).toBe('bad-header-length');
    expect(check(opt, 28)).toBeInstanceOf(Ipv4Packet);
  });

  it('rejects impossible versions and lengths', () => {
    const with_ = (name: keyof typeof V, at: number, value: number): Uint8Array => {
      const u = fromHex(V[name]);
      u[at] = value;
      return u;
    };
    expect(check(with_('syn', 0, 0x65))).toBe('bad-version');
    expect(check(with_('syn', 0, 0x44))).toBe('bad-header-length'); // IHL 4
    expect(check(with_('syn', 0, 0x40))).toBe('bad-header-length'); // IHL 0
    expect(check(with_('syn', 0, 0x4f), 40)).toBe('bad-header-length'); // 60-byte header in 40 bytes
    // Total length 19 and 27: below the header length.
    const short = fromHex(V.syn);
    short[2] = 0;
    short[3] = 19;
    expect(check(short)).toBe('bad-length');
    const shortOpt = fromHex(V.nopRr);
    shortOpt[2] = 0;
    shortOpt[3] = 27;
    expect(check(shortOpt)).toBe('bad-length');
    shortOpt[3] = 28; // header only, no payload: fine
    expect((check(shortOpt) as Ipv4Packet).payloadLength).toBe(0);

    // Total length 0 (TSO): accepted, the captured bytes count as payload.
    const tso = fromHex(V.syn).slice(0, 60);
    tso[2] = 0;
    tso[3] = 0;
    const t = check(tso) as Ipv4Packet;
    expect(t.totalLength).toBe(0);
    expect(t.payloadLength).toBe(40);
    expect(t.truncated).toBe(false);

    // A total length past the bytes (snap length): accepted, and told apart.
    const big = fromHex(V.syn).slice(0, 54);
    const s = check(big) as Ipv4Packet;
    expect(s.payloadLength).toBe(40);
    expect(s.capturedPayloadLength).toBe(34);
    expect(s.truncated).toBe(true);
  });

  it('rejects malformed options', () => {
    const opts = (h: string): ReturnType<typeof parseIpv4Options> => {
      const u = fromHex(h);
      return parseIpv4Options(bytesOf(u), 0, u.length);
    };
    expect(opts('07000000')).toBe('bad-option'); // length 0
    expect(opts('01070100')).toBe('bad-option'); // length 1
    expect(opts('0107090400000000')).toBe('bad-option'); // length 9 in 7 bytes
    expect(opts('01010107')).toBe('bad-option'); // no room for the length byte
    // A header whose options are malformed checks as a view but does not parse.
    const u = fromHex(V.nopRr);
    u[22] = 9;
    const v = check(u) as Ipv4Packet;
    expect(v).toBeInstanceOf(Ipv4Packet);
    expect(parseIpv4Repr(v)).toBe('bad-option');
  });
});

describe('IPv4 record', () => {
  const nopRrRepr: Ipv4Repr = {
    dscp: 0,
    ecn: 0,
    identification: 0x844d,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 64,
    protocol: IpProtocol.UDP,
    src: '198.18.0.1',
    dst: '198.18.0.2',
    options: [{ kind: 'nop' }, { kind: 'option', type: Ipv4OptionType.RR, data: data('08c6120001') }],
    payloadLength: 26,
  };

  it('parses real headers into records', () => {
    expect(parsed('nopRr')).toEqual(nopRrRepr);
    expect(parsed('rrEol')).toEqual({
      ...nopRrRepr,
      identification: 0x8458,
      options: [{ kind: 'option', type: Ipv4OptionType.RR, data: data('08c6120001') }, { kind: 'eol' }],
    });
    expect(parsed('ts').options).toEqual([{ kind: 'option', type: Ipv4OptionType.TS, data: data('090004a4582000000000') }]);
    const nops: Ipv4Option[] = [...Array<Ipv4Option>(7).fill({ kind: 'nop' }), { kind: 'eol' }];
    expect(parsed('fragNops')).toEqual({
      dscp: 0,
      ecn: 0,
      identification: 0x846b,
      dontFragment: false,
      moreFragments: false,
      fragmentOffset: 1248,
      ttl: 64,
      protocol: IpProtocol.UDP,
      src: '198.18.0.1',
      dst: '198.18.0.2',
      options: nops,
      payloadLength: 160,
    });
    expect(parsed('syn')).toEqual({
      dscp: 0,
      ecn: 0,
      identification: 0xa912,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IpProtocol.TCP,
      src: '192.168.1.102',
      dst: '193.1.193.64',
      options: [],
      payloadLength: 40,
    });
  });

  it('emits records to the real bytes', () => {
    for (const name of Object.keys(V) as (keyof typeof V)[]) {
      const { view, bytes } = pkt(name);
      const repr = parsed(name);
      const hl = ipv4ReprHeaderLen(repr);
      expect(hl).toBe(view.headerLength);
      const out = allocBytes(hl, 0xa5);
      expect(emitIpv4Repr(repr, out, 0)).toBe(hl);
      expect(hex(out.u8), name).toBe(hex(bytes.subarray(0, hl)));
    }
    // A record built by hand (no fidelity fields) gets the computed length and checksum.
    const out = allocBytes(28, 0xa5);
    emitIpv4Repr(nopRrRepr, out, 0);
    expect(hex(out.u8)).toBe(V.nopRr.slice(0, 56));
  });

  it('keeps what emit would not compute: bad checksum, lying or zero total length, reserved bit, padding', () => {
    const cases: Array<[string, (u: Uint8Array) => void, Partial<Ipv4Repr>]> = [
      ['checksum', (u) => { u[10] = 0x12; u[11] = 0x34; }, { checksum: 0x1234 }],
      ['tso', (u) => { u[2] = 0; u[3] = 0; }, { totalLength: 0 }],
      ['reserved', (u) => { u[6] = (u[6] as number) | 0x80; }, { reservedFlag: true }],
    ];
    for (const [what, mutate, expected] of cases) {
      const u = fromHex(V.rrEol);
      mutate(u);
      const v = check(u) as Ipv4Packet;
      const r = parseIpv4Repr(v) as Ipv4Repr;
      for (const [k, val] of Object.entries(expected)) expect(r[k as keyof Ipv4Repr], what).toEqual(val);
      const out = allocBytes(28, 0xa5);
      emitIpv4Repr(r, out, 0);
      expect(hex(out.u8), what).toBe(hex(u.subarray(0, 28)));
    }
    // An EOL followed by a whole extra word of zeros: more padding than emit would write.
    const u = fromHex('480000200001000040110000c6120001c6120002' + '0100000000000000' + '00000000');
    const v = check(u) as Ipv4Packet;
    v.fillChecksum();
    const r = parseIpv4Repr(v) as Ipv4Repr;
    expect(r.options).toEqual([{ kind: 'nop' }, { kind: 'eol' }]);
    expect(r.padding).toEqual(new Uint8Array(10));
    expect(r.checksum).toBeUndefined();
    const out = allocBytes(32, 0xa5);
    expect(emitIpv4Repr(r, out, 0)).toBe(32);
    expect(hex(out.u8)).toBe(hex(u));
    // Non-zero bytes after the EOL.
    const w = fromHex('470000200001000040110000c6120001c6120002' + '01005a0000a50000');
    (check(w) as Ipv4Packet).fillChecksum();
    const rw = parseIpv4Repr(check(w) as Ipv4Packet) as Ipv4Repr;
    expect(rw.padding).toEqual(data('5a0000a50000'));
    const outw = allocBytes(28, 0xa5);
    emitIpv4Repr(rw, outw, 0);
    expect(hex(outw.u8)).toBe(hex(w));
  });

  it('refuses records it cannot encode', () => {
    const b = allocBytes(80);
    const base = parsed('syn');
    expect(() => emitIpv4Repr({ ...base, fragmentOffset: 3 }, b, 0)).toThrow(RangeError);
    expect(() => emitIpv4Repr({ ...base, payloadLength: 65516 }, b, 0)).toThrow(RangeError);
    expect(() => emitIpv4Repr({ ...base, options: [{ kind: 'option', type: 7, data: new Uint8Array(39) }] }, b, 0)).toThrow(RangeError);
    expect(() => emitIpv4Repr({ ...base, src: '198.18.0.256' }, b, 0)).toThrow(RangeError);
  });

  it('round-trips every IPv4 header of every capture, and finds the bad checksums tshark finds', () => {
    const packets = allIpPackets().filter((p) => p.version === 4);
    expect(packets.length).toBeGreaterThan(2000);
    const badByFile = new Map<string, number>();
    for (const p of packets) {
      const v = Ipv4Packet.check(p.b, p.off, p.len);
      if (typeof v === 'string') throw new Error(`${p.file} frame ${p.frame}: ${v}`);
      const r = parseIpv4Repr(v);
      if (typeof r === 'string') throw new Error(`${p.file} frame ${p.frame}: ${r}`);
      const hl = ipv4ReprHeaderLen(r);
      const out = allocBytes(hl, 0xa5);
      emitIpv4Repr(r, out, 0);
      expect(hex(out.u8), `${p.file} frame ${p.frame}`).toBe(hex(p.b.u8.subarray(p.off, p.off + hl)));
      expect(v.verifyChecksum()).toBe(r.checksum === undefined);
      if (r.checksum !== undefined) badByFile.set(p.file, (badByFile.get(p.file) ?? 0) + 1);
    }
    for (const file of new Set(packets.map((x) => x.file))) {
      const want = file === 'ip-ext-linux.pcap' ? 0 : truthOf(file)['bad_ip_checksum_packets'];
      expect(badByFile.get(file) ?? 0, file).toBe(want);
    }
  });
});

describe('IPv4 properties', () => {
  const option: fc.Arbitrary<Ipv4Option> = fc.oneof(
    fc.constant<Ipv4Option>({ kind: 'nop' }),
    fc
      .record({ type: fc.integer({ min: 2, max: 255 }), data: fc.uint8Array({ maxLength: 10 }) })
      .map((o): Ipv4Option => ({ kind: 'option', type: o.type, data: o.data })),
  );
  // Options that fill a multiple of 4 bytes by themselves or end with an EOL (emit's zero padding then
  // reads back as padding of that EOL, not as an extra option).
  const options = fc
    .tuple(fc.array(option, { maxLength: 6 }), fc.boolean())
    .map(([os, eol]) => (eol ? [...os, { kind: 'eol' } as Ipv4Option] : os))
    .filter((os) => {
      const n = os.reduce((s, o) => s + (o.kind === 'option' ? 2 + o.data.length : 1), 0);
      return n <= 40 && (os.at(-1)?.kind === 'eol' || n % 4 === 0);
    });
  const repr: fc.Arbitrary<Ipv4Repr> = fc.record({
    dscp: fc.integer({ min: 0, max: 63 }),
    ecn: fc.integer({ min: 0, max: 3 }),
    identification: fc.integer({ min: 0, max: 0xffff }),
    dontFragment: fc.boolean(),
    moreFragments: fc.boolean(),
    fragmentOffset: fc.integer({ min: 0, max: 8191 }).map((n) => n * 8),
    ttl: fc.integer({ min: 0, max: 255 }),
    protocol: fc.integer({ min: 0, max: 255 }),
    src: fc.ipV4(),
    dst: fc.ipV4(),
    options,
    payloadLength: fc.integer({ min: 0, max: 1400 }),
  });

  it('parse(emit(record)) is the record, and the checksum verifies', () => {
    fc.assert(
      fc.property(repr, (r) => {
        const hl = ipv4ReprHeaderLen(r);
        const b = allocBytes(hl + r.payloadLength, 0xa5);
        expect(emitIpv4Repr(r, b, 0)).toBe(hl);
        const v = Ipv4Packet.check(b, 0, b.u8.length);
        if (typeof v === 'string') throw new Error(v);
        expect(v.verifyChecksum()).toBe(true);
        expect(v.capturedPayloadLength).toBe(r.payloadLength);
        expect(parseIpv4Repr(v)).toEqual(r);
      }),
    );
  });

  it('the pseudo-header sum from the view equals the one from text addresses', () => {
    fc.assert(
      fc.property(repr, (r) => {
        const b = allocBytes(ipv4ReprHeaderLen(r));
        emitIpv4Repr(r, b, 0);
        const v = Ipv4Packet.unchecked(b, 0, b.u8.length);
        expect(finishChecksum(v.pseudoHeaderSum(1234))).toBe(finishChecksum(pseudoHeaderSumOf(r.src, r.dst, r.protocol, 1234)));
      }),
    );
  });
});
