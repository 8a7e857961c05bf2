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
import { ipv4Text, ipv6Text } from '../socket/ip.js';
import type { Bytes } from '../wire/bytes.js';
import type { Endpoint } from './conn.js';
import type { SocketRow } from './hosts.js';
import { DeadlineQueue } from './queue.js';

export class TwSock {
  /** Ended early (RST, reuse): its queue entry is skipped. */
  dead = false;
  /** Its admission's number in a parallel replay (tw-share.ts), else -1. */
  seq = -1;
  constructor(
    /** The end it stands for while its connection is not yet reported; null after. */
    public ep: Endpoint | null,
    readonly connId: number,
    readonly until: number,
    /** RCV.NXT as last acknowledged: a RST exactly there ends TIME-WAIT. */
    readonly lastAck: number,
    readonly listenerFd: number,
    readonly v6: boolean,
    readonly l0: number,
    readonly l1: number,
    readonly l2: number,
    readonly l3: number,
    readonly lport: number,
    readonly r0: number,
    readonly r1: number,
    readonly r2: number,
    readonly r3: number,
    readonly rport: number,
    readonly key: number,
  ) {}
}

export class TimeWaitTable {
  private readonly index = new TupleIndex<TwSock>();
  private readonly queue = new DeadlineQueue<TwSock>();

  /** `onGone`: a record ended before its time (RST, reuse, replaced), not by expiry. */
  constructor(
    readonly max: number,
    private readonly onGone?: (tw: TwSock) => void,
  ) {}

  get size(): number {
    return this.index.size;
  }

  get full(): boolean {
    return this.index.size >= this.max;
  }

  /** A record for `ep` (in TIME-WAIT until `until`), keyed like its host's 4-tuple entry. */
  add(ep: Endpoint, until: number): TwSock {
    const a = ep.host;
    const z = ep.peer.host;
    const l = ep.listener;
    const tw = new TwSock(ep, ep.conn.id, until, ep.lastAck, l !== null ? l.fd : -1, a.v6, a.w0, a.w1, a.w2, a.w3, ep.port, z.w0, z.w1, z.w2, z.w3, ep.peer.port, ep.rxKey);
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
    }
  }

  /** Ends a record; `quiet`: by expiry, or never counted (a parallel replay's admission turned down), so not reported. */
  remove(tw: TwSock, quiet = false): void {
    if (tw.dead) return;
    tw.dead = true;
    if (!quiet) this.onGone?.(tw);
    if (tw.v6) this.index.unhashV6Words(tw.l0, tw.l1, tw.l2, tw.l3, tw.lport, tw.r0, tw.r1, tw.r2, tw.r3, tw.rport, tw.key, tw);
    else this.index.unhashV4(tw.l3, tw.lport, tw.r3, tw.rport, tw.key, tw);
  }

  private lookupKey(tw: TwSock): TwSock | undefined {
    return tw.v6
      ? this.index.lookupV6Words(tw.l0, tw.l1, tw.l2, tw.l3, tw.lport, tw.r0, tw.r1, tw.r2, tw.r3, tw.rport, tw.key)
      : this.index.lookupV4(tw.l3, tw.lport, tw.r3, tw.rport, tw.key);
  }

  /** The record a segment from `remote` to `local` (offsets into the IP header bytes) finds. */
  lookup(b: Bytes, v6: boolean, remoteOff: number, remotePort: number, localOff: number, localPort: number, key: number): TwSock | undefined {
    if (this.index.size === 0) return undefined;
    return v6 ? this.index.lookupV6(b, localOff, localPort, remoteOff, remotePort, key) : this.index.lookupV4Bytes(b, localOff, localPort, remoteOff, remotePort, key);
  }

  /** The record holding `ep`'s 4-tuple, if any. */
  lookupOf(ep: Endpoint): TwSock | undefined {
    if (this.index.size === 0) return undefined;
    const a = ep.host;
    const z = ep.peer.host;
    return a.v6
      ? this.index.lookupV6Words(a.w0, a.w1, a.w2, a.w3, ep.port, z.w0, z.w1, z.w2, z.w3, ep.peer.port, ep.rxKey)
      : this.index.lookupV4(a.w3, ep.port, z.w3, ep.peer.port, ep.rxKey);
  }

  /** When the next live record ends (Infinity: none); records ended early are dropped from the queue on the way. */
  nextAt(): number {
    for (let tw = this.queue.peek(); tw !== undefined && tw.dead; tw = this.queue.peek()) this.queue.popDue(Infinity);
    return this.queue.nextAt();
  }

  /** The next record whose time is up at `now` (taken out of the table), or undefined. */
  popDue(now: number): TwSock | undefined {
    for (let tw = this.queue.popDue(now); tw !== undefined; tw = this.queue.popDue(now)) {
      if (tw.dead) continue;
      this.remove(tw, true);
      return tw;
    }
    return undefined;
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
