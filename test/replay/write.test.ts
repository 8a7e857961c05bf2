/**
 * `synack replay FILE --write OUT.pcapng`: the capture copied with synack's verdict on every frame.
 * Read back with our reader and with tshark: every input frame is there, with the same bytes, wire
 * length, time (to the nanosecond), interface and link type, the input's own comments kept; each TCP
 * frame's comment parses back into exactly the verdict `--ndjson --frames` streams for it; every other
 * frame's comment says why it has none.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import type { CaptureReader } from '../../src/capture/index.js';
import { formatEpoch } from '../../src/capture/timestamp.js';
import { parseVerdictComment } from '../../src/report/verdict-file.js';
import type { DemuxRecord } from '../../src/replay/index.js';
import { hex } from '../../src/wire/bytes.js';
import { tsharkFields, tsharkFrameHex } from '../capture/tshark.js';
import { synack } from '../cli/run.js';
import { corpusPath, FIXTURES_DIR } from '../corpus.js';

const dir = mkdtempSync(path.join(tmpdir(), 'synack-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Frame {
  index: number;
  interfaceId: number;
  linkType: number;
  time: string;
  origLen: number;
  data: string;
  comment: string | null;
}

function readAll(r: CaptureReader): { frames: Frame[]; interfaces: CaptureReader['interfaces'] } {
  const frames: Frame[] = [];
  for (let f = r.next(); f !== null; f = r.next()) {
    frames.push({
      index: f.index,
      interfaceId: f.interfaceId,
      linkType: f.linkType,
      time: formatEpoch(f.tsSec, f.tsNsec),
      origLen: f.origLen,
      data: hex(f.bytes.u8.subarray(f.offset, f.offset + f.capLen)),
      comment: f.comment,
    });
  }
  expect(r.error).toBeNull();
  return { frames, interfaces: r.interfaces };
}

function ndjsonVerdicts(file: string): DemuxRecord[] {
  const r = synack(['replay', file, '--ndjson', '--frames']);
  expect(r.code).toBe(0);
  return r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string } & DemuxRecord)
    .filter((o) => o.type === 'demux')
    .map(({ type: _t, ...v }) => v);
}

const NO_VERDICT = /^synack frame (\d+): (not TCP|not decoded|IP fragment): \S/;

// Kernel fixtures (IPv4 and IPv6), and corpus files chosen for what can go wrong in a copy: many
// interfaces over several sections (ids, link types), an interface counting microseconds at times a
// nanosecond count cannot hold (with 100 comments of its own), nanosecond pcap (big-endian), IP
// fragments, a snap length cutting TCP headers, bad checksums, VLANs, a capture starting mid-connection,
// injected RSTs, loopback (NULL), SLL2 and raw-IP link types.
const FILES = [
  path.join(FIXTURES_DIR, 'web-mail-v4.pcap'),
  path.join(FIXTURES_DIR, 'web-mail-v6.pcap'),
  ...[
    'ppp-many-interfaces.pcapng',
    'zeek-ldap-gap-data-missing.pcapng',
    'ppp-pcapng-example.pcapng',
    'ppp-nanosecs-be.pcap',
    'arkime-socks5-http-302-frag.pcap',
    'zeek-tcp-truncated-header.pcap',
    'zeek-chksums-ip4-tcp-bad.pcap',
    'zeek-vlan-collisions.pcap',
    'zeek-tcp-missing-syn.pcap',
    'zeek-tcp-rst-inject-rae.pcap',
    'zeek-irc-353-null.pcap',
    'zeek-tls-openjdk-sll2.pcap',
    'sv-tfo-data-on-syn-nack-rawip.pcap',
  ].map(corpusPath),
];

describe('synack replay --write', () => {
  test.each(FILES)('%s: every frame copied whole, each with its verdict', (file) => {
    const out = path.join(dir, `${path.basename(file)}.pcapng`);
    const r = synack(['replay', file, '--write', out, '-q']);
    expect(r.code).toBe(0);
    const input = readAll(openCapture(file));
    const copy = readAll(openCapture(out));
    expect(r.stderr).toContain(`synack: wrote ${input.frames.length} frames, each with its verdict, to ${out}\n`);

    // Nothing lost, nothing changed: the same frames, bytes, lengths, times, interfaces and link types.
    expect(copy.frames.length).toBe(input.frames.length);
    const strip = (f: Frame): Omit<Frame, 'comment'> => ({ index: f.index, interfaceId: f.interfaceId, linkType: f.linkType, time: f.time, origLen: f.origLen, data: f.data });
    expect(copy.frames.map(strip)).toEqual(input.frames.map(strip));
    expect(copy.interfaces.map((i) => [i.linkType, i.snaplen, i.name])).toEqual(input.interfaces.map((i) => [i.linkType, i.snaplen, i.name]));

    // The comments: the input's own first, then synack's line.
    const verdicts = ndjsonVerdicts(file);
    const byFrame = new Map(verdicts.map((v) => [v.frame, v]));
    const parsed: DemuxRecord[] = [];
    for (let i = 0; i < copy.frames.length; i++) {
      const c = copy.frames[i]!;
      const own = input.frames[i]!.comment;
      expect(c.comment).not.toBeNull();
      const lines = c.comment!.split('\n');
      if (own !== null) expect(lines.slice(0, -1).join('\n')).toBe(own);
      const ours = lines[lines.length - 1]!;
      const v = parseVerdictComment(c.comment);
      if (v !== null) {
        parsed.push(v);
      } else {
        expect(ours).toMatch(NO_VERDICT);
        expect(byFrame.has(c.index)).toBe(false);
      }
      expect(ours.startsWith(`synack frame ${c.index}: `)).toBe(true);
    }
    expect(parsed).toEqual(verdicts);
    expect(verdicts.length).toBeGreaterThan(0);
  });

  test('tshark reads the copy: the same times, bytes and our comments (frame.comment)', () => {
    for (const file of [path.join(FIXTURES_DIR, 'web-mail-v4.pcap'), corpusPath('ppp-many-interfaces.pcapng'), corpusPath('arkime-socks5-http-302-frag.pcap')]) {
      const out = path.join(dir, `tshark-${path.basename(file)}.pcapng`);
      expect(synack(['replay', file, '--write', out, '-q']).code).toBe(0);
      const fields = ['frame.number', 'frame.interface_id', 'frame.time_epoch', 'frame.len', 'frame.protocols'];
      const theirs = tsharkFields(file, fields);
      const ours = tsharkFields(out, [...fields, 'frame.comment']);
      // (A pcap file has no interface ids: its one interface is interface 0 of the copy.)
      expect(ours.map((row) => row.slice(0, 4))).toEqual(theirs.map((row) => [row[0], row[1] === '' ? '0' : row[1], row[2], row[3]]));
      // Dissected the same way (link types kept).
      expect(ours.map((row) => row[4])).toEqual(theirs.map((row) => row[4]));
      expect(tsharkFrameHex(out)).toEqual(tsharkFrameHex(file));
      const copy = readAll(openCapture(out));
      expect(ours.map((row) => row[5])).toEqual(copy.frames.map((f) => f.comment));
      // Frames tshark dissects as ARP are the ones synack calls ARP.
      const arp = ours.filter((row) => /:arp$/.test(row[4]!)).map((row) => row[0]);
      expect(ours.filter((row) => /^synack frame \d+: not TCP: ARP, /.test(row[5]!)).map((row) => row[0])).toEqual(arp);
    }
  });

  test('IP fragments: the fragments before the last say so; the last carries the TCP verdict', () => {
    const out = path.join(dir, 'frag.pcapng');
    expect(synack(['replay', corpusPath('zeek-ipv4-fragmented-syn.pcap'), '--write', out, '-q']).code).toBe(0);
    const c = readAll(openCapture(out)).frames.map((f) => f.comment);
    expect(c[0]).toMatch(/^synack frame 1: IP fragment: .*\(frag id \d+, offset 0, more\)$/);
    expect(parseVerdictComment(c[1] ?? null)).toMatchObject({ frame: 2, flags: 'S' });
  });

  test('a damaged input: every frame before the damage is written, exit 2', () => {
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, readFileSync(path.join(FIXTURES_DIR, 'web-mail-v4.pcap')).subarray(0, 3000));
    const out = path.join(dir, 'cut.pcapng');
    const r = synack(['replay', cut, '--write', out, '-q']);
    expect(r.code).toBe(2);
    const before = readAll2(cut);
    expect(before.length).toBeGreaterThan(5);
    expect(readAll(openCapture(out)).frames.map((f) => f.data)).toEqual(before);
  });

  test('usage: --write onto the input, or into a folder that does not exist: exit 2', () => {
    const file = path.join(FIXTURES_DIR, 'web-mail-v4.pcap');
    const same = synack(['replay', file, '--write', file]);
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('that is the capture being read');
    const nowhere = synack(['replay', file, '--write', path.join(dir, 'no', 'such', 'dir.pcapng')]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toMatch(/^synack replay: cannot write .*dir\.pcapng: /);
    expect(synack(['replay', file, '--infer-listeners', 'sometimes']).code).toBe(2);
  });
});

/** The frames a damaged file yields before its damage (the reader stops there). */
function readAll2(file: string): string[] {
  const r = openCapture(file);
  const out: string[] = [];
  for (let f = r.next(); f !== null; f = r.next()) out.push(hex(f.bytes.u8.subarray(f.offset, f.offset + f.capLen)));
  expect(r.error).not.toBeNull();
  return out;
}
