/**
 * Writers: files written by PcapWriter (microsecond, nanosecond, both byte orders) and PcapngWriter
 * (several interfaces of different link types, names, comments) are read back by tshark with the same
 * bytes, lengths, times and comments; and write -> read round-trips arbitrary frames (fast-check).
 */
import * as fs from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { copyOut, hex } from '../../src/wire/bytes.js';
import { MemorySink, PcapWriter, PcapngWriter, formatEpoch, openCapture, openCaptureBytes } from '../../src/capture/index.js';
import type { CaptureReader, PacketInput } from '../../src/capture/index.js';
import { corpusPath } from '../corpus.js';
import { removeTmp, tmpFile, writeTmp } from './build.js';
import { tsharkFields, tsharkFrameHex } from './tshark.js';

afterAll(removeTmp);

interface Frame extends PacketInput {
  linkType: number;
}

/** The frames of a corpus capture, copied out of the reader. */
function framesOf(name: string, limit = Infinity): Frame[] {
  const r = openCapture(corpusPath(name));
  const out: Frame[] = [];
  for (let f = r.next(); f !== null && out.length < limit; f = r.next()) {
    out.push({ tsSec: f.tsSec, tsNsec: f.tsNsec, data: copyOut(f.bytes, f.offset, f.capLen), origLen: f.origLen, linkType: f.linkType, comment: f.comment });
  }
  expect(r.error).toBeNull();
  return out;
}

function readAll(r: CaptureReader): { time: string; data: string; origLen: number; interfaceId: number; linkType: number; comment: string | null }[] {
  const out = [];
  for (let f = r.next(); f !== null; f = r.next()) {
    out.push({
      time: formatEpoch(f.tsSec, f.tsNsec),
      data: hex(f.bytes.u8.subarray(f.offset, f.offset + f.capLen)),
      origLen: f.origLen,
      interfaceId: f.interfaceId,
      linkType: f.linkType,
      comment: f.comment,
    });
  }
  expect(r.error).toBeNull();
  return out;
}

/** tshark's view of a file: one row per frame, and the bytes. */
function tshark(path: string): { rows: string[][]; bytes: string[] } {
  return {
    rows: tsharkFields(path, ['frame.interface_id', 'frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.comment', 'frame.interface_name', 'frame.protocols']),
    bytes: tsharkFrameHex(path),
  };
}

// Real frames: nanosecond Ethernet (big-endian file), nanosecond SLL, microsecond raw IP, and one
// snaplen-truncated Ethernet file (capLen < origLen).
const ETH_NS = framesOf('ppp-nanosecs-be.pcap');
const SLL_NS = framesOf('tcpdump-tcp-handshake-nano-sll.pcap');
const RAW = framesOf('zeek-tcp-payload-syn-rawip.pcap');
const CUT = framesOf('zeek-tcp-truncated-header.pcap', 6);

const usTime = (f: Frame): string => formatEpoch(f.tsSec, Math.floor(f.tsNsec / 1000) * 1000);

describe('PcapWriter, read back by tshark', () => {
  it.each([
    ['microsecond, little-endian', false, false],
    ['microsecond, big-endian', false, true],
    ['nanosecond, little-endian', true, false],
    ['nanosecond, big-endian', true, true],
  ])('%s', (_, nanosecond, bigEndian) => {
    const frames = [...ETH_NS, ...CUT];
    const path = tmpFile(`w-${nanosecond}-${bigEndian}.pcap`);
    const w = PcapWriter.toFile(path, { linkType: 1, nanosecond, bigEndian, snaplen: 65535 });
    for (const f of frames) w.write(f);
    w.close();
    const magic = fs.readFileSync(path).subarray(0, 4).toString('hex');
    expect(magic).toBe({ 'false,false': 'd4c3b2a1', 'false,true': 'a1b2c3d4', 'true,false': '4d3cb2a1', 'true,true': 'a1b23c4d' }[`${nanosecond},${bigEndian}`]);
    const t = tshark(path);
    expect(t.rows).toEqual(
      // Microsecond files keep whole microseconds: the nanoseconds are truncated, as libpcap does.
      frames.map((f) => ['', nanosecond ? formatEpoch(f.tsSec, f.tsNsec) : usTime(f), String(f.origLen), String(f.data.length), '', '', expect.stringMatching(/^eth:/)]),
    );
    expect(t.bytes).toEqual(frames.map((f) => hex(f.data)));
    // And our reader agrees with what tshark saw.
    const back = readAll(openCapture(path));
    expect(back.map((b) => b.time)).toEqual(t.rows.map((r) => r[1]));
    expect(back.map((b) => b.data)).toEqual(t.bytes);
  });

  it('writeFrame copies a reader frame; toFd leaves the descriptor open; big records outgrow the buffer', () => {
    const path = tmpFile('fd.pcap');
    const fd = fs.openSync(path, 'w');
    const w = PcapWriter.toFd(fd, { linkType: 113, nanosecond: true, bufferSize: 4096 });
    const r = openCapture(corpusPath('tcpdump-tcp-handshake-nano-sll.pcap'));
    for (let f = r.next(); f !== null; f = r.next()) w.writeFrame(f);
    const big = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);
    w.writePacket(1_700_000_000, 999_999_999, big);
    w.close();
    // Still open: we can write more, and closing it is ours to do.
    fs.writeSync(fd, new Uint8Array(0));
    fs.closeSync(fd);
    const t = tshark(path);
    expect(t.rows.map((x) => x[1])).toEqual([...SLL_NS.map((f) => formatEpoch(f.tsSec, f.tsNsec)), '1700000000.999999999']);
    expect(t.bytes).toEqual([...SLL_NS.map((f) => hex(f.data)), hex(big)]);
  });

  it('rejects impossible times as programmer errors', () => {
    const w = new PcapWriter(new MemorySink(), { linkType: 1 });
    expect(() => w.writePacket(1, 1_000_000_000, new Uint8Array(1))).toThrow(RangeError);
    expect(() => w.writePacket(-1, 0, new Uint8Array(1))).toThrow(RangeError);
    expect(() => w.writePacket(2 ** 32, 0, new Uint8Array(1))).toThrow(RangeError);
  });
});

describe('PcapngWriter, read back by tshark', () => {
  it.each([false, true])('three interfaces of different link types, names and comments (big-endian %s)', (bigEndian) => {
    const path = tmpFile(`w-${bigEndian}.pcapng`);
    const w = PcapngWriter.toFile(path, { bigEndian });
    const names = ['eth0', 'any', 'tun0 (ü)'];
    expect(w.addInterface({ linkType: 1, name: names[0] })).toBe(0);
    expect(w.addInterface({ linkType: 113, name: names[1], snaplen: 0 })).toBe(1);
    expect(w.addInterface({ linkType: 101, name: names[2], description: 'raw IP' })).toBe(2);
    // Interleave the three sources; comment every other frame, some with commas and non-ASCII.
    const plan: { f: Frame; i: number; comment: string | null }[] = [];
    const sources = [ETH_NS, SLL_NS, RAW];
    for (let k = 0; k < 10; k++) {
      for (let i = 0; i < 3; i++) {
        const f = sources[i]![k];
        if (f !== undefined) plan.push({ f, i, comment: plan.length % 2 === 0 ? `frame ${plan.length + 1} on ${names[i]}, 日本` : null });
      }
    }
    for (const p of plan) w.write({ ...p.f, interfaceId: p.i, comment: p.comment });
    w.close();
    const t = tshark(path);
    const proto = ['eth:', 'sll:', 'raw:'];
    expect(t.rows).toEqual(
      plan.map((p) => [
        String(p.i),
        formatEpoch(p.f.tsSec, p.f.tsNsec),
        String(p.f.origLen),
        String(p.f.data.length),
        p.comment ?? '',
        names[p.i],
        expect.stringMatching(new RegExp(`^${proto[p.i]}`)),
      ]),
    );
    expect(t.bytes).toEqual(plan.map((p) => hex(p.f.data)));
    const back = readAll(openCapture(path));
    expect(back.map((b) => [b.interfaceId, b.linkType, b.comment])).toEqual(plan.map((p) => [p.i, [1, 113, 101][p.i], p.comment]));
  });

  it('round-trips the frames of the corpus pcapngs, to the nanosecond, via writeFrame', () => {
    // (ppp-pcapng-example.pcapng is left out: its second interface's times are ~2^64 microseconds,
    // 1.8e13 s, beyond what a 64-bit nanosecond count can hold.)
    for (const name of ['ppp-many-interfaces.pcapng', 'zeek-ldap-gap-data-missing.pcapng', 'ndpi-rtsp-dup4-sll.pcapng', 'chrissanders-tcp-refuseconnection.pcapng']) {
      const r = openCapture(corpusPath(name));
      const sink = new MemorySink();
      const w = new PcapngWriter(sink);
      let added = 0;
      for (let f = r.next(); f !== null; f = r.next()) {
        // IDBs may come between packets: add each interface as the reader meets it, so ids stay the same.
        for (; added < r.interfaces.length; added++) {
          const i = r.interfaces[added]!;
          w.addInterface({ linkType: i.linkType, snaplen: i.snaplen, name: i.name });
        }
        w.writeFrame(f);
      }
      w.close();
      const original = readAll(openCapture(corpusPath(name)));
      expect(original.length).toBeGreaterThan(0);
      expect(readAll(openCaptureBytes(sink.toUint8Array()))).toEqual(original);
    }
  });

  it('if_tsresol 6 keeps microsecond times a nanosecond count cannot hold; several comments per frame', () => {
    // ppp-pcapng-example.pcapng: interface 1 counts microseconds, at ~2^64 of them (1.8e13 s), and 100
    // frames carry comments. Each interface is copied at its own resolution (6 stays 6, 9 stays 9).
    const name = 'ppp-pcapng-example.pcapng';
    const r = openCapture(corpusPath(name));
    const path = tmpFile('tsresol6.pcapng');
    const w = PcapngWriter.toFile(path);
    let added = 0;
    for (let f = r.next(); f !== null; f = r.next()) {
      for (; added < r.interfaces.length; added++) {
        const i = r.interfaces[added]!;
        w.addInterface({ linkType: i.linkType, snaplen: i.snaplen, name: i.name, tsresol: i.tsresol === 6 ? 6 : 9 });
      }
      w.writePacket(f.interfaceId, f.tsSec, f.tsNsec, f.bytes.u8, f.offset, f.capLen, f.origLen, f.comment === null ? ['added'] : [f.comment, 'added, too']);
    }
    w.close();
    const original = readAll(openCapture(corpusPath(name)));
    expect(Math.max(...original.map((f) => Number(f.time.split('.')[0])))).toBeGreaterThan(Math.floor(2 ** 64 / 1e9));
    const back = readAll(openCapture(path));
    expect(back.map((f) => ({ ...f, comment: null }))).toEqual(original.map((f) => ({ ...f, comment: null })));
    expect(back.map((f) => f.comment)).toEqual(original.map((f) => (f.comment === null ? 'added' : `${f.comment}\nadded, too`)));
    expect(original.filter((f) => f.comment !== null).length).toBe(100);
    // tshark agrees on the times and sees both comments of a frame.
    const t = tsharkFields(path, ['frame.time_epoch', 'frame.comment']);
    expect(t.map((row) => row[0])).toEqual(tsharkFields(corpusPath(name), ['frame.time_epoch']).map((row) => row[0]));
    expect(t.map((row) => row[1])).toEqual(original.map((f) => (f.comment === null ? 'added' : `${f.comment},added, too`)));
    // A nanosecond interface refuses such a time (a programmer error); an if_tsresol other than 6 or 9 too.
    const ns = new PcapngWriter(new MemorySink());
    ns.addInterface({ linkType: 1 });
    expect(() => ns.writePacket(0, 18_446_744_073_204, 0, new Uint8Array(4))).toThrow(RangeError);
    expect(() => ns.addInterface({ linkType: 1, tsresol: 3 as 6 })).toThrow(RangeError);
  });

  it('refuses a packet on an interface it was not given', () => {
    const w = new PcapngWriter(new MemorySink());
    expect(() => w.writePacket(0, 0, 0, new Uint8Array(4))).toThrow(RangeError);
  });
});

describe('write -> read round trip (fast-check)', () => {
  // Comments are any text without NUL: a NUL ends an option string for Wireshark and for us.
  const comment = fc.option(fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\0')), { nil: null });
  const frame = fc.record({
    tsSec: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    tsNsec: fc.integer({ min: 0, max: 999_999_999 }),
    data: fc.uint8Array({ minLength: 0, maxLength: 300 }),
    extra: fc.integer({ min: 0, max: 70_000 }),
    interfaceId: fc.integer({ min: 0, max: 2 }),
    comment,
  });
  const frames = fc.array(frame, { maxLength: 30 });
  const layout = fc.record({ bigEndian: fc.boolean(), chunkSize: fc.integer({ min: 64, max: 2048 }) });

  /** Reads back through a file, so the chunk carry-over is part of every run. */
  function readBack(bytes: Uint8Array, chunkSize: number): ReturnType<typeof readAll> {
    return readAll(openCapture(writeTmp('prop.cap', bytes), { chunkSize }));
  }

  it('pcapng: every field, to the nanosecond', () => {
    fc.assert(
      fc.property(frames, layout, (fs_, { bigEndian, chunkSize }) => {
        const sink = new MemorySink();
        const w = new PcapngWriter(sink, { bigEndian });
        for (const lt of [1, 113, 276]) w.addInterface({ linkType: lt, snaplen: 0 });
        for (const f of fs_) w.write({ ...f, origLen: f.data.length + f.extra });
        w.close();
        expect(readBack(sink.toUint8Array(), chunkSize)).toEqual(
          fs_.map((f) => ({
            time: formatEpoch(f.tsSec, f.tsNsec),
            data: hex(f.data),
            origLen: f.data.length + f.extra,
            interfaceId: f.interfaceId,
            linkType: [1, 113, 276][f.interfaceId],
            comment: f.comment,
          })),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('pcap: nanosecond exact, microsecond truncated', () => {
    fc.assert(
      fc.property(frames, layout, fc.boolean(), (fs_, { bigEndian, chunkSize }, nanosecond) => {
        const sink = new MemorySink();
        const w = new PcapWriter(sink, { linkType: 228, nanosecond, bigEndian });
        for (const f of fs_) w.write({ ...f, origLen: f.data.length + f.extra });
        w.close();
        expect(readBack(sink.toUint8Array(), chunkSize)).toEqual(
          fs_.map((f) => ({
            time: formatEpoch(f.tsSec, nanosecond ? f.tsNsec : Math.floor(f.tsNsec / 1000) * 1000),
            data: hex(f.data),
            origLen: f.data.length + f.extra,
            interfaceId: 0,
            linkType: 228,
            comment: null,
          })),
        );
      }),
      { numRuns: 150 },
    );
  });
});
