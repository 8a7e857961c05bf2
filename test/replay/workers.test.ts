/**
 * Parallel replay (issue 7): `replayParallel` over 2 and 3 worker threads gives what `replay()` gives
 * in one thread, field for field — connection records (ids, Zeek state and history, descriptors,
 * anomalies), every frame's verdict, the socket tables at the end and at a frame in the middle, the
 * frame counts — on every capture of the shared corpus and the fixtures, and on a generated busy-server
 * workload; streamed verdicts and records come out in the same order; the descriptor limit (EMFILE)
 * and the TIME-WAIT bound, which span shards, hold as in one thread. The shards really split the
 * frames (else equality would prove nothing), and the 4-tuple hash is symmetric.
 *
 * The workers run the CURRENT sources: the worker entry and the Zeek view module are transpiled for
 * them (test/live/build.ts), as vitest runs TypeScript that a worker thread cannot load.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { replayParallel, tupleHash } from '../../src/replay/index.js';
import type { ConnectionRecord, DemuxRecord, ParallelReplayOptions, ReplayOptions, ReplayResult } from '../../src/replay/index.js';
import { tupleHashWords } from '../../src/replay/shard.js';
import { bytesOf } from '../../src/wire/bytes.js';
import { synack } from '../cli/run.js';
import { ALL_CAPTURES, FIXTURES_DIR, PROJECT_ROOT } from '../corpus.js';
import { buildForChild, removeBuild } from '../live/build.js';
import { replayZeek } from './helpers.js';

let build: { js: string; dir: string };
let workerUrl: URL;
let view: { module: string; export: string };
let scratch: string;
/** A small generated workload (tools/gen-workload.mjs, which needs dist/): 2,000 connections, at most 100 open. */
let workload: string;

beforeAll(() => {
  build = buildForChild('src/replay/shard-worker.ts');
  buildForChild('src/report/replay.ts');
  workerUrl = pathToFileURL(build.js);
  view = { module: pathToFileURL(path.join(build.dir, 'src', 'report', 'replay.js')).href, export: 'zeekView' };
  scratch = mkdtempSync(path.join(tmpdir(), 'synack-workers-'));
  workload = path.join(scratch, 'workload.pcap');
  const gen = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'tools', 'gen-workload.mjs'), '--out', workload, '--connections', '2000', '--concurrency', '100', '--seed', '7'], {
    encoding: 'utf8',
  });
  if (gen.status !== 0) throw new Error(`gen-workload failed: ${gen.stderr}`);
});

afterAll(() => {
  if (build !== undefined) removeBuild(build.dir);
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

type Options = Omit<ParallelReplayOptions, 'workers' | 'connView' | 'workerUrl'>;

/** The result as JSON would carry it (no parallel-only fields), for a deep comparison. */
function plain(r: ReplayResult): unknown {
  const { connectionCount: _c, shardFrames: _s, ...rest } = r as ReplayResult & { connectionCount?: number; shardFrames?: number[] };
  return JSON.parse(JSON.stringify(rest)) as unknown;
}

async function parallel(file: string, workers: number, options: Options = {}): Promise<Awaited<ReturnType<typeof replayParallel>>> {
  return replayParallel(file, { workers, workerUrl, connView: view, ...options });
}

function single(file: string, options: ReplayOptions = {}): ReplayResult {
  return replayZeek(file, options);
}

describe('replayParallel equals replay() on every capture', () => {
  const split: string[] = [];

  test.each(ALL_CAPTURES.map((c) => [c.name, c.path]))('%s, 2 and 3 workers, with every verdict', async (name, file) => {
    const one = plain(single(file, { frames: true }));
    for (const n of [2, 3]) {
      const r = await parallel(file, n, { frames: true });
      expect(plain(r), `${name} over ${n} workers`).toEqual(one);
      expect(r.shardFrames).toHaveLength(n);
      expect(r.shardFrames.reduce((a, b) => a + b, 0)).toBe(r.frames.tcp);
      if (n === 2 && r.shardFrames.every((x) => x > 0)) split.push(name);
    }
  });

  test('the shards really split the corpus (equality is not one worker doing everything)', () => {
    // Captures of one connection (most of the corpus) fall to one shard; a dozen have frames in both.
    expect(split.length).toBeGreaterThanOrEqual(10);
    for (const name of ['zeek-http-methods-many-clients.pcap', 'ndpi-reddit-ipv6.pcap', 'fixtures/web-mail-v4.pcap', 'fixtures/web-mail-v6.pcap']) {
      expect(split).toContain(name);
    }
  });

  test('socket tables in the middle of a capture (--at), where descriptors of both shards are open', async () => {
    const cases: [string, number][] = [
      [path.join(FIXTURES_DIR, 'web-mail-v4.pcap'), 52],
      [path.join(FIXTURES_DIR, 'web-mail-v6.pcap'), 52],
      [ALL_CAPTURES.find((c) => c.name === 'zeek-http-methods-many-clients.pcap')?.path as string, 400],
      [ALL_CAPTURES.find((c) => c.name === 'ndpi-reddit-ipv6.pcap')?.path as string, 1000],
    ];
    for (const [file, at] of cases) {
      const one = single(file, { tablesAt: at });
      expect(one.hostsAt).toBe(at);
      expect(one.hosts.some((h) => h.sockets.some((s) => s.state !== 'LISTEN' && s.fd !== null))).toBe(true);
      for (const n of [2, 3]) expect(plain(await parallel(file, n, { tablesAt: at })), `${file} --at ${at}, ${n} workers`).toEqual(plain(one));
    }
  });
});

describe('replayParallel on a generated busy server', () => {
  test('2 and 3 workers: records, verdicts, tables at the end and mid-way, each shard a fair part', async () => {
    const one = single(workload, { frames: true });
    expect(one.connections.length).toBe(2040); // 2,000 completed + 2% more refused, as the generator writes
    for (const n of [2, 3]) {
      const r = await parallel(workload, n, { frames: true });
      expect(plain(r)).toEqual(plain(one));
      for (const x of r.shardFrames) expect(x).toBeGreaterThan(r.frames.tcp / n / 2);
    }
    const mid = single(workload, { tablesAt: 11000 });
    // The server's table then holds sockets of connections from every shard, each with its descriptor.
    const server = mid.hosts.find((h) => h.host === '198.18.0.1');
    expect(server?.sockets.filter((s) => s.fd !== null && s.state !== 'LISTEN').length).toBeGreaterThan(20);
    expect(plain(await parallel(workload, 2, { tablesAt: 11000 }))).toEqual(plain(mid));
  });

  test('streamed verdicts and records come in the same order as from one thread', async () => {
    const collect = (): { v: DemuxRecord[]; c: ConnectionRecord[]; opts: Options } => {
      const v: DemuxRecord[] = [];
      const c: ConnectionRecord[] = [];
      return { v, c, opts: { connections: false, hostTables: false, onVerdict: (x) => v.push(x), onConnection: (x) => c.push(x) } };
    };
    const a = collect();
    single(workload, a.opts as ReplayOptions);
    const b = collect();
    const r = await parallel(workload, 2, b.opts);
    expect(b.v).toEqual(a.v);
    expect(b.c).toEqual(a.c);
    expect(r.connectionCount).toBe(a.c.length);
    // Reported order is not id order (connections end as they end): the merge really had to interleave.
    expect(a.c.map((c) => c.id)).not.toEqual([...a.c.map((c) => c.id)].sort((x, y) => x - y));
  });

  test('counting only (-q): no records cross threads, the counts are the same', async () => {
    const one = single(workload, { connections: false, hostTables: false });
    const r = await parallel(workload, 2, { connections: false, hostTables: false });
    expect(plain(r)).toEqual(plain(one));
    expect(r.connectionCount).toBe(2040);
  });

  test('a descriptor limit that binds: EMFILE where one thread has it, the next descriptors as it gives them', async () => {
    const opts = { fdLimit: 40, frames: true };
    const one = single(workload, opts);
    const emfile = one.connections.filter((c) => c.anomalies.includes('emfile'));
    expect(emfile.length).toBeGreaterThan(0);
    for (const n of [2, 3]) expect(plain(await parallel(workload, n, opts))).toEqual(plain(one));
  });

  test('a TIME-WAIT bound that binds: which ends overflow to CLOSED is decided across shards, verdicts included', async () => {
    const opts = { maxTimeWait: 25, tablesAt: 15000, frames: true };
    const one = single(workload, opts);
    const free = single(workload, { tablesAt: 15000, frames: true });
    // The bound changes the replay (clients that would be in TIME-WAIT are CLOSED), so it is tested.
    const tw = (r: ReplayResult): number => r.connections.filter((c) => c.clientState === 'TIME-WAIT').length;
    expect(tw(one)).toBeLessThan(tw(free));
    expect(plain(one)).not.toEqual(plain(free));
    for (const n of [2, 3]) expect(plain(await parallel(workload, n, opts))).toEqual(plain(one));
  });

  test('listeners named with --listen, inference off', async () => {
    const opts = { listen: ['198.18.0.1:80', '198.18.0.1:8080'], inferListeners: 'off' as const, frames: true };
    expect(plain(await parallel(workload, 2, opts))).toEqual(plain(single(workload, opts)));
  });
});

describe('replayParallel arguments', () => {
  test('workers outside 1..64, lazy listener inference, a bad --listen: RangeError', async () => {
    const file = path.join(FIXTURES_DIR, 'web-mail-v4.pcap');
    await expect(parallel(file, 0)).rejects.toThrow(RangeError);
    await expect(parallel(file, 65)).rejects.toThrow(RangeError);
    await expect(parallel(file, 1.5)).rejects.toThrow(RangeError);
    await expect(replayParallel(file, { workers: 2, inferListeners: 'lazy' } as unknown as ParallelReplayOptions)).rejects.toThrow(RangeError);
    await expect(parallel(file, 2, { listen: ['nonsense'] })).rejects.toThrow(RangeError);
  });

  test('workers: 1 is replay() in this thread', async () => {
    const file = path.join(FIXTURES_DIR, 'web-mail-v4.pcap');
    const r = await replayParallel(file, { workers: 1, connView: view });
    expect(plain(r)).toEqual(plain(single(file)));
    expect(r.shardFrames).toEqual([r.frames.tcp]);
  });
});

describe('the shard hash', () => {
  const word = fc.integer({ min: 0, max: 0xffffffff });
  const port = fc.integer({ min: 0, max: 65535 });
  const addr = fc.array(word, { minLength: 4, maxLength: 4 });

  /** An IPv4 or IPv6 header's addresses and a TCP header's ports, as the decoder leaves them. */
  function segment(v6: boolean, a: number[], ap: number, z: number[], zp: number): { b: ReturnType<typeof bytesOf>; len: number } {
    const len = v6 ? 16 : 4;
    const b = bytesOf(new Uint8Array(2 * len + 4));
    a.slice(-len / 4).forEach((w, i) => b.dv.setUint32(i * 4, w));
    z.slice(-len / 4).forEach((w, i) => b.dv.setUint32(len + i * 4, w));
    b.dv.setUint16(2 * len, ap);
    b.dv.setUint16(2 * len + 2, zp);
    return { b, len };
  }

  test('both directions hash alike (IPv4 and IPv6), and the word form agrees with the bytes', () => {
    fc.assert(
      fc.property(fc.boolean(), addr, port, addr, port, (v6, a, ap, z, zp) => {
        const ab = segment(v6, a, ap, z, zp);
        const ba = segment(v6, z, zp, a, ap);
        const h = tupleHash(ab.b, 0, ab.len, 2 * ab.len);
        expect(tupleHash(ba.b, 0, ba.len, 2 * ba.len)).toBe(h);
        const words = (w: number[]): number[] => (v6 ? w : [0, 0, 0, w[3] as number]);
        expect(tupleHashWords(v6, words(a), ap, words(z), zp)).toBe(h);
      }),
    );
  });

  test('a v4-mapped IPv6 4-tuple hashes as its IPv4 one; the hash spreads over shards', () => {
    const m = segment(true, [0, 0, 0xffff, 0xc6120001], 80, [0, 0, 0xffff, 0xc612000b], 40001);
    const p = segment(false, [0xc6120001], 80, [0xc612000b], 40001);
    expect(tupleHash(m.b, 0, 16, 32)).toBe(tupleHash(p.b, 0, 4, 8));
    // Clients of one server port: each of 4 shards gets a fair part.
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const s = segment(false, [0xc6120000 + 2 + i], 32768 + (i % 1000), [0xc6120001], 80);
      counts[tupleHash(s.b, 0, 4, 8) % 4]++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });
});

describe('tools/shard-capture.mjs: the same split across machines', () => {
  /** A connection's own fields: what a machine replaying one shard file knows exactly. */
  function own(c: ConnectionRecord): string {
    return JSON.stringify([c.client, c.server, c.state, c.history, c.frames, c.duration, c.clientState, c.serverState, c.handshake, c.rst, c.fin, c.badChecksum, c.midstream, c.anomalies, c.anomalyCount]);
  }

  test.each([['fixtures/web-mail-v4.pcap'], ['fixtures/web-mail-v6.pcap'], ['zeek-http-methods-many-clients.pcap'], ['workload']])(
    '%s in 3 files: every frame once, each file the connections of its shard with their own fields',
    async (name) => {
      const file = name === 'workload' ? workload : (ALL_CAPTURES.find((c) => c.name === name)?.path as string);
      const dir = mkdtempSync(path.join(scratch, 'shards-'));
      const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'tools', 'shard-capture.mjs'), file, '--of', '3', '--out-dir', dir, '--json'], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const split = JSON.parse(r.stdout) as { frames: number; shards: { file: string; frames: number }[] };
      const whole = single(file);
      expect(split.frames).toBe(whole.frames.total);
      const parts = split.shards.map((s) => single(s.file));
      expect(parts.filter((p) => p.connections.length > 0).length).toBeGreaterThanOrEqual(2);
      expect(parts.flatMap((p) => p.connections.map(own)).sort()).toEqual(whole.connections.map(own).sort());
      // File i holds the TCP frames worker i of `--workers 3` replays.
      expect(parts.map((p) => p.frames.tcp)).toEqual((await parallel(file, 3, { connections: false, hostTables: false })).shardFrames);
    },
  );
});

describe('synack replay --workers', () => {
  test('the same output with -j 1 and -j 2: table, --json --frames, --ndjson --frames, -q, --at', () => {
    const file = path.join(FIXTURES_DIR, 'web-mail-v4.pcap');
    for (const args of [[], ['--json', '--frames'], ['--ndjson', '--frames'], ['-q'], ['--at', '52']]) {
      const a = synack(['replay', file, ...args]);
      const b = synack(['replay', file, ...args, '--workers', '2']);
      expect(b, args.join(' ')).toEqual(a);
      expect(a.code).toBe(0);
    }
  });

  test('bad --workers and --diagram with workers: exit 2 with the reason', () => {
    const file = path.join(FIXTURES_DIR, 'web-mail-v4.pcap');
    const bad = synack(['replay', file, '-j', 'two']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--workers needs a number from 1 to 64, got "two"');
    const d = synack(['replay', file, '-j', '2', '--diagram', '1']);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('--diagram needs --workers 1');
  });
});
