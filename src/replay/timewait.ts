/**
 * The replay's TIME-WAIT table. When an end enters TIME-WAIT it leaves its host's 4-tuple index and a
 * small record takes its place here, as Linux swaps a closed socket for an inet_timewait_sock in the
 * same established hash (tcp_time_wait): the 4-tuple, who it was, RCV.NXT for the RST check, and when
 * it ends. The record outlives the connection's report, so a late segment (a retransmitted FIN, a SYN
 * reusing the 4-tuple) still finds it for 60 s, while a capture of a million connections holds only
 * these records, not the connections. Bounded by `max` (Linux tcp_max_tw_buckets): past it an end goes
 * straight to CLOSED, as Linux does with "TCP: time wait bucket table overflow".
 */
import { TupleIndex } from '../socket/tuple-index.js';
import { hashV4Key } from '../socket/tuple-table.js';
import { ipv4Text, ipv6Text } from '../socket/ip.js';
import type { Bytes } from '../wire/bytes.js';
import type { Endpoint } from './conn.js';
import type { SocketRow } from './hosts.js';
import { DeadlineQueue } from './queue.js';

/**
 * A TIME-WAIT record. The table reuses a record once it has left both the index and the deadline
 * queue (`TimeWaitTable.release`), so a replay that closes millions of connections makes no garbage of them.
 */
export class TwSock {
  /** Ended early (RST, reuse): its queue entry is skipped. */
  dead = false;
  /** Its admission's number in a parallel replay (tw-share.ts), else -1. */
  seq = -1;
  /** The end it stands for while its connection is not yet reported; null after. */
  ep: Endpoint | null = null;
  connId = 0;
  until = 0;
  /** RCV.NXT as last acknowledged: a RST exactly there ends TIME-WAIT. */
  lastAck = 0;
  listenerFd = -1;
  v6 = false;
  l0 = 0;
  l1 = 0;
  l2 = 0;
  l3 = 0;
  lport = 0;
  r0 = 0;
  r1 = 0;
  r2 = 0;
  r3 = 0;
  rport = 0;
  key = 0;

  /** The record of `ep`'s 4-tuple (keyed like its host's entry) until `until`. */
  init(ep: Endpoint, until: number): void {
    const a = ep.host;
    const z = ep.peer.host;
    const l = ep.listener;
    this.dead = false;
    this.seq = -1;
    this.ep = ep;
    this.connId = ep.conn.id;
    this.until = until;
    this.lastAck = ep.lastAck;
    this.listenerFd = l !== null ? l.fd : -1;
    this.v6 = a.v6;
    this.l0 = a.i0;
    this.l1 = a.i1;
    this.l2 = a.i2;
    this.l3 = a.i3;
    this.lport = ep.port;
    this.r0 = z.i0;
    this.r1 = z.i1;
    this.r2 = z.i2;
    this.r3 = z.i3;
    this.rport = ep.peer.port;
    this.key = ep.rxKey;
  }
}

/** Records kept for reuse at most. */
const FREE_MAX = 1 << 16;

/**
 * Slots of the presence filter: 8 per record at the default bound (262,144, Linux's
 * tcp_max_tw_buckets), so about one lookup in eight of an absent 4-tuple goes on to the table.
 */
const FILTER_BITS = 21;

/** The presence filter's hash seed: other than the table's (0), so its slots and the table's rows differ. */
const FILTER_SEED = 0x5bd1e995;

export class TimeWaitTable {
  private readonly index = new TupleIndex<TwSock>();
  private readonly queue = new DeadlineQueue<TwSock>();
  private readonly free: TwSock[] = [];
  /**
   * How many records hash to each slot (a counting filter; 255 sticks). Nearly every lookup is of a
   * 4-tuple with no record (each new connection asks for both of its ends), and the table of a
   * quarter of a million records is far out of cache: a zero here answers at the cost of one byte.
   */
  private readonly present: Uint8Array;
  private readonly filterMask: number;

  /**
   * `onGone`: a record ended before its time (RST, reuse, replaced), not by expiry. `filterBits`: the
   * presence filter has 2^filterBits slots (tests make it tiny, so records share slots).
   */
  constructor(
    readonly max: number,
    private readonly onGone?: (tw: TwSock) => void,
    filterBits = FILTER_BITS,
  ) {
    this.present = new Uint8Array(1 << filterBits);
    this.filterMask = (1 << filterBits) - 1;
  }

  /**
   * A record's slot: the 4-tuple table's own hash of the low address words, the ports and the link key
   * (an IPv6 record's upper words do not take part: a shared slot only costs a table lookup).
   */
  private slot(l3: number, lport: number, r3: number, rport: number, key: number): number {
    return hashV4Key(FILTER_SEED, l3, r3, ((lport & 0xffff) << 16) | (rport & 0xffff), key) & this.filterMask;
  }

  get size(): number {
    return this.index.size;
  }

  get full(): boolean {
    return this.index.size >= this.max;
  }

  /** A record for `ep` (in TIME-WAIT until `until`), keyed like its host's 4-tuple entry. */
  add(ep: Endpoint, until: number): TwSock {
    const tw = this.free.pop() ?? new TwSock();
    tw.init(ep, until);
    this.put(tw);
    this.queue.push(tw, until);
    return tw;
  }

  private put(tw: TwSock): void {
    const ok = tw.v6
      ? this.index.hashV6Words(tw.l0, tw.l1, tw.l2, tw.l3, tw.lport, tw.r0, tw.r1, tw.r2, tw.r3, tw.rport, tw.key, tw)
      : this.index.hashV4(tw.l3, tw.lport, tw.r3, tw.rport, tw.key, tw);
    if (!ok) {
      // An older record of the same 4-tuple (its connection reused the tuple): the new one replaces it.
      const old = this.lookupKey(tw);
      if (old !== undefined) this.remove(old);
      this.put(tw);
      return;
    }
    const slot = this.slot(tw.l3, tw.lport, tw.r3, tw.rport, tw.key);
    const n = this.present[slot] as number;
    if (n < 255) this.present[slot] = n + 1;
  }

  /** Ends a record; `quiet`: by expiry, or never counted (a parallel replay's admission turned down), so not reported. */
  remove(tw: TwSock, quiet = false): void {
    if (tw.dead) return;
    tw.dead = true;
    if (!quiet) this.onGone?.(tw);
    const out = tw.v6
      ? this.index.unhashV6Words(tw.l0, tw.l1, tw.l2, tw.l3, tw.lport, tw.r0, tw.r1, tw.r2, tw.r3, tw.rport, tw.key, tw)
      : this.index.unhashV4(tw.l3, tw.lport, tw.r3, tw.rport, tw.key, tw);
    if (out === undefined) return;
    const slot = this.slot(tw.l3, tw.lport, tw.r3, tw.rport, tw.key);
    const n = this.present[slot] as number;
    if (n < 255) this.present[slot] = n - 1;
  }

  private lookupKey(tw: TwSock): TwSock | undefined {
    return tw.v6
      ? this.index.lookupV6Words(tw.l0, tw.l1, tw.l2, tw.l3, tw.lport, tw.r0, tw.r1, tw.r2, tw.r3, tw.rport, tw.key)
      : this.index.lookupV4(tw.l3, tw.lport, tw.r3, tw.rport, tw.key);
  }

  /** The record a segment from `remote` to `local` (offsets into the IP header bytes) finds. */
  lookup(b: Bytes, v6: boolean, remoteOff: number, remotePort: number, localOff: number, localPort: number, key: number): TwSock | undefined {
    if (this.index.size === 0) return undefined;
    const dv = b.dv;
    const last = v6 ? 12 : 0;
    if (this.present[this.slot(dv.getInt32(localOff + last), localPort, dv.getInt32(remoteOff + last), remotePort, key)] === 0) return undefined;
    return v6 ? this.index.lookupV6(b, localOff, localPort, remoteOff, remotePort, key) : this.index.lookupV4Bytes(b, localOff, localPort, remoteOff, remotePort, key);
  }

  /** The record holding `ep`'s 4-tuple, if any. */
  lookupOf(ep: Endpoint): TwSock | undefined {
    if (this.index.size === 0) return undefined;
    const a = ep.host;
    const z = ep.peer.host;
    if (this.present[this.slot(a.i3, ep.port, z.i3, ep.peer.port, ep.rxKey)] === 0) return undefined;
    return a.v6
      ? this.index.lookupV6Words(a.i0, a.i1, a.i2, a.i3, ep.port, z.i0, z.i1, z.i2, z.i3, ep.peer.port, ep.rxKey)
      : this.index.lookupV4(a.i3, ep.port, z.i3, ep.peer.port, ep.rxKey);
  }

  /**
   * When the next live record ends (Infinity: none). Records ended early are dropped from the queue on
   * the way (and kept for reuse, unless their end still points at them: see `dropDead`).
   */
  nextAt(): number {
    for (let tw = this.queue.peek(); tw !== undefined && tw.dead; tw = this.queue.peek()) {
      this.queue.popDue(Infinity);
      this.dropDead(tw);
    }
    return this.queue.nextAt();
  }

  /**
   * The next record whose time is up at `now` (taken out of the table), or undefined. Give it back with
   * `release` once nothing refers to it any more (a TIME-WAIT whose close waits for its connection's
   * report is still read then).
   */
  popDue(now: number): TwSock | undefined {
    for (let tw = this.queue.popDue(now); tw !== undefined; tw = this.queue.popDue(now)) {
      if (tw.dead) {
        this.dropDead(tw);
        continue;
      }
      this.remove(tw, true);
      return tw;
    }
    return undefined;
  }

  /**
   * A record ended early has left the queue: the queue held the last reference, unless its end still
   * points at it (a record replaced by a newer one of the same 4-tuple), which then keeps it.
   */
  private dropDead(tw: TwSock): void {
    if (tw.ep === null || tw.ep.tw !== tw) this.release(tw);
  }

  /** A record out of the index and the queue, that nothing refers to any more: kept for reuse. */
  release(tw: TwSock): void {
    tw.ep = null;
    if (this.free.length < FREE_MAX) this.free.push(tw);
  }

  /** Socket-table rows of every record, by the local address text. */
  rowsByHost(): Map<string, SocketRow[]> {
    const out = new Map<string, SocketRow[]>();
    for (const [t, tw] of this.index.entries()) {
      const local = tw.v6 ? ipv6Text(tw.l0, tw.l1, tw.l2, tw.l3) : ipv4Text(tw.l3);
      const remote = tw.v6 ? ipv6Text(tw.r0, tw.r1, tw.r2, tw.r3) : ipv4Text(tw.r3);
      const fmt = (a: string, p: number): string => (tw.v6 ? `[${a}]:${p}` : `${a}:${p}`);
      let rows = out.get(local);
      if (rows === undefined) out.set(local, (rows = []));
      rows.push({ fd: null, state: 'TIME-WAIT', local: fmt(local, t.localPort), remote: fmt(remote, t.remotePort), queue: '', connection: tw.connId, listenerFd: tw.listenerFd >= 0 ? tw.listenerFd : null });
    }
    return out;
  }
}
