/**
 * Steps six to eight of RFC 9293 §3.10.7.4 for an accepted segment: the urgent pointer, the segment
 * text (in order into the receive buffer, ahead of RCV.NXT into the out-of-order queue) and the FIN.
 */
import { seqAdd, seqGt, seqLt, seqMax, seqSub } from '../wire/seq.js';
import { TcpFlags, type TcpRepr } from '../wire/tcp.js';
import { ackCheck, dataReceived, enterQuickAck } from './ack.js';
import { sendAck } from './output.js';
import { setState, type Tcb } from './tcb.js';
import { unreachable } from './state.js';

/** Sixth: "If the URG bit is set, RCV.UP <- max(RCV.UP,SEG.UP)" (ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2). */
export function checkUrg(tcb: Tcb, seg: TcpRepr): void {
  if (!(seg.flags & TcpFlags.URG)) return;
  switch (tcb.state) {
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
      tcb.rcvUp = seqMax(tcb.rcvUp, seqAdd(seg.seq, seg.urgent));
      break;
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN-SENT':
    case 'SYN-RECEIVED':
    case 'CLOSE-WAIT':
    case 'CLOSING':
    case 'LAST-ACK':
    case 'TIME-WAIT':
      break;
    default:
      return unreachable(tcb.state);
  }
}

/** Whether the states take text: "ESTABLISHED STATE, FIN-WAIT-1 STATE, FIN-WAIT-2 STATE: ... deliver". */
function takesText(tcb: Tcb): boolean {
  switch (tcb.state) {
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
      return true;
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN-SENT':
    case 'SYN-RECEIVED':
    case 'CLOSE-WAIT':
    case 'CLOSING':
    case 'LAST-ACK':
    case 'TIME-WAIT':
      // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: "This should not occur since a FIN has been received
      // from the remote side. Ignore the segment text."
      return false;
    default:
      return unreachable(tcb.state);
  }
}

/**
 * Seventh and eighth: queue the text and process the FIN, then send or schedule the ACK they owe.
 * `seq` is where the text starts (after a SYN, one past SEG.SEQ).
 */
export function processTextAndFin(tcb: Tcb, seq0: number, data0: Uint8Array, fin0: boolean): void {
  let seq = seq0;
  let data = data0;
  let fin = fin0;
  let ackNow = tcb.forceAck;
  if (ackNow) tcb.ackPending = true;

  // Drop what was received before: "the segment is trimmed to the window".
  if (seqLt(seq, tcb.rcvNxt)) {
    const cut = seqSub(tcb.rcvNxt, seq);
    // The FIN sits at SEG.SEQ+len; before RCV.NXT it is a retransmission of one already taken.
    const oldFin = fin && cut > data.length;
    if (oldFin) fin = false;
    if (cut >= data.length && !fin && (data.length > 0 || oldFin)) {
      // A duplicate, in any state: Linux answers it at once and re-enters quick-ack mode
      // (tcp_data_queue: "A retransmit, 2nd most common case. Force an immediate ack.").
      enterQuickAck(tcb);
      ackNow = true;
      tcb.ackPending = true;
    }
    data = data.subarray(Math.min(cut, data.length));
    seq = tcb.rcvNxt;
  }
  if (!takesText(tcb)) data = data.subarray(0, 0);
  if (tcb.finReceived) fin = false;
  if (data.length > 0 || fin) {
    // Trim to the space we have (the window we advertised is never more than that).
    const room = Math.max(0, tcb.rcvSpace - tcb.rcvBuf.length - tcb.ooo.bytes);
    const offset = seqSub(seq, tcb.rcvNxt);
    if (offset + data.length > room) {
      const keep = Math.max(0, room - offset);
      if (keep < data.length) {
        data = data.subarray(0, keep);
        fin = false;
        ackNow = true;
        tcb.ackPending = true;
      }
    }
    if (seq === tcb.rcvNxt) {
      if (data.length > 0) {
        tcb.rcvBuf.write(data);
        tcb.rcvNxt = seqAdd(tcb.rcvNxt, data.length);
        dataReceived(tcb, data.length);
      }
      if (fin) {
        processFin(tcb);
      } else if (!tcb.ooo.empty) {
        // Pull in what the out-of-order queue now continues; a filled hole is ACKed at once (RFC 5681 §4.2).
        for (let b = tcb.ooo.takeAt(tcb.rcvNxt); b !== null; b = tcb.ooo.takeAt(tcb.rcvNxt)) {
          if (b.data.length > 0) {
            tcb.rcvBuf.write(b.data);
            tcb.rcvNxt = seqAdd(tcb.rcvNxt, b.data.length);
            dataReceived(tcb, b.data.length);
          }
          if (b.fin) {
            processFin(tcb);
            break;
          }
        }
        ackNow = true;
      }
    } else if (seqGt(seq, tcb.rcvNxt)) {
      // Out of order: hold it, and say so with an immediate (duplicate, SACK-carrying) ACK.
      tcb.ooo.insert(seq, data, fin);
      tcb.ackPending = true;
      ackNow = true;
    }
  }
  if (tcb.state === 'CLOSED' || tcb.state === 'TIME-WAIT') return;
  ackCheck(tcb, ackNow);
}

/**
 * Eighth: "If the FIN bit is set, signal the user 'connection closing' ..., advance RCV.NXT over the FIN,
 * and send an acknowledgment for the FIN."
 */
function processFin(tcb: Tcb): void {
  tcb.rcvNxt = seqAdd(tcb.rcvNxt, 1);
  tcb.finReceived = true;
  tcb.ackPending = true;
  // Linux drops anything queued beyond the FIN (tcp_fin: "Probably, we should reset in this case").
  tcb.ooo.clear();
  const immediate = tcb.p.finAck === 'immediate';
  switch (tcb.state) {
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
      setState(tcb, 'CLOSE-WAIT');
      // Linux tcp_fin: the peer is done talking; the ACK waits (inet_csk_enter_pingpong_mode).
      if (tcb.p.delayedAck.kind === 'linux') tcb.pingpong = true;
      if (immediate) sendAck(tcb);
      return;
    case 'FIN-WAIT-1':
      // "If our FIN has been ACKed (perhaps in this segment), then enter TIME-WAIT ... otherwise, enter
      // the CLOSING state." (An ACK of our FIN already moved us to FIN-WAIT-2 in the fifth step.)
      sendAck(tcb);
      setState(tcb, 'CLOSING');
      return;
    case 'FIN-WAIT-2':
      sendAck(tcb);
      enterTimeWait(tcb);
      return;
    case 'TIME-WAIT':
      // "Remain in the TIME-WAIT state. Restart the 2 MSL time-wait timeout."
      sendAck(tcb);
      tcb.timeWaitAt = tcb.now + tcb.p.timeWaitUs;
      return;
    case 'CLOSE-WAIT':
    case 'CLOSING':
    case 'LAST-ACK':
      // "Remain in the ... state."
      if (immediate) sendAck(tcb);
      return;
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN-SENT':
      return;
    default:
      return unreachable(tcb.state);
  }
}

/** "Enter the TIME-WAIT state. Start the time-wait timer, turn off the other timers." */
export function enterTimeWait(tcb: Tcb): void {
  setState(tcb, 'TIME-WAIT');
  tcb.timeWaitAt = tcb.now + tcb.p.timeWaitUs;
}
