/**
 * A listening TCB and the connections it spawns. As Linux (and lwIP) do it, a listener never changes
 * state: a SYN clones it into a child in SYN-RECEIVED that inherits its settings (MSS, buffers,
 * personality, TCP_NODELAY, hooks) and has already sent its SYN-ACK. The socket layer decides whether
 * there is room (backlog, SYN queue) and whether to answer with a SYN cookie instead.
 */
import { isIpv6 } from '../wire/address.js';
import { seqAdd } from '../wire/seq.js';
import { TcpFlags, type TcpRepr } from '../wire/tcp.js';
import type { Endpoint } from './env.js';
import { applyPeerSynOptions, prepareOffer } from './handshake.js';
import { layoutSynOptions, readOptions } from './options.js';
import { initialWindow, sendSyn } from './output.js';
import { resetFor } from './rst.js';
import { classifyForListener, segmentArrives } from './segment-arrives.js';
import {
  COOKIE_MSS_IPV4,
  COOKIE_MSS_IPV6,
  cookieTsOptions,
  cookieTsVal,
  decodeCookie,
  encodeCookie,
  mssIndex,
} from './syncookies.js';
import { reportDrop, setState, Tcb, type DropReason } from './tcb.js';

export interface AcceptOptions {
  /** The ISN to use instead of env.isn (a TIME-WAIT reopen: Tcb.reopenIsn). */
  isn?: number;
}

/** A child of `listener` for `syn`, with the addresses the SYN was sent between. */
function spawn(listener: Tcb, local: Endpoint, remote: Endpoint, nowUs: number): Tcb {
  const child = new Tcb({ env: listener.env, local, remote, config: listener.config, hooks: listener.hooks });
  child.passive = true;
  child.now = nowUs;
  child.cause = 'segment';
  // Born as a copy of the listener: the first state change reads LISTEN → SYN-RECEIVED.
  child.state = 'LISTEN';
  prepareOffer(child);
  return child;
}

function initFromSyn(child: Tcb, syn: TcpRepr, iss: number): void {
  child.irs = syn.seq;
  child.rcvNxt = seqAdd(syn.seq, 1);
  child.rcvWup = child.rcvNxt;
  child.rcvUp = child.rcvNxt;
  child.iss = iss;
  child.sndUna = iss;
  child.sndNxt = seqAdd(iss, 1);
  child.rtxNxt = child.sndNxt;
  child.sndBufSeq = child.sndNxt;
  child.sndSml = iss;
  child.sndUp = iss;
  // "The window field in a SYN segment itself is never scaled."
  child.sndWnd = syn.window;
  child.maxSndWnd = syn.window;
  child.sndWl1 = syn.seq;
  child.sndWl2 = iss;
}

/**
 * RFC 9293 §3.10.7.2 third ("check for a SYN"): "set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ ... ISS
 * should be selected and a SYN segment sent of the form <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. SND.NXT is
 * set to ISS+1 and SND.UNA to ISS. The connection state should be changed to SYN-RECEIVED." — on a
 * clone, the listener stays in LISTEN. Text in the SYN is not kept (no TCP Fast Open).
 */
export function acceptSyn(listener: Tcb, syn: TcpRepr, local: Endpoint, remote: Endpoint, nowUs: number, options: AcceptOptions = {}): Tcb {
  const child = spawn(listener, local, remote, nowUs);
  readOptions(syn, child.rx);
  const iss = options.isn !== undefined && options.isn !== 0 ? options.isn >>> 0 : listener.env.isn.isn(local, remote, nowUs) >>> 0;
  child.tsOffset = listener.env.isn.tsOffset(local, remote) >>> 0;
  initFromSyn(child, syn, iss);
  applyPeerSynOptions(child, child.rx);
  setState(child, 'SYN-RECEIVED');
  sendSyn(child, true);
  child.rcvSsthresh = child.rcvWnd;
  child.rttSeq = child.sndNxt;
  child.rttStartUs = nowUs;
  child.rtxAt = nowUs + child.rto;
  return child;
}

function cookieTable(local: Endpoint): readonly number[] {
  return isIpv6(local.addr) ? COOKIE_MSS_IPV6 : COOKIE_MSS_IPV4;
}

/**
 * The SYN-ACK of a SYN answered with a cookie (no child is kept). Like Linux, without timestamps to
 * carry them the SYN-ACK offers neither window scaling nor SACK (tcp_conn_request: "if (want_cookie &&
 * !tmp_opt.saw_tstamp) tcp_clear_options").
 */
export function synCookieReply(listener: Tcb, syn: TcpRepr, local: Endpoint, remote: Endpoint, nowUs: number): TcpRepr {
  const probe = spawn(listener, local, remote, nowUs);
  readOptions(syn, probe.rx);
  const rx = probe.rx;
  const table = cookieTable(local);
  const peerMss = rx.mss > 0 ? rx.mss : table[0] as number;
  const key = listener.cookieKey ?? [0n, 0n];
  const iss = encodeCookie(key, local, remote, syn.seq, mssIndex(peerMss, table), nowUs);
  probe.tsOffset = listener.env.isn.tsOffset(local, remote) >>> 0;
  const p = listener.p;
  const ts = p.timestamps && rx.hasTs;
  const wscaleOk = ts && p.windowScaling && rx.wscale >= 0;
  const sackOk = ts && p.sack && rx.sackOk;
  probe.tsOk = ts;
  const tsVal = ts ? cookieTsVal(probe.tsVal(), wscaleOk ? rx.wscale : -1, sackOk) : 0;
  const options = layoutSynOptions(p.optionLayout, {
    mss: probe.advMss,
    wscale: wscaleOk ? probe.offeredWscale : -1,
    sackOk,
    ts: ts ? { tsVal, tsEcr: rx.tsVal } : null,
  });
  return {
    srcPort: local.port,
    dstPort: remote.port,
    seq: iss,
    ack: seqAdd(syn.seq, 1),
    flags: TcpFlags.SYN | TcpFlags.ACK,
    window: initialWindow(probe, true),
    urgent: 0,
    options,
    payload: new Uint8Array(0),
  };
}

export type ListenerVerdict =
  /** A SYN: check the queues, then acceptSyn (or synCookieReply). */
  | { action: 'syn' }
  /** Send this reset (§3.10.7.2: an ACK-bearing segment to a listener). */
  | { action: 'rst'; reply: TcpRepr; reason: DropReason }
  | { action: 'drop'; reason: DropReason }
  /** A valid SYN-cookie ACK: the connection, already ESTABLISHED with this segment processed. */
  | { action: 'child'; child: Tcb };

const SYN_VERDICT: ListenerVerdict = { action: 'syn' };

/**
 * What a listener does with a segment (§3.10.7.2). With `cookies` (the socket layer recently sent
 * cookies, or always does), an ACK is first checked as the end of a cookie handshake. With
 * `acceptQueueFull`, a valid cookie ACK is dropped before any connection exists, unanswered: Linux
 * cookie_v4_check → syn_recv_sock fails on sk_acceptq_is_full (LINUX_MIB_LISTENOVERFLOWS) and the
 * segment is discarded, so the peer retransmits it (a cookie still validates a later copy of the first
 * segment, never a later one).
 */
export function listenerSegment(listener: Tcb, seg: TcpRepr, local: Endpoint, remote: Endpoint, nowUs: number, cookies = false, acceptQueueFull = false): ListenerVerdict {
  listener.now = nowUs;
  listener.cause = 'segment';
  const action = classifyForListener(seg);
  switch (action) {
    case 'syn':
      return SYN_VERDICT;
    case 'reset': {
      if (cookies && !(seg.flags & (TcpFlags.SYN | TcpFlags.RST))) {
        const child = cookieChild(listener, seg, local, remote, nowUs, acceptQueueFull);
        if (child === 'overflow') {
          reportDrop(listener, seg, 'accept-queue-full');
          return { action: 'drop', reason: 'accept-queue-full' };
        }
        if (child !== null) return { action: 'child', child };
      }
      const reply = resetFor(seg) as TcpRepr;
      const reason: DropReason = cookies ? 'bad-cookie' : 'listen-ack';
      reportDrop(listener, seg, reason);
      return { action: 'rst', reply, reason };
    }
    case 'drop-rst':
      reportDrop(listener, seg, 'listen-rst');
      return { action: 'drop', reason: 'listen-rst' };
    case 'drop-syn-fin':
      reportDrop(listener, seg, 'listen-syn-fin');
      return { action: 'drop', reason: 'listen-syn-fin' };
    case 'drop-other':
      reportDrop(listener, seg, 'listen-no-syn');
      return { action: 'drop', reason: 'listen-no-syn' };
    default: {
      const never: never = action;
      throw new Error(`unknown listener action ${String(never)}`);
    }
  }
}

/** Rebuilds the connection a cookie stands for and lets it process the ACK (Linux cookie_v4_check). */
function cookieChild(listener: Tcb, seg: TcpRepr, local: Endpoint, remote: Endpoint, nowUs: number, acceptQueueFull: boolean): Tcb | null | 'overflow' {
  if (listener.cookieKey === null) return null;
  const table = cookieTable(local);
  const synSeq = seqAdd(seg.seq, -1);
  const iss = seqAdd(seg.ack, -1);
  const ind = decodeCookie(listener.cookieKey, local, remote, synSeq, iss, nowUs, table.length);
  if (ind < 0) return null;
  const child = spawn(listener, local, remote, nowUs);
  readOptions(seg, child.rx);
  const rx = child.rx;
  let wscale = -1;
  let sackOk = false;
  if (rx.hasTs) {
    const o = cookieTsOptions(rx.tsEcr);
    if (o === null) return null;
    wscale = o.wscale;
    sackOk = o.sackOk;
  }
  if (acceptQueueFull) return 'overflow';
  child.tsOffset = listener.env.isn.tsOffset(local, remote) >>> 0;
  initFromSyn(child, { ...seg, seq: synSeq, window: seg.window }, iss);
  // The handshake options, as the SYN had them (the MSS rounded down to the table).
  const synOpts = { mss: table[ind] as number, wscale, sackOk, hasTs: rx.hasTs, tsVal: rx.tsVal, tsEcr: 0 };
  applyPeerSynOptions(child, synOpts);
  child.rcvWnd = initialWindow(child, true);
  child.rcvWup = child.rcvNxt;
  child.rcvSsthresh = child.rcvWnd;
  setState(child, 'SYN-RECEIVED');
  segmentArrives(child, seg, nowUs);
  return child.state === 'CLOSED' ? null : child;
}
