/**
 * The Transmission Control Block (RFC 9293 §3.3.1) of one connection, plus the hooks it reports through.
 *
 * A Tcb is a plain record of state; the functions that act on it live one concern per file
 * (segment-arrives.ts, user-calls.ts, output.ts, timers.ts, listen.ts). Sequence variables carry the RFC
 * names in camelCase. A connection is driven like smoltcp's socket: `segmentArrives(tcb, seg, nowUs)`,
 * `pollAt(tcb)`, `poll(tcb, nowUs)`, and the user calls; every segment it sends goes to `hooks.output`
 * as it is made, every state change and dropped segment to `hooks.onEvent` (nothing is allocated for
 * events when there is no `onEvent`).
 */
import type { TcpRepr } from '../wire/tcp.js';
import { ByteRing, OutOfOrderQueue } from './buffers.js';
import type { Endpoint, Env } from './env.js';
import { linux, type Personality } from './personality.js';
import type { StateCause, TcpState } from './state.js';

/** Errors a connection reports to its user, named as the Linux errno they become. */
export type TcpError = 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EPIPE' | 'ENOTCONN' | 'EISCONN' | 'EALREADY';

/** Why a segment was dropped. */
export type DropReason =
  | 'closed'
  | 'listen-rst'
  | 'listen-ack'
  | 'listen-no-syn'
  | 'listen-syn-fin'
  | 'syn-sent-bad-ack'
  | 'syn-sent-rst-no-ack'
  | 'syn-sent-rst-bad-ack'
  | 'syn-sent-no-syn'
  | 'syn-sent-paws'
  | 'no-ack-rst-syn'
  | 'paws'
  | 'unacceptable-seq'
  | 'rst-out-of-window'
  | 'rst-not-exact'
  | 'syn-in-window'
  | 'no-ack'
  | 'ack-unacceptable'
  | 'ack-unsent'
  | 'ack-too-old'
  | 'syn-retransmit'
  | 'time-wait'
  | 'data-after-close'
  | 'bad-cookie'
  /** A valid cookie ACK while the listener's accept queue is full (Linux: listen overflow). */
  | 'accept-queue-full';

export type TcpEvent =
  | { type: 'state'; tcb: Tcb; from: TcpState; to: TcpState; cause: StateCause }
  | { type: 'drop'; tcb: Tcb; seg: TcpRepr; reason: DropReason };

/** Where a connection's output and events go; children share their listener's hooks. */
export interface TcbHooks {
  /**
   * Called with every segment the connection sends, in order, as it is made: the record is the only
   * allocation. Addresses are tcb.local → tcb.remote — except for the resets a LISTEN or CLOSED TCB
   * forms from an arriving segment (§3.10.7.1/2), which go back to that segment's sender (the caller
   * knows it; listenerSegment returns the reset instead). It must not feed a segment back into a TCB
   * synchronously: queue it.
   */
  output(seg: TcpRepr, tcb: Tcb): void;
  onEvent?: ((e: TcpEvent) => void) | undefined;
}

/** Per-connection settings, the socket options of the layer above; a listener's are copied into each child. */
export interface TcbConfig {
  personality: Personality;
  /** The MSS we advertise and never exceed: the route MTU minus IP and TCP headers (1460 for IPv4 on 1500). */
  mss: number;
  /** TCP_MAXSEG: caps the MSS in both directions; 0 when not set. */
  userMss: number;
  /** TCP_NODELAY: no Nagle delay for small segments. */
  nodelay: boolean;
  /** Receive space in window bytes (SO_RCVBUF as the window sees it); 0 for the personality's default. */
  rcvBuf: number;
  /** Send buffer size in bytes. */
  sndBuf: number;
  /** Limit on the connection attempt (FreeBSD TCP_KEEPINIT); null: none. Defaults to the personality's. */
  connectTimeoutUs: number | null;
}

export function defaultConfig(personality: Personality = linux, ipv6 = false): TcbConfig {
  return {
    personality,
    mss: ipv6 ? 1440 : 1460,
    userMss: 0,
    nodelay: false,
    rcvBuf: 0,
    sndBuf: 16384 * 4,
    connectTimeoutUs: personality.connectTimeoutUs,
  };
}

export interface TcbInit {
  env: Env;
  local: Endpoint;
  remote?: Endpoint;
  config?: Partial<TcbConfig>;
  hooks: TcbHooks;
}

/** The peer's options from the segment being processed (one per Tcb, reused). */
export interface SegOptions {
  mss: number;
  wscale: number;
  sackOk: boolean;
  hasTs: boolean;
  tsVal: number;
  tsEcr: number;
}

const NONE = -1;

export class Tcb {
  state: TcpState = 'CLOSED';
  readonly env: Env;
  readonly config: TcbConfig;
  readonly p: Personality;
  readonly hooks: TcbHooks;
  local: Endpoint;
  remote: Endpoint;
  /** Opened by a listener (acceptSyn): a SYN-RECEIVED reset returns it to nothing rather than refusing. */
  passive = false;
  /** What is driving the current call, for state-change events. */
  cause: StateCause = 'call';
  /** The time of the current call (µs). */
  now = 0;

  // ---- Send sequence space (RFC 9293 §3.3.1) ----
  iss = 0;
  sndUna = 0;
  /** Highest sequence number sent so far, plus one (RFC SND.NXT). */
  sndNxt = 0;
  /** Next sequence number to send when retransmitting after a timeout (go-back-N); equals sndNxt otherwise. */
  rtxNxt = 0;
  /** Send window in bytes (already scaled). */
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  sndUp = 0;
  /** Largest window the peer ever offered (MAX.SND.WND, RFC 5961 §5.2). */
  maxSndWnd = 0;

  // ---- Receive sequence space ----
  irs = 0;
  rcvNxt = 0;
  /** The window (bytes) in our last segment, counted from rcvWup. */
  rcvWnd = 0;
  /** RCV.NXT when we last advertised a window: the window's left edge as the peer sees it. */
  rcvWup = 0;
  rcvUp = 0;

  // ---- Options ----
  /** MSS we advertised. */
  advMss = 0;
  /** The peer's MSS (or the default when it sent none). */
  peerMss = 0;
  /** Largest payload we put in a segment: min(peer MSS, ours, TCP_MAXSEG) less the timestamp option. */
  sndMss = 536;
  /** Shift applied to windows we receive (the peer's wscale), 0 if scaling is off. */
  sndWscale = 0;
  /** Shift applied to windows we send. */
  rcvWscale = 0;
  /** The wscale we offered (or would offer) in our SYN/SYN-ACK. */
  offeredWscale = 0;
  /** Both sides sent a window scale option (RFC 7323 §2.2): the shifts above apply. */
  wscaleOk = false;
  tsOk = false;
  sackOk = false;
  /** TS.Recent (RFC 7323 §4.3) and when it was stored. */
  tsRecent = 0;
  tsRecentAtUs = 0;
  tsOffset = 0;
  /** TSval of our first SYN (Linux checks a SYN-ACK's TSecr against it). */
  synTsVal = 0;
  readonly rx: SegOptions = { mss: NONE, wscale: NONE, sackOk: false, hasTs: false, tsVal: 0, tsEcr: 0 };

  // ---- Buffers ----
  readonly sendBuf: ByteRing;
  /** Sequence number of sendBuf's first byte. */
  sndBufSeq = 0;
  /** The user has no more to send (CLOSE or shutdown(SHUT_WR)): a FIN follows the data. */
  finQueued = false;
  readonly rcvBuf: ByteRing;
  readonly ooo = new OutOfOrderQueue();
  /** Receive space in window bytes (what the buffers may hold). */
  rcvSpace: number;
  /** Linux rcv_ssthresh: the window grows from the initial one as data arrives (tcp_grow_window). */
  rcvSsthresh = 0;
  /** The peer's FIN has been received in order. */
  finReceived = false;
  /** The user called CLOSE: nothing will be read any more; new data is answered with a RST. */
  userClosed = false;
  /** CLOSE or shutdown(SHUT_WR) asked for before the connection was established. */
  closePending: 'none' | 'shutdown' | 'close' = 'none';
  error: TcpError | null = null;

  // ---- Timers: absolute deadlines in µs, -1 when off ----
  rtxAt = -1;
  persistAt = -1;
  delAckAt = -1;
  timeWaitAt = -1;
  finWait2At = -1;
  /** End of the connection attempt (FreeBSD keepinit). */
  connectDeadline = -1;

  // ---- Retransmission (RFC 6298) ----
  rto: number;
  srtt = 0;
  rttvar = 0;
  hasRtt = false;
  /** Retransmissions since the last forward progress. */
  retransmits = 0;
  /** When the first of those retransmitted segments was sent (Linux retrans_stamp), -1 if none. */
  rtxStampUs = -1;
  /** Karn's algorithm: one timed segment ending at rttSeq, sent at rttStartUs (-1: none). */
  rttSeq = 0;
  rttStartUs = -1;
  persistBackoff = 0;
  /** Zero-window probes sent without an answer (Linux icsk_probes_out). */
  probesOut = 0;
  /** Octets acknowledged so far (Linux bytes_acked, bounds the RFC 5961 §5 check). */
  bytesAcked = 0;

  // ---- Congestion (RFC 5681) ----
  cwnd = 0;
  ssthresh = 0x7fffffff;
  dupAcks = 0;
  /** End of the last sub-MSS segment sent (Linux snd_sml, for the Minshall variant of Nagle). */
  sndSml = 0;

  // ---- ACK generation ----
  ackPending = false;
  /** The segment being processed must be acknowledged at once (BSD TF_ACKNOW for a duplicate). */
  forceAck = false;
  /**
   * A duplicate to report in the first SACK block of the next ACK (RFC 2883 D-SACK), once; null when none.
   */
  dsack: [number, number] | null = null;
  /** Linux quick-ack credits: ACK every segment while > 0. */
  quick = 0;
  pingpong = false;
  /** Linux ATO (µs); 0 until the first data segment. */
  ato = 0;
  /** Last time data was received. */
  lrcvUs = 0;
  /** Linux icsk_ack.rcv_mss: our guess of the peer's segment size. */
  rcvMss = 536;
  /** Challenge-ACK rate limit (RFC 5961 §7): window start and count. */
  chAckWindowUs = -1;
  chAckCount = 0;

  /**
   * For TIME-WAIT 'reopen': the ISN the new incarnation should use (Linux: SND.NXT + 65535 + 2), or 0
   * for a fresh one (FreeBSD).
   */
  reopenIsn = 0;
  /** Why the last segment was dropped (set by the step that dropped it). */
  dropReason: DropReason = 'closed';
  /** A listener's SYN-cookie secret (syncookies.ts), drawn at listen(). */
  cookieKey: [bigint, bigint] | null = null;

  constructor(init: TcbInit) {
    this.env = init.env;
    const ipv6 = init.local.addr.includes(':');
    this.config = { ...defaultConfig(init.config?.personality ?? linux, ipv6), ...init.config };
    this.p = this.config.personality;
    this.hooks = init.hooks;
    this.local = init.local;
    this.remote = init.remote ?? { addr: ipv6 ? '::' : '0.0.0.0', port: 0 };
    this.rcvSpace = this.config.rcvBuf > 0 ? this.config.rcvBuf : this.p.rcvSpace;
    this.sendBuf = new ByteRing(this.config.sndBuf);
    this.rcvBuf = new ByteRing(this.rcvSpace);
    this.rto = this.p.rtoInitialUs;
  }

  /** Bytes waiting to be read. */
  get readable(): number {
    return this.rcvBuf.length;
  }

  /** Room in the send buffer. */
  get writable(): number {
    return this.finQueued ? 0 : this.sendBuf.free;
  }

  /** Sequence number just after the last byte the user gave us (where the FIN goes). */
  get dataEnd(): number {
    return (this.sndBufSeq + this.sendBuf.length) >>> 0;
  }

  /** The FIN has been sent (it occupies dataEnd). */
  get finSent(): boolean {
    return this.finQueued && this.sndNxt === ((this.dataEnd + 1) >>> 0);
  }

  /** Unscaled receive window left beyond RCV.NXT (Linux tcp_receive_window). */
  get rcvWindow(): number {
    const w = ((this.rcvWup + this.rcvWnd - this.rcvNxt) | 0);
    return w > 0 ? w : 0;
  }

  /** Our current TSval (RFC 7323 §5.4: a ms clock plus a per-connection offset). */
  tsVal(): number {
    return (Math.floor((this.now * this.p.tsHz) / 1_000_000) + this.tsOffset) >>> 0;
  }
}

/** RFC 9293 SEG.LEN: payload plus one for SYN and one for FIN. */
export function segLen(seg: TcpRepr): number {
  return seg.payload.length + (seg.flags & 0x02 ? 1 : 0) + (seg.flags & 0x01 ? 1 : 0);
}

/** Changes state and reports it. CLOSED and TIME-WAIT stop the timers that no longer apply. */
export function setState(tcb: Tcb, to: TcpState): void {
  const from = tcb.state;
  if (from === to) return;
  tcb.state = to;
  if (to === 'CLOSED' || to === 'TIME-WAIT') {
    tcb.rtxAt = -1;
    tcb.persistAt = -1;
    tcb.delAckAt = -1;
    tcb.finWait2At = -1;
    tcb.connectDeadline = -1;
    tcb.ackPending = false;
    if (to === 'CLOSED') tcb.timeWaitAt = -1;
  }
  const on = tcb.hooks.onEvent;
  if (on !== undefined) on({ type: 'state', tcb, from, to, cause: tcb.cause });
}

/** Reports a dropped segment (the reason is also left in tcb.dropReason). */
export function reportDrop(tcb: Tcb, seg: TcpRepr, reason: DropReason): void {
  tcb.dropReason = reason;
  const on = tcb.hooks.onEvent;
  if (on !== undefined) on({ type: 'drop', tcb, seg, reason });
}

/** Tears the connection down: CLOSED, buffers dropped, error kept for the user. */
export function closeConnection(tcb: Tcb, error: TcpError | null): void {
  if (error !== null && tcb.error === null) tcb.error = error;
  tcb.ooo.clear();
  setState(tcb, 'CLOSED');
}
