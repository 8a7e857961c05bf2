/**
 * Cross-check against pcap-parser, the classic-pcap reader the project used to list: for every
 * microsecond pcap in the corpus (the only kind it reads), both readers yield the same frames, lengths
 * and timestamps. synack's reader replaces it (see bench/readers.mjs); this keeps a second opinion.
 */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as pcapParser from 'pcap-parser';
import type { PcapParserPacket } from 'pcap-parser';
import { hex } from '../../src/wire/bytes.js';
import { openCapture } from '../../src/capture/index.js';
import { CAPTURE_FILES, corpusPath } from '../corpus.js';

interface Row {
  sec: number;
  usec: number;
  capLen: number;
  origLen: number;
  hex: string;
}

function viaPcapParser(file: string): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const rows: Row[] = [];
    const p = pcapParser.parse(file);
    p.on('packet', (pkt: PcapParserPacket) => {
      const h = pkt.header;
      rows.push({ sec: h.timestampSeconds, usec: h.timestampMicroseconds, capLen: h.capturedLength, origLen: h.originalLength, hex: pkt.data.toString('hex') });
    });
    p.on('error', reject);
    p.on('end', () => resolve(rows));
  });
}

function viaSynack(file: string): Row[] {
  const r = openCapture(file);
  const rows: Row[] = [];
  for (let f = r.next(); f !== null; f = r.next()) {
    // Microsecond files: tsNsec is usec * 1000 exactly.
    rows.push({ sec: f.tsSec, usec: f.tsNsec / 1000, capLen: f.capLen, origLen: f.origLen, hex: hex(f.bytes.u8.subarray(f.offset, f.offset + f.capLen)) });
  }
  expect(r.error).toBeNull();
  return rows;
}

function isMicrosecondPcap(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  const b = Buffer.alloc(4);
  fs.readSync(fd, b, 0, 4, 0);
  fs.closeSync(fd);
  const m = b.toString('hex');
  return m === 'a1b2c3d4' || m === 'd4c3b2a1';
}

const MICRO = CAPTURE_FILES.filter((n) => isMicrosecondPcap(corpusPath(n)));

describe('pcap-parser cross-check', () => {
  it('covers the microsecond pcaps of the corpus, both byte orders', () => {
    expect(MICRO.length).toBeGreaterThanOrEqual(30);
    expect(MICRO).toContain('tcpdump-pptp-be.pcap');
  });

  it.each(MICRO)('%s: same frames and timestamps', async (name) => {
    const file = corpusPath(name);
    const theirs = await viaPcapParser(file);
    const ours = viaSynack(file);
    expect(ours.length).toBe(theirs.length);
    for (let i = 0; i < ours.length; i++) {
      if (JSON.stringify(ours[i]) !== JSON.stringify(theirs[i])) expect({ frame: i + 1, ...ours[i] }).toEqual({ frame: i + 1, ...theirs[i] });
    }
  });
});
