/**
 * Hostile and damaged files: each stops the reader with an error naming the byte offset and the frame
 * it was reading, after delivering every frame before the damage, and never sizes an allocation from a
 * length it read. Every case runs twice: from memory and from a file (the streaming path).
 */
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture, openCaptureBytes } from '../../src/capture/index.js';
import type { CaptureReader, CaptureReaderOptions } from '../../src/capture/index.js';
import {
  block,
  concat,
  endOpt,
  epb,
  idb,
  opt,
  pattern,
  pcapHeader,
  pcapRecord,
  poke32,
  removeTmp,
  shb,
  spb,
  utf8,
  writeTmp,
} from './build.js';

afterAll(removeTmp);

interface Outcome {
  via: string;
  file: string;
  frames: number[];
  reader: CaptureReader;
}

let serial = 0;

/** Reads `bytes` from memory and from a temporary file, collecting the frame numbers delivered. */
function readBoth(name: string, bytes: Uint8Array, opts: CaptureReaderOptions = {}): Outcome[] {
  const path = writeTmp(`${serial++}-${name}`, bytes);
  const out: Outcome[] = [];
  for (const [via, reader, file] of [
    ['memory', openCaptureBytes(bytes, { ...opts, name }), name],
    ['file', openCapture(path, opts), path],
  ] as const) {
    const frames: number[] = [];
    for (let f = reader.next(); f !== null; f = reader.next()) frames.push(f.index);
    // Once stopped, it stays stopped.
    expect(reader.next()).toBeNull();
    out.push({ via, file, frames, reader });
  }
  return out;
}

function expectDamage(name: string, bytes: Uint8Array, delivered: number, offset: number, reason: string, opts: CaptureReaderOptions = {}): void {
  for (const o of readBoth(name, bytes, opts)) {
    const frame = delivered + 1;
    expect({ via: o.via, frames: o.frames, error: o.reader.error }).toEqual({
      via: o.via,
      frames: Array.from({ length: delivered }, (_, i) => i + 1),
      error: { file: o.file, offset, frame, reason, message: `${o.file}: offset ${offset}, frame ${frame}: ${reason}` },
    });
    expect(o.reader.stats.frames).toBe(delivered);
  }
}

// Three frames of 60, 70 and 80 bytes: records at 24, 100 (24+16+60), 186 (100+16+70); the file ends at 282.
const P = [pattern(60, 1), pattern(70, 2), pattern(80, 3)];
const pcap3 = (le = true, snaplen = 65535): Uint8Array =>
  concat(pcapHeader({ le, snaplen }), ...P.map((d, i) => pcapRecord(1_600_000_000 + i, 500_000, d, le)));

describe('not a capture', () => {
  it('empty file', () => {
    expectDamage('empty.pcap', new Uint8Array(0), 0, 0, 'empty file');
    expect(openCaptureBytes(new Uint8Array(0)).format).toBe('unknown');
  });

  it('fewer bytes than a magic', () => {
    expectDamage('three.pcap', Uint8Array.of(0xd4, 0xc3, 0xb2), 0, 0, 'file of 3 bytes is too short for a capture header');
  });

  it('garbage', () => {
    expectDamage('http.txt', utf8('GET / HTTP/1.1\r\nHost: example\r\n\r\n'), 0, 0, 'unknown magic 0x47455420: not a pcap or pcapng file');
  });

  it('wrong magic (one byte off)', () => {
    const b = pcap3();
    b[0] = 0xd5;
    expectDamage('magic.pcap', b, 0, 0, 'unknown magic 0xd5c3b2a1: not a pcap or pcapng file');
  });

  it('a file that does not exist', () => {
    const r = openCapture('/nonexistent/synack.pcap');
    expect(r.next()).toBeNull();
    expect(r.error?.offset).toBe(0);
    expect(r.error?.reason).toMatch(/^cannot open: ENOENT/);
  });
});

describe('classic pcap damage', () => {
  it('a header and no records is an empty capture, not damage (tcpdump writes it when nothing matched)', () => {
    for (const o of readBoth('header-only.pcap', pcapHeader({ linkType: 113 }))) {
      expect(o.reader.error).toBeNull();
      expect(o.frames).toEqual([]);
      expect(o.reader.interfaces.map((i) => i.linkType)).toEqual([113]);
    }
  });

  it('a header cut short', () => {
    expectDamage('short-header.pcap', pcapHeader().subarray(0, 20), 0, 0, 'pcap file header truncated: needs 24 bytes, file ends after 20');
  });

  it('an unknown major version', () => {
    expectDamage('v1.pcap', concat(pcapHeader({ major: 1, minor: 0 }), pcapRecord(1, 0, P[0]!)), 0, 0, 'unsupported pcap version 1.0');
  });

  it.each([true, false])('cut inside a record header (little-endian %s)', (le) => {
    expectDamage('cut-hdr.pcap', pcap3(le).subarray(0, 186 + 10), 2, 186, 'record header truncated: needs 16 bytes, file ends after 10');
  });

  it.each([true, false])('cut inside the packet data: the short final record is an error (little-endian %s)', (le) => {
    expectDamage('cut-data.pcap', pcap3(le).subarray(0, 186 + 16 + 40), 2, 186, 'record truncated: needs 96 bytes, file ends after 56');
  });

  it('a record claiming 4 GB: an error, not an allocation', () => {
    expectDamage('4g.pcap', poke32(pcap3(), 186 + 8, 0xffffffff), 2, 186, 'record claims 4294967295 bytes (limit 262144)');
  });

  it('a record claiming 4 GB, big-endian, in the first record', () => {
    expectDamage('4g-be.pcap', poke32(pcap3(false), 24 + 8, 0xffffffff, false), 0, 24, 'record claims 4294967295 bytes (limit 262144)');
  });

  it('the bound is max(snaplen, 262144): above the snaplen is tolerated up to it, as Wireshark does', () => {
    const big = pattern(100_000, 7);
    const ok = concat(pcapHeader({ snaplen: 65535 }), pcapRecord(1, 0, big));
    for (const o of readBoth('over-snaplen.pcap', ok)) {
      expect(o.reader.error).toBeNull();
      expect(o.frames).toEqual([1]);
    }
    expectDamage('over-bound.pcap', poke32(pcap3(), 100 + 8, 262145), 1, 100, 'record claims 262145 bytes (limit 262144)');
    expectDamage('big-snaplen.pcap', poke32(pcap3(true, 1_000_000), 100 + 8, 1_000_001), 1, 100, 'record claims 1000001 bytes (limit 1000000)');
  });

  it('maxRecordBytes lowers the bound', () => {
    expectDamage('low-bound.pcap', pcap3(), 0, 24, 'record claims 60 bytes (limit 50)', { maxRecordBytes: 50 });
  });

  it('a record larger than the chunk grows the chunk (and is read whole)', () => {
    const big = pattern(200_000, 9);
    const path = writeTmp('grow.pcap', concat(pcapHeader({ snaplen: 262144 }), pcapRecord(1, 0, P[0]!), pcapRecord(2, 0, big), pcapRecord(3, 0, P[1]!)));
    const r = openCapture(path, { chunkSize: 4096 });
    const lens: number[] = [];
    for (let f = r.next(); f !== null; f = r.next()) {
      lens.push(f.capLen);
      const got = f.bytes.u8.subarray(f.offset, f.offset + f.capLen);
      expect(got).toEqual(f.capLen === big.length ? big : f.capLen === 60 ? P[0] : P[1]);
    }
    expect(r.error).toBeNull();
    expect(lens).toEqual([60, 200_000, 70]);
  });
});

// SHB (28) at 0, IDB (20) at 28, EPBs of 60, 70 (padded to 72) and 80 bytes: 92 at 48, 104 at 140, 112 at 244; end 356.
const EPB3 = 244;
const ng3 = (le = true): Uint8Array =>
  concat(shb(le), idb(1, 65535, le), ...P.map((d, i) => epb(0, BigInt(1_600_000_000 + i) * 1_000_000n, d, le)));

describe('pcapng damage', () => {
  it('the layout the cases below assume', () => {
    expect(ng3().length).toBe(356);
    for (const o of readBoth('ok.pcapng', ng3())) {
      expect(o.reader.error).toBeNull();
      expect(o.frames).toEqual([1, 2, 3]);
    }
  });

  it.each([true, false])('block length below 12, and 0 (which would loop forever) (little-endian %s)', (le) => {
    expectDamage('len8.pcapng', poke32(ng3(le), EPB3 + 4, 8, le), 2, EPB3, 'enhanced packet block: block length 8 is less than 12');
    expectDamage('len0.pcapng', poke32(ng3(le), EPB3 + 4, 0, le), 2, EPB3, 'enhanced packet block: block length 0 is less than 12');
  });

  it('block length not a multiple of 4', () => {
    expectDamage('len110.pcapng', poke32(ng3(), EPB3 + 4, 110), 2, EPB3, 'enhanced packet block: block length 110 is not a multiple of 4');
  });

  it('trailing length that lies', () => {
    expectDamage('trailer.pcapng', poke32(ng3(), 356 - 4, 116), 2, EPB3, 'enhanced packet block: trailing block length 116 differs from leading 112');
    // A leading length that lies shows the same way: the "trailer" is read where the lie says, at
    // 244 + 108 - 4 = 348, which is packet data 76..79 of frame 3 (bytes 3+76.. = 4f 50 51 52).
    expectDamage('leader.pcapng', poke32(ng3(), EPB3 + 4, 108), 2, EPB3, `enhanced packet block: trailing block length ${0x5251504f} differs from leading 108`);
  });

  it('a block claiming 4 GB', () => {
    expectDamage('4g.pcapng', poke32(ng3(), EPB3 + 4, 0xfffffffc), 2, EPB3, 'enhanced packet block: block claims 4294967292 bytes (limit 268435456)');
  });

  it('a block claiming 200 MB in a small file: truncated, and no 200 MB buffer is made', () => {
    const bytes = poke32(ng3(), EPB3 + 4, 200_000_000);
    const before = process.memoryUsage().arrayBuffers;
    const r = openCapture(writeTmp('200m.pcapng', bytes), { chunkSize: 4096 });
    let n = 0;
    while (r.next() !== null) n++;
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(n).toBe(2);
    expect(r.error?.reason).toBe('enhanced packet block truncated: needs 200000000 bytes, file ends after 112');
    expect(grown).toBeLessThan(50_000_000);
  });

  it('cut inside a block, and inside a block header', () => {
    expectDamage('cut.pcapng', ng3().subarray(0, EPB3 + 50), 2, EPB3, 'enhanced packet block truncated: needs 112 bytes, file ends after 50');
    expectDamage('cut-hdr.pcapng', ng3().subarray(0, EPB3 + 4), 2, EPB3, 'block header truncated: needs 8 bytes, file ends after 4');
  });

  it('a packet on an interface the section never defined', () => {
    expectDamage('if5.pcapng', poke32(ng3(), EPB3 + 8, 5), 2, EPB3, 'enhanced packet block refers to interface 5, but section 0 defines 1');
    const noIdb = concat(shb(), epb(0, 0n, P[0]!));
    expectDamage('no-idb.pcapng', noIdb, 0, 28, 'enhanced packet block refers to interface 0, but section 0 defines 0');
    expectDamage('spb-no-idb.pcapng', concat(shb(), spb(60, P[0]!)), 0, 28, 'simple packet block, but section 0 defines no interface');
  });

  it('interfaces do not carry over into a new section', () => {
    const b = concat(ng3(), shb(), epb(0, 0n, P[0]!));
    expectDamage('sections.pcapng', b, 3, 356 + 28, 'enhanced packet block refers to interface 0, but section 1 defines 0');
  });

  it('a captured length larger than its block', () => {
    expectDamage('caplen.pcapng', poke32(ng3(), EPB3 + 20, 1000), 2, EPB3, "enhanced packet block: captured length 1000 exceeds the block's 80 bytes of data");
  });

  it('an option running past its block', () => {
    const comment = opt(1, utf8('hello'));
    poke32(comment, 0, 0x00400001); // code 1, length 64
    const b = concat(shb(), idb(1, 65535), epb(0, 0n, P[0]!), epb(0, 0n, P[1]!, true, concat(comment, endOpt())));
    expectDamage('opt.pcapng', b, 1, 140, 'enhanced packet block: option 1 of 64 bytes runs past the block');
  });

  it('a section header with a bad byte-order magic, or a version we do not know', () => {
    expectDamage('bom.pcapng', poke32(ng3(), 8, 0x11223344, false), 0, 0, 'section header block: bad byte-order magic 0x11223344');
    expectDamage('v2.pcapng', concat(shb(true, new Uint8Array(0), 2), idb(1, 0)), 0, 0, 'unsupported pcapng version 2.0');
    expectDamage('shb-short.pcapng', ng3().subarray(0, 10), 0, 0, 'section header block truncated: needs 28 bytes, file ends after 10');
  });

  it('an if_tsresol finer than 64 bits can count', () => {
    const b = concat(shb(), idb(1, 0, true, concat(opt(9, Uint8Array.of(20)), endOpt())), epb(0, 0n, P[0]!));
    expectDamage('tsresol.pcapng', b, 0, 28, 'interface description block: if_tsresol 0x14 is finer than a 64-bit count can hold');
  });

  it('an unknown block with a bad length is still damage', () => {
    const b = concat(ng3(), block(0x0bad, new Uint8Array(8)));
    poke32(b, 356 + 4, 22);
    expectDamage('unknown.pcapng', b, 3, 356, 'block of type 0x00000bad: block length 22 is not a multiple of 4');
  });
});

describe('memory stays bounded', () => {
  it('the chunk of a large file is the chunk size, whatever the file size', () => {
    // 2000 records of 1000 bytes (~2 MB) read through a 64 KiB chunk: the chunk never grows.
    const recs: Uint8Array[] = [pcapHeader()];
    for (let i = 0; i < 2000; i++) recs.push(pcapRecord(i, 0, pattern(1000, i)));
    const path = writeTmp('many.pcap', concat(...recs));
    const r = openCapture(path, { chunkSize: 65536 });
    const chunks = new Set<number>();
    let n = 0;
    for (let f = r.next(); f !== null; f = r.next()) {
      n++;
      chunks.add(f.bytes.u8.length);
      expect(f.bytes.u8[f.offset]).toBe((n - 1) & 0xff);
    }
    expect(r.error).toBeNull();
    expect(n).toBe(2000);
    expect([...chunks]).toEqual([65536]);
    expect(fs.statSync(path).size).toBeGreaterThan(2_000_000);
  });
});
