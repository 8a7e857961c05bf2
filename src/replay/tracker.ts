/**
 * The connection tracker of observe mode: finds each TCP frame's connection with one numeric lookup,
 * drives the two end machines (machine.ts), keeps the host models' socket tables in step, and reports a
 * connection once it is over. State is held only for connections still open, closed ones for a short
 * linger (stragglers: duplicated RSTs, a retransmitted FIN), and TIME-WAIT sockets (bounded).
 *
 * Which connection a frame belongs to:
 * - `conns`: a TupleIndex keyed by the frame's own direction (source, source port, destination,
 *   destination port) → the sending end. Each connection has two entries, one per direction; no
 *   per-frame normalisation.
 * - The same 4-tuple on another VLAN stack or interface (the link key) is another connection (tshark
 *   merges them: its conversations ignore VLANs); such ends hang off the first one (`alias`), and the
 *   link key the receiving end was seen on picks one. A reply that comes back on a different link key
 *   (routed between VLANs, or tagged one way only) is adopted by the connection whose other direction
 *   has not been seen yet.
 * - A SYN with a new ISN on a 4-tuple whose connection is closed, in TIME-WAIT or still open starts a
 *   new connection, as Wireshark's "TCP port numbers reused" starts a new tcp.stream; a SYN with the
 *   same ISN is the same connection (a retransmission, or Windows retrying a refused connect).
 * - A frame no connection takes starts one (picking up mid-connection when it is not a SYN).
 */
import { TupleIndex } from '../socket/tuple-index.js';
import type { DemuxStep } from '../socket/demux.js';
import type { Bytes } from '../wire/bytes.js';
import { formatIpv4, formatIpv6 } from '../wire/address.js';
import { formatTcpFlags, TcpFlags } from '../wire/tcp.js';
import { Conn, Endpoint } from './conn.js';
import { endpointText } from './hosts.js';
import type { Host, HostRegistry, Listener } from './hosts.js';
import { ipv4Text, ipv6Text } from '../socket/ip.js';
import { received, sent } from './machine.js';
import { DeadlineHeap } from './queue.js';
import { TimeWaitTable } from './timewait.js';
import type { TwSock } from './timewait.js';
import { St, stateName, type StateNo } from './states.js';
import type { ConnectionRecord, ConnViewFactory, ConnViewInit, DemuxRecord, ObserveAction, ReplaySegment } from './types.js';

/** One TCP frame as the tracker reads it: numbers only, filled by the observe loop, reused. */
export class FrameSeg {
  frame = 0;
  timeUs = 0;
  b!: Bytes;
  addrLen: 4 | 16 = 4;
  srcOff = 0;
  dstOff = 0;
  sport = 0;
  dport = 0;
  flags = 0;
  seq = 0;
  ack = 0;
  window = 0;
  /** Payload length per the IP header. */
  len = 0;
  /** Payload bytes present in the capture. */
  captured = 0;
  /** The capture cut the TCP header (options): only the fixed 20 bytes are known. */
  headerCut = false;
  badChecksum = false;
  /** Window-scale shift of a SYN (-1: none, or not a SYN). */
  wscale = -1;
  /** Link key: VLAN stack key mixed with the capture interface. */
  key = 0;
  iface = 0;
  vlanCount = 0;
  vlanIds: Uint16Array = new Uint16Array(0);
}

export interface TrackerOptions {
  connView?: ConnViewFactory;
  closeLingerUs: number;
  timeWaitUs: number;
  maxTimeWait: number;
  /** Create a listener at its first SYN-ACK (listeners were not inferred beforehand). */
  lazyListeners: boolean;
  /** Endpoints ("198.18.0.1:25") whose listener binds the host's own address. */
  exactListeners: ReadonlySet<string>;
  onConnection: (c: ConnectionRecord) => void;
  /** Build DemuxRecords (frames / onVerdict asked for them). */
  verdicts: boolean;
  /** What a shard of a parallel replay reports to the merge (parallel.ts); none in a plain replay. */
  hooks?: TrackerHooks;
}

/**
 * The facts a shard of a parallel replay cannot settle alone, because they span connections of other
 * shards: connection ids, each host's descriptors, its model's life, and the TIME-WAIT bound.
 */
export interface TrackerHooks {
  /** A connection was made; `senderIsClient`: its client sent the frame (whose source host was met first). */
  created(c: Conn, senderIsClient: boolean): void;
  /** A connection was reported and its descriptors given back. */
  finalized(c: Conn): void;
  fdOpened(e: Endpoint, fd: number): void;
  fdClosed(e: Endpoint, fd: number): void;
  /** An end asks for a TIME-WAIT record at clock `now`, to last until `until`; returns the admission's number. */
  timeWaitAttempt(e: Endpoint, now: number, until: number): number;
  /** Whether admission `seq` got its record (waits until it is decided). */
  timeWaitDecision(seq: number): boolean;
  /** A record ended before its time (RST, reuse, replaced). */
  timeWaitGone(tw: TwSock): void;
  /** A frame from `e`, whose admission is not settled, was let through unsettled: its verdict's sender state waits for the answer. */
  timeWaitDeferred(e: Endpoint): void;
}

/** Connection objects kept for reuse at most. */
const FREE_CONNS_MAX = 1 << 16;

/**
 * What a view factory learns of a new connection. The endpoint texts are made only if a view reads
 * them (Zeek's does not), from the addresses as they are now (the host objects may later serve others).
 */
class ViewInit implements ConnViewInit {
  private readonly v6c: boolean;
  private readonly v6s: boolean;
  private readonly c0: number;
  private readonly c1: number;
  private readonly c2: number;
  private readonly c3: number;
  private readonly s0: number;
  private readonly s1: number;
  private readonly s2: number;
  private readonly s3: number;
  private clientText: string | null = null;
  private serverText: string | null = null;

  constructor(
    readonly id: number,
    ch: Host,
    readonly clientPort: number,
    sh: Host,
    readonly serverPort: number,
  ) {
    this.v6c = ch.v6;
    this.c0 = ch.i0;
    this.c1 = ch.i1;
    this.c2 = ch.i2;
    this.c3 = ch.i3;
    this.v6s = sh.v6;
    this.s0 = sh.i0;
    this.s1 = sh.i1;
    this.s2 = sh.i2;
    this.s3 = sh.i3;
  }

  get client(): string {
    this.clientText ??= endpointText(this.v6c, this.v6c ? ipv6Text(this.c0, this.c1, this.c2, this.c3) : ipv4Text(this.c3), this.clientPort);
    return this.clientText;
  }

  get server(): string {
    this.serverText ??= endpointText(this.v6s, this.v6s ? ipv6Text(this.s0, this.s1, this.s2, this.s3) : ipv4Text(this.s3), this.serverPort);
    return this.serverText;
  }
}

const SYN = TcpFlags.SYN;
const ACK = TcpFlags.ACK;
const FIN = TcpFlags.FIN;
const RST = TcpFlags.RST;

export class Tracker {
  /** Open connections by 4-tuple, one entry for both directions (see `index`). */
  private readonly conns = new TupleIndex<Conn>();
  /**
   * Closed connections in their linger, the same way. Kept apart so the table every frame probes
   * holds only the connections still open: a busy capture has ten times more lingering than open
   * (2 s of closes against an RTT or two of life), and a table that size no longer stays in cache.
   * Only a frame no open connection takes looks here.
   */
  private readonly closedConns = new TupleIndex<Conn>();
  /** Set by `head`: the frame's sender is the end the index names first. */
  private srcFirst = true;
  /** Set by `lookup`: some connection (on any link key) holds the frame's 4-tuple. */
  private headFound = false;
  /**
   * Connections not yet reported: each is in `conns` or `closedConns` from its first frame to its
   * report, so those tables are the list (a list of its own cost a write to a cold neighbour per report).
   */
  private unreportedCount = 0;
  /** Reported connections' objects, for reuse. */
  private readonly freeConns: Conn[] = [];
  private readonly lingerQ = new DeadlineHeap<Conn>();
  /**
   * No TIME-WAIT or linger ends before this (it may be earlier than the first that does: a record
   * that ended early leaves it behind): one comparison per frame instead of asking both queues.
   */
  private nextDue = Infinity;
  private readonly due: Conn[] = [];
  /** TIME-WAITs that ended in the same step of the clock as their connection's linger, after it. */
  private readonly dueTw: TwSock[] = [];
  readonly timeWait: TimeWaitTable;
  private readonly seg: ReplaySegment = { frame: 0, timeUs: 0, fromClient: true, flags: 0, seq: 0, ack: 0, window: 0, payloadLength: 0, options: '', windowScale: -1, badChecksum: false };
  private nextId = 1;
  now = 0;
  /** Frames that reached a connection already reported. */
  late = 0;
  anomalies = 0;
  /** The file has more than one capture interface: records name theirs. */
  multiInterface = false;

  // Verdict of the frame being processed (set by machine.ts `received`).
  vStep: DemuxStep = 'none';
  vAction: ObserveAction = 'dropped';
  vListener: Listener | null = null;
  private twReopen = false;
  /** The receiver of the current frame was created from it (never seen before). */
  private inferred = false;
  private curFrame = 0;

  constructor(
    readonly hosts: HostRegistry,
    private readonly o: TrackerOptions,
  ) {
    this.timeWait = new TimeWaitTable(o.maxTimeWait, o.hooks?.timeWaitGone);
  }

  /** Every connection not yet reported. */
  get liveConnections(): number {
    return this.unreportedCount;
  }

  /** The clock moved without a frame: what is due by `timeUs` expires (nothing when it is not later than now). */
  advance(timeUs: number): void {
    if (timeUs > this.now) {
      this.now = timeUs;
      // Most frames have nothing due: no call at all.
      if (timeUs >= this.nextDue) this.expire();
    }
  }

  /** Takes one TCP frame; returns its verdict when verdicts are on, else null. */
  frame(f: FrameSeg): DemuxRecord | null {
    this.advance(f.timeUs);
    this.curFrame = f.frame;
    this.twReopen = false;
    this.inferred = false;
    const fl = f.flags;
    const bareSyn = (fl & (SYN | ACK | RST)) === SYN;
    let s = this.lookup(f);
    // No connection at all on the 4-tuple (most first frames): nothing to adopt.
    const tupleFree = !this.headFound;
    if (s !== undefined && s.conn.twPending) this.touch(s, f);
    if (s !== undefined && bareSyn && s.isClient && this.isNewIsn(s.conn, f)) {
      this.supersede(s.conn);
      s = undefined;
    }
    if (s === undefined) {
      s = tupleFree ? undefined : this.adopt(f);
      if (s !== undefined && s.conn.twPending) this.settle(s.conn);
      if (s === undefined) {
        const late = this.lateFrame(f, bareSyn);
        if (late !== undefined) return late;
        s = this.create(f);
      }
    }
    return this.process(s, f);
  }

  // ---------------------------------------------------------------------------------------------------
  // Finding the connection

  /**
   * The first connection on the frame's 4-tuple (any link key; the rest follow on its alias list).
   * Sets `srcFirst`: the frame's sender is the end the index names first.
   */
  private head(f: FrameSeg, t: TupleIndex<Conn>): Conn | null {
    const dv = f.b.dv;
    if (f.addrLen === 4) {
      const src = dv.getInt32(f.srcOff);
      const dst = dv.getInt32(f.dstOff);
      const first = endFirst(src >>> 0, f.sport, dst >>> 0, f.dport);
      this.srcFirst = first;
      return (first ? t.lookupV4(src, f.sport, dst, f.dport, 0) : t.lookupV4(dst, f.dport, src, f.sport, 0)) ?? null;
    }
    const first = frameV6SrcFirst(dv, f.srcOff, f.sport, f.dstOff, f.dport);
    this.srcFirst = first;
    return (first ? t.lookupV6(f.b, f.srcOff, f.sport, f.dstOff, f.dport, 0) : t.lookupV6(f.b, f.dstOff, f.dport, f.srcOff, f.sport, 0)) ?? null;
  }

  /** The end of `c` that sent the frame `head` looked up. */
  private sender(c: Conn): Endpoint {
    return this.srcFirst === c.clientFirst ? c.client : c.server;
  }

  /** The end that sent the frame: an open connection's, else a lingering one's. Sets `headFound`. */
  private lookup(f: FrameSeg): Endpoint | undefined {
    const open = this.head(f, this.conns);
    this.headFound = open !== null;
    for (let c = open; c !== null; c = c.alias) {
      const e = this.sender(c);
      if (e.peer.rxKey === f.key) return e;
    }
    if (this.closedConns.size === 0) return undefined;
    const closed = this.head(f, this.closedConns);
    if (closed !== null) this.headFound = true;
    for (let c = closed; c !== null; c = c.alias) {
      const e = this.sender(c);
      if (e.peer.rxKey === f.key) return e;
    }
    return undefined;
  }

  /** A SYN from the client that starts a new connection on this 4-tuple (Wireshark: port numbers reused). */
  private isNewIsn(c: Conn, f: FrameSeg): boolean {
    if (c.clientIsnKnown) return f.seq !== c.clientIsn;
    // The SYN-ACK came first (capture order): the SYN it answered is the same connection.
    if (c.synAckKnown && ((f.seq + 1) >>> 0) === c.synAckAck) return false;
    // A connection picked up mid-stream: a SYN after the client spoke, or after the end, is a new one.
    return c.closed || c.client.sndKnown;
  }

  /**
   * A frame whose direction has no entry under its link key: the reply of a connection whose other
   * direction is not confirmed yet takes it (asymmetric VLAN tagging), and its key is corrected.
   */
  private adopt(f: FrameSeg): Endpoint | undefined {
    let s = this.adoptable(this.head(f, this.conns));
    if (s === null && this.closedConns.size > 0) s = this.adoptable(this.head(f, this.closedConns));
    if (s === null) return undefined;
    const r = s.peer;
    const wasHashed = r.hashed;
    if (wasHashed) this.unhashEp(r);
    r.rxKey = f.key;
    if (wasHashed) this.hashEp(r);
    return s;
  }

  /** The first end on a chain whose direction is not confirmed yet (see `adopt`), or null. */
  private adoptable(head: Conn | null): Endpoint | null {
    for (let c = head; c !== null; c = c.alias) {
      const e = this.sender(c);
      if (!e.conn.finalized && !e.peer.rxConfirmed) return e;
    }
    return null;
  }

  /**
   * A frame of a connection already reported, reaching its TIME-WAIT record: a SYN reopens the 4-tuple
   * (Linux tcp_timewait_state_process → TCP_TW_SYN); anything else is a straggler, counted as late.
   */
  private lateFrame(f: FrameSeg, bareSyn: boolean): DemuxRecord | null | undefined {
    const v6 = f.addrLen === 16;
    const tw = this.timeWait.lookup(f.b, v6, f.srcOff, f.sport, f.dstOff, f.dport, f.key);
    if (tw !== undefined && tw.ep === null) {
      if (bareSyn) {
        this.timeWait.remove(tw);
        this.twReopen = true;
        return undefined;
      }
      this.late++;
      let action: ObserveAction = 'delivered';
      let ended = false;
      if ((f.flags & RST) !== 0) {
        // Only a RST at RCV.NXT ends TIME-WAIT.
        ended = f.seq === tw.lastAck;
        action = ended ? 'aborted' : 'dropped';
        if (ended) this.timeWait.remove(tw);
      }
      return this.o.verdicts ? lateVerdict(f, tw.connId, 'time-wait', tw.listenerFd, action, ended ? 'CLOSED' : 'TIME-WAIT', 'CLOSED') : null;
    }
    // Sent by a TIME-WAIT socket (its ACK of a late FIN) to a peer that closed: no socket there.
    const from = bareSyn ? undefined : this.timeWait.lookup(f.b, v6, f.dstOff, f.dport, f.srcOff, f.sport, f.key);
    if (from === undefined || from.ep !== null) return undefined;
    this.late++;
    return this.o.verdicts ? lateVerdict(f, from.connId, 'none', -1, (f.flags & RST) !== 0 ? 'dropped' : 'reset', 'CLOSED', 'TIME-WAIT') : null;
  }

  /** A new connection for the frame. */
  private create(f: FrameSeg): Endpoint {
    const src = this.hosts.at(f.b, f.srcOff, f.addrLen);
    const dst = this.hosts.at(f.b, f.dstOff, f.addrLen);
    const fl = f.flags;
    let senderIsClient: boolean;
    if ((fl & (SYN | RST)) === SYN) senderIsClient = (fl & ACK) === 0;
    // Without a handshake: the side with a listener on its port is the server, else the first sender is the client.
    else if (dst.lookupListener(f.dport, f.key) !== undefined) senderIsClient = true;
    else senderIsClient = src.lookupListener(f.sport, f.key) === undefined;
    const id = this.nextId++;
    const c = senderIsClient
      ? this.newConn(id, f.frame, f.timeUs, src, f.sport, dst, f.dport, f.key, f.iface)
      : this.newConn(id, f.frame, f.timeUs, dst, f.dport, src, f.sport, f.key, f.iface);
    if (this.o.connView !== undefined) c.view = this.o.connView(new ViewInit(id, c.client.host, c.client.port, c.server.host, c.server.port));
    this.unreportedCount++;
    c.client.host.refs++;
    c.server.host.refs++;
    this.index(c);
    this.o.hooks?.created(c, senderIsClient);
    return senderIsClient ? c.client : c.server;
  }

  /** A connection object: a reported one's, reused, or a new one. */
  private newConn(id: number, frame: number, timeUs: number, ch: Host, cport: number, sh: Host, sport: number, key: number, iface: number): Conn {
    const c = this.freeConns.pop();
    if (c === undefined) return new Conn(id, frame, timeUs, ch, cport, sh, sport, key, key, iface);
    c.init(id, frame, timeUs, ch, cport, sh, sport, key, key, iface);
    return c;
  }

  /** A reported connection that nothing refers to any more (out of every index and queue): its objects serve a later one. */
  private recycle(c: Conn): void {
    if (this.freeConns.length < FREE_CONNS_MAX) this.freeConns.push(c);
  }

  /** The old connection on a reused 4-tuple is over: TIME-WAIT ends, anything still open is superseded. */
  private supersede(c: Conn): void {
    if (c.server.state === St.TIME_WAIT) this.twReopen = true;
    this.endFor(c.client);
    this.endFor(c.server);
    this.finalize(c);
  }

  private endFor(e: Endpoint): void {
    if (e.state === St.CLOSED) return;
    if (e.state !== St.TIME_WAIT) e.conn.anomaly('superseded-by-new-syn');
    this.toClosed(e);
  }

  // ---------------------------------------------------------------------------------------------------
  // One frame through its connection

  private process(s: Endpoint, f: FrameSeg): DemuxRecord | null {
    const c = s.conn;
    const r = s.peer;
    const fl = f.flags;
    const syn = (fl & SYN) !== 0;
    const ack = (fl & ACK) !== 0;
    c.frames++;
    c.lastFrame = f.frame;
    if (f.timeUs > c.lastUs) c.lastUs = f.timeUs;
    r.rxConfirmed = true;
    if (s.isClient) {
      if (!c.vlanClientSeen) {
        c.vlanClientSeen = true;
        c.vlanClient = vlanList(f);
      }
      if ((fl & RST) !== 0) c.rstClient++;
      if ((fl & FIN) !== 0) c.finClient++;
      if (syn && !ack && (fl & RST) === 0) {
        c.clientIsn = f.seq;
        c.clientIsnKnown = true;
        c.clientSynLen = f.len;
      } else if (ack && !syn && (fl & RST) === 0 && c.synAckKnown && f.ack === ((c.serverIsn + 1) >>> 0)) c.handshakeAck = true;
    } else {
      if (!c.vlanServerSeen) {
        c.vlanServerSeen = true;
        c.vlanServer = vlanList(f);
      }
      if ((fl & RST) !== 0) c.rstServer++;
      if ((fl & FIN) !== 0) c.finServer++;
      if (syn && ack && (fl & RST) === 0 && !c.synAckKnown) {
        c.synAckKnown = true;
        c.synAckAck = f.ack;
        c.serverIsn = f.seq;
      }
    }
    if (f.badChecksum) c.badChecksum++;
    if (c.view !== null) this.feedView(c.view, s.isClient, f);

    const pre = this.o.verdicts ? this.demuxLookup(r, f) : null;
    const senderNxt = s.sndNxt;
    const senderNxtKnown = s.sndKnown;
    const anomaly = sent(this, s, f);
    if (anomaly !== null) {
      c.anomaly(anomaly);
      this.anomalies++;
    }
    received(this, r, s, f, senderNxt, senderNxtKnown);
    if (this.twReopen) {
      this.vStep = 'time-wait';
      if (this.vAction === 'cloned') this.vAction = 'time-wait-reopen';
    }
    if (c.closed && !c.lingering) this.linger(c);
    return this.o.verdicts ? this.verdict(r, s, f, anomaly, pre) : null;
  }

  /** What the receiving host's own tables say for this frame: its 4-tuple index, then the TIME-WAIT table. */
  private demuxLookup(r: Endpoint, f: FrameSeg): Endpoint | undefined {
    const e = r.host.lookupTuple(f.b, f.srcOff, f.sport, f.dstOff, f.dport, f.key);
    if (e !== undefined) return e;
    const tw = this.timeWait.lookup(f.b, f.addrLen === 16, f.srcOff, f.sport, f.dstOff, f.dport, f.key);
    return tw === undefined || tw.ep === null ? undefined : tw.ep;
  }

  private feedView(view: NonNullable<Conn['view']>, fromClient: boolean, f: FrameSeg): void {
    const seg = this.seg;
    seg.frame = f.frame;
    seg.timeUs = f.timeUs;
    seg.fromClient = fromClient;
    seg.flags = f.flags;
    seg.seq = f.seq;
    seg.ack = f.ack;
    seg.window = f.window;
    seg.payloadLength = f.len;
    seg.options = f.wscale >= 0 ? (WSCALE_TEXT[f.wscale] ?? `wscale ${f.wscale}`) : '';
    seg.windowScale = f.wscale;
    if (f.headerCut) {
      seg.badChecksum = false;
      view.addHeaderCut(seg);
      return;
    }
    if (f.badChecksum) {
      // Zeek's 'C' (the view records it and stops), then the segment as `zeek -C` takes it: offload
      // leaves every checksum of one side bad, and the peer's answers show those segments arrived.
      seg.badChecksum = true;
      view.add(seg, f.captured);
    }
    seg.badChecksum = false;
    view.add(seg, f.captured);
  }

  private verdict(r: Endpoint, s: Endpoint, f: FrameSeg, anomaly: string | null, pre: Endpoint | undefined | null): DemuxRecord {
    const step = this.vStep;
    const listenerStep = step === 'listener-exact' || step === 'listener-any';
    const cloned = this.vAction === 'cloned' || this.vAction === 'time-wait-reopen';
    const l = this.vListener;
    const state: StateNo = step === 'none' ? St.CLOSED : listenerStep && !cloned ? St.LISTEN : r.state;
    const v: DemuxRecord = {
      frame: f.frame,
      host: r.host.text,
      step,
      fd: listenerStep && !cloned ? null : r.fd >= 0 ? r.fd : null,
      listenerFd: l !== null && l.fd >= 0 ? l.fd : null,
      connection: r.conn.id,
      action: this.vAction,
      state: stateName(state),
      sender: stateName(s.state),
      socket: `${r.host.endpointText(r.port)} <- ${s.host.endpointText(s.port)}`,
      flags: formatTcpFlags(f.flags),
    };
    if (r.midstream) v.midstream = true;
    if (anomaly !== null) v.anomaly = anomaly;
    if (f.badChecksum) v.badChecksum = true;
    // The step came from the connection's view of its receiver; the host's own 4-tuple index, asked
    // before the segment was processed, must agree (a socket the segment itself proved is exempt).
    if (pre !== null && !this.twReopen && !this.inferred) {
      const tupleStep = step === 'established' || step === 'syn-received' || step === 'time-wait';
      if (tupleStep ? pre !== r : pre !== undefined) {
        v.anomaly ??= 'demux-mismatch';
        r.conn.anomaly('demux-mismatch');
      }
    }
    return v;
  }

  // ---------------------------------------------------------------------------------------------------
  // Socket life (called by machine.ts)

  setState(e: Endpoint, to: StateNo): void {
    const from = e.state;
    if (from === to) return;
    e.state = to;
    const view = e.conn.view;
    if (view !== null && view.note !== undefined) {
      view.note({ frame: this.curFrame, timeUs: this.now, side: e.side, from: stateName(from), to: stateName(to) });
    }
  }

  /** socket() + connect(): a descriptor and SYN-SENT. */
  connect(e: Endpoint): void {
    e.opened = true;
    e.abortedFrom = -1;
    e.twOverflow = false;
    this.resetSeq(e);
    this.allocFd(e);
    this.setState(e, St.SYN_SENT);
    this.hashEp(e);
  }

  /** A SYN to a listener: the child, in SYN-RECEIVED, in the SYN queue, no descriptor yet (Linux inet_csk_reqsk_queue_add). */
  clone(e: Endpoint, l: Listener): void {
    e.opened = true;
    e.abortedFrom = -1;
    this.resetSeq(e);
    e.listener = l;
    e.inSynQueue = true;
    l.synQueue++;
    this.setState(e, St.SYN_RECEIVED);
    this.hashEp(e);
  }

  /** The handshake completed: out of the SYN queue, accept() at once gives the lowest free descriptor. */
  accept(e: Endpoint): void {
    const l = e.listener;
    if (e.inSynQueue && l !== null) {
      e.inSynQueue = false;
      l.synQueue--;
      l.accepted++;
    }
    this.allocFd(e);
  }

  /** An end not seen before sends a SYN-ACK: a child of its listener (its SYN was not captured, or no listener was known yet). */
  openSynAck(e: Endpoint): void {
    const c = e.conn;
    let l = e.isClient ? undefined : e.host.lookupListener(e.port, e.rxKey);
    if (l === undefined && this.o.lazyListeners && !e.isClient) l = e.host.addListener(e.port, this.o.exactListeners.has(e.host.endpointText(e.port)));
    if (!c.clientIsnKnown) {
      e.midstream = true;
      c.midstream = true;
    }
    if (l !== undefined) this.clone(e, l);
    else {
      // No listener: a socket that connected (simultaneous open seen from one side).
      e.opened = true;
      this.allocFd(e);
      this.setState(e, St.SYN_RECEIVED);
      this.hashEp(e);
    }
  }

  /** An end first seen in the middle of its life: a descriptor (accepted before the capture, for a listener's port) and `state`. */
  pickup(e: Endpoint, state: StateNo): void {
    e.opened = true;
    e.midstream = true;
    e.conn.midstream = true;
    if (!e.isClient) {
      const l = e.host.lookupListener(e.port, e.rxKey);
      if (l !== undefined) {
        e.listener = l;
        l.accepted++;
      }
    }
    this.allocFd(e);
    this.setState(e, state);
    this.hashEp(e);
  }

  /** The receiver of a segment exists though the capture never showed it (one-sided capture). */
  inferPeer(e: Endpoint, state: StateNo, f: FrameSeg): void {
    this.inferred = true;
    this.pickup(e, state);
    if (state === St.SYN_SENT) {
      e.iss = (f.ack - 1) >>> 0;
      e.issKnown = true;
    }
  }

  /** close(): the descriptor goes back to the table; the socket lives on as an orphan until CLOSED. */
  closeFd(e: Endpoint): void {
    if (e.fd >= 0) {
      e.host.fds.close(e.fd);
      this.o.hooks?.fdClosed(e, e.fd);
      e.fd = -1;
    }
  }

  /** An acceptable RST: CLOSED, and the application, told ECONNRESET/ECONNREFUSED, closes its descriptor. */
  abort(e: Endpoint): void {
    const from = e.state;
    this.toClosed(e);
    e.abortedFrom = from;
    this.vAction = 'aborted';
  }

  /** The end sent a RST: CLOSED (abort, or a reply to a segment it did not want). */
  resetSent(e: Endpoint): void {
    const from = e.state;
    this.toClosed(e);
    e.abortedFrom = from;
  }

  /**
   * An end closed by a RST (received, or sent in its name: injected) sends again: it never took that RST (its RCV.NXT was not what the
   * capture suggested). It goes back to the state the RST ended, as an orphan (its descriptor is gone).
   */
  revive(e: Endpoint): boolean {
    const from = e.abortedFrom;
    if (from < 0) return false;
    e.abortedFrom = -1;
    if (from === St.TIME_WAIT) {
      this.toStateOrTimeWait(e, St.TIME_WAIT, true);
      return true;
    }
    this.setState(e, from as StateNo);
    if (from === St.SYN_RECEIVED && e.listener !== null && e.fd < 0) {
      e.inSynQueue = true;
      e.listener.synQueue++;
    }
    this.hashEp(e);
    return true;
  }

  toClosed(e: Endpoint): void {
    if (e.hashed) this.unhashEp(e);
    if (e.tw !== null) {
      this.timeWait.remove(e.tw);
      e.tw = null;
    }
    if (e.inSynQueue && e.listener !== null) {
      e.inSynQueue = false;
      e.listener.synQueue--;
    }
    this.closeFd(e);
    this.setState(e, St.CLOSED);
  }

  /**
   * TIME-WAIT for `timeWaitUs`, unless the replay holds its maximum of records (Linux: "time wait bucket
   * table overflow" → CLOSED). `decideNow`: the rest of this frame reads the outcome.
   */
  toStateOrTimeWait(e: Endpoint, to: StateNo, decideNow = false): void {
    if (to !== St.TIME_WAIT) {
      this.setState(e, to);
      return;
    }
    const until = this.now + this.o.timeWaitUs;
    const h = this.o.hooks;
    let seq = -1;
    let settled = true;
    if (h === undefined) {
      if (this.timeWait.full) {
        this.overflow(e);
        return;
      }
    } else {
      // A parallel replay: the table is counted over every shard, so tw-share.ts decides. Meanwhile the
      // end is in TIME-WAIT, and its connection settles the admission before anything reads it again
      // (settle); a record this one would replace must be settled first, and a caller reading the
      // outcome at once waits for it.
      let old = this.timeWait.lookupOf(e);
      if (old !== undefined && old.ep !== null && old.ep.conn.twPending) {
        this.settle(old.ep.conn);
        old = this.timeWait.lookupOf(e);
      }
      seq = h.timeWaitAttempt(e, this.now, until);
      settled = decideNow || old !== undefined;
      if (settled && !h.timeWaitDecision(seq)) {
        this.overflow(e);
        return;
      }
    }
    // The socket leaves its host's index; a TIME-WAIT record takes its 4-tuple (Linux tcp_time_wait).
    if (e.hashed) this.unhashEp(e);
    this.closeFd(e);
    this.setState(e, St.TIME_WAIT);
    e.tw = this.timeWait.add(e, until);
    if (until < this.nextDue) this.nextDue = until;
    e.tw.seq = seq;
    if (!settled) {
      e.twPending = seq;
      e.conn.twPending = true;
    }
  }

  /** No room for a TIME-WAIT record: straight to CLOSED, its last ACK still allowed (machine.ts). */
  private overflow(e: Endpoint): void {
    this.toClosed(e);
    e.twOverflow = true;
  }

  /** A parallel replay: settles the TIME-WAIT admissions of `c`'s ends before anything reads them. */
  settle(c: Conn): void {
    c.twPending = false;
    this.settleEnd(c.client);
    this.settleEnd(c.server);
  }

  private settleEnd(e: Endpoint): void {
    const seq = e.twPending;
    if (seq < 0) return;
    e.twPending = -1;
    if ((this.o.hooks as TrackerHooks).timeWaitDecision(seq)) return;
    // Turned away: as if it had gone to CLOSED at once (its record was never counted). The record waits
    // in the expiry queue until its time: it must not hold the connection that long.
    const tw = e.tw;
    if (tw !== null) {
      this.timeWait.remove(tw, true);
      tw.ep = null;
      e.tw = null;
    }
    this.overflow(e);
  }

  /**
   * A frame reaches a connection whose TIME-WAIT admissions are not settled. A bare ACK sent by the
   * unsettled end to a settled peer does the same with either answer (machine.ts: TIME-WAIT and an
   * overflowed CLOSED both let it pass, and it changes neither) — the last ACK of a close, an RTT after
   * the admission, when the answer may not be in yet — so it goes through and only its verdict waits.
   */
  private touch(s: Endpoint, f: FrameSeg): void {
    if ((f.flags & (SYN | FIN | RST)) === 0 && f.len === 0 && s.twPending >= 0 && s.peer.twPending < 0) {
      (this.o.hooks as TrackerHooks).timeWaitDeferred(s);
      return;
    }
    this.settle(s.conn);
  }

  /** Settles every connection (before the socket tables are read). */
  settleAll(): void {
    for (const c of this.unreported()) if (c.twPending) this.settle(c);
  }

  private resetSeq(e: Endpoint): void {
    e.issKnown = false;
    e.sndKnown = false;
    e.finSent = false;
    e.ackKnown = false;
    e.wscale = -1;
  }

  private allocFd(e: Endpoint): void {
    if (e.fd >= 0) return;
    const fd = e.host.fds.alloc(e);
    if (typeof fd !== 'number') {
      e.conn.anomaly('emfile');
      return;
    }
    e.fd = fd;
    if (e.isClient) e.conn.clientFd = fd;
    else e.conn.serverFd = fd;
    this.o.hooks?.fdOpened(e, fd);
  }

  private hashEp(e: Endpoint): void {
    if (e.hashed) return;
    // A TIME-WAIT record of a connection already reported yields its 4-tuple to a new socket (Linux
    // recycles it for a SYN, tcp_twsk_unique lets connect() reuse it).
    const tw = this.timeWait.lookupOf(e);
    if (tw !== undefined && tw.ep === null) this.timeWait.remove(tw);
    if (!e.host.hash(e)) {
      e.conn.anomaly('tuple-in-use');
      return;
    }
    e.hashed = true;
  }

  private unhashEp(e: Endpoint): void {
    e.host.unhash(e);
    e.hashed = false;
  }

  // ---------------------------------------------------------------------------------------------------
  // Indexes and expiry

  /**
   * Index a connection under its 4-tuple, once for both directions: the end that sorts first (lower
   * address, then port) is named first. A second connection on the same 4-tuple, on another link, goes
   * on the first one's alias list, right after it.
   */
  private index(c: Conn): void {
    const a = c.client;
    const z = c.server;
    c.clientFirst = a.host.v6 ? wordsFirst(a.host, a.port, z.host, z.port) : endFirst(a.host.w3, a.port, z.host.w3, z.port);
    c.lingerIndexed = false;
    this.link(c);
  }

  /** Into its table (`lingerIndexed` says which). */
  private link(c: Conn): void {
    // Nearly always the 4-tuple is free: the insert, which fails when it is not, is the only probe.
    if (this.putHead(c)) return;
    const head = this.headOf(c) as Conn;
    c.alias = head.alias;
    head.alias = c;
  }

  private unindex(c: Conn): void {
    // Nearly always the head of its 4-tuple: the removal, which only takes `c`, is the only probe.
    if (this.dropHead(c)) {
      if (c.alias !== null) this.putHead(c.alias);
    } else {
      const head = this.headOf(c);
      for (let p = head ?? null; p !== null; p = p.alias) {
        if (p.alias === c) {
          p.alias = c.alias;
          break;
        }
      }
    }
    c.alias = null;
  }

  private headOf(c: Conn): Conn | undefined {
    const t = c.lingerIndexed ? this.closedConns : this.conns;
    const e = c.clientFirst ? c.client : c.server;
    const a = e.host;
    const z = e.peer.host;
    return a.v6 ? t.lookupV6Words(a.i0, a.i1, a.i2, a.i3, e.port, z.i0, z.i1, z.i2, z.i3, e.peer.port, 0) : t.lookupV4(a.i3, e.port, z.i3, e.peer.port, 0);
  }

  /** `c` heads its 4-tuple's entry; false (nothing changed) when another connection does. */
  private putHead(c: Conn): boolean {
    const t = c.lingerIndexed ? this.closedConns : this.conns;
    const e = c.clientFirst ? c.client : c.server;
    const a = e.host;
    const z = e.peer.host;
    if (a.v6) return t.hashV6Words(a.i0, a.i1, a.i2, a.i3, e.port, z.i0, z.i1, z.i2, z.i3, e.peer.port, 0, c);
    return t.hashV4(a.i3, e.port, z.i3, e.peer.port, 0, c);
  }

  /** Takes the 4-tuple's entry out if `c` heads it; false (nothing changed) when it does not. */
  private dropHead(c: Conn): boolean {
    const t = c.lingerIndexed ? this.closedConns : this.conns;
    const e = c.clientFirst ? c.client : c.server;
    const a = e.host;
    const z = e.peer.host;
    if (a.v6) return t.unhashV6Words(a.i0, a.i1, a.i2, a.i3, e.port, z.i0, z.i1, z.i2, z.i3, e.peer.port, 0, c) !== undefined;
    return t.unhashV4(a.i3, e.port, z.i3, e.peer.port, 0, c) !== undefined;
  }

  /**
   * A closed connection waits `closeLingerUs` for stragglers before it is reported, in the table of
   * lingering connections (it stays there if a straggler opens it again: both tables are searched).
   */
  private linger(c: Conn): void {
    if (!c.lingerIndexed) {
      this.unindex(c);
      c.lingerIndexed = true;
      this.link(c);
    }
    c.lingering = true;
    const at = c.lastUs + this.o.closeLingerUs;
    this.lingerQ.push(c, at);
    if (at < this.nextDue) this.nextDue = at;
  }

  /**
   * Ends the TIME-WAITs and lingers that are due at `now`, in the order of their deadlines (a TIME-WAIT
   * first on a tie): the outcome is the same however the time between two frames is cut up — one jump
   * to the next frame (a file), or the ticks of a live clock in between.
   */
  private expire(): void {
    const now = this.now;
    const due = this.due;
    for (;;) {
      const twAt = this.timeWait.nextAt();
      const lingerAt = this.lingerQ.nextAt();
      if (twAt > now && lingerAt > now) {
        this.nextDue = twAt < lingerAt ? twAt : lingerAt;
        break;
      }
      if (twAt <= lingerAt) this.endTimeWait(this.timeWait.popDue(now) as TwSock);
      else this.endLinger(this.lingerQ.popDue(now) as Conn, lingerAt, due);
    }
    if (due.length === 0) return;
    // Connections due at one step of the clock are reported in id order (a parallel replay merges its
    // shards' reports at one frame by id; nothing else depends on the order).
    if (due.length > 1) due.sort(byId);
    for (let i = 0; i < due.length; i++) {
      const c = due[i] as Conn;
      c.due = false;
      this.finalize(c);
    }
    due.length = 0;
    // A TIME-WAIT that ended after its connection's linger, in the same step, ends after the report: as
    // when the clock stops between the two (a live capture's ticks), the record shows the end in TIME-WAIT.
    const tws = this.dueTw;
    for (let i = 0; i < tws.length; i++) {
      const tw = tws[i] as TwSock;
      this.closeTimeWait(tw);
      this.timeWait.release(tw);
    }
    tws.length = 0;
  }

  /** A TIME-WAIT is up; its record, out of the table, is kept for reuse once nothing reads it any more. */
  private endTimeWait(tw: TwSock): void {
    const e = tw.ep;
    if (e !== null && e.conn.twPending) this.settle(e.conn);
    // Turned away: the end has been CLOSED since it asked.
    if (e === null || e.tw !== tw) this.timeWait.release(tw);
    // Not released yet: read after the report.
    else if (e.conn.due) this.dueTw.push(tw);
    else {
      this.closeTimeWait(tw);
      this.timeWait.release(tw);
    }
  }

  private closeTimeWait(tw: TwSock): void {
    const e = tw.ep;
    if (e === null) return;
    e.tw = null;
    this.toClosed(e);
    const c = e.conn;
    if (!c.finalized && c.closed && !c.lingering) this.linger(c);
  }

  /**
   * A linger queued for `at` is up; a frame since then (a straggler) moved the end: it waits again, from
   * its last frame. Otherwise the connection is due: reported after the loop, with the others due by now.
   */
  private endLinger(c: Conn, at: number, due: Conn[]): void {
    c.lingering = false;
    if (c.finalized) {
      // Reported while it lingered (its 4-tuple was reused): the queue held the last reference.
      this.recycle(c);
      return;
    }
    if (!c.closed) return;
    if (c.lastUs + this.o.closeLingerUs > at) this.linger(c);
    else if (!c.due) {
      c.due = true;
      due.push(c);
    }
  }

  /** Reports a connection: its record goes out, its indexes and view are dropped; a TIME-WAIT end stays in its host until it expires. */
  finalize(c: Conn): void {
    if (c.finalized) return;
    if (c.twPending) this.settle(c);
    c.finalized = true;
    this.unreportedCount--;
    this.unindex(c);
    this.o.onConnection(this.record(c));
    const view = c.view;
    c.view = null;
    view?.release?.();
    this.letGo(c.client);
    this.letGo(c.server);
    c.client.host.refs--;
    c.server.host.refs--;
    this.hosts.release(c.client.host);
    this.hosts.release(c.server.host);
    this.o.hooks?.finalized(c);
    if (!c.lingering) this.recycle(c);
  }

  /** A reported connection's end: a TIME-WAIT end lives on as its record only; anything else still open goes with the report. */
  private letGo(e: Endpoint): void {
    if (e.tw !== null) {
      e.tw.ep = null;
      e.tw = null;
    }
    if (e.hashed) this.unhashEp(e);
    if (e.inSynQueue && e.listener !== null) {
      e.inSynQueue = false;
      e.listener.synQueue--;
    }
    this.closeFd(e);
  }

  /** The end of the capture: every connection still open is reported as it stands, in id order. */
  finish(): void {
    const rest = this.unreported().sort(byId);
    for (const c of rest) this.finalize(c);
  }

  /** Every connection not yet reported (open or lingering), in no set order. */
  private unreported(): Conn[] {
    const out: Conn[] = [];
    for (const t of [this.conns, this.closedConns]) {
      for (const head of t.values()) for (let c: Conn | null = head; c !== null; c = c.alias) out.push(c);
    }
    return out;
  }

  private record(c: Conn): ConnectionRecord {
    const view = c.view;
    const rec: ConnectionRecord = {
      id: c.id,
      client: c.client.host.endpointText(c.client.port),
      server: c.server.host.endpointText(c.server.port),
      firstFrame: c.firstFrame,
      lastFrame: c.lastFrame,
      state: view === null ? null : view.state,
      history: view === null ? null : view.history,
      serverFd: c.serverFd,
      listenerFd: c.server.listener !== null && c.server.listener.fd >= 0 ? c.server.listener.fd : null,
      clientFd: c.clientFd,
      frames: c.frames,
      duration: Math.round(c.lastUs - c.firstUs) / 1e6,
      clientState: stateName(c.client.state),
      serverState: stateName(c.server.state),
      handshake: c.handshake,
      rst: { client: c.rstClient, server: c.rstServer },
      fin: { client: c.finClient, server: c.finServer },
      badChecksum: c.badChecksum,
      midstream: c.midstream,
      anomalies: c.anomalies === null ? [] : c.anomalies.slice(),
      anomalyCount: c.anomalyCount,
    };
    if (c.vlanClient !== null) rec.vlan = c.vlanClient;
    if (c.vlanServerSeen && !sameList(c.vlanClient, c.vlanServer)) rec.vlanReply = c.vlanServer ?? [];
    if (this.multiInterface) rec.interface = c.iface;
    return rec;
  }
}

/** The verdict of a frame of a connection already reported (from the frame's bytes: its hosts may be gone). */
function lateVerdict(f: FrameSeg, conn: number, step: DemuxStep, listenerFd: number, action: ObserveAction, state: DemuxRecord['state'], sender: DemuxRecord['sender']): DemuxRecord {
  const v6 = f.addrLen === 16;
  const host = v6 ? formatIpv6(f.b, f.dstOff) : formatIpv4(f.b, f.dstOff);
  const src = v6 ? formatIpv6(f.b, f.srcOff) : formatIpv4(f.b, f.srcOff);
  const ep = (a: string, p: number): string => (v6 ? `[${a}]:${p}` : `${a}:${p}`);
  return {
    frame: f.frame,
    host,
    step,
    fd: null,
    listenerFd: listenerFd >= 0 ? listenerFd : null,
    connection: conn,
    action,
    state,
    sender,
    socket: `${ep(host, f.dport)} <- ${ep(src, f.sport)}`,
    flags: formatTcpFlags(f.flags),
    late: true,
  };
}

function byId(a: Conn, b: Conn): number {
  return a.id - b.id;
}

const WSCALE_TEXT: readonly string[] = Array.from({ length: 15 }, (_, i) => `wscale ${i}`);

function vlanList(f: FrameSeg): number[] | null {
  if (f.vlanCount === 0) return null;
  return Array.from(f.vlanIds.subarray(0, f.vlanCount));
}

/** The end (address a, port p) sorts before or with (address b, port q): IPv4 addresses as uint32. */
function endFirst(a: number, p: number, b: number, q: number): boolean {
  return a < b || (a === b && p <= q);
}

/** endFirst for two IPv6 hosts' words. */
function wordsFirst(a: Host, p: number, b: Host, q: number): boolean {
  if (a.w0 !== b.w0) return a.w0 < b.w0;
  if (a.w1 !== b.w1) return a.w1 < b.w1;
  if (a.w2 !== b.w2) return a.w2 < b.w2;
  return endFirst(a.w3, p, b.w3, q);
}

/** endFirst for a frame's IPv6 source and destination, read from its header. */
function frameV6SrcFirst(dv: DataView, srcOff: number, sport: number, dstOff: number, dport: number): boolean {
  for (let i = 0; i < 12; i += 4) {
    const a = dv.getUint32(srcOff + i);
    const b = dv.getUint32(dstOff + i);
    if (a !== b) return a < b;
  }
  return endFirst(dv.getUint32(srcOff + 12), sport, dv.getUint32(dstOff + 12), dport);
}

function sameList(a: number[] | null, b: number[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
