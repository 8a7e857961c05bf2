/**
 * The worker thread of a parallel replay (parallel.ts): replays one shard of a capture. It reads the
 * whole file itself (reading is cheap next to replaying, and nothing is copied between threads),
 * decodes every frame (IP fragments are reassembled before their ports are known), keeps the TCP
 * frames whose 4-tuple hash is its own and lets every other TCP frame move its clock only, so lingers
 * and TIME-WAITs end at the same frame as in a replay of the whole file.
 *
 * What spans shards goes to the merge as events (shard-events.ts): connections made and reported,
 * descriptors opened and closed (with the shard's own numbers, renumbered there), verdicts, socket
 * tables. The TIME-WAIT bound is settled with the other shards as it runs (tw-share.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openCapture } from '../capture/reader.js';
import { Observer, observeSource } from './observe.js';
import type { ObserverShard } from './observe.js';
import { EventWriter, hostKey, loadConnView, Op } from './shard-events.js';
import type { Endpoint } from './conn.js';
import type { ShardDone, ShardHosts, ShardInit, ShardStart } from './shard-events.js';
import type { TrackerHooks } from './tracker.js';
import { TimeWaitShard } from './tw-share.js';
import type { ConnectionRecord, DemuxRecord } from './types.js';

const port = parentPort;
if (port === null) throw new Error('shard-worker: not started as a worker thread');
const init = workerData as ShardInit;
const start = await new Promise<ShardStart>((resolve) => port.once('message', resolve));
const view = init.view === null ? undefined : await loadConnView(init.view);

const want = init.want;
/** Connection ids and descriptors: for records, verdicts and tables. */
const ids = want.records || want.verdicts || want.tables;
/** Reports: for records, and for the host models' lives (tables). */
const reports = want.records || want.tables;
const share = new TimeWaitShard(init.timeWait, init.index);
/**
 * Verdicts of frames whose receiver asked for a TIME-WAIT record not answered yet: their `state` says
 * TIME-WAIT until the answer; a batch goes out only once its verdicts are right.
 */
let unsettled: { v: DemuxRecord; seq: number; sender: boolean }[] = [];
const out = new EventWriter((b, transfer) => {
  for (const u of unsettled) {
    if (share.decision(u.seq)) continue;
    if (u.sender) u.v.sender = 'CLOSED';
    else u.v.state = 'CLOSED';
  }
  unsettled = [];
  port.postMessage(b, transfer);
});

let frame = 0;
let phase = 0;
/** The capture is over: Observer.finish reports the connections still open. */
let atEnd = false;
/** The record of the connection being reported (onConnection comes just before `finalized`). */
let record: ConnectionRecord | null = null;
let reported = 0;
/** The end that asked for a TIME-WAIT record during frame `askedAt` (for that frame's verdict). */
let askedAt = -1;
let asked: Endpoint | null = null;
/** The unsettled end a frame was let through from (tracker.ts `touch`), during frame `deferredAt`. */
let deferredAt = -1;
let deferred: Endpoint | null = null;

const major = (): number => frame * 4 + phase;
/** Events of connections that end at one frame in every shard: the merge orders them by connection id. */
const byConn = (): boolean => phase === 0 || atEnd;

const hooks: TrackerHooks = {
  created(c, senderIsClient) {
    if (!ids) return;
    out.begin(Op.create, major(), false);
    out.num(c.id);
    out.num(senderIsClient ? 1 : 0);
    out.host(c.client.host);
    out.host(c.server.host);
  },
  finalized(c) {
    reported++;
    if (reports) {
      out.begin(Op.finalized, major(), byConn());
      out.num(c.id);
      out.host(c.client.host);
      out.host(c.server.host);
      out.num(record === null ? 0 : 1);
      if (record !== null) out.obj(record);
    }
    record = null;
  },
  fdOpened(e, fd) {
    if (!ids) return;
    out.begin(Op.fdOpened, major(), byConn());
    out.num(e.conn.id);
    out.num(e.isClient ? 1 : 0);
    out.host(e.host);
    out.num(fd);
    out.num(e.conn.anomalyCount);
  },
  fdClosed(e, fd) {
    if (!ids) return;
    out.begin(Op.fdClosed, major(), byConn());
    out.num(e.conn.id);
    out.host(e.host);
    out.num(fd);
  },
  timeWaitAttempt(e, now, until) {
    asked = e;
    askedAt = frame;
    return share.attempt(frame, now, until);
  },
  timeWaitDecision: (seq) => share.decision(seq),
  timeWaitGone: (tw) => share.gone(frame, tw.seq),
  timeWaitDeferred(e) {
    deferred = e;
    deferredAt = frame;
  },
};

const shard: ObserverShard = {
  index: init.index,
  of: init.of,
  hooks,
  enter(f, p) {
    frame = f;
    phase = p;
  },
};

const o = init.options;
const obs = new Observer(
  {
    listen: o.listen,
    inferListeners: o.inferListeners,
    connView: view,
    closeLingerUs: o.closeLingerUs,
    timeWaitUs: o.timeWaitUs,
    maxTimeWait: o.maxTimeWait,
    fdLimit: o.fdLimit,
    connections: false,
    onConnection: (c) => void (record = c),
    onVerdict: want.verdicts
      ? (v) => {
          // An admission left to settle later is always the receiver's (one asked for the sender, by
          // revive, is answered at once): the verdict's state waits for the answer.
          if (asked !== null && askedAt === v.frame && asked.twPending >= 0) unsettled.push({ v, seq: asked.twPending, sender: false });
          if (deferred !== null && deferredAt === v.frame && deferred.twPending >= 0) unsettled.push({ v, seq: deferred.twPending, sender: true });
          out.begin(Op.verdict, major(), false);
          out.obj(v);
        }
      : undefined,
    hostTables: false,
  },
  start.listeners,
  shard,
);

if (init.index === 0) {
  // The listeners' hosts, made before the first frame (ids 1, 2, ... in table order), and their descriptors.
  const hosts: ShardHosts['hosts'] = obs.socketTables().map((t, i) => ({
    key: hostKey(t.host),
    id: i + 1,
    listenerFds: t.sockets.filter((r) => r.fd !== null).map((r) => r.fd as number),
  }));
  port.postMessage({ type: 'hosts', hosts } satisfies ShardHosts);
}

const tablesAt = want.tables ? (o.tablesAt ?? -1) : -1;
let tablesTaken = false;
let last = 0;
const reader = openCapture(init.path);
try {
  for (let fr = reader.next(); fr !== null; fr = reader.next()) {
    obs.frame(fr);
    last = fr.index;
    share.progress(last);
    if (last === tablesAt) {
      frame = last;
      phase = 2;
      out.begin(Op.tables, major(), false);
      out.obj(obs.socketTables());
      tablesTaken = true;
    }
  }
} finally {
  share.finish();
  reader.close();
}
share.drain();
atEnd = true;
frame = last + 1;
phase = 0;
if (want.tables && !tablesTaken) {
  out.begin(Op.tables, major(), false);
  out.obj(obs.socketTables());
}
phase = 1;
const result = obs.finish(observeSource(reader));
out.flush();
const done: ShardDone = {
  type: 'done',
  frames: result.frames,
  file: result.file,
  format: result.format,
  linkTypes: result.linkTypes,
  error: result.error,
  connections: reported,
  hostsAt: tablesTaken ? tablesAt : null,
};
port.postMessage(done);
