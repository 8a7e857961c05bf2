/**
 * A passively opened connection in SYN-RECEIVED, before the RFC's steps: the checks Linux makes on a
 * request socket (tcp_minisocks.c tcp_check_req), and the retransmitted SYN both kernels answer with the
 * SYN-ACK again (RFC 1122 §4.2.2.20 fixed RFC 793's figures here).
 */
import { seqAdd, seqGt, seqLe, seqLt } from '../wire/seq.js';
import { TcpFlags, type TcpRepr } from '../wire/tcp.js';
import { sendResetFor, sendSyn } from './output.js';
import { ackAllowed, dropWith } from './replies.js';
import { closeConnection, reportDrop, segLen, type Tcb } from './tcb.js';

export type PassiveCheck = 'continue' | 'dropped' | 'reset';

/** Linux tcp_in_window: SEG.SEQ at the left edge, or the segment overlapping [s, e), or empty at e. */
function inWindow(seq: number, end: number, s: number, e: number): boolean {
  if (seq === s) return true;
  if (seqGt(end, s) && seqLt(seq, e)) return true;
  return seq === e && seq === end;
}

/** RFC 7323 §5.3 PAWS test (Linux tcp_paws_reject with a zero window). */
export function pawsRejects(tcb: Tcb, slack: number): boolean {
  const rx = tcb.rx;
  if (!tcb.tsOk || !rx.hasTs) return false;
  // TS.Recent older than 24 days is no longer valid (RFC 7323 §5.5).
  if (tcb.now - tcb.tsRecentAtUs > 24 * 86400 * 1_000_000) return false;
  return ((tcb.tsRecent - rx.tsVal) | 0) > slack;
}

/** A retransmission of the SYN that created this connection: send the SYN-ACK again. */
function isRetransmittedSyn(tcb: Tcb, seg: TcpRepr): boolean {
  return seg.seq === tcb.irs && (seg.flags & (TcpFlags.RST | TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN;
}

function resendSynAck(tcb: Tcb, seg: TcpRepr): void {
  if (ackAllowed(tcb)) {
    sendSyn(tcb, true);
    // Linux restarts the request timer: min(TCP_TIMEOUT_INIT << num_timeout, TCP_RTO_MAX).
    tcb.rtxAt = tcb.now + Math.min(tcb.p.rtoInitialUs * 2 ** tcb.retransmits, tcb.p.rtoMaxUs);
  }
  reportDrop(tcb, seg, 'syn-retransmit');
}

/** The checks before RFC 9293's steps for a passive SYN-RECEIVED connection. */
export function passiveSynReceived(tcb: Tcb, seg: TcpRepr): PassiveCheck {
  if (tcb.p.passiveSynReceived !== 'linux') {
    if (isRetransmittedSyn(tcb, seg)) {
      resendSynAck(tcb, seg);
      return 'dropped';
    }
    return 'continue';
  }
  const rst = (seg.flags & TcpFlags.RST) !== 0;
  const paws = rst ? false : pawsRejects(tcb, 0);
  if (isRetransmittedSyn(tcb, seg) && !paws) {
    resendSynAck(tcb, seg);
    return 'dropped';
  }
  // "Invalid ACK: reset will be sent by listening socket." The request itself stays.
  if (seg.flags & TcpFlags.ACK && seg.ack !== seqAdd(tcb.iss, 1)) {
    dropWith(tcb, seg, 'reset-reply', 'ack-unacceptable');
    return 'dropped';
  }
  const end = seqAdd(seg.seq, segLen(seg));
  if (paws || !inWindow(seg.seq, end, tcb.rcvNxt, seqAdd(tcb.rcvNxt, tcb.rcvWnd))) {
    // "Out of window: send ACK and drop."
    dropWith(tcb, seg, rst ? 'drop' : 'ack', paws ? 'paws' : 'unacceptable-seq');
    return 'dropped';
  }
  if (tcb.rx.hasTs && tcb.tsOk && seqLe(seg.seq, tcb.rcvNxt)) {
    tcb.tsRecent = tcb.rx.tsVal;
    tcb.tsRecentAtUs = tcb.now;
  }
  // A SYN at the ISN is the old SYN, out of window: ignore the flag.
  let flags = seg.flags;
  if (seg.seq === tcb.irs) flags &= ~TcpFlags.SYN;
  if (flags & (TcpFlags.RST | TcpFlags.SYN)) {
    // "Received a bad SYN pkt" or a RST: the embryonic connection goes (a SYN is answered with RST).
    if (!(flags & TcpFlags.RST)) sendResetFor(tcb, seg);
    closeConnection(tcb, null);
    return 'reset';
  }
  if (!(flags & TcpFlags.ACK)) {
    reportDrop(tcb, seg, 'no-ack');
    return 'dropped';
  }
  return 'continue';
}
