/**
 * tools/gen-workload.mjs, checked by tshark: ~2,000 connections (concurrency 100, so the cap binds) must
 * come out as exactly the issue-7 workload — 11 frames per completed connection in Linux's order, 2%
 * more attempts refused with RST/ACK, 1% of SYNs repeated after 1 s with the same ISN — with good IP
 * and TCP checksums, Linux options, consistent timestamps, fresh client addresses from 198.18.0.0/15,
 * never more than `concurrency` connections open, and the same bytes for the same seed.
 *
 * Needs the built dist/ (`npm test` builds first) and tshark.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const GEN = path.join(ROOT, 'tools', 'gen-workload.mjs');

const N = 2000;
const CONCURRENCY = 100;
const REFUSED = 40; // 2% of N
const RETRANSMITTED = 20; // 1% of N
const FRAMES = 11 * N + 2 * REFUSED + RETRANSMITTED;

interface Summary {
  connections: number;
  refused: number;
  retransmitted: number;
  conversations: number;
  frames: number;
  bytes: number;
  framesPerConnection: number;
  maxOpen: number;
}

function generate(out: string, extra: readonly string[] = []): Summary {
  const r = spawnSync(process.execPath, [GEN, '--out', out, '--json', '--connections', String(N), '--concurrency', String(CONCURRENCY), ...extra], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`gen-workload failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Summary;
}

function tshark(args: readonly string[]): string {
  try {
    return execFileSync('tshark', ['-n', ...args], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error('tshark is not installed: this test checks the generator with it (apt-get install -y tshark)');
    throw new Error(`tshark ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

const FIELDS = [
  'frame.time_epoch',
  'tcp.stream',
  'ip.src',
  'ip.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags',
  'tcp.len',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.option_kind',
  'tcp.options.mss_val',
  'tcp.options.wscale.shift',
  'tcp.options.timestamp.tsval',
  'tcp.options.timestamp.tsecr',
  'tcp.checksum.status',
  'ip.checksum.status',
  'tcp.analysis.retransmission',
  'tcp.analysis.flags',
] as const;
type Field = (typeof FIELDS)[number];
type Row = Record<Field, string> & { us: number };

/** One row per frame, checksums verified (tshark leaves them unverified by default). */
function frameRows(file: string): Row[] {
  const args = ['-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of FIELDS) args.push('-e', f);
  const lines = tshark(args).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => {
    const cols = line.split('\t');
    const row = { us: 0 } as Row;
    FIELDS.forEach((f, i) => (row[f] = cols[i] ?? ''));
    // Exact microseconds from the text (a double of the epoch would round).
    const [sec, frac = ''] = row['frame.time_epoch'].split('.');
    row.us = Number(sec) * 1e6 + Number(frac.padEnd(6, '0').slice(0, 6));
    return row;
  });
}

const FLAGS = { SYN: 0x02, SYN_ACK: 0x12, ACK: 0x10, PSH_ACK: 0x18, FIN_ACK: 0x11, RST_ACK: 0x14 } as const;
const flagsOf = (r: Row): number => parseInt(r['tcp.flags'], 16);
const SERVER = '198.18.0.1';

let dir: string;
let file: string;
let summary: Summary;
let rows: Row[];
let streams: Map<number, Row[]>;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'synack-gen-'));
  file = path.join(dir, 'a.pcap');
  summary = generate(file);
  rows = frameRows(file);
  streams = new Map();
  for (const r of rows) {
    const id = Number(r['tcp.stream']);
    let s = streams.get(id);
    if (!s) streams.set(id, (s = []));
    s.push(r);
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('gen-workload: counts', () => {
  test('its summary: 11.05 frames per completed connection with the default fractions', () => {
    expect(summary).toMatchObject({ connections: N, refused: REFUSED, retransmitted: RETRANSMITTED, conversations: N + REFUSED, frames: FRAMES });
    expect(summary.framesPerConnection).toBeCloseTo(11.05, 10);
    expect(readFileSync(file).length).toBe(summary.bytes);
  });

  test('tshark reads every frame and one conversation per attempt', () => {
    expect(rows.length).toBe(FRAMES);
    const conv = tshark(['-q', '-r', file, '-z', 'conv,tcp']);
    expect(conv.split('\n').filter((l) => l.includes('<->')).length).toBe(N + REFUSED);
    expect(streams.size).toBe(N + REFUSED);
  });

  test('streams have 11 frames (completed), 12 (SYN retransmitted) or 2 (refused)', () => {
    const sizes = new Map<number, number>();
    for (const s of streams.values()) sizes.set(s.length, (sizes.get(s.length) ?? 0) + 1);
    expect(Object.fromEntries(sizes)).toEqual({ 11: N - RETRANSMITTED, 12: RETRANSMITTED, 2: REFUSED });
  });

  test('checksums: tshark verifies every IPv4 and TCP checksum as good', () => {
    const bad = rows.filter((r) => r['tcp.checksum.status'] !== '1' || r['ip.checksum.status'] !== '1');
    expect(bad.length).toBe(0);
  });
});

describe('gen-workload: the exchanges', () => {
  const NORMAL: ReadonlyArray<readonly [fromClient: boolean, flags: number, len: number]> = [
    [true, FLAGS.SYN, 0],
    [false, FLAGS.SYN_ACK, 0],
    [true, FLAGS.ACK, 0],
    [true, FLAGS.PSH_ACK, 100],
    [false, FLAGS.ACK, 0],
    [false, FLAGS.PSH_ACK, 200],
    [true, FLAGS.ACK, 0],
    [true, FLAGS.FIN_ACK, 0],
    [false, FLAGS.ACK, 0],
    [false, FLAGS.FIN_ACK, 0],
    [true, FLAGS.ACK, 0],
  ];

  test("completed connections follow Linux's 11-frame exchange, seq and ack consistent", () => {
    for (const s of streams.values()) {
      if (s.length === 2) continue;
      // A retransmitted SYN is the same SYN again; the rest is the normal exchange.
      const body = s.length === 12 ? [s[0] as Row, ...s.slice(2)] : s;
      const c = Number(body[0]?.['tcp.seq_raw']);
      const v = Number(body[1]?.['tcp.seq_raw']);
      const got = body.map((r) => [r['ip.dst'] === SERVER, flagsOf(r), Number(r['tcp.len'])]);
      expect(got).toEqual(NORMAL);
      const rel = body.map((r) => {
        const fromClient = r['ip.dst'] === SERVER;
        const seq = (Number(r['tcp.seq_raw']) - (fromClient ? c : v)) >>> 0;
        const ack = flagsOf(r) === FLAGS.SYN ? 0 : (Number(r['tcp.ack_raw']) - (fromClient ? v : c)) >>> 0;
        return [seq, ack];
      });
      expect(rel).toEqual([[0, 0], [0, 1], [1, 1], [1, 1], [1, 101], [1, 101], [101, 201], [101, 201], [201, 102], [201, 102], [102, 202]]);
    }
  });

  test('refused attempts: a SYN to the closed port answered by RST/ACK, seq 0, ack ISN+1, no options', () => {
    const refused = [...streams.values()].filter((s) => s.length === 2);
    for (const [syn, rst] of refused as Array<[Row, Row]>) {
      expect(flagsOf(syn)).toBe(FLAGS.SYN);
      expect(flagsOf(rst)).toBe(FLAGS.RST_ACK);
      expect(syn['tcp.dstport']).toBe('8080');
      expect(rst['tcp.seq_raw']).toBe('0');
      expect(Number(rst['tcp.ack_raw'])).toBe((Number(syn['tcp.seq_raw']) + 1) >>> 0);
      expect(rst['tcp.option_kind']).toBe('');
    }
    expect(rows.filter((r) => flagsOf(r) & 0x04).length).toBe(REFUSED);
  });

  test('retransmissions: tshark flags exactly the repeated SYNs, 1 s after the first, same ISN; nothing else is flagged', () => {
    const flagged = rows.filter((r) => r['tcp.analysis.retransmission'] !== '');
    expect(flagged.length).toBe(RETRANSMITTED);
    for (const r of flagged) {
      const s = streams.get(Number(r['tcp.stream'])) as Row[];
      expect(s.length).toBe(12);
      expect(s[1]).toBe(r);
      const first = s[0] as Row;
      expect(flagsOf(first)).toBe(FLAGS.SYN);
      expect(flagsOf(r)).toBe(FLAGS.SYN);
      expect(r['tcp.seq_raw']).toBe(first['tcp.seq_raw']);
      expect(r.us - first.us).toBe(1_000_000);
    }
    // No duplicate ACKs, lost segments, out-of-order, window problems or port reuse.
    expect(rows.filter((r) => r['tcp.analysis.flags'] !== '' && r['tcp.analysis.retransmission'] === '').length).toBe(0);
  });

  test('Linux options: mss 1460,sackOK,TS,nop,wscale 7 on SYN and SYN-ACK, nop,nop,TS on the rest but the RST', () => {
    for (const r of rows) {
      const f = flagsOf(r);
      if (f === FLAGS.SYN || f === FLAGS.SYN_ACK) {
        expect(r['tcp.option_kind']).toBe('2,4,8,1,3');
        expect(r['tcp.options.mss_val']).toBe('1460');
        expect(r['tcp.options.wscale.shift']).toBe('7');
      } else if (f !== FLAGS.RST_ACK) {
        expect(r['tcp.option_kind']).toBe('1,1,8');
      }
    }
  });

  test("timestamps: TSecr echoes the peer's last TSval (0 on a SYN); each side's TSval never goes back", () => {
    for (const s of streams.values()) {
      let clientVal: number | null = null;
      let serverVal: number | null = null;
      for (const r of s) {
        if (r['tcp.options.timestamp.tsval'] === '') continue;
        const fromClient = r['ip.dst'] === SERVER;
        const val = Number(r['tcp.options.timestamp.tsval']);
        const ecr = Number(r['tcp.options.timestamp.tsecr']);
        const prev = fromClient ? clientVal : serverVal;
        // 32-bit wrap: the difference mod 2^32 must be small and forward.
        if (prev !== null) expect((val - prev) >>> 0).toBeLessThan(10_000);
        expect(ecr).toBe((fromClient ? serverVal : clientVal) ?? 0);
        if (fromClient) clientVal = val;
        else serverVal = val;
      }
    }
  });
});

describe('gen-workload: addresses and time', () => {
  test('one server, 198.18.0.1 on 80, 443 and 25; fresh client addresses, all in 198.18.0.0/15', () => {
    const clients = new Set<string>();
    const ports = new Set<string>();
    for (const s of streams.values()) {
      const syn = s[0] as Row;
      expect(syn['ip.dst']).toBe(SERVER);
      clients.add(syn['ip.src']);
      if (s.length > 2) ports.add(syn['tcp.dstport']);
    }
    expect(clients.size).toBe(N + REFUSED);
    for (const a of clients) expect(a).toMatch(/^198\.1[89]\.\d+\.\d+$/);
    expect(clients.has(SERVER)).toBe(false);
    expect([...ports].sort()).toEqual(['25', '443', '80']);
  });

  test('frame times never go back, and at most `concurrency` connections are open at once', () => {
    for (let i = 1; i < rows.length; i++) expect((rows[i] as Row).us).toBeGreaterThanOrEqual((rows[i - 1] as Row).us);
    const events: Array<[number, number]> = [];
    for (const s of streams.values()) {
      events.push([(s[0] as Row).us, 1]);
      events.push([(s[s.length - 1] as Row).us, -1]);
    }
    // At equal times a close counts before an open (a slot's next connection starts after its last frame).
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let open = 0;
    let max = 0;
    for (const [, d] of events) {
      open += d;
      max = Math.max(max, open);
    }
    expect(max).toBeLessThanOrEqual(CONCURRENCY);
    expect(max).toBeGreaterThan(CONCURRENCY / 2);
    expect(summary.maxOpen).toBe(max);
  });
});

describe('gen-workload: determinism and arguments', () => {
  test('the same seed gives the same bytes; another seed other bytes, same counts', () => {
    const again = path.join(dir, 'b.pcap');
    const other = path.join(dir, 'c.pcap');
    generate(again);
    const s2 = generate(other, ['--seed', '2']);
    const a = readFileSync(file);
    expect(readFileSync(again).equals(a)).toBe(true);
    expect(readFileSync(other).equals(a)).toBe(false);
    expect(s2.frames).toBe(FRAMES);
  });

  test('bad arguments exit with 2 and say why', () => {
    for (const bad of [['--refused', '2'], ['--connections', '-1'], ['--concurrency', '0'], ['--bogus']]) {
      const r = spawnSync(process.execPath, [GEN, '--out', path.join(dir, 'x.pcap'), ...bad], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/gen-workload: /);
    }
    const noOut = spawnSync(process.execPath, [GEN], { encoding: 'utf8' });
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/--out FILE is required/);
  });
});
