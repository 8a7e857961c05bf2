/**
 * The Observer driven one frame at a time, as `synack live` drives it: its verdicts and result equal
 * replay()'s with lazy listener inference; `advance()` (live's clock moving between frames) reports
 * connections earlier but changes no verdict and no record — the property that lets `synack live` and a
 * replay of its --write file agree.
 */
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import type { CaptureFrame } from '../../src/capture/index.js';
import { Observer, replay } from '../../src/replay/index.js';
import type { ConnectionRecord, DemuxRecord, HostTable, ReplayResult } from '../../src/replay/index.js';
import { zeekView } from '../../src/report/replay.js';
import { corpusPath, FIXTURE_FILES, FIXTURES_DIR } from '../corpus.js';

const FILES = [
  ...FIXTURE_FILES.map((f) => path.join(FIXTURES_DIR, f)),
  ...['zeek-tcp-rst-inject-rae.pcap', 'zeek-pop3-refused-retries.pcap', 'zeek-tcp-missing-syn.pcap', 'arkime-socks5-http-302-frag.pcap', 'zeek-http-methods-many-clients.pcap'].map(corpusPath),
];

const byId = (a: ConnectionRecord, b: ConnectionRecord): number => a.id - b.id;
const byHost = (a: HostTable, b: HostTable): number => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);

interface Driven {
  result: ReplayResult;
  verdicts: DemuxRecord[];
  /** Connections reported from inside advance() (not by a frame, not at finish). */
  byClock: number;
}

/** Drives an Observer over `file`; `ticks(prevUs, nextUs)` gives the clock moves to make between two frames (nextUs null: after the last). */
function drive(file: string, ticks: (prevUs: number, nextUs: number | null) => number[]): Driven {
  const verdicts: DemuxRecord[] = [];
  let inAdvance = false;
  let byClock = 0;
  const obs = new Observer({ inferListeners: 'lazy', connView: zeekView, verdicts: true, onConnection: () => void (inAdvance && byClock++) });
  const r = openCapture(file);
  let prev: number | null = null;
  const timeOf = (f: CaptureFrame): number => f.tsSec * 1e6 + Math.floor(f.tsNsec / 1000);
  const advance = (t: number): void => {
    inAdvance = true;
    obs.advance(t);
    inAdvance = false;
  };
  for (let f = r.next(); f !== null; f = r.next()) {
    const t = timeOf(f);
    if (prev !== null) for (const x of ticks(prev, t)) advance(x);
    const v = obs.frame(f);
    if (v !== null) verdicts.push(v);
    expect(obs.decoded.info.bytes).not.toBeNull();
    prev = t;
  }
  expect(r.error).toBeNull();
  if (prev !== null) for (const x of ticks(prev, null)) advance(x);
  const linkTypes = [...new Set(r.interfaces.map((i) => i.linkType))];
  const result = obs.finish({ file, format: r.format, linkTypes, interfaces: r.interfaces.length, error: null });
  return { result, verdicts, byClock };
}

describe('Observer', () => {
  test.each(FILES)('%s: frame by frame, the same verdicts and result as replay() with lazy listeners', (file) => {
    const d = drive(file, () => []);
    const want = replay(openCapture(file), { inferListeners: 'lazy', connView: zeekView, frames: true });
    // A verdict for every TCP frame (ip-ext-linux.pcap has none: ICMPv6 and UDP behind extension headers).
    expect(d.verdicts.length).toBe(want.frames.tcp);
    expect(d.verdicts).toEqual(want.demux);
    const { demux: _d, ...rest } = want;
    expect(d.result).toEqual(rest);
  });

  test.each(FILES)("%s: the clock moving between frames (live's ticks) reports connections sooner and changes nothing else", (file) => {
    const still = drive(file, () => []);
    // Ticks every 250 ms, or every 1.3 s, of capture time between frames. (After the last frame a tick
    // could also end TIME-WAITs the file's replay still shows at its end: the clock moved on.)
    for (const step of [250_000, 1_300_000]) {
      const every = (from: number, to: number): number[] => {
        const out: number[] = [];
        for (let t = from + step; t <= to; t += step) out.push(t);
        return out;
      };
      const ticked = drive(file, (prev, next) => (next === null ? [] : every(prev, next)));
      expect(ticked.verdicts).toEqual(still.verdicts);
      expect([...ticked.result.connections].sort(byId)).toEqual([...still.result.connections].sort(byId));
      expect(ticked.result.frames).toEqual(still.result.frames);
      // Hosts may be listed in another order: a host whose connections were all over was let go sooner.
      expect([...ticked.result.hosts].sort(byHost)).toEqual([...still.result.hosts].sort(byHost));
    }
    expect(still.byClock).toBe(0);
  });

  test('web-mail: after 5 s without a frame every connection of the capture has been reported by the clock alone', () => {
    const file = path.join(FIXTURES_DIR, 'web-mail-v4.pcap');
    const d = drive(file, (prev, next) => (next === null ? [prev + 5_000_000] : []));
    expect(d.result.connections).toHaveLength(9);
    expect(d.byClock).toBe(9);
  });

  test('a clock moved backwards does nothing; misuse throws', () => {
    const obs = new Observer({ inferListeners: 'lazy' });
    expect(() => obs.decoded).toThrow(Error);
    obs.advance(10);
    obs.advance(5);
    const r = obs.finish({ file: 'x', format: 'live', linkTypes: [], interfaces: 1, error: null });
    expect(r.connections).toEqual([]);
    expect(() => obs.advance(20)).toThrow(Error);
    const f = openCapture(path.join(FIXTURES_DIR, 'refused-v4.pcap')).next() as CaptureFrame;
    expect(() => obs.frame(f)).toThrow(Error);
  });
});
