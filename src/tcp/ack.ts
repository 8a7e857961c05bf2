/**
 * When to acknowledge (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2: delay at most 0.5 s, ACK at least every
 * second full segment), in the personality's way.
 *
 * linux: the data path of tcp_input.c (tcp_event_data_recv, tcp_grow_window, __tcp_ack_snd_check) and
 * tcp_output.c (tcp_send_delayed_ack): quick-ack mode at the start of a connection and whenever the
 * receive window grows, "pingpong" (delayed) mode for interactive exchanges, an adaptive ATO from 40 ms.
 * freebsd: tcp_input.c DELAY_ACK: delay one segment by delacktime, acknowledge the second at once.
 */
import { seqSub } from '../wire/seq.js';
import { sendAck } from './output.js';
import type { Tcb } from './tcb.js';
import { unreachable } from './state.js';

/** RFC 1122 §4.2.3.2: "the delay MUST be less than 0.5 seconds" (Linux HZ/2 max_ato). */
const MAX_DELAY_US = 500_000;

/** Linux tcp_incr_quickack: ACK the next segments at once, about one per two receive MSS of window. */
function incrQuickAck(tcb: Tcb, max: number): void {
  let q = Math.floor(tcb.rcvWnd / (2 * tcb.rcvMss));
  if (q === 0) q = 2;
  q = Math.min(q, max);
  if (q > tcb.quick) tcb.quick = q;
}

/** Linux tcp_enter_quickack_mode: after a duplicate or out-of-window segment, ACK promptly again. */
export function enterQuickAck(tcb: Tcb): void {
  const d = tcb.p.delayedAck;
  if (d.kind !== 'linux') return;
  incrQuickAck(tcb, d.maxQuickAcks);
  tcb.pingpong = false;
  tcb.ato = d.atoMinUs;
}

/** `len` new octets were accepted in order at tcb.now: an ACK is owed. */
export function dataReceived(tcb: Tcb, len: number): void {
  tcb.ackPending = true;
  const d = tcb.p.delayedAck;
  if (d.kind !== 'linux' || len === 0) return;
  // tcp_measure_rcv_mss (simplified): the largest segment seen, at most our MSS.
  if (len >= tcb.rcvMss) tcb.rcvMss = Math.min(len, tcb.advMss);
  const now = tcb.now;
  if (tcb.ato === 0) {
    // The first data segment starts the delayed-ACK engine in quick-ack mode.
    incrQuickAck(tcb, d.maxQuickAcks);
    tcb.ato = d.atoMinUs;
  } else {
    const m = now - tcb.lrcvUs;
    if (m <= d.atoMinUs / 2) tcb.ato = tcb.ato / 2 + d.atoMinUs / 2;
    else if (m < tcb.ato) tcb.ato = Math.min(tcb.ato / 2 + m, tcb.rto);
    else if (m > tcb.rto) incrQuickAck(tcb, d.maxQuickAcks);
  }
  tcb.lrcvUs = now;
  if (len >= 128) growWindow(tcb, len);
}

/**
 * Linux tcp_grow_window: rcv_ssthresh, the cap on the window we offer, grows by about two segments per
 * segment received until it reaches the buffer space; each growth asks for a prompt ACK (quick |= 1) so
 * the sender learns of it.
 */
function growWindow(tcb: Tcb, len: number): void {
  const clamp = tcb.rcvWscale > 0 ? tcb.rcvSpace : Math.min(tcb.rcvSpace, 65535);
  const free = tcb.rcvSpace - tcb.rcvBuf.length - tcb.ooo.bytes;
  if (tcb.rcvSsthresh >= clamp || tcb.rcvSsthresh >= free) return;
  const incr = Math.max(2 * tcb.rcvMss, 2 * len);
  tcb.rcvSsthresh = Math.min(tcb.rcvSsthresh + incr, clamp);
  if (tcb.quick === 0) tcb.quick = 1;
}

/**
 * After a segment was processed: send the owed ACK now or arm the delayed-ACK timer
 * (Linux __tcp_ack_snd_check; BSD DELAY_ACK). `now` forces an immediate ACK (out-of-order data, a
 * filled hole, a duplicate).
 */
export function ackCheck(tcb: Tcb, now: boolean): void {
  if (!tcb.ackPending) return;
  const d = tcb.p.delayedAck;
  if (d.kind === 'every-second') {
    if (now || tcb.delAckAt >= 0) sendAck(tcb);
    else tcb.delAckAt = tcb.now + d.delayUs;
    return;
  }
  const moreThanOneSegment = seqSub(tcb.rcvNxt, tcb.rcvWup) > tcb.rcvMss;
  const free = tcb.rcvSpace - tcb.rcvBuf.length - tcb.ooo.bytes;
  // "... and right edge of window advances far enough": the window we would offer now, rounded up to
  // the scale unit as __tcp_select_window does, is not below the last one.
  const unit = 2 ** tcb.rcvWscale;
  const windowAdvances = Math.ceil(Math.min(free, tcb.rcvSsthresh) / unit) * unit >= tcb.rcvWnd;
  const quickMode = tcb.quick > 0 && !tcb.pingpong;
  if ((moreThanOneSegment && windowAdvances) || quickMode || now || !tcb.ooo.empty) {
    sendAck(tcb);
    return;
  }
  sendDelayedAck(tcb);
}

/** Linux tcp_send_delayed_ack: arm the timer at ATO (bounded), or send now when it is due anyway. */
function sendDelayedAck(tcb: Tcb): void {
  const d = tcb.p.delayedAck;
  if (d.kind !== 'linux') return;
  let ato = tcb.ato;
  if (ato > d.atoMinUs) {
    let maxAto = tcb.pingpong ? d.delAckMaxUs : MAX_DELAY_US;
    if (tcb.hasRtt) {
      const rtt = Math.max(tcb.srtt, d.atoMinUs);
      if (rtt < maxAto) maxAto = rtt;
    }
    ato = Math.min(ato, maxAto);
  }
  ato = Math.min(ato, d.delAckMaxUs);
  const timeout = tcb.now + ato;
  if (tcb.delAckAt >= 0) {
    if (tcb.delAckAt <= tcb.now + ato / 4) {
      sendAck(tcb);
      return;
    }
    if (timeout >= tcb.delAckAt) return;
  }
  // A zero ATO (no data received yet, e.g. a bare FIN) means "at the next tick": send now.
  if (ato <= 0) {
    sendAck(tcb);
    return;
  }
  tcb.delAckAt = Math.round(timeout);
}

/** The delayed-ACK timer fired (Linux tcp_delack_timer_handler). */
export function delayedAckTimer(tcb: Tcb): void {
  tcb.delAckAt = -1;
  if (!tcb.ackPending) return;
  const d = tcb.p.delayedAck;
  if (d.kind === 'linux') {
    if (!tcb.pingpong) {
      // "Delayed ACK missed: inflate ATO."
      tcb.ato = Math.min(tcb.ato * 2, tcb.rto);
    } else {
      // "Delayed ACK missed: leave pingpong mode and deflate ATO."
      tcb.pingpong = false;
      tcb.ato = d.atoMinUs;
    }
  }
  sendAck(tcb);
}

/** Linux tcp_cleanup_rbuf: after the user read `copied` octets, send a window update if it grew a lot. */
export function afterRead(tcb: Tcb, copied: number): void {
  if (copied <= 0 || tcb.finReceived) return;
  switch (tcb.state) {
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
      break;
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN-SENT':
    case 'SYN-RECEIVED':
    case 'CLOSE-WAIT':
    case 'CLOSING':
    case 'LAST-ACK':
    case 'TIME-WAIT':
      return;
    default:
      return unreachable(tcb.state);
  }
  const cur = tcb.rcvWindow;
  const free = tcb.rcvSpace - tcb.rcvBuf.length - tcb.ooo.bytes;
  const unit = 2 ** tcb.rcvWscale;
  const next = Math.floor(Math.min(free, Math.max(tcb.rcvSsthresh, cur)) / unit) * unit;
  // "We send an ACK if we can now advertise a non-zero window which has been raised significantly":
  // at least twice the current one.
  if (2 * cur <= tcb.rcvSpace && next > 0 && next >= 2 * cur) {
    tcb.ackPending = true;
    sendAck(tcb);
  }
}
