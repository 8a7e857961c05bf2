/**
 * Zeek's `conn_state` and `history` for one TCP connection, computed segment by segment with constant
 * memory. This re-states, in our own code, what Zeek (7.x/8.x: packet_analysis/protocol/tcp/TCP.cc,
 * TCPSessionAdapter.cc, analyzer/protocol/tcp/TCP_Endpoint.cc and TCP_Reassembler.cc, Conn.cc) does with
 * a packet, keeping only the parts that decide those two fields:
 *
 * - Each side is an endpoint with Zeek's seven states (INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL,
 *   ESTABLISHED, CLOSED, RESET) and its sequence bookkeeping (start/last/ack seq, wrap counts), moved by
 *   Zeek's UpdateStateMachine rules; `state` is `conn_state()` of base/protocols/conn/main.zeek applied to
 *   the two endpoint states (and, for REJ, the sizes Zeek derives from sequence numbers).
 * - History letters (upper case = originator, lower case = responder):
 *   'a d i q' (pure ACK, data, FIN+RST, SYN+FIN or SYN+RST) once per direction;
 *   's h f r' (SYN, SYN-ACK, FIN, RST, alone among SYN/FIN/RST) again whenever the relative sequence
 *   number differs from the last one of that kind from the same side (for FIN: sequence + payload);
 *   note that 's' and 'h' share one "seen" bit per side, as in Zeek;
 *   'c t w g' (bad checksum, retransmitted payload, zero window, content gap) counted: recorded at the
 *   1st, 10th, 100th, ... occurrence per side (Zeek's ScaledHistoryEntry, base 10);
 *   '^' when Zeek flips originator and responder: at the first packet when it is not a plain SYN and
 *   its source port is a likely server port (and the destination port is not, or both are and it is not
 *   a SYN-ACK and the source port is the lower), or later when a SYN answers a SYN-ACK seen first with
 *   the sequence number that SYN-ACK acknowledged.
 * - A segment with a bad checksum only records 'c' (Zeek does not process it for state) unless
 *   `ignoreChecksums` is set (zeek -C). A segment whose payload the capture cut (payloadCaptured <
 *   payloadLength) is not checksum-checked and its payload is not reassembled, as in Zeek.
 * - 'g' comes from a model of Zeek's reassembler (its block list, delivery point and trimming on
 *   acks): a gap is an acknowledged range that no segment carried, counted only while both sides are
 *   established or cleanly closing. At most MAX_BLOCKS blocks are kept per side (touching blocks merge
 *   first; past that the smallest hole is filled: the one place where this can count fewer gaps than
 *   Zeek, and only with more than 64 separate unacknowledged ranges).
 *
 * Not modelled (they belong to whoever groups segments into connections): Zeek's timers (a connection
 * attempt is dropped after 5 s without reply, a closed or reset one 5 s after its last packet, any after
 * 5 min idle; later packets then open a new Zeek connection), its port-reuse rule (a new SYN after close
 * opens a new connection). A segment whose TCP header the capture cut goes to `addHeaderCut`: Zeek
 * creates the connection from it but reads nothing else. A frame with a bad IPv4 header checksum never
 * reaches Zeek's TCP analysis (unless -C): leave it out.
 */
import type { ConnSegment } from './conn-events.js';
import { TcpFlags } from '../wire/tcp.js';

/** Zeek's conn_state values (base/protocols/conn/main.zeek). */
export type ZeekConnState = 'S0' | 'S1' | 'SF' | 'REJ' | 'S2' | 'S3' | 'RSTO' | 'RSTR' | 'RSTOS0' | 'RSTRH' | 'SH' | 'SHR' | 'OTH';

/** Zeek's TCP endpoint states (analyzer/protocol/tcp/TCP_Endpoint.h EndpointState). */
const ZeekEndpointState = {
  INACTIVE: 0,
  SYN_SENT: 1,
  SYN_ACK_SENT: 2,
  PARTIAL: 3,
  ESTABLISHED: 4,
  CLOSED: 5,
  RESET: 6,
} as const;
type ZeekEndpointStateValue = (typeof ZeekEndpointState)[keyof typeof ZeekEndpointState];

const ENDPOINT_STATE_NAMES = ['INACTIVE', 'SYN_SENT', 'SYN_ACK_SENT', 'PARTIAL', 'ESTABLISHED', 'CLOSED', 'RESET'] as const;
export type ZeekEndpointStateName = (typeof ENDPOINT_STATE_NAMES)[number];

const S = ZeekEndpointState;

/**
 * TCP server ports that Zeek's default scripts (base/protocols/*) add to `likely_server_ports`, as
 * compiled for synack from those scripts (HTTP, SSL/TLS, SSH, FTP/GridFTP, SMTP, POP3, IMAP, DNS, IRC,
 * DCE-RPC, SMB, Kerberos, LDAP, MySQL, PostgreSQL, Redis, RDP, Modbus, DNP3, MQTT, SOCKS, XMPP,
 * Finger). The exact set depends on the Zeek version and the scripts loaded; pass your own when it
 * matters.
 */
export const ZEEK_LIKELY_SERVER_PORTS: ReadonlySet<number> = new Set([
  21, 22, 25, 53, 79, 80, 81, 88, 110, 135, 139, 143, 389, 443, 445, 502, 563, 585, 587, 614, 631, 636,
  989, 990, 992, 993, 995, 1080, 1434, 1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 5432, 6379,
  6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
]);

export interface ZeekConnOptions {
  /** Process segments with bad checksums like good ones, as `zeek -C` does. Default: false (Zeek's default). */
  ignoreChecksums?: boolean;
  /**
   * The client's and the server's port. With both, the first segment may flip roles by Zeek's
   * likely-server-port heuristic (history '^'); without them that heuristic is off, as if
   * `likely_server_ports` were empty.
   */
  clientPort?: number;
  serverPort?: number;
  /** Ports the heuristic treats as servers (default ZEEK_LIKELY_SERVER_PORTS). */
  likelyServerPorts?: ReadonlySet<number>;
}

/** Zeek's TOO_LARGE_SEQ_DELTA: SYN/RST sequence jumps beyond this are not trusted. */
const TOO_LARGE_SEQ_DELTA = 1048576;
/** Zeek defaults (base/init-bare.zeek) that stop reassembly of one direction, and with it gap reports. */
const TCP_MAX_ABOVE_HOLE_WITHOUT_ANY_ACKS = 16384;
const TCP_EXCESSIVE_DATA_WITHOUT_FURTHER_ACKS = 10 * 1024 * 1024;
const TCP_MAX_INITIAL_WINDOW = 16384;
/** Blocks of unacknowledged data kept per direction (constant memory); see mergeBlocks. */
const MAX_BLOCKS = 64;
/** History beyond this many letters is dropped (Zeek has no limit; we promise constant memory). */
export const ZEEK_MAX_HISTORY = 1024;

// History "seen" bits (TCP_Endpoint.h); the responder's are shifted left by 16.
const HIST_SYN_PKT = 0x1;
const HIST_FIN_PKT = 0x2;
const HIST_RST_PKT = 0x4;
const HIST_FIN_RST_PKT = 0x8;
const HIST_DATA_PKT = 0x10;
const HIST_ACK_PKT = 0x20;
const HIST_MULTI_FLAG_PKT = 0x40;

/** Every history letter; a letter's code is its index + 1 (0: none), five bits in the packed history. */
const HISTORY_LETTERS = '^SHADFRCTWGIQshadfrctwgiq';
/** The originator's letter codes (index + 1 in HISTORY_LETTERS); the responder's is the code + LOWER. */
const H = { FLIP: 1, S: 2, H: 3, A: 4, D: 5, F: 6, R: 7, C: 8, T: 9, W: 10, G: 11, I: 12, Q: 13 } as const;
const LOWER = 12;
/** The counted letters, ScaledHistoryEntry's (per side): their index in Endpoint.counts is code - H.C. */
type CountedCode = typeof H.C | typeof H.T | typeof H.W | typeof H.G;
/** History strings already made, by their packed form (histories of up to 10 letters). */
const HISTORY_STRINGS = new Map<number, string>();
const HISTORY_STRINGS_MAX = 4096;
/** Letters kept packed (4 words of 6); the rest of a longer history is a string. */
const HIST_PACKED = 24;

/** The flags that pick addAck's path: ACK alone among SYN, FIN, RST and ACK. */
const ACK_AND_CONTROL = TcpFlags.ACK | TcpFlags.SYN | TcpFlags.FIN | TcpFlags.RST;

const TWO_32 = 4294967296;
const TWO_64 = 2 ** 64;

/** Signed 32-bit difference of two sequence numbers (Zeek's seq_delta). */
function seqDelta(a: number, b: number): number {
  return (a - b) | 0;
}

/** A relative sequence number as the uint64 Zeek holds: negative values (underflow) wrap to huge ones. */
function u64(x: number): number {
  return x < 0 ? x + TWO_64 : x;
}

/** Zeek's RSTOS0 test on the history: an exact match of /\^?S[^HAFGIQ]*R.*\/. */
const RSTOS0_HISTORY = /^\^?S[^HAFGIQ]*R/;

/**
 * Zeek's block list as [start0, end0, start1, end1, ...]: `length` words, the first block's two in the
 * object itself, the rest in an array that only grows. Inserting and trimming (every data segment and
 * every ack) make no garbage, as splice would, and a side holding one block at a time (nearly every
 * connection) touches no array at all.
 */
class BlockList {
  length = 0;
  private b0 = 0;
  private b1 = 0;
  /** Words 2, 3, ... at 0, 1, ... */
  private more: number[] | null = null;

  get(i: number): number {
    return i === 0 ? this.b0 : i === 1 ? this.b1 : ((this.more as number[])[i - 2] as number);
  }

  private set(i: number, v: number): void {
    if (i === 0) this.b0 = v;
    else if (i === 1) this.b1 = v;
    else {
      const m = (this.more ??= []);
      while (m.length < i - 1) m.push(0);
      m[i - 2] = v;
    }
  }

  /** Inserts the words a, b at i. */
  insert2(i: number, a: number, b: number): void {
    const n = this.length;
    for (let k = n - 1; k >= i; k--) this.set(k + 2, this.get(k));
    this.set(i, a);
    this.set(i + 1, b);
    this.length = n + 2;
  }

  /** Removes `count` words from i. */
  remove(i: number, count: number): void {
    const n = this.length;
    for (let k = i + count; k < n; k++) this.set(k - count, this.get(k));
    this.length = n - count;
  }

  clear(): void {
    this.length = 0;
  }
}

/**
 * One side of a connection. Its block list is in its own fields (it extends BlockList; `blocks` is
 * itself): one object per side instead of three, since every data segment and ack reads the list.
 * Fields are declared in the order an ack or data segment reads them: a million connections' views do
 * not stay in the CPU's caches, and the fields a segment reads then come in as few cache lines as may be.
 */
class Endpoint extends BlockList {
  state: ZeekEndpointStateValue = S.INACTIVE;
  // Sequence bookkeeping (uint32 values; start_seq is only ever set from uint32 values), each held as
  // an int32 (its 32 bits, a small integer in the object rather than a heap number) and read as uint32.
  private _lastSeq = 0;
  seqWraps = 0;
  private _startSeq = 0;
  private _ackSeq = 0;
  ackWraps = 0;
  windowScale = 0;
  // Reassembler model (relative sequence numbers, as Zeek's TCP_Reassembler keeps them).
  trimSeq = 1;
  lastReassem = 1;
  skipDeliveries = false;
  finCnt = 0;
  /** Relative sequence number one past the FIN. */
  finSeq = 0;
  prevState: ZeekEndpointStateValue = S.INACTIVE;
  peer!: Endpoint;
  histLastSyn = 0;
  histLastFin = 0;
  histLastRst = 0;
  /**
   * ScaledHistoryEntry counters (at code - H.C) and next thresholds (4 further on), uint32 values as
   * Zeek's; made at the first counted letter (most connections have none: a million views stay small).
   */
  counts: number[] | null = null;
  /** Zeek's block list: data received and not yet acknowledged, sorted and disjoint (see BlockList). */
  get blocks(): BlockList {
    return this;
  }

  get startSeq(): number {
    return this._startSeq >>> 0;
  }

  set startSeq(v: number) {
    this._startSeq = v | 0;
  }

  get lastSeq(): number {
    return this._lastSeq >>> 0;
  }

  set lastSeq(v: number) {
    this._lastSeq = v | 0;
  }

  get ackSeq(): number {
    return this._ackSeq >>> 0;
  }

  set ackSeq(v: number) {
    this._ackSeq = v | 0;
  }

  /** As new (ZeekConn.reset): every field back to its initial value, the block list kept empty. */
  reset(): void {
    this.state = S.INACTIVE;
    this.prevState = S.INACTIVE;
    this.startSeq = 0;
    this.lastSeq = 0;
    this.ackSeq = 0;
    this.seqWraps = 0;
    this.ackWraps = 0;
    this.windowScale = 0;
    this.finCnt = 0;
    this.finSeq = 0;
    this.histLastSyn = 0;
    this.histLastFin = 0;
    this.histLastRst = 0;
    // Dropped, not zeroed: reset only writes, and a write to an object that left the CPU's caches does
    // not wait for it as a read would (few connections count letters; they make a new array).
    this.counts = null;
    this.lastReassem = 1;
    this.trimSeq = 1;
    this.skipDeliveries = false;
    this.blocks.clear();
  }

  setState(s: ZeekEndpointStateValue): void {
    if (s === this.state) return;
    this.prevState = this.state;
    this.state = s;
  }

  toRelative(seq: number, wraps: number): number {
    return wraps * TWO_32 + seq - this.startSeq;
  }

  updateLastSeq(seq: number): void {
    if (seq < this.lastSeq) this.seqWraps++;
    this.lastSeq = seq;
  }

  updateAckSeq(seq: number): void {
    if (seq < this.ackSeq) this.ackWraps++;
    this.ackSeq = seq;
  }

  /** None of this side's data acknowledged (one octet allowed, for the SYN). */
  noDataAcked(): boolean {
    const ack = this.ackWraps * TWO_32 + this.ackSeq;
    return ack === this.startSeq || ack === this.startSeq + 1;
  }

  /** Payload bytes as Zeek derives them from sequence numbers (TCP_Endpoint::Size); only its zero-ness is used. */
  size(): number {
    if (this.prevState === S.SYN_SENT && this.state === S.RESET && this.peer.state === S.INACTIVE && !this.noDataAcked()) return 0;
    const last = this.seqWraps * TWO_32 + this.lastSeq;
    const ack = this.ackWraps * TWO_32 + this.ackSeq;
    let size = (last > ack ? last : ack) - this.startSeq;
    if (size !== 0) size--;
    if (this.finCnt > 0 && size !== 0) size--;
    return size;
  }
}

/** Both sides established, or closed after being established (Zeek's established_or_cleanly_closing). */
function cleanlyOpen(a: Endpoint): boolean {
  return a.state === S.ESTABLISHED || (a.state === S.CLOSED && a.prevState === S.ESTABLISHED);
}

/**
 * Zeek's view of one TCP connection: feed it every segment in capture order with `add`, read `state`
 * and `history` at any time (they are what Zeek would log if the connection ended there).
 */
export class ZeekConn {
  // What every segment reads first (as in Endpoint, the order of the fields is the order of use).
  private readonly client = new Endpoint();
  private readonly server = new Endpoint();
  private started = false;
  /** Zeek's originator is the replay's client (false after a flip). */
  private origIsClient = true;
  /** Bit 1: a packet from the originator was processed; bit 2: from the responder (first_packet_seen). */
  private firstPacketSeen = 0;
  private histSeen = 0;
  /** Set by relativeSeq: the number fell before the side's start (Zeek's underflow flag). */
  private underflow = false;
  private ignoreChecksums = false;
  private isPartial = false;
  /**
   * The history, packed: letter codes (HISTORY_LETTERS) five bits each, six to a word, in h0..h3; letters
   * past the 24th in `histTail`. The string is made only when asked for (a replay of a million
   * connections asks once per connection, at its end).
   */
  private histLen = 0;
  private h0 = 0;
  private h1 = 0;
  private h2 = 0;
  private h3 = 0;
  private histTail = '';
  private histText: string | null = '';
  /** The client's endpoint state, and the server's shifted left by 3: what `state` reads. */
  private sideStates = 0;
  private clientPort: number | undefined = undefined;
  private serverPort: number | undefined = undefined;
  private likelyServerPorts: ReadonlySet<number> = ZEEK_LIKELY_SERVER_PORTS;

  constructor(options: ZeekConnOptions = {}) {
    this.client.peer = this.server;
    this.server.peer = this.client;
    this.reset(options);
  }

  /**
   * Starts over as a new ZeekConn with these options: the same object serves another connection (a
   * replay of millions of connections reuses its views instead of making garbage of them).
   */
  reset(options: ZeekConnOptions = {}): void {
    this.client.reset();
    this.server.reset();
    this.ignoreChecksums = options.ignoreChecksums ?? false;
    this.clientPort = options.clientPort;
    this.serverPort = options.serverPort;
    this.likelyServerPorts = options.likelyServerPorts ?? ZEEK_LIKELY_SERVER_PORTS;
    this.started = false;
    this.origIsClient = true;
    this.histSeen = 0;
    this.histLen = 0;
    this.h0 = 0;
    this.h1 = 0;
    this.h2 = 0;
    this.h3 = 0;
    this.histTail = '';
    this.histText = '';
    this.sideStates = 0;
    this.isPartial = false;
    this.firstPacketSeen = 0;
    this.underflow = false;
  }

  /** Zeek's history string (see the file comment for each letter). */
  get history(): string {
    if (this.histText !== null) return this.histText;
    // Up to 10 letters the packed words are one exact number (codes are never 0, so it says the
    // length too): the same history of a million connections is one string.
    const key = this.histLen <= 10 ? this.h0 + this.h1 * 2 ** 30 : -1;
    if (key >= 0) {
      const known = HISTORY_STRINGS.get(key);
      if (known !== undefined) return (this.histText = known);
    }
    let s = '';
    const n = this.histLen < HIST_PACKED ? this.histLen : HIST_PACKED;
    for (let i = 0; i < n; i++) {
      const w = i < 12 ? (i < 6 ? this.h0 : this.h1) : i < 18 ? this.h2 : this.h3;
      s += HISTORY_LETTERS[((w >>> (5 * (i % 6))) & 31) - 1] as string;
    }
    this.histText = s + this.histTail;
    if (key >= 0) {
      if (HISTORY_STRINGS.size >= HISTORY_STRINGS_MAX) HISTORY_STRINGS.clear();
      HISTORY_STRINGS.set(key, this.histText);
    }
    return this.histText;
  }

  /** Zeek's conn_state for the connection as it stands. */
  get state(): ZeekConnState {
    // From the view's copy of the sides' states: a replay asks when the connection has long left the
    // CPU's caches, and the sides' own objects are then two more misses (REJ's size test still reads them).
    const cs = (this.sideStates & 7) as ZeekEndpointStateValue;
    const ss = (this.sideStates >> 3) as ZeekEndpointStateValue;
    const os = this.origIsClient ? cs : ss;
    const rs = this.origIsClient ? ss : cs;
    const oInactive = os === S.INACTIVE || os === S.PARTIAL;
    const rInactive = rs === S.INACTIVE || rs === S.PARTIAL;
    if (rs === S.RESET) {
      if (os === S.SYN_SENT || os === S.SYN_ACK_SENT || (os === S.RESET && this.orig.size() === 0 && this.resp.size() === 0)) return 'REJ';
      return oInactive ? 'RSTRH' : 'RSTR';
    }
    if (os === S.RESET) {
      if (rInactive) return RSTOS0_HISTORY.test(this.history) ? 'RSTOS0' : 'OTH';
      return 'RSTO';
    }
    if (rs === S.CLOSED && os === S.CLOSED) return 'SF';
    if (os === S.CLOSED) return rInactive ? 'SH' : 'S2';
    if (rs === S.CLOSED) return oInactive ? 'SHR' : 'S3';
    if (os === S.SYN_SENT && rs === S.INACTIVE) return 'S0';
    if (os === S.ESTABLISHED && rs === S.ESTABLISHED) return 'S1';
    return 'OTH';
  }

  /** True while Zeek's originator (conn.log id.orig_h) is the replay's client; false once Zeek flipped roles. */
  get originatorIsClient(): boolean {
    return this.origIsClient;
  }

  /** Zeek's endpoint state of the originator and of the responder. */
  get origState(): ZeekEndpointStateName {
    return ENDPOINT_STATE_NAMES[this.orig.state];
  }

  get respState(): ZeekEndpointStateName {
    return ENDPOINT_STATE_NAMES[this.resp.state];
  }

  private get orig(): Endpoint {
    return this.origIsClient ? this.client : this.server;
  }

  private get resp(): Endpoint {
    return this.origIsClient ? this.server : this.client;
  }

  /**
   * A segment whose TCP header the capture cut (options missing): Zeek lets it open the connection,
   * so it may decide who the originator is, but processes nothing else of it.
   */
  addHeaderCut(seg: ConnSegment): void {
    this.begin(seg);
  }

  /**
   * One segment, in capture order. `payloadCaptured` is how many payload bytes the capture holds (less
   * than `seg.payloadLength` when the snap length cut the frame); Zeek neither checks the checksum of
   * such a segment nor reassembles its payload, so acknowledging it shows as a content gap.
   */
  add(seg: ConnSegment, payloadCaptured: number = seg.payloadLength): void {
    if ((seg.flags & ACK_AND_CONTROL) === TcpFlags.ACK && this.started && !seg.badChecksum && payloadCaptured >= seg.payloadLength && this.addAck(seg)) return;
    this.begin(seg);
    const isOrig = seg.fromClient === this.origIsClient;
    // Both sides from the view itself, not the peer through ep: two independent loads, which the CPU
    // can wait for at once when neither object is in its caches.
    const ep = seg.fromClient ? this.client : this.server;
    const peer = seg.fromClient ? this.server : this.client;
    const len = seg.payloadLength;
    const whole = payloadCaptured >= len;

    // TCPAnalyzer::ValidateChecksum: only verifiable (uncut) segments; a bad one stops here.
    if (seg.badChecksum && whole && !this.ignoreChecksums) {
      this.scaled(ep, H.C);
      return;
    }

    const f = seg.flags;
    const syn = (f & TcpFlags.SYN) !== 0;
    const fin = (f & TcpFlags.FIN) !== 0;
    const rst = (f & TcpFlags.RST) !== 0;
    const ack = (f & TcpFlags.ACK) !== 0;
    this.setPartialStatus(syn, ack, isOrig);

    const baseSeq = seg.seq >>> 0;
    const ackSeq = seg.ack >>> 0;
    let segLen = len + (syn ? 1 : 0) + (fin ? 1 : 0);
    if (rst) segLen -= len;
    const onePast = (baseSeq + segLen) >>> 0;

    // Sequence numbers go into the calls below as int32 (`| 0`, their 32 bits) and are made uint32 again
    // inside: a uint32 above 2^31 passed to a call V8 does not inline would be a heap number per call.
    this.initEndpoint(ep, syn, baseSeq | 0, onePast | 0);
    const relSeq = this.relativeSeq(ep, baseSeq | 0, ep.lastSeq | 0, ep.seqWraps);
    const seqUnderflow = this.underflow;

    this.updateHistory(ep, syn, fin, rst, ack, relSeq, len);
    this.updateWindow(ep, seg.window, rst);

    if (syn) {
      const scale = seg.windowScale ?? wscaleOf(seg.options);
      if (scale < 0) {
        ep.windowScale = 0;
        if (ack) peer.windowScale = 0;
      } else ep.windowScale = scale;
    }
    if (fin) {
      ep.finCnt++;
      ep.finSeq = relSeq + segLen;
    }

    let relAck = 0;
    if (ack) {
      if (peer.state === S.INACTIVE) {
        relAck = 1;
        // init_peer: number the peer as though its SYN had been seen.
        const s = (ackSeq - 1) >>> 0;
        peer.startSeq = s;
        peer.ackSeq = s;
        peer.lastSeq = s;
      } else {
        relAck = this.relativeSeq(peer, ackSeq | 0, peer.ackSeq | 0, peer.ackWraps);
        if (this.underflow) relAck = 0;
        else if (!rst) updateAckSeq(peer, ackSeq | 0); // acks in RSTs are not trusted
      }
    }

    this.updateLastSeq(ep, onePast | 0, syn, fin, rst, len);
    this.updateStateMachine(ep, peer, baseSeq | 0, len, isOrig, syn, fin, rst, ack);
    // Only the steps above move a side's state (addAck's segments never do).
    this.sideStates = this.client.state | (this.server.state << 3);

    if (ack) this.ackReceived(peer, relAck);
    this.firstPacketSeen |= isOrig ? 1 : 2;

    const relDataSeq = syn ? relSeq + 1 : relSeq;
    if (len > 0 && whole && !rst && !seqUnderflow) this.dataSent(ep, relDataSeq, len);
  }

  /**
   * The common segment, an ack with or without data (no SYN, FIN or RST), whole and with a good checksum,
   * once both sides are numbered and this side's first packet was seen: `add` with every step that cannot
   * apply left out (no role flip, no partial-status change, no endpoint (re)start, no state change).
   * Returns false, having changed nothing, when the segment needs the full path.
   */
  private addAck(seg: ConnSegment): boolean {
    // Both sides from the view itself, not the peer through ep: two independent loads, which the CPU
    // can wait for at once when neither object is in its caches.
    const ep = seg.fromClient ? this.client : this.server;
    const peer = seg.fromClient ? this.server : this.client;
    const isOrig = seg.fromClient === this.origIsClient;
    // An INACTIVE side is numbered or moved by this segment (initEndpoint, init_peer, updateInactive).
    if (ep.state === S.INACTIVE || peer.state === S.INACTIVE || (this.firstPacketSeen & (isOrig ? 1 : 2)) === 0) return false;
    const len = seg.payloadLength;
    const baseSeq = seg.seq >>> 0;
    const ackSeq = seg.ack >>> 0;
    const relSeq = this.relativeSeq(ep, baseSeq | 0, ep.lastSeq | 0, ep.seqWraps);
    const seqUnderflow = this.underflow;
    // Its letter ('D' or 'A') is nearly always seen already: the bit is tested here, without a call.
    const seen = len > 0 ? HIST_DATA_PKT : HIST_ACK_PKT;
    if ((this.histSeen & (isOrig ? seen : seen << 16)) === 0) this.checkHistory(ep, seen, len > 0 ? H.D : H.A);
    this.updateWindow(ep, seg.window, false);
    let relAck = this.relativeSeq(peer, ackSeq | 0, peer.ackSeq | 0, peer.ackWraps);
    if (this.underflow) relAck = 0;
    else updateAckSeq(peer, ackSeq | 0);
    // updateLastSeq without SYN, FIN or RST.
    if (ep.state !== S.RESET) {
      const onePast = (baseSeq + len) >>> 0;
      if (seqDelta(onePast, ep.lastSeq) > 0) ep.updateLastSeq(onePast);
      else if (len > 0) this.scaled(ep, H.T);
    }
    this.ackReceived(peer, relAck);
    if (len > 0 && !seqUnderflow) this.dataSent(ep, relSeq, len);
    return true;
  }

  // -------------------------------------------------------------------------------------------------
  // Roles

  /** The first packet's sender is Zeek's originator, unless the port heuristic flips the roles. */
  private begin(seg: ConnSegment): void {
    if (this.started) return;
    this.started = true;
    this.origIsClient = seg.fromClient;
    if (this.wantsFlip(seg)) this.flipRoles();
  }

  /** TCPAnalyzer::WantConnection: flip when the first packet looks like it came from the server. */
  private wantsFlip(seg: ConnSegment): boolean {
    if (this.clientPort === undefined || this.serverPort === undefined) return false;
    const syn = (seg.flags & TcpFlags.SYN) !== 0;
    const ack = (seg.flags & TcpFlags.ACK) !== 0;
    if (syn && !ack) return false;
    // The first sender is Zeek's originator until flipped.
    const src = seg.fromClient ? this.clientPort : this.serverPort;
    const dst = seg.fromClient ? this.serverPort : this.clientPort;
    if (!this.likelyServerPorts.has(src)) return false;
    // Both plausible: flip only if this isn't a SYN-ACK (stealth scans) and the source is the lower port.
    if (this.likelyServerPorts.has(dst)) return !syn && src < dst;
    return true;
  }

  /** Connection::FlipRoles: originator and responder swap (their letters change case) and '^' is recorded. */
  private flipRoles(): void {
    this.origIsClient = !this.origIsClient;
    this.addHistory(H.FLIP);
  }

  private setPartialStatus(syn: boolean, ack: boolean, isOrig: boolean): void {
    if (isOrig) {
      if ((this.firstPacketSeen & 1) === 0) this.isPartial = !syn || ack;
    } else if ((this.firstPacketSeen & 2) === 0 && !this.isPartial) {
      this.isPartial = !syn;
    }
  }

  // -------------------------------------------------------------------------------------------------
  // History

  /** Appends the letter with this code (H, + LOWER for the responder's). */
  private addHistory(code: number): void {
    const i = this.histLen;
    if (i >= ZEEK_MAX_HISTORY) return;
    this.histLen = i + 1;
    this.histText = null;
    if (i >= HIST_PACKED) {
      this.histTail += HISTORY_LETTERS[code - 1] as string;
      return;
    }
    const v = code << (5 * (i % 6));
    if (i < 6) this.h0 |= v;
    else if (i < 12) this.h1 |= v;
    else if (i < 18) this.h2 |= v;
    else this.h3 |= v;
  }

  /** `ep` is Zeek's originator. */
  private isOrig(ep: Endpoint): boolean {
    return (ep === this.client) === this.origIsClient;
  }

  /** The letter `code` (an originator's, from H) as `ep` sends it. */
  private endpointCode(ep: Endpoint, code: number): number {
    return this.isOrig(ep) ? code : code + LOWER;
  }

  /** Connection::CheckHistory: records the letter the first time; true when it was seen before. */
  private checkHistory(ep: Endpoint, mask: number, code: number): boolean {
    const m = this.isOrig(ep) ? mask : mask << 16;
    if ((this.histSeen & m) === 0) {
      this.histSeen |= m;
      this.addHistory(this.endpointCode(ep, code));
      return false;
    }
    return true;
  }

  /** Connection::ScaledHistoryEntry with base 10: the side's letter at its 1st, 10th, 100th ... time. */
  private scaled(ep: Endpoint, letter: CountedCode): void {
    const k = letter - H.C;
    const counts = (ep.counts ??= [0, 0, 0, 0, 1, 1, 1, 1]);
    const cnt = ((counts[k] as number) + 1) >>> 0;
    counts[k] = cnt;
    const thresh = counts[4 + k] as number;
    if (cnt !== thresh) return;
    this.addHistory(this.endpointCode(ep, letter));
    const next = (thresh * 10) >>> 0;
    // uint32 wrap-around: keep the threshold, restart the count.
    if (next <= thresh) counts[k] = 0;
    else counts[4 + k] = next;
  }

  private updateHistory(ep: Endpoint, syn: boolean, fin: boolean, rst: boolean, ack: boolean, relSeq: number, len: number): void {
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (bits > 1) {
      if (fin && rst) this.checkHistory(ep, HIST_FIN_RST_PKT, H.I);
      else this.checkHistory(ep, HIST_MULTI_FLAG_PKT, H.Q);
    } else if (bits === 1) {
      if (syn) {
        const code = ack ? H.H : H.S;
        if (this.checkHistory(ep, HIST_SYN_PKT, code) && relSeq !== ep.histLastSyn) this.addHistory(this.endpointCode(ep, code));
        ep.histLastSyn = relSeq;
      }
      if (fin) {
        // A FIN's sequence number is taken at the end of the data it carries.
        if (this.checkHistory(ep, HIST_FIN_PKT, H.F) && relSeq + len !== ep.histLastFin) this.addHistory(this.endpointCode(ep, H.F));
        ep.histLastFin = relSeq + len;
      }
      if (rst) {
        if (this.checkHistory(ep, HIST_RST_PKT, H.R) && relSeq !== ep.histLastRst) this.addHistory(this.endpointCode(ep, H.R));
        ep.histLastRst = relSeq;
      }
    } else if (len > 0) this.checkHistory(ep, HIST_DATA_PKT, H.D);
    else if (ack) this.checkHistory(ep, HIST_ACK_PKT, H.A);
  }

  /** update_window: only the zero-window report matters here. */
  private updateWindow(ep: Endpoint, window: number, rst: boolean): void {
    // The scaled window as Zeek computes it in 32 bits (x86 masks the shift count).
    const wnd = (window << (ep.windowScale & 31)) >>> 0;
    // Zero windows with or after a RST, or after the peer's FIN, are not interesting.
    if (wnd === 0 && !rst && ep.peer.state !== S.CLOSED && ep.state !== S.RESET) this.scaled(ep, H.W);
  }

  private gap(ep: Endpoint): void {
    // Only gaps while both sides are established or cleanly closing count (TCP_Reassembler::Gap).
    if (cleanlyOpen(ep) && cleanlyOpen(ep.peer)) this.scaled(ep, H.G);
  }

  // -------------------------------------------------------------------------------------------------
  // Sequence numbers


  /** get_relative_seq: `cur` relative to the side's start, across 32-bit wraps (`cur`, `last`: int32 bits). */
  private relativeSeq(ep: Endpoint, cur: number, last: number, wraps: number): number {
    cur >>>= 0;
    last >>>= 0;
    this.underflow = false;
    const delta = seqDelta(cur, last);
    if (delta < 0) {
      if (wraps > 0 && cur > last) wraps--; // part of the previous 32-bit space
    } else if (delta > 0) {
      if (cur < last) wraps++; // the space wrapped
    }
    if (wraps === 0) {
      const d = seqDelta(cur, ep.startSeq);
      if (d < 0) this.underflow = true;
      return d;
    }
    return ep.toRelative(cur, wraps);
  }

  /** init_endpoint: (re)start a side's numbering on its first packet or on a SYN (`first`, `lastSeq`: int32 bits). */
  private initEndpoint(ep: Endpoint, syn: boolean, first: number, lastSeq: number): void {
    first >>>= 0;
    lastSeq >>>= 0;
    switch (ep.state) {
      case S.INACTIVE:
        if (syn) {
          ep.ackSeq = first;
          ep.startSeq = first;
        } else {
          // A partial connection: number it as though a SYN had been seen, and do not call the first packet a duplicate.
          ep.ackSeq = (first - 1) >>> 0;
          ep.startSeq = (first - 1) >>> 0;
          lastSeq = first;
        }
        ep.lastSeq = lastSeq;
        break;
      case S.SYN_SENT:
      case S.SYN_ACK_SENT:
        if (syn && first !== ep.startSeq) restart(ep, first, lastSeq);
        break;
      case S.ESTABLISHED:
      case S.PARTIAL:
        // Guess that the connection was not established after all and this SYN sets it up.
        if (syn) restart(ep, first, lastSeq);
        break;
      case S.RESET:
        // Numbers set by a RST (possibly injected) give way to a SYN from the same side.
        if (syn && ep.prevState === S.INACTIVE) restart(ep, first, lastSeq);
        break;
      case S.CLOSED:
        break;
      default:
        unreachable(ep.state);
    }
  }

  /** update_last_seq: advance the side's highest sequence number; payload at or below it is a retransmission ('t'). */
  private updateLastSeq(ep: Endpoint, lastSeq: number, syn: boolean, fin: boolean, rst: boolean, len: number): void {
    lastSeq >>>= 0; // int32 bits in
    const delta = seqDelta(lastSeq, ep.lastSeq);
    if ((syn || rst) && (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA)) {
      // Untrusted jump.
    } else if (fin && ep.lastSeq === ((ep.startSeq + 1) >>> 0)) {
      // Only the SYN and the FIN seen (maybe a > 2 GB connection): take the FIN even if it goes back.
      ep.updateLastSeq(lastSeq);
    } else if (ep.state === S.RESET) {
      // Nothing after a RST is trusted.
    } else if (delta > 0) {
      ep.updateLastSeq(lastSeq);
    } else if (len > 0) {
      this.scaled(ep, H.T);
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Endpoint state machine (TCPSessionAdapter::UpdateStateMachine)

  private updateStateMachine(
    ep: Endpoint, peer: Endpoint, baseSeq: number, len: number, isOrig: boolean,
    syn: boolean, fin: boolean, rst: boolean, ack: boolean,
  ): void {
    baseSeq >>>= 0; // int32 bits in
    switch (ep.state) {
      case S.INACTIVE:
        this.updateInactive(ep, peer, baseSeq, len, isOrig, syn, fin, rst, ack);
        break;
      case S.SYN_SENT:
      case S.SYN_ACK_SENT:
        if (fin) ep.setState(S.CLOSED);
        if (rst) ep.setState(S.RESET);
        break;
      case S.ESTABLISHED:
      case S.PARTIAL:
        if (syn && ep.state === S.PARTIAL && peer.state === S.INACTIVE && !ack) ep.setState(S.SYN_SENT);
        if (fin && !rst) {
          ep.setState(S.CLOSED);
          // The peer's FIN then RST was a normal close after all.
          if (peer.state === S.RESET && peer.prevState === S.CLOSED) peer.setState(S.CLOSED);
        }
        if (rst) ep.setState(S.RESET);
        break;
      case S.CLOSED:
        // After a FIN exchange a RST changes nothing.
        if (rst && peer.state !== S.CLOSED) ep.setState(S.RESET);
        break;
      case S.RESET:
        break;
      default:
        unreachable(ep.state);
    }
  }

  private updateInactive(
    ep: Endpoint, peer: Endpoint, baseSeq: number, len: number, isOrig: boolean,
    syn: boolean, fin: boolean, rst: boolean, ack: boolean,
  ): void {
    baseSeq >>>= 0; // int32 bits in
    if (syn) {
      if (isOrig) ep.setState(ack ? S.SYN_ACK_SENT : S.SYN_SENT);
      else {
        if (!ack && peer.state === S.SYN_ACK_SENT && baseSeq === ep.startSeq) {
          // SYN and SYN-ACK were captured in reverse order: flip the roles and establish.
          this.isPartial = false;
          this.flipRoles();
          peer.setState(S.ESTABLISHED);
        }
        if (peer.state === S.SYN_SENT) peer.setState(S.ESTABLISHED);
        ep.setState(S.ESTABLISHED);
      }
    }
    if (fin) ep.setState(S.CLOSED);
    if (rst) ep.setState(S.RESET);
    if (ep.state === S.INACTIVE) {
      // No control flags changed the state.
      if (!isOrig && len === 0 && this.orig.state === S.SYN_SENT) {
        // Some TCPs ack the SYN before answering it: not a partial connection.
      } else if (ack && peer.state === S.ESTABLISHED) {
        // The SYN was missed but the SYN-ACK was not: establish.
        ep.setState(S.ESTABLISHED);
        this.isPartial = false;
      } else ep.setState(S.PARTIAL);
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Reassembler model (content gaps): Zeek's TCP_Reassembler over a bounded block list

  /** TCP_Reassembler::DataSent: `ep` sent [seq, seq+len) (relative). */
  private dataSent(ep: Endpoint, seq: number, len: number): void {
    if (ep.skipDeliveries) return;
    const acked = u64(ep.toRelative(ep.ackSeq, ep.ackWraps));
    const upper = seq + len;
    if (seq < acked) {
      if (upper <= acked) return; // delivered and acknowledged already
      seq = acked;
    }
    // Reassembler::NewBlock
    if (upper <= ep.trimSeq) return;
    if (seq < ep.trimSeq) seq = ep.trimSeq;
    if (ep.blocks.length === 0 && seq === ep.lastReassem) {
      // In order, nothing held (nearly every data segment): the new block is delivered at once, as
      // insertBlock and blockInserted would find.
      ep.blocks.insert2(0, seq, upper);
      ep.lastReassem = upper;
      if (ep.noDataAcked() && ep.size() > TCP_MAX_INITIAL_WINDOW) this.trimToSeq(ep, ep.lastReassem);
    } else {
      const at = insertBlock(ep.blocks, seq, upper);
      this.blockInserted(ep, blockIndex(ep.blocks, at));
      mergeBlocks(ep.blocks, ep.lastReassem);
    }
    // Zeek gives up reassembling a side that sends far ahead of a hole, or far beyond any ack.
    if (
      (ep.noDataAcked() && undeliveredBytes(ep) > TCP_MAX_ABOVE_HOLE_WITHOUT_ANY_ACKS) ||
      blockBytes(ep.blocks) > TCP_EXCESSIVE_DATA_WITHOUT_FURTHER_ACKS
    ) {
      ep.blocks.clear();
      ep.skipDeliveries = true;
    }
  }

  /** TCP_Reassembler::BlockInserted: deliver from the block at `i` when it reaches the delivered point. */
  private blockInserted(ep: Endpoint, i: number): void {
    const h = ep.blocks;
    if (i < 0 || h.get(i) > ep.lastReassem || h.get(i + 1) <= ep.lastReassem) return;
    for (let j = i; j < h.length; j += 2) {
      const s = h.get(j);
      if (s > ep.lastReassem) break;
      // Only a block that starts exactly at the delivered point is new data; one reaching over it is not.
      if (s === ep.lastReassem) ep.lastReassem = h.get(j + 1);
    }
    // Much data and no ack at all: stop holding what was delivered (tcp_max_initial_window).
    if (ep.noDataAcked() && ep.size() > TCP_MAX_INITIAL_WINDOW) this.trimToSeq(ep, ep.lastReassem);
  }

  /** TCP_Reassembler::AckReceived: the peer acknowledged `ep`'s data up to `seq` (relative). */
  private ackReceived(ep: Endpoint, seq: number): void {
    if (ep.finCnt > 0 && seq >= u64(ep.finSeq)) seq = ep.finSeq - 1; // the FIN octet is not data
    if (u64(seq) <= ep.trimSeq) return;
    this.trimToSeq(ep, seq);
  }

  /** DataBlockList::Trim: acknowledged data never delivered is reported, delivered blocks are freed. */
  private trimToSeq(ep: Endpoint, seq: number): void {
    if (seq > ep.lastReassem) this.undelivered(ep, seq);
    const h = ep.blocks;
    let n = 0;
    while (n < h.length && h.get(n + 1) <= seq) n += 2;
    if (n > 0) h.remove(0, n);
    // Skipping a hole may have made the first block deliverable.
    if (h.length > 0 && h.get(0) === ep.lastReassem) this.blockInserted(ep, 0);
    ep.trimSeq = seq;
  }

  /** TCP_Reassembler::Undelivered: every hole below `upTo` is a content gap. */
  private undelivered(ep: Endpoint, upTo: number): void {
    // A partial connection's faked ISN: the first ack complains about octet 1 (or 2 after a keep-alive).
    if (upTo <= 2 && this.isPartial) return;
    if (!ep.skipDeliveries) {
      const h = ep.blocks;
      let i = 0;
      while (i < h.length) {
        const s = h.get(i);
        if (s < ep.lastReassem) {
          i += 2; // delivered already (or reaching over the delivered point: never delivered)
          continue;
        }
        if (s >= upTo) break;
        this.gap(ep); // from the delivered point to this block (possibly of length 0)
        ep.lastReassem = s;
        this.blockInserted(ep, i);
        i = 0;
      }
      if (upTo > ep.lastReassem) this.gap(ep);
    }
    if (upTo > ep.lastReassem) ep.lastReassem = upTo;
  }
}

function restart(ep: Endpoint, first: number, lastSeq: number): void {
  ep.startSeq = first;
  ep.ackSeq = first;
  ep.lastSeq = lastSeq;
}

/** `ack`: int32 bits. */
function updateAckSeq(ep: Endpoint, ack: number): void {
  ack >>>= 0;
  const delta = seqDelta(ack, ep.ackSeq);
  // An ack of 0 far ahead is more likely broken than a wrap landing on 0.
  if (ack === 0 && delta > TOO_LARGE_SEQ_DELTA) return;
  if (delta > 0) ep.updateAckSeq(ack);
}

/**
 * DataBlockList::Insert: adds the parts of [seq, upper) no block holds, keeping blocks sorted and
 * disjoint. Returns the start of the block Zeek's Insert returns: the first new piece, or when the range
 * was held already, the last block it overlapped.
 */
function insertBlock(h: BlockList, seq: number, upper: number): number {
  let i = 0;
  while (i < h.length && h.get(i + 1) <= seq) i += 2;
  let firstNew = -1;
  let lastOld = -1;
  while (seq < upper) {
    if (i >= h.length || upper <= h.get(i)) {
      h.insert2(i, seq, upper);
      if (firstNew < 0) firstNew = seq;
      break;
    }
    const bs = h.get(i);
    const bu = h.get(i + 1);
    if (seq < bs) {
      h.insert2(i, seq, bs);
      if (firstNew < 0) firstNew = seq;
      i += 2;
      seq = bs;
    }
    lastOld = bs;
    if (bu >= upper) break;
    seq = bu;
    i += 2;
  }
  return firstNew >= 0 ? firstNew : lastOld;
}

function blockIndex(h: BlockList, start: number): number {
  for (let i = 0; i < h.length; i += 2) if (h.get(i) === start) return i;
  return -1;
}

/**
 * Keeps at most MAX_BLOCKS blocks: first merges two touching blocks on the same side of the delivered
 * point (delivery treats them alike), else fills the smallest hole between undelivered blocks (then
 * fewer gaps may be counted than Zeek would: the one approximation of this model).
 */
function mergeBlocks(h: BlockList, delivered: number): void {
  while (h.length > 2 * MAX_BLOCKS) {
    let pick = -1;
    for (let k = 0; k + 3 < h.length; k += 2) {
      const a0 = h.get(k);
      const a1 = h.get(k + 1);
      const b0 = h.get(k + 2);
      const b1 = h.get(k + 3);
      const straddles = (a0 < delivered && delivered < a1) || (b0 < delivered && delivered < b1);
      if (a1 === b0 && b0 !== delivered && !straddles) {
        pick = k;
        break;
      }
    }
    if (pick < 0) {
      let best = Infinity;
      for (let k = 0; k + 3 < h.length; k += 2) {
        const hole = h.get(k + 2) - h.get(k + 1);
        if (h.get(k) > delivered && hole < best) {
          best = hole;
          pick = k;
        }
      }
      if (pick < 0) pick = 0;
    }
    h.remove(pick + 1, 2);
  }
}

function blockBytes(h: BlockList): number {
  let n = 0;
  for (let k = 0; k < h.length; k += 2) n += h.get(k + 1) - h.get(k);
  return n;
}

/** NumUndeliveredBytes: from the delivered point to the end of the last block (uint64 in Zeek). */
function undeliveredBytes(ep: Endpoint): number {
  const n = ep.blocks.length;
  return n === 0 ? 0 : u64(ep.blocks.get(n - 1) - ep.lastReassem);
}

/** The window-scale shift of a SYN's options text ("..., wscale 7"), -1 when absent. */
function wscaleOf(options: string): number {
  const m = /(?:^|,)wscale (\d+)/.exec(options);
  return m === null ? -1 : Number(m[1]);
}

function unreachable(x: never): never {
  throw new Error(`unreachable: ${String(x)}`);
}
