/**
 * SEGMENT ARRIVES (RFC 9293 §3.10.7): one segment for one connection, by state.
 *
 *   CLOSED §3.10.7.1 · LISTEN §3.10.7.2 · SYN-SENT §3.10.7.3 · the other states §3.10.7.4
 *   (synchronized.ts; TIME-WAIT in time-wait.ts)
 *
 * The verdict says what happened; replies have already gone to `hooks.output`, a drop's reason is in
 * tcb.dropReason and was reported to `hooks.onEvent`.
 */
import { seqAdd, seqGt, seqLe } from '../wire/seq.js';
import { TcpFlags, type TcpRepr } from '../wire/tcp.js';
import { applyPeerSynOptions, enterEstablished, runPendingClose } from './handshake.js';
import { readOptions } from './options.js';
import { sendAck, sendSyn, transmit } from './output.js';
import { resetFor } from './rst.js';
import { processTextAndFin } from './receive.js';
import { dropWith } from './replies.js';
import { rttSample } from './rtt.js';
import { unreachable } from './state.js';
import { synchronizedArrives } from './synchronized.js';
import { closeConnection, reportDrop, setState, type Tcb } from './tcb.js';
import { timeWaitArrives } from './time-wait.js';

const ACK = TcpFlags.ACK;
const RST = TcpFlags.RST;
const SYN = TcpFlags.SYN;
const FIN = TcpFlags.FIN;

/**
 * - accepted: processed (state may have changed);
 * - dropped: not processed (see tcb.dropReason; a reply may have been sent);
 * - reset: the segment ended the connection (now CLOSED);
 * - reopen: a SYN that may start a new incarnation of this TIME-WAIT 4-tuple: remove this TCB and give
 *   the SYN to the listener, with ISN tcb.reopenIsn (0: a fresh one);
 * - listen-syn: a SYN for a listener: the socket layer checks its queues and calls acceptSyn.
 */
export type ArriveResult = 'accepted' | 'dropped' | 'reset' | 'reopen' | 'listen-syn';

/** Processes one segment that the socket layer demultiplexed to `tcb`, at `nowUs`. */
export function segmentArrives(tcb: Tcb, seg: TcpRepr, nowUs: number): ArriveResult {
  tcb.now = nowUs;
  tcb.cause = 'segment';
  readOptions(seg, tcb.rx);
  switch (tcb.state) {
    case 'CLOSED':
      return closedArrives(tcb, seg);
    case 'LISTEN':
      return listenArrives(tcb, seg);
    case 'SYN-SENT':
      return synSentArrives(tcb, seg);
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSE-WAIT':
    case 'CLOSING':
    case 'LAST-ACK':
      return synchronizedArrives(tcb, seg);
    case 'TIME-WAIT':
      return timeWaitArrives(tcb, seg);
    default:
      return unreachable(tcb.state);
  }
}

/**
 * §3.10.7.1: "all data in the incoming segment is discarded. An incoming segment containing a RST is
 * discarded. An incoming segment not containing a RST causes a RST to be sent in response."
 */
function closedArrives(tcb: Tcb, seg: TcpRepr): ArriveResult {
  const rst = resetFor(seg);
  if (rst !== null) tcb.hooks.output(rst, tcb);
  reportDrop(tcb, seg, 'closed');
  return 'dropped';
}

/** What a listener does with a segment (§3.10.7.2, and Linux tcp_rcv_state_process TCP_LISTEN). */
export type ListenAction = 'drop-rst' | 'reset' | 'syn' | 'drop-syn-fin' | 'drop-other';

export function classifyForListener(seg: TcpRepr): ListenAction {
  const f = seg.flags;
  // "first check for an RST: An incoming RST segment could not be valid ... ignored".
  if (f & RST) return 'drop-rst';
  // "second check for an ACK: Any acknowledgment is bad if it arrives on a connection still in the
  // LISTEN state. An acceptable reset segment should be formed for any arriving ACK-bearing segment."
  if (f & ACK) return 'reset';
  // "third check for a SYN". Linux drops SYN+FIN here (SKB_DROP_REASON_TCP_FLAGS).
  if (f & SYN) return f & FIN ? 'drop-syn-fin' : 'syn';
  // "fourth, other data or control ... drop the segment, and return."
  return 'drop-other';
}

function listenArrives(tcb: Tcb, seg: TcpRepr): ArriveResult {
  const action = classifyForListener(seg);
  switch (action) {
    case 'drop-rst':
      reportDrop(tcb, seg, 'listen-rst');
      return 'dropped';
    case 'reset': {
      const rst = resetFor(seg);
      if (rst !== null) tcb.hooks.output(rst, tcb);
      reportDrop(tcb, seg, 'listen-ack');
      return 'dropped';
    }
    case 'syn':
      return 'listen-syn';
    case 'drop-syn-fin':
      reportDrop(tcb, seg, 'listen-syn-fin');
      return 'dropped';
    case 'drop-other':
      reportDrop(tcb, seg, 'listen-no-syn');
      return 'dropped';
    default: {
      const never: never = action;
      throw new Error(`unknown listener action ${String(never)}`);
    }
  }
}

/** §3.10.7.3 SYN-SENT. */
function synSentArrives(tcb: Tcb, seg: TcpRepr): ArriveResult {
  const f = seg.flags;
  const rx = tcb.rx;
  // "first check the ACK bit: If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit
  // is set, if so drop the segment and return) <SEQ=SEG.ACK><CTL=RST>".
  if (f & ACK) {
    if (seqLe(seg.ack, tcb.iss) || seqGt(seg.ack, tcb.sndNxt)) {
      if (f & RST) {
        dropWith(tcb, seg, 'drop', 'syn-sent-rst-bad-ack');
        return 'dropped';
      }
      // Linux: "Previous FIN/ACK or RST/ACK might be ignored": retry the SYN soon.
      const rearm = tcb.p.synSentBadAckRearmUs;
      if (rearm !== null && tcb.retransmits === 0) tcb.rtxAt = tcb.now + rearm;
      dropWith(tcb, seg, 'reset-reply', 'syn-sent-bad-ack');
      return 'dropped';
    }
    // Linux (RFC 7323 §5.5 spirit): a SYN-ACK must echo a TSval we sent since our first SYN.
    if (tcb.p.validation === 'linux' && rx.hasTs && rx.tsEcr !== 0 && tcb.p.timestamps) {
      const span = (tcb.tsVal() - tcb.synTsVal) >>> 0;
      if (((rx.tsEcr - tcb.synTsVal) >>> 0) > span) {
        dropWith(tcb, seg, 'reset-reply', 'syn-sent-paws');
        return 'dropped';
      }
    }
  }
  // "second check the RST bit: If the ACK was acceptable, then signal to the user 'error: connection
  // reset', drop the segment, enter CLOSED state ... Otherwise (no ACK), drop the segment and return."
  if (f & RST) {
    if (f & ACK) {
      closeConnection(tcb, 'ECONNREFUSED');
      return 'reset';
    }
    dropWith(tcb, seg, 'drop', 'syn-sent-rst-no-ack');
    return 'dropped';
  }
  // third: security — not used.
  // "fourth check the SYN bit": RCV.NXT <- SEG.SEQ+1, IRS <- SEG.SEQ, SND.UNA <- SEG.ACK.
  if (!(f & SYN)) {
    // "fifth, if neither of the SYN or RST bits is set, then drop the segment and return."
    dropWith(tcb, seg, 'drop', 'syn-sent-no-syn');
    return 'dropped';
  }
  tcb.irs = seg.seq;
  tcb.rcvNxt = seqAdd(seg.seq, 1);
  tcb.rcvWup = tcb.rcvNxt;
  tcb.rcvUp = tcb.rcvNxt;
  applyPeerSynOptions(tcb, rx);
  tcb.rcvSsthresh = tcb.rcvWnd;
  // "The window field in a SYN segment itself is never scaled" (RFC 7323 §2.2).
  tcb.sndWnd = seg.window;
  tcb.maxSndWnd = seg.window;
  tcb.sndWl1 = seg.seq;
  if (f & ACK) {
    // "If SND.UNA > ISS (our SYN has been ACKed), change the connection state to ESTABLISHED, form an
    // ACK segment <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it."
    tcb.sndUna = seg.ack;
    tcb.sndBufSeq = seg.ack;
    tcb.rtxNxt = seg.ack;
    tcb.sndWl2 = seg.ack;
    tcb.rtxAt = -1;
    if (tcb.rttStartUs >= 0 && tcb.retransmits === 0) rttSample(tcb, tcb.now - tcb.rttStartUs);
    tcb.rttStartUs = -1;
    enterEstablished(tcb);
    // "If there are other controls or text in the segment, then continue processing at the sixth step";
    // Linux ignores text on a SYN-ACK (tcp_rcv_synsent_state_process) and just ACKs the SYN.
    const text = tcb.p.synAckText === 'accept' && tcb.state === 'ESTABLISHED';
    if (text && (seg.payload.length > 0 || f & FIN)) {
      tcb.ackPending = true;
      processTextAndFin(tcb, seqAdd(seg.seq, 1), seg.payload, (f & FIN) !== 0);
      if (tcb.ackPending) sendAck(tcb);
    } else {
      sendAck(tcb);
    }
    runPendingClose(tcb);
    transmit(tcb);
    return 'accepted';
  }
  // "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send
  // it" — a simultaneous open. Text waits until ESTABLISHED (Linux drops it).
  setState(tcb, 'SYN-RECEIVED');
  sendSyn(tcb, true);
  tcb.rcvSsthresh = tcb.rcvWnd;
  tcb.rtxAt = tcb.now + tcb.rto;
  return 'accepted';
}
