/**
 * Ladder diagrams (src/report/ladder.ts, ladder-svg.ts): the exact text of a canned connection, the
 * layout rules (100 columns, relative numbers, state changes in time order at their side), a
 * well-formed self-contained SVG that carries every segment's label, and a headless-Chromium
 * screenshot that shows the drawing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { ConnSegment, ConnStateNote } from '../../src/report/conn-events.js';
import { buildLadder, ladderText, segmentLabel } from '../../src/report/ladder.js';
import { escapeXml, ladderSvg } from '../../src/report/ladder-svg.js';
import { TcpFlags } from '../../src/wire/tcp.js';
import { findChromium, screenshot } from './chromium.js';
import { CANNED_LABEL, CANNED_SEGMENTS, CANNED_STATES } from './ladder-canned.js';
import { decodePng } from './png.js';
import { allElements, parseXml, textOf } from './xml.js';

const GOLDEN = [
  ' frame        time 198.18.0.11:40001 fd 3                         198.18.0.1:80 fd 5 (listener fd 3)',
  '                   | CLOSED                                                                 LISTEN |',
  '     3    0.000000 |-- S seq 0 win 64240 <mss 1460,sackOK,TS val 2414274930 ecr 0,nop,...> ------->|',
  '                   | SYN-SENT                                                         SYN-RECEIVED |',
  '     4    0.000015 |<---------------------------- S. seq 0 ack 1 win 65160 <mss 1460,sackOK,...> --|',
  '                   | ESTABLISHED                                                                   |',
  '     5    0.000030 |-- . seq 1 ack 1 win 63 <nop,nop,TS val 2414274930 ecr 2050295301> ----------->|',
  '                   |                                                                   ESTABLISHED |',
  '    16    0.301724 |-- P. seq 1 ack 1 len 26 win 63 <nop,nop,TS val 2414275232 ecr 2050295301> --->|',
  '    17    0.301769 |<---------- . seq 1 ack 27 win 64 <nop,nop,TS val 2050295603 ecr 2414275232> --|',
  '    18    0.301994 |<-- P. seq 1 ack 27 len 17 win 64 <nop,nop,TS val 2050295603 ecr 2414275232> --|',
  '    19    0.302037 |-- . seq 27 ack 18 win 63 <nop,nop,TS val 2414275232 ecr 2050295603> --------->|',
  '    31    0.604250 |-- F. seq 27 ack 18 win 63 <nop,nop,TS val 2414275534 ecr 2050295603> -------->|',
  '                   | FIN-WAIT-1                                                         CLOSE-WAIT |',
  '    32    0.604512 |<-------- F. seq 18 ack 28 win 64 <nop,nop,TS val 2050295905 ecr 2414275534> --|',
  '                   | TIME-WAIT                                                            LAST-ACK |',
  '    33    0.604559 |-- . seq 28 ack 19 win 63 <nop,nop,TS val 2414275534 ecr 2050295905> --------->|',
  '                   |                                                                        CLOSED |',
].join('\n');

function seg(frame: number, fromClient: boolean, flags: number, seq: number, ack: number, x: Partial<ConnSegment> = {}): ConnSegment {
  return { frame, timeUs: frame * 1000, fromClient, flags, seq, ack, window: 1000, payloadLength: 0, options: '', badChecksum: false, ...x };
}

describe('ladderText', () => {
  test('a canned handshake, request, answer and close, exactly', () => {
    expect(ladderText(CANNED_LABEL, CANNED_SEGMENTS, CANNED_STATES)).toBe(GOLDEN);
  });

  test('every line fits in 100 columns, also with long IPv6 titles and long options', () => {
    const v6 = { client: '[2a01:cb01:2049:8b07:991d:ec85:28df:f629]:56562', server: '[2a00:1450:4007:80a::200a]:443', clientFd: 12, serverFd: 9, listenerFd: 4 };
    const long = seg(1, true, TcpFlags.SYN | TcpFlags.ECE | TcpFlags.CWR, 1, 0, {
      options: 'mss 1460,sackOK,TS val 4294967295 ecr 4294967295,nop,wscale 14,tfo cookie 0123456789abcdef0123456789abcdef',
      badChecksum: true,
      window: 65535,
    });
    for (const text of [ladderText(CANNED_LABEL, CANNED_SEGMENTS, CANNED_STATES), ladderText(v6, [long, ...CANNED_SEGMENTS], CANNED_STATES)]) {
      for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
    }
    const lines = ladderText(v6, [long], []).split('\n');
    // Titles too wide for one line go on two; the cut options end with "...>" and keep the checksum mark.
    expect(lines[0]).toBe(' frame        time [2a01:cb01:2049:8b07:991d:ec85:28df:f629]:56562 fd 12');
    expect(lines[1]).toBe(`${' '.repeat(19)}${'[2a00:1450:4007:80a::200a]:443 fd 9 (listener fd 4)'.padStart(81)}`);
    expect(lines[2]).toMatch(/^ {5}1 {4}0\.000000 \|-- SEW seq 0 win 65535 <mss 1460,.*\.\.\.> \[bad cksum\] -+>\|$/);
  });

  test('maxSegments and showOptions', () => {
    const text = ladderText(CANNED_LABEL, CANNED_SEGMENTS, CANNED_STATES, { maxSegments: 2, showOptions: false });
    expect(text).toBe(
      [
        ' frame        time 198.18.0.11:40001 fd 3                         198.18.0.1:80 fd 5 (listener fd 3)',
        '                   | CLOSED                                                                 LISTEN |',
        '     3    0.000000 |-- S seq 0 win 64240 --------------------------------------------------------->|',
        '                   | SYN-SENT                                                         SYN-RECEIVED |',
        '     4    0.000015 |<-------------------------------------------------- S. seq 0 ack 1 win 65160 --|',
        '                   | ESTABLISHED                                                                   |',
        '                   ... 8 more segments not shown',
      ].join('\n'),
    );
  });

  test('numbers are relative to each side’s ISN when its SYN is there, raw otherwise', () => {
    // Mid-stream: no SYN at all.
    const mid = [seg(7, true, TcpFlags.ACK | TcpFlags.PSH, 4000000000, 123, { payloadLength: 10 }), seg(8, false, TcpFlags.ACK, 123, 4000000010)];
    expect(buildLadder(CANNED_LABEL, mid, []).rows.map((r) => (r.kind === 'segment' ? r.label : ''))).toEqual([
      'P. seq 4000000000 ack 123 len 10 win 1000',
      '. seq 123 ack 4000000010 win 1000',
    ]);
    // Only the client's SYN seen: its numbers relative, the server's raw; across the 2^32 wrap.
    const half = [seg(1, true, TcpFlags.SYN, 0xfffffff0, 0), seg(2, true, TcpFlags.ACK, 0xfffffff1 + 99, 777, { payloadLength: 1 })];
    expect(segmentLabel(half[1] as ConnSegment, 0xfffffff0, null)).toBe('. seq 100 ack 777 len 1 win 1000');
    expect(buildLadder(CANNED_LABEL, half, []).rows.map((r) => (r.kind === 'segment' ? r.label : ''))).toEqual(['S seq 0 win 1000', '. seq 100 ack 777 len 1 win 1000']);
  });

  test('state changes: in time order, after the segment of their frame, at their side; same-frame changes share a row', () => {
    const segs = [seg(1, true, TcpFlags.SYN, 10, 0), seg(2, false, TcpFlags.SYN | TcpFlags.ACK, 50, 11)];
    const notes: ConnStateNote[] = [
      { frame: 2, timeUs: 2000, side: 'client', from: 'SYN-SENT', to: 'ESTABLISHED' },
      // A change before any segment (a call): first; its "from" is the side's first state.
      { frame: 0, timeUs: 500, side: 'client', from: 'CLOSED', to: 'SYN-SENT' },
      { frame: 1, timeUs: 1000, side: 'server', from: 'LISTEN', to: 'SYN-RECEIVED' },
    ];
    const text = ladderText({ client: 'a:1', server: 'b:2' }, segs, notes, { showOptions: false });
    expect(text.split('\n').slice(1)).toEqual([
      '                   | CLOSED                                                                 LISTEN |',
      '                   | SYN-SENT                                                                      |',
      '     1    0.000000 |-- S seq 0 win 1000 ---------------------------------------------------------->|',
      '                   |                                                                  SYN-RECEIVED |',
      '     2    0.001000 |<--------------------------------------------------- S. seq 0 ack 1 win 1000 --|',
      '                   | ESTABLISHED                                                                   |',
    ]);
  });
});

describe('ladderSvg', () => {
  const svg = ladderSvg(CANNED_LABEL, CANNED_SEGMENTS, CANNED_STATES);
  const labels = buildLadder(CANNED_LABEL, CANNED_SEGMENTS, CANNED_STATES).rows.flatMap((r) => (r.kind === 'segment' ? [r.label] : []));

  test('is a well-formed, self-contained SVG document with a title', () => {
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    expect(root.attrs['xmlns']).toBe('http://www.w3.org/2000/svg');
    expect(Number(root.attrs['width'])).toBeGreaterThan(400);
    expect(Number(root.attrs['height'])).toBeGreaterThan(400);
    const first = root.children.find((c) => typeof c !== 'string');
    expect(first !== undefined && typeof first !== 'string' && first.name).toBe('title');
    expect(textOf(first as Exclude<typeof first, string | undefined>)).toContain('198.18.0.11:40001 fd 3');
    const names = new Set(allElements(root).map((e) => e.name));
    for (const banned of ['script', 'image', 'foreignObject', 'a', 'use']) expect(names.has(banned), banned).toBe(false);
    // No external resources: no href anywhere, url() only to the markers inside the document.
    expect(svg).not.toMatch(/href|@import|@font-face|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    for (const m of svg.matchAll(/url\(([^)]*)\)/g)) expect(m[1]).toMatch(/^#ah-/);
    // Lifelines, arrows with arrowheads, state boxes.
    const els = allElements(root);
    expect(els.filter((e) => e.name === 'line' && e.attrs['class'] === 'life')).toHaveLength(2);
    const arrows = els.filter((e) => e.name === 'line' && e.attrs['marker-end'] !== undefined);
    expect(arrows).toHaveLength(CANNED_SEGMENTS.length);
    for (const a of arrows) expect(a.attrs['y1']).not.toBe(a.attrs['y2']); // slanted
    expect(els.filter((e) => e.name === 'g' && e.attrs['class'] === 'state')).toHaveLength(11);
  });

  test('carries every segment label, in order, as the text diagram writes it', () => {
    const root = parseXml(svg);
    const texts = allElements(root)
      .filter((e) => e.name === 'text' && e.attrs['class'] === 'lbl')
      .map(textOf);
    expect(texts).toEqual(labels);
    expect(labels).toHaveLength(CANNED_SEGMENTS.length);
    expect(texts[0]).toBe('S seq 0 win 64240 <mss 1460,sackOK,TS val 2414274930 ecr 0,nop,wscale 10>');
  });

  test('escapes text: option text with <, >, & survives the round trip', () => {
    const odd = [seg(1, true, TcpFlags.SYN, 1, 0, { options: 'unknown-99 0x3c26>', badChecksum: true })];
    const s = ladderSvg({ client: 'x<1>:1', server: 'y&z:2' }, odd, []);
    const root = parseXml(s);
    const lbl = allElements(root).filter((e) => e.attrs['class'] === 'lbl').map(textOf);
    expect(lbl).toEqual(['S seq 0 win 1000 <unknown-99 0x3c26>> [bad cksum]']);
    expect(s).toContain(escapeXml('x<1>:1'));
  });

  const chromium = findChromium();
  // Outside CI a machine without Chromium skips this; CI installs it (.ci/run), so there it must run.
  test.skipIf(chromium === null && process.env['CI'] === undefined)('headless Chromium shows it: a 1000×800 screenshot that is not blank and has the arrow colours', () => {
    if (chromium === null) throw new Error('chromium is not installed: apt-get install -y chromium (.ci/run does this)');
    const dir = mkdtempSync(join(tmpdir(), 'synack-ladder-'));
    try {
      const file = join(dir, 'ladder.svg');
      const png = join(dir, 'ladder.png');
      writeFileSync(file, svg);
      screenshot(chromium as string, file, png, 1000, 800);
      expect(existsSync(png)).toBe(true);
      const img = decodePng(readFileSync(png));
      expect([img.width, img.height]).toEqual([1000, 800]);
      const colours = new Set<number>();
      let ink = 0;
      let blue = 0;
      let green = 0;
      const n = img.width * img.height;
      for (let i = 0; i < n; i++) {
        const p = i * img.channels;
        const r = img.pixels[p] as number;
        const g = img.pixels[p + 1] as number;
        const b = img.pixels[p + 2] as number;
        colours.add((r << 16) | (g << 8) | b);
        if (r + g + b < 700) ink++;
        // The arrow colours of ladder-svg.ts: #1f5fbf (to the server) and #2e7d32 (to the client).
        if (Math.abs(r - 0x1f) < 40 && Math.abs(g - 0x5f) < 40 && Math.abs(b - 0xbf) < 40) blue++;
        if (Math.abs(r - 0x2e) < 40 && Math.abs(g - 0x7d) < 40 && Math.abs(b - 0x32) < 40) green++;
      }
      expect(colours.size).toBeGreaterThan(50);
      expect(ink / n).toBeGreaterThan(0.01);
      expect(ink / n).toBeLessThan(0.5);
      expect(blue).toBeGreaterThan(500);
      expect(green).toBeGreaterThan(300);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
