/**
 * What the three-way handshake settles: option negotiation from the peer's SYN (RFC 9293 §3.7.1 MSS,
 * RFC 7323 window scale and timestamps, RFC 2018 SACK-permitted), the move to ESTABLISHED, and the
 * FIN that a CLOSE or shutdown queues (shared by user calls and deferred closes).
 */
import { isIpv6 } from '../wire/address.js';
import { offeredWindowScale } from './personality.js';
import { transmit } from './output.js';
import { setState, type SegOptions, type Tcb } from './tcb.js';

/** Our side of the options, fixed before our SYN or SYN-ACK: advertised MSS and offered window scale. */
export function prepareOffer(tcb: Tcb): void {
  const c = tcb.config;
  tcb.advMss = c.userMss > 0 ? Math.min(c.mss, c.userMss) : c.mss;
  // Linux scales for the largest buffer the socket may reach (tcp_rmem[2]) unless SO_RCVBUF fixed it.
  const space = c.rcvBuf > 0 ? tcb.rcvSpace : Math.max(tcb.rcvSpace, tcb.p.rcvSpaceMax);
  tcb.offeredWscale = offeredWindowScale(tcb.p, space);
}

/**
 * Applies the options of the peer's SYN (or SYN-ACK). Window scaling, timestamps and SACK are on only
 * when both sides offered them; without an MSS option the peer is assumed to take 536 (IPv4) or 1220
 * (IPv6) octets.
 */
export function applyPeerSynOptions(tcb: Tcb, rx: SegOptions): void {
  const p = tcb.p;
  tcb.peerMss = rx.mss > 0 ? rx.mss : isIpv6(tcb.remote.addr) ? p.defaultMssIpv6 : p.defaultMssIpv4;
  tcb.wscaleOk = p.windowScaling && rx.wscale >= 0;
  tcb.sndWscale = tcb.wscaleOk ? rx.wscale : 0;
  tcb.rcvWscale = tcb.wscaleOk ? tcb.offeredWscale : 0;
  tcb.sackOk = p.sack && rx.sackOk;
  tcb.tsOk = p.timestamps && rx.hasTs;
  if (tcb.tsOk) {
    tcb.tsRecent = rx.tsVal;
    tcb.tsRecentAtUs = tcb.now;
  }
  let mss = Math.min(tcb.peerMss, tcb.config.mss);
  if (tcb.config.userMss > 0) mss = Math.min(mss, tcb.config.userMss);
  // RFC 9293 §3.7.1: the MSS counts data only; options such as timestamps come out of it.
  tcb.sndMss = Math.max(1, mss - (tcb.tsOk ? 12 : 0));
}

/**
 * The connection is now ESTABLISHED: initial congestion window (RFC 6928), the receive-MSS guess of the
 * delayed-ACK engine (Linux tcp_initialize_rcv_mss) and FreeBSD's receive buffer rounding.
 */
export function enterEstablished(tcb: Tcb): void {
  setState(tcb, 'ESTABLISHED');
  tcb.connectDeadline = -1;
  tcb.cwnd = tcb.p.initialCwndSegments * tcb.sndMss;
  tcb.rcvMss = Math.max(88, Math.min(tcb.advMss, tcb.sndMss, Math.floor(tcb.rcvWnd / 2), 536));
  if (tcb.p.rcvBufRoundToMss && tcb.config.rcvBuf === 0 && tcb.rcvSpace > tcb.sndMss) {
    tcb.rcvSpace = Math.ceil(tcb.rcvSpace / tcb.sndMss) * tcb.sndMss;
    tcb.rcvBuf.capacity = tcb.rcvSpace;
  }
  tcb.retransmits = 0;
  tcb.rtxStampUs = -1;
}

/** A CLOSE or shutdown the user asked for while the handshake was still running, now that it is done. */
export function runPendingClose(tcb: Tcb): void {
  if (tcb.closePending === 'none') return;
  if (tcb.closePending === 'close') tcb.userClosed = true;
  tcb.closePending = 'none';
  queueFin(tcb);
}

/**
 * RFC 9293 §3.10.4 CLOSE / shutdown(SHUT_WR) in ESTABLISHED or CLOSE-WAIT: a FIN after the queued data,
 * and the state that waits for its ACK.
 */
export function queueFin(tcb: Tcb): void {
  if (tcb.finQueued) return;
  tcb.finQueued = true;
  if (tcb.state === 'ESTABLISHED') setState(tcb, 'FIN-WAIT-1');
  else if (tcb.state === 'CLOSE-WAIT') setState(tcb, 'LAST-ACK');
  transmit(tcb);
}
