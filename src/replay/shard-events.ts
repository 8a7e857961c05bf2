/**
 * What a shard of a parallel replay tells the merge, in the order it happened: a stream of numeric
 * events in a Float64Array (moved to the main thread, not copied) with the few objects they carry
 * (records, verdicts, socket tables, IPv6 host texts) alongside.
 *
 * Every event has a merge key placing it in a replay of the whole file: `major` = frame * 4 + phase,
 * phase 0 the frame's clock (lingers and TIME-WAITs that end), 1 the frame itself (one shard's only),
 * 2 the socket tables taken after it; the end of the capture is frame last + 1 (phase 0 the tables,
 * 1 the connections still open). Connections that end at one frame, in every shard, are ordered by
 * their global id (tracker.ts reports them so): such events are marked `byConn` and the merge uses
 * the id it gave the connection as the minor key.
 *
 * Hosts travel as their IPv4 address (a u32) or, for IPv6, -1 and their address text among the objects.
 */
import type { CaptureError } from '../capture/errors.js';
import type { Host } from './hosts.js';
import type { InferredListener } from './listeners.js';
import type { TimeWaitMemory } from './tw-share.js';
import type { ConnViewFactory, FrameCounts, ReplayResult } from './types.js';

export const Op = {
  /** localId, senderIsClient, client host, server host */
  create: 1,
  /** localId, isClient, host, fd, anomalies of its connection so far */
  fdOpened: 2,
  /** localId, host, fd */
  fdClosed: 3,
  /** localId, client host, server host, has a record (object) */
  finalized: 4,
  /** (object: DemuxRecord) */
  verdict: 5,
  /** (object: HostTable[]) */
  tables: 6,
} as const;

/** Numbers in a batch before it is posted. */
const BATCH = 1 << 14;
/** Objects in a batch before it is posted. */
const BATCH_OBJECTS = 2048;

export interface EventBatch {
  type: 'batch';
  nums: Float64Array;
  n: number;
  objs: unknown[];
}

export class EventWriter {
  private nums = new Float64Array(BATCH);
  private n = 0;
  private objs: unknown[] = [];

  constructor(private readonly post: (b: EventBatch, transfer: ArrayBuffer[]) => void) {}

  /** Starts an event; room for `words` more numbers is guaranteed. */
  begin(op: number, major: number, byConn: boolean): void {
    if (this.n + 16 > BATCH || this.objs.length >= BATCH_OBJECTS) this.flush();
    const a = this.nums;
    a[this.n++] = op;
    a[this.n++] = major;
    a[this.n++] = byConn ? 1 : 0;
  }

  num(x: number): void {
    this.nums[this.n++] = x;
  }

  host(h: Host): void {
    if (h.v6) {
      this.nums[this.n++] = -1;
      this.objs.push(h.text);
    } else this.nums[this.n++] = h.w3;
  }

  obj(o: unknown): void {
    this.objs.push(o);
  }

  flush(): void {
    if (this.n === 0 && this.objs.length === 0) return;
    const nums = this.nums;
    this.post({ type: 'batch', nums, n: this.n, objs: this.objs }, [nums.buffer as ArrayBuffer]);
    this.nums = new Float64Array(BATCH);
    this.n = 0;
    this.objs = [];
  }
}

/** Reads one shard's batches in order; the merge peeks at the head event's key and takes it. */
export class EventReader {
  private readonly batches: EventBatch[] = [];
  private at = 0;
  private obj = 0;
  /** The shard has posted its last batch. */
  ended = false;

  push(b: EventBatch): void {
    this.batches.push(b);
  }

  /** An event is ready to read. */
  get ready(): boolean {
    this.skipSpent();
    return this.batches.length > 0;
  }

  /** Nothing left, and nothing more will come. */
  get exhausted(): boolean {
    return this.ended && !this.ready;
  }

  private skipSpent(): void {
    while (this.batches.length > 0) {
      const b = this.batches[0] as EventBatch;
      if (this.at < b.n) return;
      this.batches.shift();
      this.at = 0;
      this.obj = 0;
    }
  }

  /** The next number of the current batch (events never span batches). */
  num(): number {
    const b = this.batches[0] as EventBatch;
    return b.nums[this.at++] as number;
  }

  /** Looks at the number `k` places ahead without taking it. */
  peek(k: number): number {
    const b = this.batches[0] as EventBatch;
    return b.nums[this.at + k] as number;
  }

  take(): unknown {
    const b = this.batches[0] as EventBatch;
    return b.objs[this.obj++];
  }

  /** A host key: the IPv4 address, or the IPv6 text. */
  host(): number | string {
    const x = this.num();
    return x === -1 ? (this.take() as string) : x;
  }
}

/** A host's key in events and in the merge from its address text: the IPv4 address as a u32, the IPv6 text itself. */
export function hostKey(text: string): number | string {
  if (text.includes(':')) return text;
  return text.split('.').reduce((w, b) => w * 256 + Number(b), 0);
}

/** A connection view loaded by name in each worker: an ES module URL and its ConnViewFactory export. */
export interface ConnViewModule {
  module: string;
  export: string;
}

/** Imports a connection view named by module and export. */
export async function loadConnView(v: ConnViewModule): Promise<ConnViewFactory> {
  const mod = (await import(v.module)) as Record<string, unknown>;
  const f = mod[v.export];
  if (typeof f !== 'function') throw new TypeError(`replay: ${v.module} has no function export ${v.export}`);
  return f as ConnViewFactory;
}

/** What a shard worker starts with (structured-cloned). */
export interface ShardInit {
  path: string;
  index: number;
  of: number;
  /** The replay options a shard applies itself (no functions). */
  options: {
    listen: readonly string[];
    inferListeners: 'prepass' | 'off';
    closeLingerUs?: number;
    timeWaitUs?: number;
    maxTimeWait: number;
    fdLimit?: number;
    tablesAt?: number;
  };
  /** The connection view: a module URL and the name of its ConnViewFactory export. */
  view: ConnViewModule | null;
  /** Which events the merge needs (none: counts only). */
  want: ShardWants;
  timeWait: TimeWaitMemory;
}

export interface ShardWants {
  /** Connection records (FINALIZED events carry them). */
  records: boolean;
  verdicts: boolean;
  /** Socket tables (at `tablesAt` or at the end). */
  tables: boolean;
}

/** The listeners, sent once the main thread's pre-pass has found them. */
export interface ShardStart {
  type: 'start';
  listeners: readonly InferredListener[];
}

/** Shard 0's hosts before the first frame (the listeners'), with their ids and listener descriptors. */
export interface ShardHosts {
  type: 'hosts';
  hosts: { key: number | string; id: number; listenerFds: number[] }[];
}

export interface ShardDone {
  type: 'done';
  /** Frame counts; frame-level ones (total, malformed, ...) cover the whole file in every shard. */
  frames: FrameCounts;
  file: string;
  format: ReplayResult['format'];
  linkTypes: number[];
  error: CaptureError | null;
  /** Connections this shard reported. */
  connections: number;
  hostsAt: number | null;
}
