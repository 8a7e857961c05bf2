/**
 * Parallel observe-mode replay (issue 7): `workers` threads each replay the TCP frames whose 4-tuple
 * hash falls to them (shard.ts: both directions and every reuse of a 4-tuple land in one shard), and
 * this thread merges what they report into the result a replay of the whole file gives, field for
 * field. What a shard cannot know alone, and how the merge settles it:
 *
 * - Connection ids count connections in order of first frame over the whole file: each shard reports
 *   a connection when it makes it, at its frame, and the merge numbers them in frame order.
 * - Descriptors: a host's accepted and connecting sockets take its lowest free descriptor, across
 *   connections of every shard. Shards number their own (with no limit); the merge replays every
 *   host's opens and closes in frame order on the host's real table, with the real limit (EMFILE: the
 *   connection gets the 'emfile' anomaly where the replay of the whole file would have given it), and
 *   rewrites the numbers in records, verdicts and socket tables.
 * - Host models: a host's model goes when its last connection is reported and comes back new (its
 *   place in the socket-table listing is its order of first sight): the merge counts each host's
 *   connections across shards.
 * - Listeners are found once, by the pre-pass here, and every shard opens them the same way.
 * - The TIME-WAIT bound is shared while the shards run (tw-share.ts).
 * - Order: events carry a key placing them in a replay of the whole file (shard-events.ts), and the
 *   merge takes them in key order, so streamed verdicts and records come out as from `replay()`.
 * - Frame counts: every shard reads every frame; frame-level counts are shard 0's, per-segment ones
 *   (TCP, bad checksums, late, anomalies) are summed.
 *
 * The connection view runs inside the shards, so it is named as a module and an export, not passed
 * as a function (report/'s replayCaptureParallel names Zeek's).
 */
import { Worker } from 'node:worker_threads';
import { FdTable } from '../socket/fd-table.js';
import { HOST_DEFAULTS, listenerQueueText, sortRows } from './hosts.js';
import type { HostTable, SocketRow } from './hosts.js';
import { inferListeners } from './listeners.js';
import { byOldestConnection, replay, REPLAY_DEFAULTS, splitEndpoint } from './observe.js';
import { EventReader, hostKey, loadConnView, Op } from './shard-events.js';
import type { ConnViewModule, EventBatch, ShardDone, ShardHosts, ShardInit, ShardStart, ShardWants } from './shard-events.js';
import { TimeWaitArbiter, timeWaitMemory } from './tw-share.js';
import type { ConnectionRecord, DemuxRecord, ReplayOptions, ReplayResult } from './types.js';

export type { ConnViewModule } from './shard-events.js';

export interface ParallelReplayOptions extends Omit<ReplayOptions, 'connView' | 'inferListeners'> {
  /** Threads replaying shards (1: `replay()` in this thread). */
  workers: number;
  /** 'prepass' (default) or 'off'; 'lazy' cannot be split (a listener found late changes other shards' descriptors). */
  inferListeners?: 'prepass' | 'off';
  connView?: ConnViewModule;
  /** The worker entry; default shard-worker.js beside this module (tests running TypeScript point it at a transpiled copy). */
  workerUrl?: URL;
}

export interface ParallelReplayResult extends ReplayResult {
  /** Connections reported (also when `connections: false` keeps no records). */
  connectionCount: number;
  /** TCP frames each shard replayed (shard i took the frames whose 4-tuple hash is i modulo `workers`). */
  shardFrames: number[];
}

/** Most worker threads (the merge keys a shard's descriptor into a number with it). */
export const MAX_WORKERS = 64;

/** Replays `path` in observe mode over `workers` threads; the result equals `replay(path, options)`'s. */
export async function replayParallel(path: string, options: ParallelReplayOptions): Promise<ParallelReplayResult> {
  const n = options.workers;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new RangeError(`replayParallel: workers must be a whole number from 1 to ${MAX_WORKERS}, got ${n}`);
  const mode = options.inferListeners ?? 'prepass';
  if (mode !== 'prepass' && mode !== 'off') throw new RangeError(`replayParallel: inferListeners '${String(mode)}' cannot be split across workers`);
  for (const l of options.listen ?? []) splitEndpoint(l);
  if (n === 1) return replayHere(path, options, mode);

  const want: ShardWants = {
    records: options.connections !== false || options.onConnection !== undefined,
    verdicts: options.frames === true || options.onVerdict !== undefined,
    tables: options.hostTables ?? true,
  };
  const memory = timeWaitMemory(n);
  const maxTimeWait = options.maxTimeWait ?? REPLAY_DEFAULTS.maxTimeWait;
  const url = options.workerUrl ?? new URL('./shard-worker.js', import.meta.url);
  const merge = new Merge(n, want, options);
  const workers: Worker[] = [];
  let failed = false;
  try {
    const ended = new Promise<void>((resolve, rejectWith) => {
      const reject = (e: Error): void => {
        failed = true;
        rejectWith(e);
      };
      let left = n;
      for (let i = 0; i < n; i++) {
        const init: ShardInit = {
          path,
          index: i,
          of: n,
          options: {
            listen: options.listen ?? [],
            inferListeners: mode,
            closeLingerUs: options.closeLingerUs,
            timeWaitUs: options.timeWaitUs,
            maxTimeWait,
            fdLimit: options.fdLimit,
            tablesAt: options.tablesAt,
          },
          view: options.connView ?? null,
          want,
          timeWait: memory,
        };
        const w = new Worker(url, { workerData: init });
        workers.push(w);
        w.on('message', (m: EventBatch | ShardHosts | ShardDone) => {
          try {
            merge.accept(i, m);
            if (m.type === 'done' && --left === 0) resolve();
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
        w.on('error', reject);
        w.on('exit', (code) => {
          if (!merge.finished(i)) reject(new Error(`replayParallel: worker ${i} stopped (exit ${code}) before its shard was done`));
        });
      }
    });
    // The pre-pass runs while the workers start.
    const start: ShardStart = { type: 'start', listeners: mode === 'prepass' ? inferListeners(path) : [] };
    for (const w of workers) w.postMessage(start);
    // The TIME-WAIT bound is counted here while the shards run (tw-share.ts).
    const arbiter = new TimeWaitArbiter(memory, maxTimeWait).run(() => failed);
    await Promise.all([ended, arbiter]);
    return merge.result(mode);
  } finally {
    for (const w of workers) void w.terminate();
  }
}

async function replayHere(path: string, options: ParallelReplayOptions, mode: 'prepass' | 'off'): Promise<ParallelReplayResult> {
  const { connView, workers: _w, workerUrl: _u, ...rest } = options;
  const view = connView === undefined ? undefined : await loadConnView(connView);
  let count = 0;
  const onConn = options.onConnection;
  const r = replay(path, { ...rest, inferListeners: mode, connView: view, onConnection: (c) => (count++, onConn?.(c)) });
  return { ...r, connectionCount: count, shardFrames: [r.frames.tcp] };
}

// -----------------------------------------------------------------------------------------------------
// The merge

/** Any object: a host's descriptor table here holds numbers only. */
const TAKEN = {};

/** A host of the whole replay: its model's place in the listing, its connections, its descriptors. */
interface MergedHost {
  id: number;
  refs: number;
  listeners: boolean;
  fds: FdTable<object>;
  /** Shard descriptor (fd * MAX_WORKERS + shard) → the real one (-1: EMFILE). */
  local: Map<number, number>;
}

/** A growable Int32Array indexed by a shard's connection id. */
class IdArray {
  a: Int32Array;
  constructor(private readonly fill: number) {
    this.a = new Int32Array(1024).fill(fill);
  }
  get(i: number): number {
    return i < this.a.length ? (this.a[i] as number) : this.fill;
  }
  set(i: number, v: number): void {
    if (i >= this.a.length) {
      let len = this.a.length * 2;
      while (len <= i) len *= 2;
      const b = new Int32Array(len).fill(this.fill);
      b.set(this.a);
      this.a = b;
    }
    this.a[i] = v;
  }
}

class Merge {
  private readonly readers: EventReader[] = [];
  private readonly done: (ShardDone | null)[];
  private readonly gid: IdArray[] = [];
  private readonly lastClientFd: IdArray[] = [];
  private readonly lastServerFd: IdArray[] = [];
  /** Per shard: connection → where 'emfile' goes among its anomalies. */
  private readonly emfile: Map<number, number[]>[] = [];
  private readonly hosts = new Map<number | string, MergedHost>();
  private readonly fdLimit: number;
  private nextGid = 1;
  private nextHostId = 1;
  private hostsKnown = false;
  private readonly records: ConnectionRecord[] = [];
  private readonly demux: DemuxRecord[] = [];
  private tableParts: HostTable[][] = [];
  private tables: HostTable[] | null = null;

  constructor(
    private readonly n: number,
    private readonly want: ShardWants,
    private readonly options: ParallelReplayOptions,
  ) {
    this.done = new Array<ShardDone | null>(n).fill(null);
    this.fdLimit = options.fdLimit ?? HOST_DEFAULTS.fdLimit;
    for (let i = 0; i < n; i++) {
      this.readers.push(new EventReader());
      this.gid.push(new IdArray(0));
      this.lastClientFd.push(new IdArray(-1));
      this.lastServerFd.push(new IdArray(-1));
      this.emfile.push(new Map());
    }
  }

  finished(i: number): boolean {
    return this.done[i] !== null;
  }

  accept(i: number, m: EventBatch | ShardHosts | ShardDone): void {
    if (m.type === 'batch') this.readers[i]?.push(m);
    else if (m.type === 'hosts') this.listenerHosts(m);
    else {
      this.done[i] = m;
      (this.readers[i] as EventReader).ended = true;
    }
    this.drain();
  }

  /** The listeners' hosts: made first, never let go, their descriptors taken before any other. */
  private listenerHosts(m: ShardHosts): void {
    for (const h of m.hosts) {
      const g = this.newHost(h.id);
      g.listeners = true;
      for (const fd of h.listenerFds) {
        const got = g.fds.alloc(TAKEN);
        if (got !== fd) throw new Error(`replayParallel: listener descriptor ${fd} became ${String(got)}`);
      }
      this.hosts.set(h.key, g);
      this.nextHostId = Math.max(this.nextHostId, h.id + 1);
    }
    this.hostsKnown = true;
  }

  private newHost(id: number): MergedHost {
    return { id, refs: 0, listeners: false, fds: new FdTable<object>({ limit: this.fdLimit }), local: new Map() };
  }

  /** Takes events in key order while every shard still running has one to compare. */
  private drain(): void {
    if (!this.hostsKnown) return;
    const rs = this.readers;
    for (;;) {
      let best = -1;
      let bestMajor = 0;
      let bestMinor = 0;
      for (let s = 0; s < this.n; s++) {
        const r = rs[s] as EventReader;
        if (!r.ready) {
          if (r.ended) continue;
          return;
        }
        const major = r.peek(1);
        const minor = r.peek(2) === 1 ? this.gid[s]?.get(r.peek(3)) ?? 0 : 0;
        if (best < 0 || major < bestMajor || (major === bestMajor && minor < bestMinor)) {
          best = s;
          bestMajor = major;
          bestMinor = minor;
        }
      }
      if (best < 0) return;
      this.event(best, rs[best] as EventReader);
    }
  }

  private event(s: number, r: EventReader): void {
    const op = r.num();
    r.num(); // major
    r.num(); // byConn
    switch (op) {
      case Op.create: {
        const id = r.num();
        const senderIsClient = r.num() === 1;
        const client = r.host();
        const server = r.host();
        (this.gid[s] as IdArray).set(id, this.nextGid++);
        if (this.want.tables) {
          // The registry meets the frame's source first.
          const [src, dst] = senderIsClient ? [client, server] : [server, client];
          this.hostFor(src).refs++;
          this.hostFor(dst).refs++;
        }
        return;
      }
      case Op.fdOpened: {
        const id = r.num();
        const isClient = r.num() === 1;
        const g = this.hostFor(r.host());
        const fd = r.num();
        const anomalies = r.num();
        const got = g.fds.alloc(TAKEN);
        if (typeof got === 'number') {
          g.local.set(fd * MAX_WORKERS + s, got);
          (isClient ? this.lastClientFd : this.lastServerFd)[s]?.set(id, got);
        } else {
          g.local.set(fd * MAX_WORKERS + s, -1);
          const em = this.emfile[s] as Map<number, number[]>;
          const at = em.get(id);
          if (at === undefined) em.set(id, [anomalies]);
          else at.push(anomalies);
        }
        return;
      }
      case Op.fdClosed: {
        r.num(); // connection
        const key = r.host();
        const fd = r.num();
        const g = this.hosts.get(key);
        if (g === undefined) throw new Error(`replayParallel: shard ${s} closed descriptor ${fd} of a host with none open`);
        const k = fd * MAX_WORKERS + s;
        const real = g.local.get(k);
        g.local.delete(k);
        if (real !== undefined && real >= 0) g.fds.close(real);
        this.release(key, g);
        return;
      }
      case Op.finalized: {
        const id = r.num();
        const client = r.host();
        const server = r.host();
        const has = r.num() === 1;
        if (this.want.tables) {
          this.unref(client);
          this.unref(server);
        }
        if (has) this.emitRecord(s, id, r.take() as ConnectionRecord);
        return;
      }
      case Op.verdict:
        this.emitVerdict(s, r.take() as DemuxRecord);
        return;
      case Op.tables:
        this.tablePart(s, r.take() as HostTable[]);
        return;
      default:
        throw new Error(`replayParallel: unknown event ${op} from shard ${s}`);
    }
  }

  /** The host with this key, made (next in order of first sight) when the replay holds no model of it. */
  private hostFor(key: number | string): MergedHost {
    let g = this.hosts.get(key);
    if (g === undefined) {
      g = this.newHost(this.nextHostId++);
      this.hosts.set(key, g);
    }
    return g;
  }

  private unref(key: number | string): void {
    const g = this.hosts.get(key);
    if (g === undefined) throw new Error('replayParallel: a connection was reported on a host it never made');
    g.refs--;
    this.release(key, g);
  }

  /** A host with no connection, descriptor or listener is let go (tracker.ts: HostRegistry.release). */
  private release(key: number | string, g: MergedHost): void {
    if (g.refs === 0 && g.fds.size === 0 && !g.listeners) this.hosts.delete(key);
  }

  private realFd(s: number, host: string, fd: number | null): number | null {
    if (fd === null) return null;
    const real = this.hosts.get(hostKey(host))?.local.get(fd * MAX_WORKERS + s);
    if (real === undefined) throw new Error(`replayParallel: shard ${s} names descriptor ${fd} of ${host}, never opened`);
    return real >= 0 ? real : null;
  }

  private emitRecord(s: number, id: number, c: ConnectionRecord): void {
    c.id = (this.gid[s] as IdArray).get(id);
    const cf = (this.lastClientFd[s] as IdArray).get(id);
    const sf = (this.lastServerFd[s] as IdArray).get(id);
    c.clientFd = cf >= 0 ? cf : null;
    c.serverFd = sf >= 0 ? sf : null;
    const em = this.emfile[s] as Map<number, number[]>;
    const at = em.get(id);
    if (at !== undefined) {
      em.delete(id);
      // Each 'emfile' went in after the anomalies its connection had then (Conn.anomaly keeps the first 8).
      const all = c.anomalies.slice();
      at.forEach((p, k) => all.splice(p + k, 0, 'emfile'));
      c.anomalies = all.slice(0, 8);
      c.anomalyCount += at.length;
    }
    if (this.options.connections !== false) this.records.push(c);
    this.options.onConnection?.(c);
  }

  private emitVerdict(s: number, v: DemuxRecord): void {
    v.connection = (this.gid[s] as IdArray).get(v.connection);
    v.fd = this.realFd(s, v.host, v.fd);
    if (this.options.frames === true) this.demux.push(v);
    this.options.onVerdict?.(v);
  }

  /** One shard's socket tables, renumbered now (the descriptors as they stand at this point of the merge). */
  private tablePart(s: number, part: HostTable[]): void {
    const gid = this.gid[s] as IdArray;
    for (const t of part) {
      for (const row of t.sockets) {
        if (row.connection !== null) row.connection = gid.get(row.connection);
        if (row.state !== 'LISTEN') row.fd = this.realFd(s, t.host, row.fd);
      }
    }
    this.tableParts.push(part);
    if (this.tableParts.length === this.n) {
      this.tables = this.joinTables(this.tableParts);
      this.tableParts = [];
    }
  }

  /** Every shard's rows of a host together; a listener's row once, its SYN queue summed over shards. */
  private joinTables(parts: HostTable[][]): HostTable[] {
    const byHost = new Map<string, { rows: SocketRow[]; listeners: SocketRow[] }>();
    for (const part of parts) {
      for (const t of part) {
        let h = byHost.get(t.host);
        const first = h === undefined;
        if (h === undefined) byHost.set(t.host, (h = { rows: [], listeners: [] }));
        let li = 0;
        for (const row of t.sockets) {
          if (row.state !== 'LISTEN') h.rows.push(row);
          else if (first) h.listeners.push(row);
          else {
            const l = h.listeners[li] as SocketRow;
            l.queue = listenerQueueText(synQueueOf(l.queue) + synQueueOf(row.queue));
          }
          if (row.state === 'LISTEN') li++;
        }
      }
    }
    const held: { id: number; t: HostTable }[] = [];
    const gone: HostTable[] = [];
    for (const [host, h] of byHost) {
      const t: HostTable = { host, sockets: sortRows([...h.listeners, ...h.rows]) };
      const g = this.hosts.get(hostKey(host));
      if (g !== undefined) held.push({ id: g.id, t });
      else gone.push(t);
    }
    held.sort((a, b) => a.id - b.id);
    return [...held.map((x) => x.t), ...gone.sort(byOldestConnection)];
  }

  result(mode: 'prepass' | 'off'): ParallelReplayResult {
    for (const r of this.readers) if (!r.exhausted) throw new Error('replayParallel: a shard ended with events left over');
    const done = this.done as ShardDone[];
    const first = done[0] as ShardDone;
    const frames = { ...first.frames, tcp: 0, badChecksum: 0, late: 0, anomalies: 0 };
    let connectionCount = 0;
    for (const d of done) {
      frames.tcp += d.frames.tcp;
      frames.badChecksum += d.frames.badChecksum;
      frames.late += d.frames.late;
      frames.anomalies += d.frames.anomalies;
      connectionCount += d.connections;
    }
    const result: ParallelReplayResult = {
      file: first.file,
      format: first.format,
      linkTypes: first.linkTypes,
      frames,
      connections: this.records.sort((a, b) => a.id - b.id),
      hosts: this.tables ?? [],
      hostsAt: first.hostsAt,
      listenerInference: mode,
      error: first.error,
      connectionCount,
      shardFrames: done.map((d) => d.frames.tcp),
    };
    if (this.options.frames === true) result.demux = this.demux;
    return result;
  }
}

/** The SYN-queue length back from a listener row's queue column (listenerQueueText). */
function synQueueOf(queue: string): number {
  const m = /^syn (\d+),/.exec(queue);
  if (m === null) throw new Error(`replayParallel: a listener row's queue is ${JSON.stringify(queue)}`);
  return Number(m[1]);
}
