import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Bytes } from '../../src/wire/bytes.js';
import { allocBytes, bytesOf, fromHex, hex } from '../../src/wire/bytes.js';
import { pseudoHeaderSum, pseudoHeaderSumOf } from '../../src/wire/checksum.js';
import { isWireError } from '../../src/wire/errors.js';
import type { TcpOption, TcpRepr } from '../../src/wire/tcp.js';
import {
  TCP_OPTION_ABSENT,
  TCP_OPTION_MALFORMED,
  TcpFlags,
  TcpPacket,
  checkTcpOptions,
  emitTcpRepr,
  fillTcpChecksum,
  findTcpTimestamps,
  getTcpMss,
  getTcpWindowScale,
  hasTcpSackPermitted,
  parseTcpOptions,
  parseTcpRepr,
  tcpReprHeaderLen,
  verifyTcpChecksum,
} from '../../src/wire/tcp.js';
import { captureFiles, corpusSegments, readFrames, tcpSegmentsOf, truthOf } from './tcp-corpus.js';
import type { CorpusSegment } from './tcp-corpus.js';

const TCP = 6;

function seg(h: string): Bytes {
  return bytesOf(fromHex(h));
}

function view(b: Bytes, segmentLen?: number): TcpPacket {
  const v = TcpPacket.check(b, 0, b.u8.length, segmentLen);
  if (isWireError(v)) throw new Error(`check failed: ${v}`);
  return v;
}

function repr(v: TcpPacket, pseudoSum?: number): TcpRepr {
  const r = parseTcpRepr(v, pseudoSum);
  if (isWireError(r)) throw new Error(`parse failed: ${r}`);
  return r;
}

/** Emits into a buffer filled with 0xa5, so any byte emit forgets shows. */
function emitted(r: TcpRepr, pseudoSum: number | null): Uint8Array {
  const len = tcpReprHeaderLen(r) + r.payload.length;
  const b = allocBytes(len + 8, 0xa5);
  const n = emitTcpRepr(r, b, 4, pseudoSum);
  expect(n).toBe(len);
  expect(hex(b.u8.subarray(0, 4))).toBe('a5a5a5a5');
  expect(hex(b.u8.subarray(4 + len))).toBe('a5'.repeat(4));
  return b.u8.slice(4, 4 + len);
}

// zeek-tcp-options.pcap frame 1, bytes 34..74: SYN 192.168.1.102:36861 -> 193.1.193.64:80,
// options [mss 1460,sackOK,TS val 4294923497 ecr 0,nop,wscale 6]; tcpdump/tshark: checksum 0x2a1c correct.
const SYN_HEX = '8ffd0050df91fdfb00000000a00216d02a1c0000020405b40402080affff54e90000000001030306';
const SYN_PSEUDO = pseudoHeaderSumOf('192.168.1.102', '193.1.193.64', TCP, 40);

// zeek-tcp-options.pcap frame 4, bytes 34..170: [P.] with 104 bytes of HTTP, checksum 0x57a6 correct.
const DATA_HEX =
  '8ffd0050df91fdfc2b28180d8018005c57a600000101080affff551919003c97' +
  '474554202f6d61696e2d34392e636469666620485454502f312e300d0a486f73743a2064622e6c6f63616c2e636c616d61762e6e65740d0a' +
  '557365722d4167656e743a20636c616d61762f302e39322e310d0a436f6e6e656374696f6e3a20636c6f73650d0a0d0a';
const DATA_PSEUDO = pseudoHeaderSumOf('192.168.1.102', '193.1.193.64', TCP, 136);

// ndpi-reddit-ipv6.pcap frame 1, bytes 54..94: IPv6 SYN 2a01:cb01:2049:8b07:991d:ec85:28df:f629.40028 ->
// 2a00:1450:4007:80a::200a.443, checksum 0x9025, which tshark (tcp.check_checksum:TRUE) calls good.
const SYN6_HEX = '9c5c01bb84a077c500000000a002fd2090250000020405a00402080ad4dd60070000000001030307';
const SYN6_PSEUDO = pseudoHeaderSumOf('2a01:cb01:2049:8b07:991d:ec85:28df:f629', '2a00:1450:4007:80a::200a', TCP, 40);

// zeek-chksums-ip4-tcp-bad.pcap frame 1, bytes 34..54: SYN 127.0.0.1:30000 -> 127.0.0.1:80 with checksum
// 0x0001; tshark: bad, calculated 0x1c60.
const BAD4_HEX = '7530005000000000000000005002200000010000';
const BAD4_PSEUDO = pseudoHeaderSumOf('127.0.0.1', '127.0.0.1', TCP, 20);
// zeek-chksums-ip6-tcp-bad.pcap frame 1, bytes 54..74: the same SYN over IPv6
// 2001:4f8:4:7:2e0:81ff:fe52:ffff -> 2001:4f8:4:7:2e0:81ff:fe52:9a6b; tshark: bad, calculated 0x2f8a.
const BAD6_HEX = '7530005000000000000000005002200000010000';
const BAD6_PSEUDO = pseudoHeaderSumOf('2001:4f8:4:7:2e0:81ff:fe52:ffff', '2001:4f8:4:7:2e0:81ff:fe52:9a6b', TCP, 20);

// zeek-tcp-rst-inject-rae.pcap frame 2, bytes 34..54: RST/ACK with the three reserved bits and AE set
// (byte 12 = 0x5f; tshark: "Flags: 0xf14 (RST, ACK, AE, Reserved)", checksum 0xa6e9 good), 1.2.0.3 -> 1.2.0.2.
const RAE_HEX = '19f909df000000005d8a367c5f144000a6e90000';
const RAE_PSEUDO = pseudoHeaderSumOf('1.2.0.3', '1.2.0.2', TCP, 20);

// zeek-tcp-truncated-header.pcap frame 1, bytes 34..68 of a 74-byte frame (snaplen 68): the SYN's 40-byte
// header is cut after 34 bytes. Flags 0xc2 (tcpdump: [SEW]).
const CUT_HEX = 'ed9b00193e1775de00000000a0c216d090d60000020405b404020808000000010000';

describe('TcpPacket view', () => {
  it('deconstructs a real SYN', () => {
    const v = view(seg(SYN_HEX));
    expect(v.srcPort).toBe(36861);
    expect(v.dstPort).toBe(80);
    expect(v.seq).toBe(3750886907);
    expect(v.ack).toBe(0);
    expect(v.dataOffset).toBe(10);
    expect(v.headerLength).toBe(40);
    expect(v.reserved).toBe(0);
    expect(v.flags).toBe(TcpFlags.SYN);
    expect(v.window).toBe(5840);
    expect(v.checksum).toBe(0x2a1c);
    expect(v.urgent).toBe(0);
    expect(v.optionsOffset).toBe(20);
    expect(v.optionsLength).toBe(20);
    expect(v.payloadOffset).toBe(40);
    expect(v.payloadLength).toBe(0);
    expect(v.mss).toBe(1460);
    expect(v.windowScale).toBe(6);
    expect(v.sackPermitted).toBe(true);
    const ts = v.timestampsOffset;
    expect(ts).toBe(28);
    expect(v.b.dv.getUint32(ts)).toBe(4294923497);
    expect(v.b.dv.getUint32(ts + 4)).toBe(0);
    expect(v.optionsError()).toBeNull();
  });

  it('deconstructs a segment with payload', () => {
    const v = view(seg(DATA_HEX));
    expect(v.flags).toBe(TcpFlags.PSH | TcpFlags.ACK);
    expect(v.ack).toBe(724047885);
    expect(v.window).toBe(92);
    expect(v.headerLength).toBe(32);
    expect(v.payloadOffset).toBe(32);
    expect(v.payloadLength).toBe(104);
    expect(new TextDecoder().decode(v.b.u8.subarray(32, 46))).toBe('GET /main-49.c');
    expect(v.mss).toBe(-1);
    expect(v.windowScale).toBe(-1);
    expect(v.sackPermitted).toBe(false);
  });

  it('reads AE and the reserved bits apart', () => {
    const v = view(seg(RAE_HEX));
    expect(v.flags).toBe(TcpFlags.AE | TcpFlags.ACK | TcpFlags.RST);
    expect(v.reserved).toBe(7);
    expect(v.dataOffset).toBe(5);
    expect(v.ack).toBe(1569339004);
  });

  it('constructs the real SYN through setters', () => {
    const b = allocBytes(40, 0xa5);
    const v = TcpPacket.unchecked(b, 0, 40);
    v.srcPort = 36861;
    v.dstPort = 80;
    v.seq = 3750886907;
    v.ack = 0;
    v.dataOffset = 10;
    v.reserved = 0;
    v.flags = TcpFlags.SYN;
    v.window = 5840;
    v.checksum = 0;
    v.urgent = 0;
    b.u8.set(fromHex('020405b40402080affff54e90000000001030306'), v.optionsOffset);
    v.fillChecksum(SYN_PSEUDO);
    expect(hex(b.u8)).toBe(SYN_HEX);
  });

  it('constructs AE and reserved bits without disturbing each other', () => {
    const b = allocBytes(20, 0xa5);
    const v = TcpPacket.unchecked(b, 0, 20);
    v.srcPort = 6649;
    v.dstPort = 2527;
    v.seq = 0;
    v.ack = 1569339004;
    v.dataOffset = 5;
    v.flags = TcpFlags.AE | TcpFlags.ACK | TcpFlags.RST;
    v.reserved = 7;
    v.window = 16384;
    v.urgent = 0;
    v.fillChecksum(RAE_PSEUDO);
    expect(hex(b.u8)).toBe(RAE_HEX);
    v.reserved = 0;
    expect(v.flags).toBe(0x114);
    expect(v.dataOffset).toBe(5);
    v.flags = 0;
    expect(v.reserved).toBe(0);
    expect(v.dataOffset).toBe(5);
  });

  it('says truncated for every prefix shorter than the fixed header', () => {
    const whole = fromHex(SYN_HEX);
    for (let n = 0; n < 20; n++) {
      expect(TcpPacket.check(bytesOf(whole.slice(0, n)), 0, n)).toBe('truncated');
      expect(TcpPacket.check(bytesOf(whole), 0, n, 40)).toBe('truncated');
    }
  });

  it('tells a header cut by the capture from one that lies about its length', () => {
    const whole = fromHex(SYN_HEX);
    for (let n = 20; n < 40; n++) {
      // The IP header says 40 bytes: the capture stopped early.
      expect(TcpPacket.check(bytesOf(whole), 0, n, 40)).toBe('truncated');
      // These are all the bytes there are: a data offset of 10 words points past them.
      expect(TcpPacket.check(bytesOf(whole.slice(0, n)), 0, n)).toBe('bad-header-length');
    }
    expect(TcpPacket.check(bytesOf(whole), 0, 40)).toBeInstanceOf(TcpPacket);
  });

  it('reports the real snaplen-cut SYN as truncated', () => {
    const b = seg(CUT_HEX);
    expect(b.u8.length).toBe(34);
    expect(TcpPacket.check(b, 0, 34, 40)).toBe('truncated');
    expect(TcpPacket.check(b, 0, 34)).toBe('bad-header-length');
  });

  it('rejects impossible header lengths', () => {
    const b = seg(SYN_HEX);
    for (const words of [0, 1, 4]) {
      b.u8[12] = (words << 4) | ((b.u8[12] as number) & 0x0f);
      expect(TcpPacket.check(b, 0, 40)).toBe('bad-header-length');
    }
    b.u8[12] = 0xf0; // 60 bytes claimed in a 40-byte segment
    expect(TcpPacket.check(b, 0, 40)).toBe('bad-header-length');
    expect(TcpPacket.check(b, 0, 40, 40)).toBe('bad-header-length');
    b.u8[12] = 0xa0;
    // An IP payload too short for the fixed header.
    expect(TcpPacket.check(b, 0, 19, 19)).toBe('bad-length');
    expect(TcpPacket.check(b, 0, 12, 12)).toBe('bad-length');
    // A view never reaches past the buffer, whatever it is told.
    expect(TcpPacket.check(b, 0, 41)).toBe('truncated');
    expect(TcpPacket.check(b, 30, 20)).toBe('truncated');
  });
});

describe('TcpRepr', () => {
  const synRecord: TcpRepr = {
    srcPort: 36861,
    dstPort: 80,
    seq: 3750886907,
    ack: 0,
    flags: TcpFlags.SYN,
    window: 5840,
    urgent: 0,
    options: [
      { kind: 'mss', value: 1460 },
      { kind: 'sack-permitted' },
      { kind: 'timestamps', tsVal: 4294923497, tsEcr: 0 },
      { kind: 'nop' },
      { kind: 'wscale', shift: 6 },
    ],
    payload: new Uint8Array(0),
  };

  it('parses the real SYN', () => {
    expect(repr(view(seg(SYN_HEX)), SYN_PSEUDO)).toEqual(synRecord);
    // Without a pseudo-header sum the checksum is taken as derived, never recorded.
    expect(repr(view(seg(SYN_HEX)))).toEqual(synRecord);
  });

  it('emits the real SYN', () => {
    expect(tcpReprHeaderLen(synRecord)).toBe(40);
    expect(hex(emitted(synRecord, SYN_PSEUDO))).toBe(SYN_HEX);
    // With null the checksum is left for later (0).
    expect(hex(emitted(synRecord, null))).toBe(SYN_HEX.slice(0, 32) + '0000' + SYN_HEX.slice(36));
  });

  it('parses and emits a segment with payload', () => {
    const r = repr(view(seg(DATA_HEX)), DATA_PSEUDO);
    expect(r).toEqual({
      srcPort: 36861,
      dstPort: 80,
      seq: 3750886908,
      ack: 724047885,
      flags: TcpFlags.PSH | TcpFlags.ACK,
      window: 92,
      urgent: 0,
      options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal: 4294923545, tsEcr: 419445911 }],
      payload: fromHex(DATA_HEX.slice(64)),
    });
    expect(hex(emitted(r, DATA_PSEUDO))).toBe(DATA_HEX);
  });

  it('keeps the reserved bits and AE', () => {
    const r = repr(view(seg(RAE_HEX)), RAE_PSEUDO);
    expect(r).toEqual({
      srcPort: 6649,
      dstPort: 2527,
      seq: 0,
      ack: 1569339004,
      flags: 0x114,
      window: 16384,
      urgent: 0,
      options: [],
      payload: new Uint8Array(0),
      reserved: 7,
    });
    expect(hex(emitted(r, RAE_PSEUDO))).toBe(RAE_HEX);
  });

  it('keeps a bad checksum, and computes the right one once it is dropped (IPv4)', () => {
    const v = view(seg(BAD4_HEX));
    expect(v.verifyChecksum(BAD4_PSEUDO)).toBe(false);
    const r = repr(v, BAD4_PSEUDO);
    expect(r).toEqual({
      srcPort: 30000,
      dstPort: 80,
      seq: 0,
      ack: 0,
      flags: TcpFlags.SYN,
      window: 8192,
      urgent: 0,
      options: [],
      payload: new Uint8Array(0),
      checksum: 0x0001,
    });
    expect(hex(emitted(r, BAD4_PSEUDO))).toBe(BAD4_HEX);
    delete r.checksum;
    const fixed = emitted(r, BAD4_PSEUDO);
    expect(bytesOf(fixed).dv.getUint16(16)).toBe(0x1c60); // tshark's calculated checksum
    expect(verifyTcpChecksum(bytesOf(fixed), 0, 20, BAD4_PSEUDO)).toBe(true);
  });

  it('keeps a bad checksum, and computes the right one once it is dropped (IPv6)', () => {
    const v = view(seg(BAD6_HEX));
    expect(v.verifyChecksum(BAD6_PSEUDO)).toBe(false);
    const r = repr(v, BAD6_PSEUDO);
    expect(r.checksum).toBe(0x0001);
    expect(hex(emitted(r, BAD6_PSEUDO))).toBe(BAD6_HEX);
    delete r.checksum;
    const fixed = emitted(r, BAD6_PSEUDO);
    expect(bytesOf(fixed).dv.getUint16(16)).toBe(0x2f8a);
    expect(verifyTcpChecksum(bytesOf(fixed), 0, 20, BAD6_PSEUDO)).toBe(true);
  });

  it('pads options that end off a 4-byte boundary with zeros', () => {
    const r: TcpRepr = {
      ...synRecord,
      options: [{ kind: 'mss', value: 1460 }, { kind: 'wscale', shift: 7 }],
    };
    expect(tcpReprHeaderLen(r)).toBe(28);
    const out = emitted(r, null);
    expect(hex(out.subarray(12, 13))).toBe('70');
    expect(hex(out.subarray(20))).toBe('020405b4' + '03030700');
    // What comes back is what is on the wire: the zero byte is an EOL.
    expect(repr(view(bytesOf(out))).options).toEqual([...r.options, { kind: 'eol' }]);
  });

  it('throws for options beyond 40 bytes', () => {
    const ok: TcpRepr = { ...synRecord, options: Array<TcpOption>(40).fill({ kind: 'nop' }) };
    expect(tcpReprHeaderLen(ok)).toBe(60);
    const tooMany: TcpRepr = { ...synRecord, options: Array<TcpOption>(41).fill({ kind: 'nop' }) };
    expect(() => tcpReprHeaderLen(tooMany)).toThrow(RangeError);
    expect(() => emitTcpRepr(tooMany, allocBytes(100), 0, null)).toThrow(RangeError);
    const withPadding: TcpRepr = { ...ok, options: ok.options.slice(1), padding: new Uint8Array(2) };
    expect(() => tcpReprHeaderLen(withPadding)).toThrow(RangeError);
  });

  it('throws when the buffer is too small', () => {
    expect(() => emitTcpRepr(synRecord, allocBytes(39), 0, null)).toThrow(RangeError);
  });
});

describe('checksum over pseudo-headers (tshark: good)', () => {
  it('verifies an IPv4 segment', () => {
    expect(verifyTcpChecksum(seg(SYN_HEX), 0, 40, SYN_PSEUDO)).toBe(true);
    expect(verifyTcpChecksum(seg(DATA_HEX), 0, 136, DATA_PSEUDO)).toBe(true);
    // The pseudo-header read from the IP header bytes gives the same sum as from text.
    // zeek-tcp-options.pcap frame 1, IP header bytes 14..34.
    const ip = bytesOf(fromHex('4500003ca91240004006' + '4d59c0a80166c101c140'));
    expect(pseudoHeaderSum(ip, 12, 4, TCP, 40)).toBe(SYN_PSEUDO);
  });

  it('verifies an IPv6 segment', () => {
    expect(verifyTcpChecksum(seg(SYN6_HEX), 0, 40, SYN6_PSEUDO)).toBe(true);
    const r = repr(view(seg(SYN6_HEX)), SYN6_PSEUDO);
    expect(r.checksum).toBeUndefined();
    expect(hex(emitted(r, SYN6_PSEUDO))).toBe(SYN6_HEX);
  });

  it('fails on any flipped bit, in header or payload', () => {
    const b = seg(DATA_HEX);
    for (let i = 0; i < b.u8.length; i += 7) {
      b.u8[i] = (b.u8[i] as number) ^ 0x10;
      expect(verifyTcpChecksum(b, 0, 136, DATA_PSEUDO)).toBe(false);
      b.u8[i] = (b.u8[i] as number) ^ 0x10;
    }
    // and on the wrong address
    expect(verifyTcpChecksum(b, 0, 136, pseudoHeaderSumOf('192.168.1.103', '193.1.193.64', TCP, 136))).toBe(false);
  });

  it('fills checksums that verify (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 200 }),
        fc.ipV4(),
        fc.ipV6(),
        fc.boolean(),
        (bytes, a4, a6, v6) => {
          const b = bytesOf(bytes);
          const ps = v6 ? pseudoHeaderSumOf(a6, '::1', TCP, bytes.length) : pseudoHeaderSumOf(a4, '10.0.0.1', TCP, bytes.length);
          fillTcpChecksum(b, 0, bytes.length, ps);
          return verifyTcpChecksum(b, 0, bytes.length, ps);
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Every TCP segment of every capture in /work/shared/pcaps, against tshark's truth

const KIND_OF: Record<TcpOption['kind'], number> = {
  eol: 0, nop: 1, mss: 2, wscale: 3, 'sack-permitted': 4, sack: 5, timestamps: 8, 'fast-open': 34,
  'fast-open-exp': 254, unknown: -1,
};
function kindsOf(options: readonly TcpOption[]): number[] {
  return options.map((o) => (o.kind === 'unknown' ? o.type : KIND_OF[o.kind]));
}

describe('the capture corpus', () => {
  const files = captureFiles();
  const all = new Map<string, CorpusSegment[]>(files.map((f) => [f, corpusSegments(f)]));

  it('finds as many TCP segments as tshark, in every file', () => {
    expect(files.length).toBeGreaterThanOrEqual(42);
    for (const f of files) expect([f, all.get(f)?.length]).toEqual([f, truthOf(f).tcp_packets]);
  });

  it('judges checksums as tshark does', () => {
    let verified = 0;
    for (const f of files) {
      const segs = all.get(f) ?? [];
      const full = segs.filter((s) => !s.fragment && s.available === s.segmentLen);
      const bad = full.filter((s) => !verifyTcpChecksum(s.b, s.tcpOff, s.available, s.pseudoSum)).length;
      verified += full.length;
      // tshark reassembles IP fragments and judges the whole segment; this reader skips them.
      const frags = segs.filter((s) => s.fragment).length;
      const truth = truthOf(f).bad_tcp_checksum_packets;
      expect([f, bad >= truth - frags && bad <= truth]).toEqual([f, true]);
      if (frags === 0) expect([f, bad]).toEqual([f, truth]);
    }
    expect(verified).toBeGreaterThan(4000);
  });

  it('round-trips every segment byte for byte, and records a checksum only when it is wrong', () => {
    const failures: string[] = [];
    let n = 0;
    for (const f of files) {
      for (const s of all.get(f) ?? []) {
        const v = TcpPacket.check(s.b, s.tcpOff, s.available, s.segmentLen);
        if (isWireError(v)) {
          failures.push(`${f}#${s.frame}:${v}`);
          continue;
        }
        const r = repr(v, s.pseudoSum);
        const original = s.b.u8.subarray(s.tcpOff, s.tcpOff + s.available);
        expect([f, s.frame, hex(emitted(r, s.pseudoSum))]).toEqual([f, s.frame, hex(original)]);
        if (!s.fragment && s.available === s.segmentLen) {
          const good = verifyTcpChecksum(s.b, s.tcpOff, s.available, s.pseudoSum);
          expect([f, s.frame, r.checksum === undefined]).toEqual([f, s.frame, good]);
        }
        // The option walker agrees with the record.
        const o = r.options;
        const at = v.optionsOffset;
        const len = v.optionsLength;
        const mss = o.find((x) => x.kind === 'mss');
        const none = r.malformedOptions ? TCP_OPTION_MALFORMED : TCP_OPTION_ABSENT;
        expect(getTcpMss(s.b, at, len)).toBe(mss ? mss.value : none);
        const ws = o.find((x) => x.kind === 'wscale');
        expect(getTcpWindowScale(s.b, at, len)).toBe(ws ? ws.shift : none);
        expect(hasTcpSackPermitted(s.b, at, len)).toBe(o.some((x) => x.kind === 'sack-permitted'));
        const ts = o.find((x) => x.kind === 'timestamps');
        const tsAt = findTcpTimestamps(s.b, at, len);
        if (ts) expect([s.b.dv.getUint32(tsAt), s.b.dv.getUint32(tsAt + 4)]).toEqual([ts.tsVal, ts.tsEcr]);
        else expect(tsAt).toBe(none);
        expect(checkTcpOptions(s.b, at, len)).toBe(r.malformedOptions ? 'bad-option' : null);
        n++;
      }
    }
    expect(failures).toEqual([
      // A first IP fragment holding 24 bytes of a 40-byte header (tcpdump: "bad hdr length 40 - too long,
      // > 24"); the IP layer reassembles before TCP sees it.
      'zeek-ipv4-fragmented-syn.pcap#1:bad-header-length',
      // The header the snap length cut: 34 of 40 bytes captured.
      'zeek-tcp-truncated-header.pcap#1:truncated',
    ]);
    let total = 0;
    for (const f of files) total += all.get(f)?.length ?? 0;
    expect(n + failures.length).toBe(total);
    expect(total).toBe(4396);
  });

  it('decodes SYN and SYN-ACK options as tshark does', () => {
    let checked = 0;
    for (const f of files) {
      const segs = all.get(f) ?? [];
      const byFrame = new Map(segs.map((s) => [s.frame, s]));
      const fragmented = segs.some((s) => s.fragment);
      for (const st of truthOf(f).streams) {
        const pairs = [
          [st.handshake.syn_frame, st.syn_options],
          [st.handshake.syn_ack_frame, st.syn_ack_options],
        ] as const;
        for (const [frame, truth] of pairs) {
          if (frame === undefined || frame === null || !truth) continue;
          const s = byFrame.get(frame);
          if (!s) {
            // tshark counts a fragmented segment on its last fragment, which this reader skips.
            expect([f, frame, fragmented]).toEqual([f, frame, true]);
            continue;
          }
          // Options as far as they were captured (a cut header still shows its first options).
          const hl = ((s.b.u8[s.tcpOff + 12] as number) >> 4) * 4;
          const optLen = Math.min(hl, s.available) - 20;
          const o = parseTcpOptions(s.b, s.tcpOff + 20, optLen);
          if (isWireError(o)) throw new Error(`${f}#${frame}: ${o}`);
          // tshark lists every zero byte of the padding as one more EOL; compare up to the first.
          const want = truth.kinds.includes(0) ? truth.kinds.slice(0, truth.kinds.indexOf(0) + 1) : truth.kinds;
          const tag = `${f}#${frame}`;
          expect([tag, kindsOf(o)]).toEqual([tag, want]);
          const mss = o.find((x) => x.kind === 'mss');
          expect([tag, mss?.value ?? null]).toEqual([tag, truth.mss]);
          const ws = o.find((x) => x.kind === 'wscale');
          expect([tag, ws?.shift ?? null]).toEqual([tag, truth.wscale]);
          expect([tag, o.some((x) => x.kind === 'sack-permitted')]).toEqual([tag, truth.sack_perm]);
          expect([tag, o.some((x) => x.kind === 'timestamps')]).toEqual([tag, truth.timestamps]);
          const tfo = o.find((x) => x.kind === 'fast-open' || x.kind === 'fast-open-exp');
          const cookie = tfo && (tfo.kind === 'fast-open' || tfo.kind === 'fast-open-exp') ? tfo.cookie : null;
          expect([tag, cookie && cookie.length > 0 ? hex(cookie) : null]).toEqual([tag, truth.tfo_cookie]);
          expect([tag, cookie !== null && cookie.length === 0]).toEqual([tag, truth.tfo_cookie_request]);
          if (s.available === s.segmentLen) expect([tag, s.segmentLen - hl]).toEqual([tag, truth.payload_len]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('keeps the same frame intact when read twice (views never copy or write)', () => {
    const frames = readFrames('zeek-tcp-options.pcap');
    const s = tcpSegmentsOf('zeek-tcp-options.pcap', frames[0] as (typeof frames)[number]);
    expect(s).not.toBeNull();
    if (!s) return;
    const before = hex(s.b.u8);
    const v = TcpPacket.check(s.b, s.tcpOff, s.available, s.segmentLen);
    expect(v).toBeInstanceOf(TcpPacket);
    if (isWireError(v)) return;
    repr(v, s.pseudoSum);
    expect(hex(s.b.u8)).toBe(before);
    expect(hex(s.b.u8.subarray(s.tcpOff, s.tcpOff + s.available))).toBe(SYN_HEX);
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

const cookie = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });

/** Options in the form parse gives back: a known kind never hides in 'unknown' with its own size. */
const optionArb: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant<TcpOption>({ kind: 'nop' }),
  u16.map<TcpOption>((value) => ({ kind: 'mss', value })),
  fc.integer({ min: 0, max: 255 }).map<TcpOption>((shift) => ({ kind: 'wscale', shift })),
  fc.constant<TcpOption>({ kind: 'sack-permitted' }),
  fc.array(fc.tuple(u32, u32), { minLength: 0, maxLength: 4 }).map<TcpOption>((blocks) => ({ kind: 'sack', blocks })),
  fc.tuple(u32, u32).map<TcpOption>(([tsVal, tsEcr]) => ({ kind: 'timestamps', tsVal, tsEcr })),
  cookie(0, 16).map<TcpOption>((c) => ({ kind: 'fast-open', cookie: c })),
  cookie(0, 16).map<TcpOption>((c) => ({ kind: 'fast-open-exp', cookie: c })),
  fc
    .tuple(fc.integer({ min: 6, max: 253 }).filter((k) => k !== 8 && k !== 34), cookie(0, 12))
    .map<TcpOption>(([type, data]) => ({ kind: 'unknown', type, data })),
  // Known kinds whose length byte lies stay raw.
  fc
    .tuple(fc.constantFrom(2, 3, 4, 8), cookie(0, 12))
    .filter(([t, d]) => d.length !== { 2: 2, 3: 1, 4: 0, 8: 8 }[t])
    .map<TcpOption>(([type, data]) => ({ kind: 'unknown', type, data })),
  fc
    .tuple(fc.constant(5), cookie(1, 12).filter((d) => d.length % 8 !== 0))
    .map<TcpOption>(([type, data]) => ({ kind: 'unknown', type, data })),
  // Kind 254 under another ExID (or too short for one).
  cookie(0, 10)
    .filter((d) => d.length < 2 || d[0] !== 0xf9 || d[1] !== 0x89)
    .map<TcpOption>((data) => ({ kind: 'unknown', type: 254, data })),
);

function optLen(options: readonly TcpOption[]): number {
  let n = 0;
  for (const o of options) {
    switch (o.kind) {
      case 'eol': case 'nop': n += 1; break;
      case 'mss': n += 4; break;
      case 'wscale': n += 3; break;
      case 'sack-permitted': n += 2; break;
      case 'sack': n += 2 + 8 * o.blocks.length; break;
      case 'timestamps': n += 10; break;
      case 'fast-open': n += 2 + o.cookie.length; break;
      case 'fast-open-exp': n += 4 + o.cookie.length; break;
      case 'unknown': n += 2 + o.data.length; break;
    }
  }
  return n;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/**
 * A record as parse would give it: options that fit 40 bytes; an EOL closing any list that does not end on
 * a 4-byte boundary; optionally non-zero padding after the EOL, or raw malformed bytes, each filling the
 * option space to its boundary as they would on the wire.
 */
const reprArb: fc.Arbitrary<TcpRepr> = fc
  .record({
    srcPort: u16,
    dstPort: u16,
    seq: u32,
    ack: u32,
    flags: fc.integer({ min: 0, max: 0x1ff }),
    window: u16,
    urgent: u16,
    options: fc.array(optionArb, { maxLength: 12 }),
    payload: fc.uint8Array({ maxLength: 64 }),
    reserved: fc.integer({ min: 0, max: 7 }),
    tail: fc.constantFrom('none', 'eol', 'padding', 'malformed'),
    tailBytes: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    zeroPadding: fc.boolean(),
    badLen: fc.constantFrom(0, 1, 200),
    checksum: fc.option(u16, { nil: undefined }),
  })
  .map((x) => {
    const options = [...x.options];
    while (optLen(options) > 36) options.pop();
    const r: TcpRepr = {
      srcPort: x.srcPort, dstPort: x.dstPort, seq: x.seq, ack: x.ack, flags: x.flags,
      window: x.window, urgent: x.urgent, options, payload: x.payload,
    };
    if (x.reserved !== 0) r.reserved = x.reserved;
    if (x.checksum !== undefined) r.checksum = x.checksum;
    const used = optLen(options);
    if (x.tail === 'malformed') {
      // kind, then a length byte of 0, 1 or one reaching past the header.
      const n = pad4(used + 2) - used;
      const raw = x.tailBytes.slice(0, n);
      raw[0] = 2 + ((raw[0] as number) % 250);
      raw[1] = x.badLen;
      r.malformedOptions = raw;
    } else if (x.tail === 'padding' || x.tail === 'eol' || used % 4 !== 0) {
      options.push({ kind: 'eol' });
      const rest = pad4(used + 1) - used - 1;
      const extra = pad4(used + 1) + 4 <= 40 ? 4 : 0;
      if (x.tail === 'padding' && rest + extra > 0) {
        // Non-zero somewhere, or longer than the boundary needs.
        const p = x.zeroPadding ? new Uint8Array(rest + extra) : x.tailBytes.slice(0, rest + extra);
        if (extra === 0 && p.every((v) => v === 0)) p[0] = 1;
        r.padding = p;
      }
    }
    return r;
  });

describe('TcpRepr properties', () => {
  it('parse(emit(repr)) equals repr', () => {
    fc.assert(
      fc.property(reprArb, fc.boolean(), (r, v6) => {
        const len = tcpReprHeaderLen(r) + r.payload.length;
        const ps = v6
          ? pseudoHeaderSumOf('2001:db8::1', '2001:db8::2', TCP, len)
          : pseudoHeaderSumOf('198.18.0.1', '198.18.0.2', TCP, len);
        const b = allocBytes(len, 0xa5);
        expect(emitTcpRepr(r, b, 0, ps)).toBe(len);
        const v = TcpPacket.check(b, 0, len);
        if (isWireError(v)) throw new Error(v);
        const back = parseTcpRepr(v, ps);
        // A checksum given equal to the right one is, rightly, not recorded again.
        const want = { ...r };
        if (r.checksum !== undefined && verifyTcpChecksum(b, 0, len, ps)) delete want.checksum;
        expect(back).toEqual(want);
        if (r.checksum === undefined) expect(verifyTcpChecksum(b, 0, len, ps)).toBe(true);
        expect(checkTcpOptions(b, v.optionsOffset, v.optionsLength)).toBe(r.malformedOptions ? 'bad-option' : null);
      }),
      { numRuns: 2000 },
    );
  });
});
