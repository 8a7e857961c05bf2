/**
 * Timers: `pollAt(tcb)` is the next deadline, `poll(tcb, nowUs)` fires the ones that are due.
 *
 * - retransmission (RFC 6298 §5; SYN and SYN-ACK with the personality's counts and backoff),
 * - persist: zero-window probes (RFC 9293 §3.8.6.1),
 * - delayed ACK (ack.ts),
 * - FIN-WAIT-2 timeout after CLOSE (Linux tcp_fin_timeout),
 * - TIME-WAIT 2×MSL (RFC 9293 §3.10.7.4 eighth),
 * - the connection-establishment limit (FreeBSD keepinit).
 */
import { seqAdd, seqSub } from '../wire/seq.js';
import { TcpFlags } from '../wire/tcp.js';
import { delayedAckTimer } from './ack.js';
import { currentMss, sendSyn, sendWindowProbe, selectWindow, transmit } from './output.js';
import { establishedOptions } from './options.js';
import { backedOffRto, linuxModelTimeout, persistInterval } from './rtt.js';
import { closeConnection, type Tcb } from './tcb.js';
import { unreachable } from './state.js';

/** The earliest armed deadline (µs), or null when no timer runs. */
export function pollAt(tcb: Tcb): number | null {
  // Called for every socket a segment, call or timer touches: no array per call.
  let t = earlier(-1, tcb.rtxAt);
  t = earlier(t, tcb.persistAt);
  t = earlier(t, tcb.delAckAt);
  t = earlier(t, tcb.finWait2At);
  t = earlier(t, tcb.timeWaitAt);
  t = earlier(t, tcb.connectDeadline);
  return t < 0 ? null : t;
}

/** The earlier of two deadlines, -1 meaning none. */
function earlier(t: number, d: number): number {
  return d >= 0 && (t < 0 || d < t) ? d : t;
}

/** Fires every timer due at `nowUs`. */
export function poll(tcb: Tcb, nowUs: number): void {
  tcb.now = nowUs;
  tcb.cause = 'timer';
  if (tcb.connectDeadline >= 0 && nowUs >= tcb.connectDeadline) {
    // FreeBSD tcp_timer_keep: "if (tp->t_state < TCPS_ESTABLISHED) goto dropit".
    tcb.connectDeadline = -1;
    if (tcb.state === 'SYN-SENT' || (tcb.state === 'SYN-RECEIVED' && !tcb.passive)) closeConnection(tcb, 'ETIMEDOUT');
  }
  if (tcb.rtxAt >= 0 && nowUs >= tcb.rtxAt) retransmitTimer(tcb);
  if (tcb.persistAt >= 0 && nowUs >= tcb.persistAt) persistTimer(tcb);
  if (tcb.delAckAt >= 0 && nowUs >= tcb.delAckAt) delayedAckTimer(tcb);
  if (tcb.finWait2At >= 0 && nowUs >= tcb.finWait2At) {
    // Linux: the orphaned FIN-WAIT-2 socket simply goes away (tcp_fin_timeout), no RST.
    tcb.finWait2At = -1;
    if (tcb.state === 'FIN-WAIT-2') closeConnection(tcb, null);
  }
  if (tcb.timeWaitAt >= 0 && nowUs >= tcb.timeWaitAt) {
    // RFC 9293: "If the time-wait timeout expires on a connection, delete the TCB, enter the CLOSED state."
    tcb.timeWaitAt = -1;
    if (tcb.state === 'TIME-WAIT') closeConnection(tcb, null);
  }
}

function retransmitTimer(tcb: Tcb): void {
  tcb.rtxAt = -1;
  const p = tcb.p;
  switch (tcb.state) {
    case 'SYN-SENT': {
      // Linux tcp_write_timeout: `expired = icsk_retransmits >= max_retransmits` (tcp_syn_retries plus
      // the linear ones), or else retransmits_timed_out(sk, tcp_syn_retries, 0): the time since the first
      // SYN (retrans_stamp) has reached tcp_model_timeout(sk, tcp_syn_retries, TCP_TIMEOUT_INIT). With
      // tcp_syn_retries=1 that is SYNs at 0, 1 and 2 s and ETIMEDOUT at 3 s (pd: packet-timeout.pkt).
      // FreeBSD: TCP_MAXRXTSHIFT, by count.
      if (tcb.retransmits === 0) tcb.rtxStampUs = tcb.rttStartUs >= 0 ? tcb.rttStartUs : tcb.now - tcb.rto;
      const byTime = p.backoffRule === 'linux' && tcb.retransmits > 0 && tcb.now - tcb.rtxStampUs >= linuxModelTimeout(p.synRetries, p.rtoInitialUs, p.rtoMaxUs);
      if (tcb.retransmits >= p.synRetries + p.synLinearTimeouts || byTime) {
        closeConnection(tcb, 'ETIMEDOUT');
        return;
      }
      tcb.retransmits += 1;
      tcb.rttStartUs = -1;
      sendSyn(tcb, false);
      tcb.rto = backedOffRto(tcb);
      tcb.rtxAt = tcb.now + tcb.rto;
      return;
    }
    case 'SYN-RECEIVED': {
      const max = tcb.passive ? p.synackRetries : p.synRetries;
      if (tcb.retransmits >= max) {
        // A passive child just disappears (the listener's request times out); an active one fails.
        closeConnection(tcb, tcb.passive ? null : 'ETIMEDOUT');
        return;
      }
      tcb.retransmits += 1;
      tcb.rttStartUs = -1;
      sendSyn(tcb, true);
      tcb.rto = backedOffRto(tcb);
      tcb.rtxAt = tcb.now + tcb.rto;
      return;
    }
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'CLOSE-WAIT':
    case 'CLOSING':
    case 'LAST-ACK':
      dataTimeout(tcb);
      return;
    case 'CLOSED':
    case 'LISTEN':
    case 'FIN-WAIT-2':
    case 'TIME-WAIT':
      return;
    default:
      return unreachable(tcb.state);
  }
}

/** RFC 6298 §5.4–5.6 and RFC 5681 §3.1: retransmit the earliest segment, back off, shrink cwnd. */
function dataTimeout(tcb: Tcb): void {
  const p = tcb.p;
  if (tcb.sndUna === tcb.sndNxt) return;
  if (tcb.rtxStampUs < 0) tcb.rtxStampUs = tcb.now - tcb.rto;
  const expired = p.dataRetriesRule === 'count'
    ? tcb.retransmits >= p.dataRetries
    : tcb.retransmits > 0 && tcb.now - tcb.rtxStampUs >= linuxModelTimeout(p.dataRetries, p.rtoMinUs, p.rtoMaxUs);
  if (expired) {
    closeConnection(tcb, 'ETIMEDOUT');
    return;
  }
  const flight = seqSub(tcb.sndNxt, tcb.sndUna);
  tcb.ssthresh = Math.max(Math.floor(flight / 2), 2 * tcb.sndMss);
  tcb.cwnd = tcb.sndMss;
  tcb.dupAcks = 0;
  tcb.rttStartUs = -1; // Karn: no sample from a retransmitted segment
  tcb.retransmits += 1;
  retransmitHead(tcb);
  tcb.rto = backedOffRto(tcb);
  tcb.rtxAt = tcb.now + tcb.rto;
}

/**
 * Resends the first unacknowledged segment (go-back-N from there on as ACKs come), even into a window
 * the peer has since shrunk (Linux: "our retransmits become zero probes").
 */
export function retransmitHead(tcb: Tcb): void {
  const seq = tcb.sndUna;
  const dataEnd = tcb.dataEnd;
  const len = Math.min(Math.max(0, seqSub(dataEnd, seq)), currentMss(tcb), seqSub(tcb.sndNxt, seq));
  const end = seqAdd(seq, len);
  const fin = tcb.finSent && end === dataEnd;
  const payload = len > 0 ? tcb.sendBuf.peek(seqSub(seq, tcb.sndBufSeq), len) : new Uint8Array(0);
  let flags = TcpFlags.ACK;
  if (len > 0 && end === dataEnd) flags |= TcpFlags.PSH;
  if (fin) flags |= TcpFlags.FIN;
  const window = selectWindow(tcb);
  tcb.ackPending = false;
  tcb.delAckAt = -1;
  tcb.hooks.output(
    {
      srcPort: tcb.local.port,
      dstPort: tcb.remote.port,
      seq,
      ack: tcb.rcvNxt,
      flags,
      window,
      urgent: 0,
      options: establishedOptions(tcb),
      payload,
    },
    tcb,
  );
  tcb.rtxNxt = fin ? seqAdd(end, 1) : end;
  if (tcb.rtxAt < 0) tcb.rtxAt = tcb.now + tcb.rto;
}

function persistTimer(tcb: Tcb): void {
  tcb.persistAt = -1;
  switch (tcb.state) {
    case 'ESTABLISHED':
    case 'CLOSE-WAIT':
    case 'FIN-WAIT-1':
    case 'LAST-ACK':
    case 'CLOSING':
      break;
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN-SENT':
    case 'SYN-RECEIVED':
    case 'FIN-WAIT-2':
    case 'TIME-WAIT':
      return;
    default:
      return unreachable(tcb.state);
  }
  // Linux tcp_probe_timer: give up after tcp_retries2 unanswered probes (an answer resets the count).
  if (tcb.probesOut >= tcb.p.dataRetries) {
    closeConnection(tcb, 'ETIMEDOUT');
    return;
  }
  const before = tcb.sndNxt;
  sendWindowProbe(tcb);
  tcb.probesOut += 1;
  tcb.persistBackoff += 1;
  if (tcb.sndNxt === before) tcb.persistAt = tcb.now + persistInterval(tcb);
  // Whatever else the window allows now goes too.
  transmit(tcb);
}
