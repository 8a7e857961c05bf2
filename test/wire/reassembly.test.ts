import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocBytes, bytesOf, fromHex, hex } from '../../src/wire/bytes.js';
import { checksumOk, sum16 } from '../../src/wire/checksum.js';
import { IpProtocol } from '../../src/wire/ipproto.js';
import { emitIpv4Repr, Ipv4Packet, ipv4ReprHeaderLen, parseIpv4Repr } from '../../src/wire/ipv4.js';
import type { Ipv4Repr } from '../../src/wire/ipv4.js';
import { emitIpv6Repr, Ipv6Packet, ipv6ReprHeaderLen } from '../../src/wire/ipv6.js';
import type { Ipv6ExtHeader, Ipv6Repr } from '../../src/wire/ipv6.js';
import { Reassembler, REASSEMBLY_DEFAULTS } from '../../src/wire/reassembly.js';
import type { ReassembledDatagram, ReassemblyOptions, ReassemblyResult } from '../../src/wire/reassembly.js';
import { corpusPath } from '../corpus.js';
import type { IpRef } from './ip-corpus.js';
import { ipPacketsOf, LINUX_IP_EXT, pattern } from './ip-corpus.js';

// ---------------------------------------------------------------------------------------------------
// Feeding packets

function add(r: Reassembler, packet: Uint8Array, frame: number, timeUs = 0): ReassemblyResult {
  const b = bytesOf(packet);
  if ((packet[0] as number) >> 4 === 4) {
    const v = Ipv4Packet.check(b, 0, packet.length);
    if (typeof v === 'string') throw new Error(`frame ${frame}: ${v}`);
    return r.addIpv4(v, frame, timeUs);
  }
  const v = Ipv6Packet.check(b, 0, packet.length);
  if (typeof v === 'string') throw new Error(`frame ${frame}: ${v}`);
  return r.addIpv6(v, frame, timeUs);
}

function addRef(r: Reassembler, p: IpRef): ReassemblyResult {
  return add(r, p.b.u8.subarray(p.off, p.off + p.len), p.frame, p.timeUs);
}

function completed(res: ReassemblyResult): ReassembledDatagram {
  if (res.kind !== 'complete') throw new Error(`expected a completed datagram, got ${JSON.stringify(res)}`);
  return res.datagram;
}

// ---------------------------------------------------------------------------------------------------
// Building fragments with the (separately tested) codecs

const V4_BASE: Ipv4Repr = {
  dscp: 0,
  ecn: 0,
  identification: 0x6d62,
  dontFragment: false,
  moreFragments: false,
  fragmentOffset: 0,
  ttl: 64,
  protocol: IpProtocol.TCP,
  src: '198.18.0.2',
  dst: '198.18.0.1',
  options: [],
  payloadLength: 0,
};

/** IPv4 fragments of `payload` cut at `cuts` (sorted offsets, multiples of 8, starting with 0). */
function v4Fragments(payload: Uint8Array, cuts: number[], over: Partial<Ipv4Repr> = {}): Uint8Array[] {
  return cuts.map((offset, i) => {
    const end = cuts[i + 1] ?? payload.length;
    return v4Packet(payload.subarray(offset, end), { ...over, fragmentOffset: offset, moreFragments: i + 1 < cuts.length });
  });
}

function v4Packet(data: Uint8Array, over: Partial<Ipv4Repr>): Uint8Array {
  const repr: Ipv4Repr = { ...V4_BASE, ...over, payloadLength: data.length };
  const hl = ipv4ReprHeaderLen(repr);
  const b = allocBytes(hl + data.length);
  emitIpv4Repr(repr, b, 0);
  b.u8.set(data, hl);
  return b.u8;
}

function v6Packet(data: Uint8Array, fragment: { offset: number; more: boolean; id?: number }, over: Partial<Ipv6Repr> = {}, before: Ipv6ExtHeader[] = []): Uint8Array {
  const repr: Ipv6Repr = {
    trafficClass: 0,
    flowLabel: 0,
    hopLimit: 64,
    src: '2001:db8::1',
    dst: '2001:db8::2',
    extensions: [...before, { kind: 'fragment', offset: fragment.offset, moreFragments: fragment.more, identification: fragment.id ?? 0x4ebecdae }],
    protocol: IpProtocol.UDP,
    payloadLength: 0,
    ...over,
  };
  repr.payloadLength = ipv6ReprHeaderLen(repr) - 40 + data.length;
  const hl = ipv6ReprHeaderLen(repr);
  const b = allocBytes(hl + data.length);
  emitIpv6Repr(repr, b, 0);
  b.u8.set(data, hl);
  return b.u8;
}

function v6Fragments(payload: Uint8Array, cuts: number[], id?: number): Uint8Array[] {
  return cuts.map((offset, i) => {
    const end = cuts[i + 1] ?? payload.length;
    return v6Packet(payload.subarray(offset, end), { offset, more: i + 1 < cuts.length, ...(id === undefined ? {} : { id }) });
  });
}

// ---------------------------------------------------------------------------------------------------
// Ground truth: the "Reassembled IPv4" data source tshark 4.0 shows (`tshark -x`) on the last fragment.

const ARKIME_REASSEMBLED: Record<number, { frames: number[]; hex: string }> = {
  // 10.0.0.1 -> 10.0.0.2 id 0x8ad6: SOCKS5 connect request, 41 bytes.
  7: { frames: [6, 7], hex: '066553e532bb0e767a1a9ce3501844e68e730000050100030e7777772e676f6f676c652e636f6d0050' },
  // 10.0.0.2 -> 10.0.0.1 id 0x6d57: SOCKS5 reply, 30 bytes.
  9: { frames: [8, 9], hex: '53e506657a1a9ce332bb0e8b5018ffdbd9f40000050000010a0000020050' },
  // 10.0.0.1 -> 10.0.0.2 id 0x8adc: the HTTP GET, 415 bytes in 18 fragments.
  27: {
    frames: [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27],
    hex:
      '066553e532bb0e8b7a1a9ced501844dc60bd0000474554202f20485454502f312e310d0a486f73743a207777772e676f6f676c652e636f6d0d0a557365722d4167656e743a204d6f7a696c6c612f352e30202857696e646f7773204e5420352e313b2072763a32352e3029204765636b6f2f32303130303130312046697265666f782f32352e300d0a4163636570743a20746578742f68746d6c2c6170706c69636174696f6e2f7868746d6c2b786d6c2c6170706c69636174696f6e2f786d6c3b713d302e392c2a2f2a3b713d302e380d0a4163636570742d4c616e67756167653a20726f2d726f2c726f3b713d302e382c656e2d75733b713d302e362c656e2d67623b713d302e342c656e3b713d302e320d0a4163636570742d456e636f64696e673a20677a69702c206465666c6174650d0a436f6f6b69653a20505245463d49443d787878787878787878787878787878783a544d3d787878787878787878783a4c4d3d787878787878787878783a533d7878787878787878787878785f366f7a0d0a436f6e6e656374696f6e3a206b6565702d616c6976650d0a0d0a',
  },
  // 10.0.0.2 -> 10.0.0.1 id 0x6d62: the HTTP 302, 950 bytes in 40 fragments.
  67: {
    frames: Array.from({ length: 40 }, (_, i) => 28 + i),
    hex:
      '53e506657a1a9ced32bb10165018fe505e0b0000485454502f312e312033303220466f756e640d0a4c6f636174696f6e3a20687474703a2f2f7777772e676f6f676c652e64652f3f6777735f72643d63722665693d787878787878787878787878787878787878787878780d0a43616368652d436f6e74726f6c3a20707269766174650d0a436f6e74656e742d547970653a20746578742f68746d6c3b20636861727365743d5554462d380d0a5365742d436f6f6b69653a204e49443d36373d78787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878783b20657870697265733d5765642c2032382d4d61792d323031342031333a35383a313520474d543b20706174683d2f3b20646f6d61696e3d2e676f6f676c652e636f6d3b20487474704f6e6c790d0a5033503a2043503d2254686973206973206e6f7420612050335020706f6c696379212053656520687474703a2f2f7777772e676f6f676c652e636f6d2f737570706f72742f6163636f756e74732f62696e2f616e737765722e70793f686c3d656e26616e737765723d31353136353720666f72206d6f726520696e666f2e220d0a446174653a205475652c203236204e6f7620323031332031333a35383a313520474d540d0a5365727665723a206777730d0a436f6e74656e742d4c656e6774683a203235380d0a582d5853532d50726f74656374696f6e3a20313b206d6f64653d626c6f636b0d0a582d4672616d652d4f7074696f6e733a2053414d454f524947494e0d0a416c7465726e6174652d50726f746f636f6c3a2038303a717569630d0a0d0a3c48544d4c3e3c484541443e3c6d65746120687474702d65717569763d22636f6e74656e742d747970652220636f6e74656e743d22746578742f68746d6c3b636861727365743d7574662d38223e0a3c5449544c453e333032204d6f7665643c2f5449544c453e3c2f484541443e3c424f44593e0a3c48313e333032204d6f7665643c2f48313e0a54686520646f63756d656e7420686173206d6f7665640a3c4120485245463d22687474703a2f2f7777772e676f6f676c652e64652f3f6777735f72643d637226616d703b65693d78787878787878787878787878787878787878787878223e686572653c2f413e2e0d0a3c2f424f44593e3c2f48544d4c3e0d0a',
  },
};

/** The 950-byte HTTP 302 segment: real bytes to cut into synthetic fragments. */
const HTTP_302 = fromHex((ARKIME_REASSEMBLED[67] as { hex: string }).hex);

/** Offsets 0, step, 2*step, ... below `len`. */
function cutsEvery(len: number, step: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < len; o += step) out.push(o);
  return out;
}

// ---------------------------------------------------------------------------------------------------

describe('reassembly of real fragments', () => {
  it('rebuilds the fragmented SYN of zeek-ipv4-fragmented-syn.pcap as tshark does', () => {
    const r = new Reassembler();
    const [f1, f2] = ipPacketsOf(corpusPath('zeek-ipv4-fragmented-syn.pcap'));
    if (!f1 || !f2) throw new Error('expected two frames');
    expect(addRef(r, f1)).toEqual({ kind: 'pending', alsoDropped: [] });
    expect(r.pending).toBe(1);
    const d = completed(addRef(r, f2));
    // tshark 4.0: "[2 IPv4 Fragments (40 bytes): #1(24), #2(16)]", Reassembled IPv4 (40 bytes):
    expect(hex(d.payload)).toBe('30390050000003e800000000a0022000c5730000020405b40402080a00bc614e0000000001030307');
    expect(d.frames).toEqual([1, 2]);
    expect(d.key).toEqual({ version: 4, src: '192.168.1.100', dst: '10.0.0.5', protocol: IpProtocol.TCP, identification: 1 });
    expect(d.protocol).toBe(IpProtocol.TCP);
    expect(hex(d.header)).toBe(hex(f1.b.u8.subarray(f1.off, f1.off + 20)));
    expect([d.firstUs, d.lastUs]).toEqual([f1.timeUs, f2.timeUs]);
    // The rebuilt SYN's TCP checksum verifies over the pseudo-header of the first fragment's addresses.
    const hdr = Ipv4Packet.check(bytesOf(d.header), 0, 20) as Ipv4Packet;
    expect(checksumOk(sum16(bytesOf(d.payload), 0, 40, hdr.pseudoHeaderSum(40)))).toBe(true);
    expect(r.pending).toBe(0);
    expect(r.memoryUsed).toBe(0);
  });

  it('rebuilds the four fragmented segments of arkime-socks5-http-302-frag.pcap as tshark does', () => {
    const r = new Reassembler();
    const seen: number[] = [];
    for (const p of ipPacketsOf(corpusPath('arkime-socks5-http-302-frag.pcap'))) {
      const res = addRef(r, p);
      expect(res.alsoDropped).toEqual([]);
      const want = ARKIME_REASSEMBLED[p.frame];
      if (want) {
        const d = completed(res);
        expect(hex(d.payload), `frame ${p.frame}`).toBe(want.hex);
        expect(d.frames).toEqual(want.frames);
        expect(d.protocol).toBe(IpProtocol.TCP);
        seen.push(p.frame);
      } else {
        const v = Ipv4Packet.check(p.b, p.off, p.len) as Ipv4Packet;
        expect(res.kind, `frame ${p.frame}`).toBe(v.isFragment ? 'pending' : 'not-fragment');
      }
    }
    expect(seen).toEqual([7, 9, 27, 67]);
    expect(r.pending).toBe(0);
  });

  it('rebuilds the Linux kernel fragments: IPv4 with options, IPv6 behind extension headers', () => {
    // Completing frame -> [pattern multiplier, fragments, header bytes of the first fragment].
    const want: Record<number, [number, number[], number]> = {
      16: [7, [15, 16], 28], // IPv4, Record Route in the first fragment, NOPs in the second
      19: [5, [18, 19], 20],
      24: [11, [23, 24], 48], // IPv6: fixed header + Fragment header
      30: [13, [29, 30], 72], // + Hop-by-Hop + Destination Options
      33: [3, [32, 33], 72], // + Segment Routing header
    };
    const r = new Reassembler();
    const done: number[] = [];
    const packets = ipPacketsOf(LINUX_IP_EXT);
    for (const p of packets) {
      const res = addRef(r, p);
      const w = want[p.frame];
      if (!w) {
        expect(['pending', 'not-fragment'], `frame ${p.frame}`).toContain(res.kind);
        continue;
      }
      const d = completed(res);
      const [k, frames, hl] = w;
      expect(d.frames).toEqual(frames);
      expect(d.protocol).toBe(IpProtocol.UDP);
      // The UDP datagram the sender wrote: header (40000 -> 9, length 1408) and pattern(1400, k).
      expect(hex(d.payload.subarray(0, 6))).toBe('9c4000090580');
      expect(hex(d.payload.subarray(8))).toBe(hex(pattern(1400, k)));
      const first = packets.find((x) => x.frame === frames[0]) as IpRef;
      expect(hex(d.header)).toBe(hex(first.b.u8.subarray(first.off, first.off + hl)));
      // Its checksum verifies (tshark: "[Checksum Status: Good]" on the reassembled datagram).
      const b = bytesOf(d.header);
      const pseudo =
        d.key.version === 4
          ? (Ipv4Packet.check(b, 0, hl) as Ipv4Packet).pseudoHeaderSum(1408)
          : (Ipv6Packet.unchecked(b, 0, hl)).pseudoHeaderSum(IpProtocol.UDP, 1408);
      expect(checksumOk(sum16(bytesOf(d.payload), 0, 1408, pseudo)), `frame ${p.frame}`).toBe(true);
      done.push(p.frame);
    }
    expect(done).toEqual([16, 19, 24, 30, 33]);
    expect(r.pending).toBe(0);
  });
});

describe('reassembly orderings (synthetic fragments of real bytes)', () => {
  it('takes fragments in reverse order', () => {
    const frags = v4Fragments(HTTP_302, cutsEvery(950, 120));
    const r = new Reassembler();
    const order = frags.map((_, i) => i).reverse();
    let last: ReassemblyResult | undefined;
    for (const i of order) last = add(r, frags[i] as Uint8Array, 100 + i);
    const d = completed(last as ReassemblyResult);
    expect(hex(d.payload)).toBe(hex(HTTP_302));
    expect(d.frames).toEqual(frags.map((_, i) => 100 + i)); // offset order
  });

  it('keeps interleaved datagrams apart by identification (and IPv6 apart from IPv4)', () => {
    const a = v4Fragments(HTTP_302, cutsEvery(950, 240), { identification: 1 });
    const b = v4Fragments(HTTP_302.subarray(0, 480), cutsEvery(480, 160), { identification: 2 });
    const c = v6Fragments(HTTP_302, cutsEvery(950, 320), 1);
    const r = new Reassembler();
    const results: ReassemblyResult[] = [];
    let frame = 1;
    for (let i = 0; i < 4; i++) for (const list of [a, b, c]) if (list[i]) results.push(add(r, list[i] as Uint8Array, frame++));
    const done = results.filter((x) => x.kind === 'complete').map((x) => completed(x));
    expect(done.map((d) => [d.key.version, d.key.identification, d.payload.length])).toEqual([
      [4, 2, 480],
      [6, 1, 950],
      [4, 1, 950],
    ]);
    expect(hex((done[0] as ReassembledDatagram).payload)).toBe(hex(HTTP_302.subarray(0, 480)));
    expect(hex((done[2] as ReassembledDatagram).payload)).toBe(hex(HTTP_302));
  });

  it('ignores a duplicate fragment and keeps the datagram', () => {
    const f = v4Fragments(HTTP_302, [0, 320, 640]);
    const r = new Reassembler();
    expect(add(r, f[0] as Uint8Array, 1).kind).toBe('pending');
    expect(add(r, f[1] as Uint8Array, 2).kind).toBe('pending');
    expect(add(r, f[1] as Uint8Array, 3)).toEqual({ kind: 'dropped', reason: 'duplicate', datagram: false, frames: [3], alsoDropped: [] });
    // Inside data already held but not a copy of one fragment: Linux (inet_frag_queue_insert) calls it a
    // duplicate too, as it lies within one run.
    expect(add(r, v4Packet(HTTP_302.subarray(160, 480), { fragmentOffset: 160, moreFragments: true }), 4)).toMatchObject({ kind: 'dropped', reason: 'duplicate', datagram: false });
    const d = completed(add(r, f[2] as Uint8Array, 5));
    expect(hex(d.payload)).toBe(hex(HTTP_302));
    expect(d.frames).toEqual([1, 2, 5]);
  });

  it('drops the whole datagram on an overlap, IPv4 (Linux >= 4.19) and IPv6 (RFC 5722)', () => {
    for (const version of [4, 6] as const) {
      const frag = (offset: number, end: number, more: boolean): Uint8Array =>
        version === 4
          ? v4Packet(HTTP_302.subarray(offset, end), { fragmentOffset: offset, moreFragments: more })
          : v6Packet(HTTP_302.subarray(offset, end), { offset, more });
      const r = new Reassembler();
      expect(add(r, frag(0, 320, true), 1).kind).toBe('pending');
      // Starts inside the first fragment and runs past it, with the very same bytes: still an overlap.
      expect(add(r, frag(160, 480, true), 2)).toEqual({ kind: 'dropped', reason: 'overlap', datagram: true, frames: [1, 2], alsoDropped: [] });
      expect(r.pending).toBe(0);
      expect(r.memoryUsed).toBe(0);
      // What comes after starts a new datagram, which can never complete without its first fragment.
      expect(add(r, frag(320, 950, false), 3).kind).toBe('pending');
      expect(r.expire(REASSEMBLY_DEFAULTS.ipv6TimeoutUs)).toMatchObject([{ reason: 'timeout', frames: [3] }]);
    }
  });

  it('counts a fragment spanning two out-of-order runs as an overlap, as Linux does', () => {
    const frag = (offset: number, end: number, more: boolean): Uint8Array =>
      v4Packet(HTTP_302.subarray(offset, end), { fragmentOffset: offset, moreFragments: more });
    const r = new Reassembler();
    expect(add(r, frag(320, 640, true), 1).kind).toBe('pending'); // a run at the tail
    expect(add(r, frag(0, 320, true), 2).kind).toBe('pending'); // inserted before it: a run of its own
    // Same bytes, inside what is held, but across two runs that never merged.
    expect(add(r, frag(160, 480, true), 3)).toMatchObject({ kind: 'dropped', reason: 'overlap', datagram: true, frames: [2, 1, 3] });
    // Appended in order, the same two fragments form one run, and the same fragment is a duplicate.
    const r2 = new Reassembler();
    add(r2, frag(0, 320, true), 1);
    add(r2, frag(320, 640, true), 2);
    expect(add(r2, frag(160, 480, true), 3)).toMatchObject({ kind: 'dropped', reason: 'duplicate', datagram: false });
  });

  it('handles inconsistent ends the Linux way: IPv4 drops the fragment, IPv6 the datagram', () => {
    const r = new Reassembler();
    add(r, v4Packet(HTTP_302.subarray(0, 320), { fragmentOffset: 0, moreFragments: true }), 1);
    add(r, v4Packet(HTTP_302.subarray(480, 640), { fragmentOffset: 480, moreFragments: false }), 2); // a hole at 320..480
    // A second last fragment with another end, then data past the known end, then a zero-length fragment.
    expect(add(r, v4Packet(HTTP_302.subarray(640, 700), { fragmentOffset: 640, moreFragments: false }), 3)).toMatchObject({ kind: 'dropped', reason: 'bad-fragment', datagram: false, frames: [3] });
    expect(add(r, v4Packet(HTTP_302.subarray(640, 704), { fragmentOffset: 640, moreFragments: true }), 4)).toMatchObject({ kind: 'dropped', reason: 'bad-fragment', datagram: false });
    expect(add(r, v4Packet(new Uint8Array(0), { fragmentOffset: 8, moreFragments: true }), 5)).toMatchObject({ kind: 'dropped', reason: 'bad-fragment', datagram: false });
    expect(r.pending).toBe(1);

    const r6 = new Reassembler();
    add(r6, v6Packet(HTTP_302.subarray(0, 320), { offset: 0, more: true }), 1);
    add(r6, v6Packet(HTTP_302.subarray(480, 640), { offset: 480, more: false }), 2);
    expect(add(r6, v6Packet(HTTP_302.subarray(640, 700), { offset: 640, more: false }), 3)).toEqual({ kind: 'dropped', reason: 'bad-fragment', datagram: true, frames: [1, 2, 3], alsoDropped: [] });
    expect(r6.pending).toBe(0);
  });

  it('cuts an IPv4 non-last fragment to a multiple of 8, but drops such an IPv6 fragment (RFC 8200 §4.5)', () => {
    const r = new Reassembler();
    // 325 bytes with MF: Linux keeps 320 of them.
    expect(add(r, v4Packet(HTTP_302.subarray(0, 325), { fragmentOffset: 0, moreFragments: true }), 1).kind).toBe('pending');
    const d = completed(add(r, v4Packet(HTTP_302.subarray(320, 950), { fragmentOffset: 320, moreFragments: false }), 2));
    expect(hex(d.payload)).toBe(hex(HTTP_302));

    const r6 = new Reassembler();
    expect(add(r6, v6Packet(HTTP_302.subarray(0, 325), { offset: 0, more: true }), 1)).toMatchObject({ kind: 'dropped', reason: 'bad-fragment', datagram: false });
  });

  it('times a queue out from its first fragment: 30 s for IPv4, 60 s for IPv6', () => {
    const f4 = v4Fragments(HTTP_302, [0, 480]);
    const r = new Reassembler();
    add(r, f4[0] as Uint8Array, 1, 5_000_000);
    // One microsecond before the deadline the datagram still completes.
    expect(add(r, f4[1] as Uint8Array, 2, 35_000_000 - 1).kind).toBe('complete');
    add(r, f4[0] as Uint8Array, 3, 40_000_000);
    const late = add(r, f4[1] as Uint8Array, 4, 70_000_000);
    expect(late.kind).toBe('pending');
    expect(late.alsoDropped).toEqual([{ key: { version: 4, src: '198.18.0.2', dst: '198.18.0.1', protocol: 6, identification: 0x6d62 }, reason: 'timeout', frames: [3] }]);
    expect(r.expire(100_000_000 - 1)).toEqual([]);
    expect(r.expire(100_000_000)).toMatchObject([{ reason: 'timeout', frames: [4] }]);

    const f6 = v6Fragments(HTTP_302, [0, 480]);
    const r6 = new Reassembler();
    add(r6, f6[0] as Uint8Array, 1, 0);
    expect(add(r6, f6[1] as Uint8Array, 2, 59_999_999).kind).toBe('complete');
    add(r6, f6[0] as Uint8Array, 3, 100_000_000);
    expect(add(r6, f6[1] as Uint8Array, 4, 160_000_000).alsoDropped).toMatchObject([{ reason: 'timeout', frames: [3] }]);

    // Timeouts are settable.
    const quick = new Reassembler({ ipv4TimeoutUs: 1000 });
    add(quick, f4[0] as Uint8Array, 1, 0);
    expect(quick.expire(1000)).toHaveLength(1);
  });

  it('evicts the least recently fed datagram when memory runs out', () => {
    // Each first fragment costs 20 + 320 bytes.
    const frag = (id: number, offset = 0): Uint8Array => v4Packet(HTTP_302.subarray(offset, offset + 320), { identification: id, fragmentOffset: offset, moreFragments: true });
    const r = new Reassembler({ memoryLimit: 1100 });
    add(r, frag(1), 1);
    add(r, frag(2), 2);
    add(r, frag(1, 320), 3); // datagram 1 is now the most recently fed: 1020 bytes held
    expect(r.memoryUsed).toBe(1020);
    const res = add(r, frag(3), 4);
    expect(res.kind).toBe('pending');
    expect(res.alsoDropped).toEqual([{ key: { version: 4, src: '198.18.0.2', dst: '198.18.0.1', protocol: 6, identification: 2 }, reason: 'evicted-memory', frames: [2] }]);
    expect(r.memoryUsed).toBe(1020);
    expect(r.pending).toBe(2);
    // A datagram that alone outgrows the budget goes with the fragment that does it.
    const small = new Reassembler({ memoryLimit: 500 });
    add(small, frag(1), 1);
    expect(add(small, frag(1, 320), 2)).toMatchObject({ kind: 'dropped', reason: 'evicted-memory', datagram: true, frames: [1, 2] });
    expect(small.memoryUsed).toBe(0);
  });

  it("refuses fragments over the memory limit in 'refuse' mode (Linux >= 4.17)", () => {
    const frag = (id: number): Uint8Array => v4Packet(HTTP_302.subarray(0, 320), { identification: id, moreFragments: true });
    const r = new Reassembler({ memoryLimit: 600, overMemory: 'refuse' });
    add(r, frag(1), 1);
    add(r, frag(2), 2); // 680 bytes: over, but the check comes before a fragment, as in inet_frag_find()
    expect(add(r, frag(3), 3)).toEqual({ kind: 'dropped', reason: 'memory-full', datagram: false, frames: [3], alsoDropped: [] });
    expect(r.pending).toBe(2);
  });

  it('drops datagrams that would pass 65535 bytes', () => {
    // IPv4: the check comes when the last hole fills (ip_frag_reasm): 20 + 65520 > 65535.
    const big = new Uint8Array(65520);
    const r = new Reassembler();
    const frags = v4Fragments(big, cutsEvery(65520, 8000));
    frags.slice(0, -1).forEach((f, i) => expect(add(r, f, i + 1).kind).toBe('pending'));
    expect(add(r, frags.at(-1) as Uint8Array, 99)).toMatchObject({ kind: 'dropped', reason: 'too-big', datagram: true });
    expect(r.pending).toBe(0);
    // 65515 bytes of data fit exactly.
    const ok = new Reassembler();
    const fits = v4Fragments(new Uint8Array(65515), cutsEvery(65515, 8000));
    const results = fits.map((f, i) => add(ok, f, i + 1));
    expect(completed(results.at(-1) as ReassemblyResult).payload.length).toBe(65515);
    // IPv6: a fragment ending past 65535 is dropped on arrival, the queue stays.
    const r6 = new Reassembler();
    add(r6, v6Packet(new Uint8Array(64), { offset: 0, more: true }), 1);
    expect(add(r6, v6Packet(new Uint8Array(16), { offset: 65528, more: false }), 2)).toMatchObject({ kind: 'dropped', reason: 'too-big', datagram: false });
    expect(r6.pending).toBe(1);
  });

  it('drops datagrams mixing Not-ECT with ECN-capable fragments (RFC 3168 §5.3)', () => {
    const r = new Reassembler();
    add(r, v4Packet(HTTP_302.subarray(0, 480), { moreFragments: true, ecn: 0 }), 1);
    expect(add(r, v4Packet(HTTP_302.subarray(480), { fragmentOffset: 480, ecn: 2 }), 2)).toMatchObject({ kind: 'dropped', reason: 'ecn-mismatch', datagram: true, frames: [1, 2] });
    // CE with ECT(0) is fine.
    add(r, v4Packet(HTTP_302.subarray(0, 480), { moreFragments: true, ecn: 3 }), 3);
    expect(add(r, v4Packet(HTTP_302.subarray(480), { fragmentOffset: 480, ecn: 2 }), 4).kind).toBe('complete');
  });

  it('passes non-fragments through, completes IPv6 atomic fragments at once, and refuses cut fragments', () => {
    const r = new Reassembler();
    expect(add(r, v4Packet(HTTP_302.subarray(0, 100), {}), 1)).toEqual({ kind: 'not-fragment', alsoDropped: [] });
    expect(add(r, v4Packet(HTTP_302.subarray(0, 100), { dontFragment: true }), 2).kind).toBe('not-fragment');
    // An IPv6 packet without a Fragment header.
    const plain = allocBytes(48);
    emitIpv6Repr({ trafficClass: 0, flowLabel: 0, hopLimit: 64, src: '2001:db8::1', dst: '2001:db8::2', extensions: [], protocol: 17, payloadLength: 8 }, plain, 0);
    expect(add(r, plain.u8, 3).kind).toBe('not-fragment');
    // An atomic fragment (RFC 6946): offset 0, M clear, behind a Hop-by-Hop header.
    const atomic = v6Packet(HTTP_302.subarray(0, 100), { offset: 0, more: false, id: 7 }, {}, [{ kind: 'hop-by-hop', options: [{ kind: 'padn', data: new Uint8Array(4) }] }]);
    const d = completed(add(r, atomic, 4, 123));
    expect(hex(d.payload)).toBe(hex(HTTP_302.subarray(0, 100)));
    expect([d.frames, d.protocol, d.header.length, d.key.identification, d.firstUs]).toEqual([[4], 17, 56, 7, 123]);
    // Fragments the capture cut short cannot be reassembled.
    const cut = v4Packet(HTTP_302.subarray(0, 320), { moreFragments: true });
    const v = Ipv4Packet.check(bytesOf(cut), 0, 100) as Ipv4Packet;
    expect(r.addIpv4(v, 5, 0)).toMatchObject({ kind: 'dropped', reason: 'truncated', datagram: false });
    const cut6 = v6Packet(HTTP_302.subarray(0, 320), { offset: 0, more: true });
    expect(r.addIpv6(Ipv6Packet.check(bytesOf(cut6), 0, 100) as Ipv6Packet, 6, 0)).toMatchObject({ kind: 'dropped', reason: 'truncated' });
    expect(r.pending).toBe(0);
  });

  it('flushes what is pending at the end', () => {
    const r = new Reassembler();
    add(r, v4Packet(HTTP_302.subarray(0, 320), { moreFragments: true }), 1);
    add(r, v6Packet(HTTP_302.subarray(320, 640), { offset: 320, more: true }), 2);
    expect(r.flush().map((d) => [d.key.version, d.reason, d.frames])).toEqual([
      [4, 'flushed', [1]],
      [6, 'flushed', [2]],
    ]);
    expect([r.pending, r.memoryUsed]).toEqual([0, 0]);
  });
});

describe('reassembly properties', () => {
  // Cut points: 0 and at least one more, sorted distinct multiples of 8 inside (0, len): at least two
  // fragments (a lone IPv4 "fragment" at offset 0 without MF is no fragment at all).
  const cutsOf = (len: number): fc.Arbitrary<number[]> =>
    fc
      .uniqueArray(fc.integer({ min: 1, max: Math.floor((len - 1) / 8) }), { minLength: 1, maxLength: 30 })
      .map((xs) => [0, ...xs.map((x) => x * 8).sort((a, b) => a - b)]);

  const scenario = fc.record({ len: fc.integer({ min: 9, max: 950 }), version: fc.constantFrom(4, 6) }).chain((s) =>
    cutsOf(s.len).chain((cuts) =>
      fc.record({
        s: fc.constant(s),
        cuts: fc.constant(cuts),
        order: fc.shuffledSubarray(cuts.map((_, i) => i), { minLength: cuts.length, maxLength: cuts.length }),
        dups: fc.array(fc.nat({ max: cuts.length - 1 }), { maxLength: 3 }),
      }),
    ),
  );

  it('any permutation of the fragments of a datagram (with exact duplicates) gives the same bytes', () => {
    fc.assert(
      fc.property(scenario, ({ s, cuts, order, dups }) => {
        const payload = HTTP_302.subarray(0, s.len);
        const frags = s.version === 4 ? v4Fragments(payload, cuts) : v6Fragments(payload, cuts);
        const r = new Reassembler();
        // Each duplicate is fed right after its original, before the datagram can complete.
        const feed = order.flatMap((i) => (dups.includes(i) && i !== order.at(-1) ? [i, i] : [i]));
        const results = feed.map((i, n) => add(r, frags[i] as Uint8Array, 1000 + i, n));
        const last = results.at(-1) as ReassemblyResult;
        const d = completed(last);
        expect(hex(d.payload)).toBe(hex(payload));
        expect(d.frames).toEqual(cuts.map((_, i) => 1000 + i));
        for (const x of results.slice(0, -1)) expect(['pending', 'dropped']).toContain(x.kind);
        expect(results.filter((x) => x.kind === 'dropped').every((x) => x.kind === 'dropped' && x.reason === 'duplicate')).toBe(true);
        expect([r.pending, r.memoryUsed]).toEqual([0, 0]);
      }),
    );
  });

  it('never throws on random fragments, and memory stays within the limit', () => {
    const frag = fc.record({
      version: fc.constantFrom(4, 6),
      id: fc.integer({ min: 1, max: 3 }),
      offset: fc.integer({ min: 0, max: 40 }).map((x) => x * 8),
      len: fc.integer({ min: 0, max: 200 }),
      more: fc.boolean(),
      ecn: fc.integer({ min: 0, max: 3 }),
      dt: fc.integer({ min: 0, max: 20_000_000 }),
    });
    fc.assert(
      fc.property(fc.array(frag, { maxLength: 40 }), fc.constantFrom<ReassemblyOptions['overMemory']>('evict-oldest', 'refuse'), (list, overMemory) => {
        const r = new Reassembler({ memoryLimit: 2000, overMemory });
        let t = 0;
        list.forEach((f, i) => {
          t += f.dt;
          const data = HTTP_302.subarray(0, f.len);
          const p =
            f.version === 4
              ? v4Packet(data, { identification: f.id, fragmentOffset: f.offset, moreFragments: f.more, ecn: f.ecn })
              : v6Packet(data, { offset: f.offset, more: f.more, id: f.id }, { trafficClass: f.ecn });
          const res = add(r, p, i + 1, t);
          if (overMemory === 'evict-oldest') expect(r.memoryUsed).toBeLessThanOrEqual(2000);
          if (res.kind === 'complete') expect(res.datagram.payload.length).toBeGreaterThan(0);
        });
        r.flush();
        expect([r.pending, r.memoryUsed]).toEqual([0, 0]);
      }),
    );
  });
});

describe('parseIpv4Repr on the first fragment header a datagram hands back', () => {
  it('decodes the header of the Linux first fragment with its Record Route option', () => {
    const r = new Reassembler();
    const packets = ipPacketsOf(LINUX_IP_EXT).filter((p) => p.frame === 15 || p.frame === 16);
    addRef(r, packets[0] as IpRef);
    const d = completed(addRef(r, packets[1] as IpRef));
    const repr = parseIpv4Repr(Ipv4Packet.check(bytesOf(d.header), 0, d.header.length) as Ipv4Packet) as Ipv4Repr;
    expect(repr.options).toEqual([{ kind: 'option', type: 7, data: fromHex('08c6120001') }, { kind: 'eol' }]);
    expect([repr.moreFragments, repr.fragmentOffset, repr.payloadLength]).toEqual([true, 0, 1248]);
  });
});
