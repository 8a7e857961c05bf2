/**
 * SEGMENT ARRIVES in TIME-WAIT, as each kernel does it.
 *
 * RFC 9293 has TIME-WAIT take part in the ordinary checks: "The only thing that can arrive in this
 * state is a retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout." Both
 * kernels refine this, and both let a new SYN on the same 4-tuple start a new incarnation (RFC 1122
 * §4.2.2.13 "MAY accept a new SYN from the remote TCP to reopen the connection directly"): the verdict
 * 'reopen' tells the socket layer to drop this TCB and hand the SYN to the listener.
 */
import { seqAdd, seqGt } from '../wire/seq.js';
import { TcpFlags, type TcpRepr } from '../wire/tcp.js';
import { sendBareAck as sendAck } from './output.js';
import { ackAllowed } from './replies.js';
import { pawsRejects } from './syn-received.js';
import { closeConnection, reportDrop, segLen, type Tcb } from './tcb.js';
import type { ArriveResult } from './segment-arrives.js';

const ACK = TcpFlags.ACK;
const RST = TcpFlags.RST;
const SYN = TcpFlags.SYN;
const FIN = TcpFlags.FIN;

export function timeWaitArrives(tcb: Tcb, seg: TcpRepr): ArriveResult {
  return tcb.p.timeWaitSyn === 'linux' ? linuxTimeWait(tcb, seg) : freebsdTimeWait(tcb, seg);
}

function restartTimer(tcb: Tcb): void {
  tcb.timeWaitAt = tcb.now + tcb.p.timeWaitUs;
}

function storeTs(tcb: Tcb): void {
  if (tcb.tsOk && tcb.rx.hasTs) {
    tcb.tsRecent = tcb.rx.tsVal;
    tcb.tsRecentAtUs = tcb.now;
  }
}

/** Linux tcp_minisocks.c tcp_timewait_state_process, TIME_WAIT substate. */
function linuxTimeWait(tcb: Tcb, seg: TcpRepr): ArriveResult {
  const f = seg.flags;
  const paws = pawsRejects(tcb, 0) && !(f & RST);
  // "In window segment, it may be only reset or bare ack."
  if (!paws && seg.seq === tcb.rcvNxt && (segLen(seg) === 0 || f & RST)) {
    if (f & RST) {
      // "TIME_WAIT assassination": with tcp_rfc1337=0 a RST ends TIME-WAIT.
      if (tcb.p.timeWaitRstKills) {
        closeConnection(tcb, null);
        return 'reset';
      }
    } else {
      restartTimer(tcb);
    }
    storeTs(tcb);
    return 'accepted';
  }
  // A new SYN is accepted if it cannot be an old duplicate: a higher sequence number, or a newer
  // timestamp. The new connection's ISN continues above this one's: SND.NXT + 65535 + 2.
  if (f & SYN && !(f & (RST | ACK)) && !paws) {
    const newerTs = tcb.tsOk && tcb.rx.hasTs && ((tcb.tsRecent - tcb.rx.tsVal) | 0) < 0;
    if (seqGt(seg.seq, tcb.rcvNxt) || newerTs) {
      let isn = seqAdd(tcb.sndNxt, 65535 + 2);
      if (isn === 0) isn = 1;
      tcb.reopenIsn = isn;
      return 'reopen';
    }
  }
  if (!(f & RST)) {
    // "All the segments are ACKed immediately" (rate limited like other out-of-window ACKs), and an
    // ACK or a PAWS failure restarts the timer (an ACK-less SYN might be a new one with a low ISN).
    if (paws || f & ACK) restartTimer(tcb);
    const pure = seg.payload.length === 0 || (f & SYN) !== 0;
    if (!pure || !tcb.p.rateLimitOutOfWindowAcks || ackAllowed(tcb)) sendAck(tcb);
  }
  reportDrop(tcb, seg, paws ? 'paws' : 'time-wait');
  return 'dropped';
}

/** FreeBSD tcp_timewait.c tcp_twcheck. */
function freebsdTimeWait(tcb: Tcb, seg: TcpRepr): ArriveResult {
  const f = seg.flags;
  // RFC 1337: a RST must not end TIME-WAIT.
  if (f & RST) {
    reportDrop(tcb, seg, 'time-wait');
    return 'dropped';
  }
  // "If a new connection request is received while in TIME_WAIT, drop the old connection and start
  // over if the sequence numbers are above the previous ones."
  if (f & SYN && seqGt(seg.seq, tcb.rcvNxt)) {
    tcb.reopenIsn = 0;
    return 'reopen';
  }
  if (!(f & ACK)) {
    reportDrop(tcb, seg, 'no-ack');
    return 'dropped';
  }
  storeTs(tcb);
  // "Reset the 2MSL timer if this is a duplicate FIN."
  if (f & FIN && seqAdd(seg.seq, seg.payload.length + (f & SYN ? 1 : 0) + 1) === tcb.rcvNxt) restartTimer(tcb);
  // "Acknowledge the segment if it has data or is not a duplicate ACK."
  if (f !== ACK || seg.payload.length !== 0 || seg.seq !== tcb.rcvNxt || seg.ack !== tcb.sndNxt) {
    sendAck(tcb);
  }
  reportDrop(tcb, seg, 'time-wait');
  return 'dropped';
}
