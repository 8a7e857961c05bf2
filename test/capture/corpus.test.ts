/**
 * Every capture in the shared corpus reads to its end, and agrees with tshark: frame count and
 * per-interface counts (truth JSON), link types, snaplens and if_tsresol (truth header), and for every
 * frame its interface, time (frame.time_epoch as a decimal string, to the nanosecond), lengths and bytes.
 */
import { describe, expect, it } from 'vitest';
import { hex } from '../../src/wire/bytes.js';
import { formatEpoch, openCapture } from '../../src/capture/index.js';
import type { CaptureReader } from '../../src/capture/index.js';
import { CAPTURE_FILES, corpusPath, truthOf } from '../corpus.js';
import { tsharkFields, tsharkFrameHex } from './tshark.js';

interface Seen {
  index: number;
  interfaceId: number;
  linkType: number;
  time: string;
  capLen: number;
  origLen: number;
  hex: string;
  comment: string | null;
  fileOffset: number;
}

function readAll(r: CaptureReader): Seen[] {
  const out: Seen[] = [];
  for (let f = r.next(); f !== null; f = r.next()) {
    out.push({
      index: f.index,
      interfaceId: f.interfaceId,
      linkType: f.linkType,
      time: formatEpoch(f.tsSec, f.tsNsec),
      capLen: f.capLen,
      origLen: f.origLen,
      hex: hex(f.bytes.u8.subarray(f.offset, f.offset + f.capLen)),
      comment: f.comment,
      fileOffset: f.fileOffset,
    });
  }
  return out;
}

describe('the shared corpus', () => {
  it('is there', () => {
    expect(CAPTURE_FILES.length).toBeGreaterThanOrEqual(42);
  });

  it.each(CAPTURE_FILES)('%s reads to the end and matches the truth header and counts', (name) => {
    const truth = truthOf(name);
    const r = openCapture(corpusPath(name));
    expect(r.format).toBe(truth.format);
    const frames = readAll(r);
    expect(r.error).toBeNull();
    expect(frames.length).toBe(truth.packets);
    expect(r.stats.frames).toBe(truth.packets);
    expect(r.stats.bytes).toBe(frames.reduce((s, f) => s + f.capLen, 0));
    expect(frames.map((f) => f.index)).toEqual(frames.map((_, i) => i + 1));

    const perIf: Record<string, number> = {};
    for (const f of frames) perIf[String(f.interfaceId)] = (perIf[String(f.interfaceId)] ?? 0) + 1;
    expect(perIf).toEqual(truth.packets_per_interface);

    const h = truth.header;
    if ('interfaces' in h) {
      expect(r.interfaces.map((i) => ({ linktype: i.linkType, snaplen: i.snaplen, if_tsresol: i.tsresol }))).toEqual(h.interfaces);
    } else {
      expect(r.interfaces).toHaveLength(1);
      const i = r.interfaces[0]!;
      expect({ linktype: i.linkType, snaplen: i.snaplen, fcs_bits: i.fcsBits }).toEqual(h);
      expect(i.tsresol).toBe(truth.pcap_ts_resolution === 'nanosecond' ? 9 : 6);
    }
    // Each frame carries its interface's link type.
    for (const f of frames) expect(f.linkType).toBe(r.interfaces[f.interfaceId]!.linkType);
    expect([...new Set(frames.map((f) => f.linkType))].sort((a, b) => a - b)).toEqual(truth.link_types_with_packets);
  });

  it.each(CAPTURE_FILES)('%s: every frame equals tshark (interface, time_epoch, lengths, comment, bytes)', (name) => {
    const file = corpusPath(name);
    const frames = readAll(openCapture(file));
    const rows = tsharkFields(file, ['frame.number', 'frame.interface_id', 'frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.comment']);
    expect(rows.length).toBe(frames.length);
    const want = rows.map((c) => ({
      index: Number(c[0]),
      interfaceId: c[1] === '' ? 0 : Number(c[1]),
      time: c[2],
      origLen: Number(c[3]),
      capLen: Number(c[4]),
      comment: c[5] === '' ? null : c[5],
    }));
    const got = frames.map((f) => ({ index: f.index, interfaceId: f.interfaceId, time: f.time, origLen: f.origLen, capLen: f.capLen, comment: f.comment }));
    expect(got).toEqual(want);
    const bytes = tsharkFrameHex(file);
    expect(bytes.length).toBe(frames.length);
    for (let i = 0; i < frames.length; i++) {
      if (frames[i]!.hex !== bytes[i]) expect(`frame ${i + 1}: ${frames[i]!.hex}`).toBe(`frame ${i + 1}: ${bytes[i]}`);
    }
  });

  it('pcapng interface names match capinfos', () => {
    for (const name of CAPTURE_FILES.filter((n) => truthOf(n).format === 'pcapng')) {
      const r = openCapture(corpusPath(name));
      while (r.next() !== null);
      const infos = truthOf(name)['interfaces'] as { index: number; Name?: string }[];
      expect(r.interfaces.length).toBe(infos.length);
      for (const info of infos) {
        // capinfos leaves the Name line out when there is no if_name.
        const want = info.Name ?? null;
        expect(`${name}#${info.index} ${r.interfaces[info.index]!.name}`).toBe(`${name}#${info.index} ${want}`);
      }
    }
  });

  it('reads the same frames whatever the chunk size (records straddling chunk ends are carried)', () => {
    for (const name of CAPTURE_FILES) {
      const whole = readAll(openCapture(corpusPath(name)));
      for (const chunkSize of [64, 1000, 4096]) {
        const r = openCapture(corpusPath(name), { chunkSize });
        const small = readAll(r);
        expect(r.error).toBeNull();
        expect(small.length).toBe(whole.length);
        // Compare one frame at a time so a failure names the frame, not a 2000-entry diff.
        for (let i = 0; i < whole.length; i++) {
          if (JSON.stringify(small[i]) !== JSON.stringify(whole[i])) expect({ name, chunkSize, frame: small[i] }).toEqual({ name, chunkSize, frame: whole[i] });
        }
      }
    }
  });
});
