/**
 * RFC 9293 §3.10.7.4 "Otherwise": SEGMENT ARRIVES in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2,
 * CLOSE-WAIT, CLOSING and LAST-ACK, in the RFC's order:
 *
 *   first: sequence number → second: RST → third: security (not used) → fourth: SYN → fifth: ACK →
 *   sixth: URG → seventh: text → eighth: FIN
 *
 * Each check returns 'continue' or the reply that goes with dropping the segment (replies.ts). Linux
 * differences are personality switches: its acceptability test (tcp_sequence), PAWS first, RFC 5961
 * challenge ACKs, and what it does with an ACK for unsent data.
 */
import { seqAdd, seqBetween, seqGe, seqGt, seqLe, seqLt } from '../wire/seq.js';
import { TcpFlags, type TcpRepr } from '../wire/tcp.js';
import { ackNewData, ackWhileProbing, duplicateAck, finAcked, outstanding, updateSendWindow } from './acked.js';
import { enterEstablished, runPendingClose } from './handshake.js';
import { sendActiveReset, sendResetFor, transmit } from './output.js';
import { checkUrg, enterTimeWait, processTextAndFin } from './receive.js';
import { dropWith, type Step } from './replies.js';
import { rttSample } from './rtt.js';
import { passiveSynReceived, pawsRejects } from './syn-received.js';
import { closeConnection, setState, segLen, type DropReason, type Tcb, type TcpError } from './tcb.js';
import type { ArriveResult } from './segment-arrives.js';
import { unreachable, type TcpState } from './state.js';

const ACK = TcpFlags.ACK;
const RST = TcpFlags.RST;
const SYN = TcpFlags.SYN;
const FIN = TcpFlags.FIN;

/** Result of one check: go on, drop with a reply (and a reason), or the connection was reset. */
type Check = 'continue' | 'reset' | { step: Exclude<Step, 'continue'>; reason: DropReason };

/** Drop verdicts are made once and reused: nothing is allocated per dropped segment. */
const DROPS: { [S in Exclude<Step, 'continue'>]?: { [R in DropReason]?: Check } } = {};
function drop(step: Exclude<Step, 'continue'>, reason: DropReason): Check {
  const byReason = (DROPS[step] ??= {});
  return (byReason[reason] ??= { step, reason });
}

export function synchronizedArrives(tcb: Tcb, seg: TcpRepr): ArriveResult {
  // Linux drops a segment with none of ACK, RST and SYN before any check (tcp_rcv_state_process,
  // tcp_rcv_established: SKB_DROP_REASON_TCP_FLAGS); the RFC finds the missing ACK in the fifth step.
  if (tcb.p.validation === 'linux' && !(seg.flags & (ACK | RST | SYN))) {
    dropWith(tcb, seg, 'drop', 'no-ack-rst-syn');
    return 'dropped';
  }
  if (tcb.state === 'SYN-RECEIVED' && tcb.passive) {
    const r = passiveSynReceived(tcb, seg);
    if (r !== 'continue') return r;
  }
  tcb.forceAck = false;
  for (const check of CHECKS) {
    const r = check(tcb, seg);
    if (r === 'continue') continue;
    tcb.forceAck = false;
    if (r === 'reset') return 'reset';
    dropWith(tcb, seg, r.step, r.reason);
    return 'dropped';
  }
  // RFC 7323 §4.3 (Linux tcp_replace_ts_recent, only once the ACK was found valid): remember the
  // newest TSval of a segment that starts at or before the window's left edge.
  const rx = tcb.rx;
  if (tcb.tsOk && rx.hasTs && seqLe(seg.seq, tcb.rcvWup) && ((rx.tsVal - tcb.tsRecent) | 0) >= 0) {
    tcb.tsRecent = rx.tsVal;
    tcb.tsRecentAtUs = tcb.now;
  }
  // The ACK may have ended the connection (LAST-ACK) or moved it to TIME-WAIT (CLOSING).
  const st: TcpState = tcb.state;
  if (st === 'CLOSED' || st === 'TIME-WAIT') {
    tcb.forceAck = false;
    return 'accepted';
  }
  checkUrg(tcb, seg);
  if (dataAfterClose(tcb, seg)) return 'reset';
  processTextAndFin(tcb, seg.seq, seg.payload, (seg.flags & FIN) !== 0);
  tcb.forceAck = false;
  if (tcb.state !== 'CLOSED') transmit(tcb);
  return 'accepted';
}

/** RFC 7323 §5.3 R1 (Linux applies it before the sequence check, tcp_validate_incoming). */
function checkPaws(tcb: Tcb, seg: TcpRepr): Check {
  if (seg.flags & RST) return 'continue'; // "Reset is accepted even if it did not pass PAWS."
  if (!pawsRejects(tcb, tcb.p.validation === 'linux' ? 1 : 0)) return 'continue';
  if (seg.flags & SYN && tcb.p.rfc5961.syn) return drop('challenge', 'paws');
  return drop('ack', 'paws');
}

/** RFC 9293's four cases (zero-length or not, zero window or not). */
function rfcAcceptable(tcb: Tcb, seg: TcpRepr, len: number): boolean {
  const wnd = checkWindow(tcb);
  const nxt = tcb.rcvNxt;
  if (len === 0) return wnd === 0 ? seg.seq === nxt : seqBetween(nxt, seg.seq, seqAdd(nxt, wnd));
  // Zero window: no octet is acceptable, but "special allowance should be made to accept valid ACKs,
  // URGs, and RSTs" — a segment at RCV.NXT is processed, its text dropped.
  if (wnd === 0) return seg.seq === nxt;
  return seqBetween(nxt, seg.seq, seqAdd(nxt, wnd)) || seqBetween(nxt, seqAdd(seg.seq, len - 1), seqAdd(nxt, wnd));
}

/** Linux tcp_sequence: not wholly before RCV.WUP and not starting beyond the window. */
function linuxAcceptable(tcb: Tcb, seg: TcpRepr, len: number): boolean {
  return seqGe(seqAdd(seg.seq, len), tcb.rcvWup) && seqLe(seg.seq, seqAdd(tcb.rcvNxt, checkWindow(tcb)));
}

/** RCV.WND for the acceptability tests (personality `checkWindow`). */
function checkWindow(tcb: Tcb): number {
  const adv = tcb.rcvWindow;
  if (tcb.p.checkWindow === 'advertised') return adv;
  return Math.max(adv, tcb.rcvSpace - tcb.rcvBuf.length - tcb.ooo.bytes);
}

/** First: "check sequence number". */
function checkSequence(tcb: Tcb, seg: TcpRepr): Check {
  const len = segLen(seg);
  const ok = tcb.p.validation === 'linux' ? linuxAcceptable(tcb, seg, len) : rfcAcceptable(tcb, seg, len);
  if (ok) return 'continue';
  // BSD keeps processing a duplicate's ACK and RST ("Send an ACK to resynchronize and drop any data.
  // But keep on processing for RST or ACK."); the text step trims it all away.
  if (tcb.p.validation === 'bsd' && !(seg.flags & (SYN | RST)) && seqLe(seqAdd(seg.seq, len), tcb.rcvNxt)) {
    tcb.forceAck = true;
    return 'continue';
  }
  // "If an incoming segment is not acceptable, an acknowledgment should be sent in reply (unless the
  // RST bit is set, if so drop the segment and return)."
  if (seg.flags & RST) {
    // Linux tcp_reset_check: after a FIN, a RST at RCV.NXT-1 still counts (Mac OS sends FIN then RST).
    if (afterFinResetSeq(tcb, seg)) return resetConnection(tcb);
    return drop('drop', 'rst-out-of-window');
  }
  // RFC 5961 §4.2 applies "irrespective of the sequence number": a SYN gets the challenge ACK either way
  // (Linux tcp_validate_incoming syn_challenge; FreeBSD checks SYN before trimming).
  if (seg.flags & SYN && tcb.p.rfc5961.syn) return drop('challenge', 'unacceptable-seq');
  return drop('ack', 'unacceptable-seq');
}

function afterFinResetSeq(tcb: Tcb, seg: TcpRepr): boolean {
  if (tcb.p.validation !== 'linux') return false;
  const s = tcb.state;
  return seg.seq === seqAdd(tcb.rcvNxt, -1) && (s === 'CLOSE-WAIT' || s === 'LAST-ACK' || s === 'CLOSING');
}

/** Second: "check the RST bit". */
function checkRst(tcb: Tcb, seg: TcpRepr): Check {
  if (!(seg.flags & RST)) return 'continue';
  if (!tcb.p.rfc5961.rst) return resetConnection(tcb);
  // RFC 5961 §3.2: reset only on an exact match of RCV.NXT; anything else in the window gets a
  // challenge ACK. Linux also accepts RCV.NXT-1 after a FIN and the right edge of its highest SACK block.
  if (seg.seq === tcb.rcvNxt || afterFinResetSeq(tcb, seg)) return resetConnection(tcb);
  if (tcb.p.validation === 'linux' && tcb.sackOk && tcb.ooo.highestEdge() === seg.seq) return resetConnection(tcb);
  return drop('challenge', 'rst-not-exact');
}

/** The reset, by state (RFC 9293 §3.10.7.4 second), with the error the user sees. */
function resetConnection(tcb: Tcb): Check {
  const linuxErrors = tcb.p.resetErrno === 'linux';
  let error: TcpError | null;
  switch (tcb.state) {
    case 'SYN-RECEIVED':
      // "If this connection was initiated with a passive OPEN, then return this connection to the
      // LISTEN state and return" — the child goes away; an active one is "connection refused"
      // (Linux tcp_reset reports ECONNRESET here).
      error = tcb.passive ? null : linuxErrors ? 'ECONNRESET' : 'ECONNREFUSED';
      break;
    case 'CLOSE-WAIT':
      // Linux tcp_reset: EPIPE in CLOSE-WAIT (the peer had closed already).
      error = linuxErrors ? 'EPIPE' : 'ECONNRESET';
      break;
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN-SENT':
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSING':
    case 'LAST-ACK':
    case 'TIME-WAIT':
      // ESTABLISHED, FIN-WAIT-1/2: "connection reset"; CLOSING, LAST-ACK: "enter the CLOSED state,
      // delete the TCB" — both kernels still leave ECONNRESET for a pending call.
      error = 'ECONNRESET';
      break;
    default:
      return unreachable(tcb.state);
  }
  closeConnection(tcb, error);
  return 'reset';
}

/** Fourth: "check the SYN bit". */
function checkSyn(tcb: Tcb, seg: TcpRepr): Check {
  if (!(seg.flags & SYN)) return 'continue';
  if (tcb.state === 'SYN-RECEIVED' && tcb.passive) {
    // "If the connection was initiated with a passive OPEN, then return this connection to the LISTEN
    // state and return."
    closeConnection(tcb, null);
    return 'reset';
  }
  // Crossed SYN-ACKs of a simultaneous open (RFC 9293 §3.5 figure 7): the peer's SYN-ACK, exactly
  // acknowledging our SYN, completes the handshake. Linux accepts it since 6.11 (tcp_validate_incoming,
  // "accept a bare SYN+ACK for active-open TCP_SYN_RECV sockets") instead of a challenge ACK.
  if (
    tcb.state === 'SYN-RECEIVED' &&
    seg.flags & ACK &&
    seqAdd(seg.seq, 1) === tcb.rcvNxt &&
    segLen(seg) === 1 &&
    seg.ack === tcb.sndNxt
  ) {
    // The SYN in it is one already taken: Linux's tcp_data_queue treats it as a retransmission ("Force
    // an immediate ack"), with a D-SACK for it (tcp_dsack_set) when SACK was agreed.
    if (tcb.p.dsack && tcb.sackOk) tcb.dsack = [seg.seq, seqAdd(seg.seq, 1)];
    tcb.forceAck = true;
    return 'continue';
  }
  // RFC 5961 §4.2: "send a challenge ACK ... irrespective of the sequence number".
  if (tcb.p.rfc5961.syn) return drop('challenge', 'syn-in-window');
  // RFC 793: a SYN in the window is an error: reset, "connection reset".
  sendActiveReset(tcb);
  closeConnection(tcb, 'ECONNRESET');
  return 'reset';
}

/** Fifth: "check the ACK field". */
function checkAck(tcb: Tcb, seg: TcpRepr): Check {
  // "if the ACK bit is off, drop the segment and return"
  if (!(seg.flags & ACK)) return drop('drop', 'no-ack');
  const ack = seg.ack;
  if (tcb.state === 'SYN-RECEIVED') {
    // "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state and continue processing with the
    // variables below set to: SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK."
    if (!seqBetween(seqAdd(tcb.sndUna, 1), ack, seqAdd(tcb.sndNxt, 1))) {
      // "If the segment acknowledgment is not acceptable, form a reset segment <SEQ=SEG.ACK><CTL=RST>".
      return drop('reset-reply', 'ack-unacceptable');
    }
    tcb.sndUna = ack;
    tcb.sndBufSeq = ack;
    tcb.rtxNxt = ack;
    tcb.rtxAt = -1;
    if (tcb.rttStartUs >= 0 && tcb.retransmits === 0) rttFromHandshake(tcb);
    tcb.sndWnd = seg.window * 2 ** tcb.sndWscale;
    tcb.maxSndWnd = tcb.sndWnd;
    tcb.sndWl1 = seg.seq;
    tcb.sndWl2 = ack;
    enterEstablished(tcb);
    runPendingClose(tcb);
    return 'continue';
  }
  if (seqGt(ack, tcb.sndNxt)) {
    // "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the segment,
    // and return." Linux drops it silently in ESTABLISHED (tcp_ack → discard) and challenges elsewhere.
    if (tcb.p.validation !== 'linux') return drop('ack', 'ack-unsent');
    return drop(tcb.state === 'ESTABLISHED' ? 'drop' : 'challenge', 'ack-unsent');
  }
  if (seqLt(ack, tcb.sndUna)) {
    // RFC 5961 §5.2: an ACK older than SND.UNA - MAX.SND.WND is unacceptable (Linux bounds the window
    // by what was acknowledged so far).
    const maxWnd = Math.min(tcb.maxSndWnd, tcb.bytesAcked);
    if (tcb.p.rfc5961.ack && seqLt(ack, seqAdd(tcb.sndUna, -maxWnd))) return drop('challenge', 'ack-too-old');
    // "If the ACK is a duplicate (SEG.ACK < SND.UNA), it can be ignored."
    return afterAck(tcb);
  }
  const advanced = seqGt(ack, tcb.sndUna);
  const wasOutstanding = outstanding(tcb);
  ackNewData(tcb, ack);
  const windowChanged = updateSendWindow(tcb, seg);
  ackWhileProbing(tcb);
  if (!advanced && !windowChanged && wasOutstanding && seg.payload.length === 0 && !(seg.flags & (SYN | FIN))) {
    duplicateAck(tcb);
  }
  return afterAck(tcb);
}

/** The state-specific part of the fifth step. */
function afterAck(tcb: Tcb): Check {
  switch (tcb.state) {
    case 'FIN-WAIT-1':
      // "if the FIN segment is now acknowledged, then enter FIN-WAIT-2 and continue processing"
      if (finAcked(tcb)) {
        setState(tcb, 'FIN-WAIT-2');
        // Linux: after close() the FIN-WAIT-2 wait is bounded by tcp_fin_timeout.
        if (tcb.userClosed) tcb.finWait2At = tcb.now + tcb.p.finWait2TimeoutUs;
      }
      return 'continue';
    case 'CLOSING':
      // "if the ACK acknowledges our FIN, then enter the TIME-WAIT state; otherwise, ignore the segment"
      if (finAcked(tcb)) enterTimeWait(tcb);
      return 'continue';
    case 'LAST-ACK':
      // "If our FIN is now acknowledged, delete the TCB, enter the CLOSED state, and return."
      if (finAcked(tcb)) closeConnection(tcb, null);
      return 'continue';
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN-SENT':
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
    case 'FIN-WAIT-2':
    case 'CLOSE-WAIT':
    case 'TIME-WAIT':
      return 'continue';
    default:
      return unreachable(tcb.state);
  }
}

/** The SYN-ACK's round trip (Linux tcp_synack_rtt_meas), when it was not retransmitted. */
function rttFromHandshake(tcb: Tcb): void {
  const m = tcb.now - tcb.rttStartUs;
  tcb.rttStartUs = -1;
  if (m >= 0) rttSample(tcb, m);
}

/**
 * RFC 9293 seventh step, FIN-WAIT states, and RFC 1122 §4.2.2.13 / RFC 2525 §2.17: after CLOSE the user
 * reads nothing more, so new data is answered with a reset and the connection goes. Both kernels send
 * the reset in the §3.10.7.1 form, as for a segment with no connection (Linux tcp_rcv_state_process
 * "abort on data" → tcp_v4_send_reset; FreeBSD "rcvafterclose" → tcp_dropwithreset).
 */
function dataAfterClose(tcb: Tcb, seg: TcpRepr): boolean {
  if (!tcb.userClosed || seg.payload.length === 0) return false;
  if (tcb.state !== 'FIN-WAIT-1' && tcb.state !== 'FIN-WAIT-2') return false;
  const end = seqAdd(seg.seq, seg.payload.length);
  if (!seqGt(end, tcb.rcvNxt)) return false;
  sendResetFor(tcb, seg);
  closeConnection(tcb, null);
  return true;
}

const CHECKS: ReadonlyArray<(tcb: Tcb, seg: TcpRepr) => Check> = [
  checkPaws,
  checkSequence,
  checkRst,
  // third: security — "no longer used" (RFC 9293 §3.10.7.4), nothing to check.
  checkSyn,
  checkAck,
];

