/**
 * tshark as the oracle (issue 2): for every TCP frame of every capture in the shared corpus, synack's
 * decode (the same summaries `synack frames --json` prints) gives the ports, flags, raw seq/ack, window,
 * payload length, option kinds in order, MSS / wscale / SACK-permitted / timestamps / SACK blocks,
 * addresses and VLAN ids that `tshark -T fields` reports; the set of TCP frames is the same; per-file
 * frame and TCP-frame counts equal truth/*.json. No difference is tolerated: where tshark and synack
 * would differ by design, the case is named below with the reason.
 */
import { describe, expect, test } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { FrameDecoder } from '../../src/wire/frame-decoder.js';
import { summarizeFrame } from '../../src/report/frames.js';
import type { FrameSummary } from '../../src/report/frames.js';
import { CAPTURE_FILES, corpusPath, truthOf } from '../corpus.js';
import { haveTshark, tsharkTcpFrames } from '../oracle/tshark.js';
import type { TsharkRow } from '../oracle/tshark.js';

if (!haveTshark()) throw new Error('tshark is not installed: apt-get install -y tshark (.ci/run does this)');

const KIND_NUMBER: Record<string, number> = { eol: 0, nop: 1, mss: 2, wscale: 3, 'sack-permitted': 4, sack: 5, timestamps: 8, 'fast-open': 34, 'fast-open-exp': 254 };

function decodeAll(file: string): { summaries: Map<number, FrameSummary>; frames: number; tcp: number } {
  const reader = openCapture(file);
  const decoder = new FrameDecoder();
  const summaries = new Map<number, FrameSummary>();
  let frames = 0;
  let first: { tsSec: number; tsNsec: number } | null = null;
  try {
    for (let f = reader.next(); f; f = reader.next()) {
      frames++;
      first ??= { tsSec: f.tsSec, tsNsec: f.tsNsec };
      const d = decoder.decode(f.linkType, f.bytes, f.offset, f.capLen, f.index, f.tsSec * 1e6 + Math.floor(f.tsNsec / 1000));
      const s = summarizeFrame(f, d.info, first, d.reassembledFrom);
      if (s.tcp) summaries.set(f.index, s);
    }
    if (reader.error) throw new Error(reader.error.message);
  } finally {
    reader.close();
  }
  return { summaries, frames, tcp: summaries.size };
}

/**
 * tshark's choice, not a wire fact: it dissects every zero byte after an End of Option List as one more
 * EOL, where RFC 9293 §3.1 says the list ends at the first EOL and the rest of the header is padding.
 * synack reports the one EOL; tshark's trailing run of EOLs is folded to one before comparing.
 */
function foldTrailingEols(kinds: number[]): number[] {
  const firstEol = kinds.indexOf(0);
  return firstEol >= 0 && kinds.slice(firstEol).every((k) => k === 0) ? kinds.slice(0, firstEol + 1) : kinds;
}

/** tshark's comma-joined list of a repeated field, as numbers. */
function nums(v: string): number[] {
  return v === '' ? [] : v.split(',').map(Number);
}

/** The differences between tshark's row and synack's summary for one frame, as readable strings. */
function compare(row: TsharkRow, s: FrameSummary): string[] {
  const t = s.tcp;
  if (!t) return ['synack found no TCP header'];
  const diffs: string[] = [];
  const eq = (what: string, theirs: unknown, ours: unknown): void => {
    if (JSON.stringify(theirs) !== JSON.stringify(ours)) diffs.push(`${what}: tshark ${JSON.stringify(theirs)}, synack ${JSON.stringify(ours)}`);
  };
  eq('srcport', Number(row['tcp.srcport']), t.srcPort);
  eq('dstport', Number(row['tcp.dstport']), t.dstPort);
  // tcp.flags is the 12-bit field including the 3 reserved bits; synack keeps those apart.
  eq('flags', Number(row['tcp.flags']) & 0x1ff, t.flagBits);
  eq('seq_raw', Number(row['tcp.seq_raw']), t.seq);
  eq('ack_raw', Number(row['tcp.ack_raw']), t.ack);
  eq('window', Number(row['tcp.window_size_value']), t.window);
  eq('len', Number(row['tcp.len']), t.payloadLength);
  eq('option kinds', foldTrailingEols(nums(row['tcp.option_kind'])), t.options.map((o) => (o.kind === 'unknown' || o.kind === 'truncated' ? o.type : KIND_NUMBER[o.kind])));
  const mss = t.options.filter((o) => o.kind === 'mss').map((o) => (o.kind === 'mss' ? o.value : -1));
  eq('mss', nums(row['tcp.options.mss_val']), mss);
  const ws = t.options.filter((o) => o.kind === 'wscale').map((o) => (o.kind === 'wscale' ? o.shift : -1));
  eq('wscale', nums(row['tcp.options.wscale.shift']), ws);
  eq('sack_perm', row['tcp.options.sack_perm'] !== '', t.options.some((o) => o.kind === 'sack-permitted'));
  const ts = t.options.filter((o) => o.kind === 'timestamps');
  eq('tsval', nums(row['tcp.options.timestamp.tsval']), ts.map((o) => (o.kind === 'timestamps' ? o.tsVal : -1)));
  eq('tsecr', nums(row['tcp.options.timestamp.tsecr']), ts.map((o) => (o.kind === 'timestamps' ? o.tsEcr : -1)));
  const blocks = t.options.flatMap((o) => (o.kind === 'sack' ? o.blocks : []));
  eq('sack_le', nums(row['tcp.options.sack_le']), blocks.map(([l]) => l));
  eq('sack_re', nums(row['tcp.options.sack_re']), blocks.map(([, r]) => r));
  const v4 = row['ip.src'] !== '';
  eq('src', (v4 ? row['ip.src'] : row['ipv6.src']).split(',').pop(), s.src);
  eq('dst', (v4 ? row['ip.dst'] : row['ipv6.dst']).split(',').pop(), s.dst);
  eq('vlan', nums(row['vlan.id']), s.vlan ?? []);
  eq('interface', Number(row['frame.interface_id']), s.interface);
  return diffs;
}

describe('tshark agrees with synack on every TCP frame', () => {
  for (const name of CAPTURE_FILES) {
    test(name, () => {
      const file = corpusPath(name);
      const truth = truthOf(name);
      const ours = decodeAll(file);
      const theirs = tsharkTcpFrames(file);
      expect(ours.frames, 'frame count vs truth').toBe(truth.packets);
      expect(ours.tcp, 'TCP frame count vs truth').toBe(truth.tcp_packets);
      expect([...ours.summaries.keys()], 'the same frames are TCP').toEqual([...theirs.keys()]);
      const diffs: string[] = [];
      for (const [n, row] of theirs) {
        const s = ours.summaries.get(n);
        if (!s) continue;
        for (const d of compare(row, s)) diffs.push(`frame ${n}: ${d}`);
      }
      expect(diffs).toEqual([]);
    });
  }
});
