/**
 * pcapng blocks and options the corpus does not have, built by hand (test/capture/build.ts) and
 * compared with tshark: several sections in both byte orders, SPB (captured length from interface 0's
 * snaplen), OPB, NRB/ISB/DSB/custom/unknown blocks skipped, if_tsresol in powers of 10 and of 2 (fast
 * path and BigInt path), if_tsoffset, if_name, opt_comment.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { hex } from '../../src/wire/bytes.js';
import { formatEpoch, openCapture, openCaptureBytes } from '../../src/capture/index.js';
import { block, concat, endOpt, epb, idb, opt, pattern, removeTmp, shb, spb, utf8, writeTmp } from './build.js';
import { tsharkFields, tsharkFrameHex } from './tshark.js';

afterAll(removeTmp);

const le64 = (v: bigint): Uint8Array => {
  const u = new Uint8Array(8);
  new DataView(u.buffer).setBigInt64(0, v, true);
  return u;
};
const be64 = (v: bigint): Uint8Array => {
  const u = new Uint8Array(8);
  new DataView(u.buffer).setBigInt64(0, v, false);
  return u;
};

// Section 0, little-endian: if 0 Ethernet "eth0" at 2^-20 s; if 1 SLL at 10^-3 s with if_tsoffset 1000 s.
const sec0 = concat(
  shb(true, concat(opt(4, utf8('build.ts')), endOpt())),
  idb(1, 65535, true, concat(opt(2, utf8('eth0')), opt(9, Uint8Array.of(0x80 | 20)), endOpt())),
  idb(113, 0, true, concat(opt(9, Uint8Array.of(3)), opt(14, le64(1000n)), endOpt())),
  epb(0, 1_700_000_000n * 2n ** 20n + 123_457n, pattern(60, 1), true, concat(opt(1, utf8('first')), endOpt())),
  // NRB with one IPv4 record, then ISB for if 0, a DSB, a custom block and a block type nobody defined.
  block(4, concat(Uint8Array.of(1, 0, 9, 0, 192, 0, 2, 1, 0x68, 0x6f, 0x73, 0x74, 0, 0, 0, 0), new Uint8Array(4))),
  block(5, concat(new Uint8Array([0, 0, 0, 0]), new Uint8Array(8), endOpt())),
  block(10, concat(Uint8Array.of(0x4b, 0x53, 0x4c, 0x54, 4, 0, 0, 0), utf8('abcd'))),
  block(0x00000bad, concat(Uint8Array.of(0x00, 0x00, 0x7e, 0xd9), utf8('data'))),
  block(0x7eadbeef, new Uint8Array(16)),
  epb(1, 1_700_000_000_123n, pattern(70, 2), true, concat(opt(1, utf8('second, with a comma')), opt(1, utf8('and a second comment')), endOpt())),
  epb(0, 1_700_000_001n * 2n ** 20n + 1n, pattern(64, 3), true, new Uint8Array(0), 1500),
  // OPB (type 2) on if 1, with a comment.
  epb(1, 1_700_000_002_000n, pattern(61, 4), true, concat(opt(1, utf8('obsolete ü')), endOpt()), 61, true),
);

// Section 1, big-endian: if 0 raw IP, snaplen 40, picoseconds (10^-12: the BigInt path); if 1 Ethernet at
// 2^-40 s. A 64-bit count of such units spans only months, so both need if_tsoffset to reach 2023.
const sec1 = concat(
  shb(false),
  idb(101, 40, false, concat(opt(9, Uint8Array.of(12), false), opt(14, be64(1_699_999_995n), false), endOpt())),
  idb(1, 0, false, concat(opt(2, utf8('second-section'), false), opt(9, Uint8Array.of(0x80 | 40), false), opt(14, be64(1_700_000_000n), false), endOpt())),
  // SPB: original 60 bytes, cut to if 0's snaplen 40; no timestamp.
  spb(60, pattern(40, 5), false),
  epb(0, 3_123_456_789_012n, pattern(40, 6), false, new Uint8Array(0), 90),
  epb(1, 4n * 2n ** 40n + 2n ** 39n + 12345n, pattern(66, 7), false),
  spb(30, pattern(30, 8), false),
);

const FILE = concat(sec0, sec1);

describe('pcapng blocks and options, against tshark', () => {
  it('reads every packet block of both sections, skipping the others', () => {
    const r = openCaptureBytes(FILE, { name: 'blocks.pcapng' });
    const got: { n: number; i: number; t: string; cap: number; orig: number; lt: number; c: string | null }[] = [];
    for (let f = r.next(); f !== null; f = r.next()) {
      got.push({ n: f.index, i: f.interfaceId, t: formatEpoch(f.tsSec, f.tsNsec), cap: f.capLen, orig: f.origLen, lt: f.linkType, c: f.comment });
    }
    expect(r.error).toBeNull();
    // Worked out by hand from the units above. Frame 2 is the custom block: numbered, not delivered.
    expect(got).toEqual([
      { n: 1, i: 0, t: '1700000000.117737770', cap: 60, orig: 60, lt: 1, c: 'first' },
      { n: 3, i: 1, t: '1700001000.123000000', cap: 70, orig: 70, lt: 113, c: 'second, with a comma\nand a second comment' },
      { n: 4, i: 0, t: '1700000001.000000953', cap: 64, orig: 1500, lt: 1, c: null },
      { n: 5, i: 1, t: '1700001002.000000000', cap: 61, orig: 61, lt: 113, c: 'obsolete ü' },
      { n: 6, i: 2, t: '0.000000000', cap: 40, orig: 60, lt: 101, c: null },
      { n: 7, i: 2, t: '1699999998.123456789', cap: 40, orig: 90, lt: 101, c: null },
      { n: 8, i: 3, t: '1700000004.500000011', cap: 66, orig: 66, lt: 1, c: null },
      { n: 9, i: 2, t: '0.000000000', cap: 30, orig: 30, lt: 101, c: null },
    ]);
    expect(r.stats).toEqual({ frames: 8, bytes: 60 + 70 + 64 + 61 + 40 + 40 + 66 + 30, origBytes: 60 + 70 + 1500 + 61 + 60 + 90 + 66 + 30, otherRecords: 1 });
    expect(
      r.interfaces.map((i) => ({ id: i.id, section: i.section, localId: i.localId, lt: i.linkType, snap: i.snaplen, res: i.tsresol, off: i.tsOffset, name: i.name })),
    ).toEqual([
      { id: 0, section: 0, localId: 0, lt: 1, snap: 65535, res: 0x80 | 20, off: 0, name: 'eth0' },
      { id: 1, section: 0, localId: 1, lt: 113, snap: 0, res: 3, off: 1000, name: null },
      { id: 2, section: 1, localId: 0, lt: 101, snap: 40, res: 12, off: 1_699_999_995, name: null },
      { id: 3, section: 1, localId: 1, lt: 1, snap: 0, res: 0x80 | 40, off: 1_700_000_000, name: 'second-section' },
    ]);
  });

  it('agrees with tshark frame by frame', () => {
    const path = writeTmp('blocks.pcapng', FILE);
    const r = openCapture(path, { chunkSize: 64 });
    const theirs = tsharkFields(path, ['frame.number', 'frame.interface_id', 'frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.comment', 'frame.interface_name']);
    const theirBytes = tsharkFrameHex(path);
    // tshark numbers the custom block as frame 2 (4 bytes of data after the PEN); we skip it, keeping the numbers.
    expect(theirs[1]).toEqual(['2', '', '', '4', '4', '', '']);
    const rows: string[][] = [];
    const want: string[][] = [];
    for (let f = r.next(); f !== null; f = r.next()) {
      const iface = r.interfaces[f.interfaceId]!;
      const t = theirs[f.index - 1]!;
      // Where tshark 4.0 is wrong, say so and do not compare:
      // - it shows section-local interface ids, and looks their names up in section 0's table;
      // - it has no time for an SPB (we give 0);
      // - finer than nanosecond units, it multiplies the remainder by 10^9 in 64 bits and overflows
      //   (3.123456789012 s in picoseconds shows as .012776324): the hand-worked values above hold.
      const isSpb = FILE[f.fileOffset] === 3;
      const fine = iface.tsResolution.unitsPerSec > 1e9;
      rows.push([
        String(f.index),
        String(iface.localId),
        isSpb ? '' : fine ? 'skip' : formatEpoch(f.tsSec, f.tsNsec),
        String(f.origLen),
        String(f.capLen),
        f.comment?.replace('\n', ',') ?? '',
        iface.section === 0 ? (iface.name ?? 'unknown') : 'skip',
        hex(f.bytes.u8.subarray(f.offset, f.offset + f.capLen)),
      ]);
      want.push([t[0]!, t[1]!, fine ? 'skip' : t[2]!, t[3]!, t[4]!, t[5]!, iface.section === 0 ? t[6]! : 'skip', theirBytes[f.index - 1]!]);
    }
    expect(r.error).toBeNull();
    expect(rows).toEqual(want);
    expect(rows.length).toBe(theirs.length - 1);
  });

  it('the interfaces right after the first SHB are known at open', () => {
    const r = openCaptureBytes(FILE);
    expect(r.interfaces.map((i) => i.linkType)).toEqual([1, 113]);
  });
});
