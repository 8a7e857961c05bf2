/**
 * The send side of the fifth check of RFC 9293 §3.10.7.4: an acceptable ACK advances SND.UNA, frees the
 * acknowledged octets from the send buffer (the retransmission queue), yields an RTT sample (Karn),
 * grows the congestion window (RFC 5681), restarts or stops the retransmission timer (RFC 6298 §5) and
 * updates the send window from SND.WL1/SND.WL2.
 */
import { seqAdd, seqGe, seqGt, seqLt, seqSub } from '../wire/seq.js';
import type { TcpRepr } from '../wire/tcp.js';
import { retransmitHead } from './timers.js';
import { persistInterval, rttSample } from './rtt.js';
import type { Tcb } from './tcb.js';

/** SND.UNA < SEG.ACK =< SND.NXT: octets up to `ack` are acknowledged. */
export function ackNewData(tcb: Tcb, ack: number): void {
  const n = seqSub(ack, tcb.sndUna);
  if (n <= 0) return;
  const data = Math.min(Math.max(0, seqSub(ack, tcb.sndBufSeq)), tcb.sendBuf.length);
  if (data > 0) {
    tcb.sendBuf.discard(data);
    tcb.sndBufSeq = seqAdd(tcb.sndBufSeq, data);
  }
  tcb.sndUna = ack;
  if (seqLt(tcb.rtxNxt, ack)) tcb.rtxNxt = ack;
  tcb.bytesAcked += n;
  tcb.retransmits = 0;
  tcb.rtxStampUs = -1;
  tcb.dupAcks = 0;
  // Karn's algorithm: the timed segment was not retransmitted, or timing would have been cancelled.
  if (tcb.rttStartUs >= 0 && seqGe(ack, tcb.rttSeq)) {
    rttSample(tcb, tcb.now - tcb.rttStartUs);
    tcb.rttStartUs = -1;
  }
  // RFC 5681 §3.1: slow start below ssthresh, congestion avoidance above.
  const mss = tcb.sndMss;
  if (tcb.cwnd < tcb.ssthresh) tcb.cwnd += Math.min(n, mss);
  else tcb.cwnd += Math.max(1, Math.floor((mss * mss) / tcb.cwnd));
  // RFC 6298 §5.2/§5.3: all acknowledged → stop the timer, else restart it.
  tcb.rtxAt = tcb.sndUna === tcb.sndNxt ? -1 : tcb.now + tcb.rto;
}

/**
 * RFC 9293 §3.10.7.4: "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated. If
 * (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)), set SND.WND <- SEG.WND, set
 * SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK." The window is scaled by the peer's shift (RFC 7323).
 * Returns whether the window changed.
 */
export function updateSendWindow(tcb: Tcb, seg: TcpRepr): boolean {
  if (!(seqLt(tcb.sndWl1, seg.seq) || (tcb.sndWl1 === seg.seq && seqGe(seg.ack, tcb.sndWl2)))) return false;
  const wnd = seg.window * 2 ** tcb.sndWscale;
  const changed = wnd !== tcb.sndWnd;
  tcb.sndWnd = wnd;
  tcb.sndWl1 = seg.seq;
  tcb.sndWl2 = seg.ack;
  if (wnd > tcb.maxSndWnd) tcb.maxSndWnd = wnd;
  return changed;
}

/**
 * A duplicate ACK (RFC 5681 §2: no data, no window change, SEG.ACK = SND.UNA with data outstanding).
 * The third one triggers a fast retransmit of the first unacknowledged segment (RFC 5681 §3.2).
 */
export function duplicateAck(tcb: Tcb): void {
  tcb.dupAcks += 1;
  if (tcb.dupAcks !== 3) return;
  const flight = seqSub(tcb.sndNxt, tcb.sndUna);
  tcb.ssthresh = Math.max(Math.floor(flight / 2), 2 * tcb.sndMss);
  tcb.cwnd = tcb.ssthresh;
  // Only the head is presumed lost: unless a timeout is already resending everything, go on from SND.NXT.
  const resending = tcb.rtxNxt !== tcb.sndNxt;
  retransmitHead(tcb);
  if (!resending) tcb.rtxNxt = tcb.sndNxt;
}

/**
 * An ACK while the persist timer runs (Linux tcp_ack_probe): if the window now takes the next segment,
 * stop probing; otherwise keep the timer at its backed-off interval.
 */
export function ackWhileProbing(tcb: Tcb): void {
  tcb.probesOut = 0;
  if (tcb.persistAt < 0) return;
  const room = seqSub(seqAdd(tcb.sndUna, tcb.sndWnd), tcb.sndNxt);
  const next = Math.min(Math.max(0, seqSub(tcb.dataEnd, tcb.sndNxt)), tcb.sndMss);
  if (room > 0 && room >= next) {
    tcb.persistAt = -1;
    tcb.persistBackoff = 0;
  } else {
    tcb.persistAt = tcb.now + persistInterval(tcb);
  }
}

/** Whether our FIN has been sent and acknowledged. */
export function finAcked(tcb: Tcb): boolean {
  return tcb.finSent && tcb.sndUna === tcb.sndNxt;
}

/** Data (or a FIN) is outstanding. */
export function outstanding(tcb: Tcb): boolean {
  return seqGt(tcb.sndNxt, tcb.sndUna);
}
