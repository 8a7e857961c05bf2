/**
 * Building and sending segments: SYN / SYN-ACK with the personality's options, ACKs, active resets, and
 * `transmit`, which sends what the windows, Nagle and the retransmission state allow. Every segment is a
 * fresh TcpRepr handed to `hooks.output` at once; nothing else is allocated per segment.
 */
import { seqAdd, seqGe, seqGt, seqLt, seqMin, seqSub } from '../wire/seq.js';
import { TcpFlags, type TcpOption, type TcpRepr } from '../wire/tcp.js';
import { establishedOptions, layoutSynOptions, sackOptionLength, type SynOptionSet } from './options.js';
import { persistInterval } from './rtt.js';
import { resetFor } from './rst.js';
import { synWindow } from './personality.js';
import type { Tcb } from './tcb.js';
import { unreachable } from './state.js';

const EMPTY = new Uint8Array(0);

function emit(tcb: Tcb, seq: number, flags: number, window: number, options: TcpOption[], payload: Uint8Array): void {
  const seg: TcpRepr = {
    srcPort: tcb.local.port,
    dstPort: tcb.remote.port,
    seq: seq >>> 0,
    ack: flags & TcpFlags.ACK ? tcb.rcvNxt : 0,
    flags,
    window,
    urgent: 0,
    options,
    payload,
  };
  if (flags & TcpFlags.ACK) ackSent(tcb);
  tcb.hooks.output(seg, tcb);
}

/**
 * Every segment carrying an ACK acknowledges everything so far: no ACK is pending any more, and (Linux
 * tcp_dec_quickack_mode) one quick-ack credit is used if an ACK had been scheduled.
 */
function ackSent(tcb: Tcb): void {
  if (tcb.ackPending && tcb.quick > 0) {
    tcb.quick -= 1;
    if (tcb.quick === 0 && tcb.p.delayedAck.kind === 'linux') tcb.ato = tcb.p.delayedAck.atoMinUs;
  }
  tcb.ackPending = false;
  tcb.delAckAt = -1;
}

/**
 * The window to advertise (RFC 9293 §3.8.6.2.2, receiver side), as the 16-bit field; records it as
 * RCV.WND from RCV.NXT. Never shrinks the right edge already offered (RFC 9293 §3.8.6: "the receiver
 * SHOULD NOT shrink the window").
 *
 * linux (tcp_output.c __tcp_select_window): the free space, but no more than rcv_ssthresh (which grows
 * as data arrives), rounded up to the scale unit; zero when space is below 1/16 of the buffer or one
 * MSS. freebsd (tcp_output.c): the free space, rounded down to the scale unit, zero when below a
 * quarter buffer and one MSS (receiver silly window avoidance).
 */
export function selectWindow(tcb: Tcb): number {
  const unit = 2 ** tcb.rcvWscale;
  const full = tcb.rcvSpace;
  let free = Math.max(0, full - tcb.rcvBuf.length - tcb.ooo.bytes);
  let win: number;
  if (tcb.p.windowRule === 'linux') {
    const mss = Math.min(tcb.rcvMss, full);
    let zero = false;
    if (free < full / 2) {
      tcb.quick = 0;
      free -= free % unit;
      if (free < full / 16 || free < mss) zero = true;
    }
    if (zero) {
      win = 0;
    } else {
      free = Math.min(free, tcb.rcvSsthresh);
      if (tcb.rcvWscale > 0) {
        win = Math.ceil(free / unit) * unit;
      } else {
        win = tcb.rcvWnd;
        if (win <= free - mss || win > free) win = free - (free % mss);
      }
    }
  } else {
    win = free;
    if (win < full / 4 && win < tcb.sndMss) win = 0;
    win -= win % unit;
  }
  const cur = tcb.rcvWindow;
  if (win < cur) win = Math.ceil(cur / unit) * unit;
  win = Math.min(win, 65535 * unit);
  const field = Math.floor(win / unit);
  tcb.rcvWnd = field * unit;
  tcb.rcvWup = tcb.rcvNxt;
  return field;
}

/** The options our SYN or SYN-ACK carries. */
function synOptionSet(tcb: Tcb, synAck: boolean): SynOptionSet {
  const p = tcb.p;
  // Our own SYN, and Linux's SYN-ACK in a simultaneous open (tcp_send_synack resends the SYN with ACK
  // set, its options computed by tcp_syn_options): everything we support.
  const full = !synAck || (!tcb.passive && p.optionLayout === 'linux');
  if (full) {
    return {
      mss: tcb.advMss,
      wscale: p.windowScaling ? tcb.offeredWscale : -1,
      sackOk: p.sack,
      ts: p.timestamps ? { tsVal: tcb.tsVal(), tsEcr: synAck ? tcb.tsRecent : 0 } : null,
    };
  }
  // A SYN-ACK answers only what the SYN offered (RFC 7323 §2.2, §3.2; RFC 2018 §2).
  return {
    mss: tcb.advMss,
    wscale: tcb.wscaleOk ? tcb.offeredWscale : -1,
    sackOk: tcb.sackOk,
    ts: tcb.tsOk ? { tsVal: tcb.tsVal(), tsEcr: tcb.tsRecent } : null,
  };
}

/** The unscaled window of a SYN or SYN-ACK (RFC 7323 §2.2: "the Window field in a SYN ... is never scaled"). */
export function initialWindow(tcb: Tcb, synAck: boolean): number {
  // Linux rounds to the MSS less the timestamp option on a passive SYN-ACK (tcp_openreq_init_rwin), to
  // the plain MSS on a SYN and on the SYN-ACK of a simultaneous open (tcp_send_synack on a full socket
  // keeps tp->rcv_wnd from tcp_connect_init).
  const mss = synAck && tcb.passive && tcb.tsOk ? tcb.advMss - 12 : tcb.advMss;
  return synWindow(tcb.p, tcb.rcvSpace, mss);
}

/** <SEQ=ISS><CTL=SYN> or <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. */
export function sendSyn(tcb: Tcb, synAck: boolean): void {
  const set = synOptionSet(tcb, synAck);
  const options = layoutSynOptions(tcb.p.optionLayout, set);
  if (!synAck && tcb.retransmits === 0 && set.ts !== null) tcb.synTsVal = set.ts.tsVal;
  const window = initialWindow(tcb, synAck);
  tcb.rcvWnd = window;
  tcb.rcvWup = tcb.rcvNxt;
  emit(tcb, tcb.iss, synAck ? TcpFlags.SYN | TcpFlags.ACK : TcpFlags.SYN, window, options, EMPTY);
}

/**
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, with the current window and options. FreeBSD's output path
 * resends a FIN that is the only thing unacknowledged instead (personality `ackCarriesUnackedFin`).
 */
export function sendAck(tcb: Tcb): void {
  if (tcb.p.ackCarriesUnackedFin && tcb.finSent && tcb.sndUna === tcb.dataEnd) {
    const window = selectWindow(tcb);
    emit(tcb, tcb.dataEnd, TcpFlags.FIN | TcpFlags.ACK, window, establishedOptions(tcb), EMPTY);
    return;
  }
  sendBareAck(tcb);
}

/** A plain ACK in every personality (challenge ACKs, TIME-WAIT ACKs: FreeBSD tcp_respond). */
export function sendBareAck(tcb: Tcb): void {
  const window = selectWindow(tcb);
  emit(tcb, tcb.sndNxt, TcpFlags.ACK, window, establishedOptions(tcb), EMPTY);
}

/** A zero-window probe Linux-style: an ACK one below SND.UNA, which the peer must answer (tcp_xmit_probe_skb). */
export function sendOldSeqProbe(tcb: Tcb): void {
  const window = selectWindow(tcb);
  emit(tcb, seqAdd(tcb.sndUna, -1), TcpFlags.ACK, window, establishedOptions(tcb), EMPTY);
}

/**
 * The reset a connection sends when it aborts (RFC 9293 §3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST>); both
 * kernels set ACK too and send the usual options (Linux tcp_send_active_reset, FreeBSD tcp_drop).
 */
export function sendActiveReset(tcb: Tcb): void {
  const window = selectWindow(tcb);
  emit(tcb, tcb.sndNxt, TcpFlags.RST | TcpFlags.ACK, window, establishedOptions(tcb), EMPTY);
}

/**
 * A reset answering `seg` on this connection's 4-tuple, RFC 9293 §3.10.7.1 form: <SEQ=SEG.ACK><CTL=RST>
 * if it had ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; window 0, no options (Linux
 * tcp_v4_send_reset).
 */
export function sendResetFor(tcb: Tcb, seg: TcpRepr): void {
  const rst = resetFor(seg);
  if (rst !== null) tcb.hooks.output(rst, tcb);
}

/**
 * The segment size to send with: the MSS, but never more than half the largest window the peer offered
 * (the whole of it below 1220 octets), so that a small window still takes whole segments (Linux
 * tcp_bound_to_half_wnd; BSD sends at half the maximum window too).
 */
export function sendMss(tcb: Tcb): number {
  const mss = currentMss(tcb);
  const max = tcb.maxSndWnd;
  if (max <= 0) return mss;
  const cutoff = max > 1220 ? max >> 1 : max;
  return Math.min(mss, Math.max(cutoff, 48));
}

/** SND.MSS less the SACK blocks the next segment carries (Linux tcp_current_mss): frames fit the MTU. */
export function currentMss(tcb: Tcb): number {
  return Math.max(1, tcb.sndMss - sackOptionLength(tcb));
}

/** States in which data and FIN may be (re)transmitted. */
function maySend(tcb: Tcb): boolean {
  switch (tcb.state) {
    case 'ESTABLISHED':
    case 'CLOSE-WAIT':
    case 'FIN-WAIT-1':
    case 'CLOSING':
    case 'LAST-ACK':
      return true;
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN-SENT':
    case 'SYN-RECEIVED':
    case 'FIN-WAIT-2':
    case 'TIME-WAIT':
      return false;
    default:
      return unreachable(tcb.state);
  }
}

/**
 * Sends data (and the FIN) as far as the send window, the congestion window, sender silly-window
 * avoidance and Nagle allow; while recovering from a timeout (rtxNxt < sndNxt) it resends from rtxNxt
 * first. Arms the retransmission timer, or the persist timer when data waits on a zero window.
 */
export function transmit(tcb: Tcb): void {
  if (!maySend(tcb)) return;
  for (;;) {
    const retransmitting = seqLt(tcb.rtxNxt, tcb.sndNxt);
    const seq = retransmitting ? tcb.rtxNxt : tcb.sndNxt;
    const dataEnd = tcb.dataEnd;
    const avail = Math.max(0, seqSub(dataEnd, seq));
    const wndEnd = seqAdd(tcb.sndUna, tcb.sndWnd);
    const usable = seqSub(seqMin(wndEnd, seqAdd(tcb.sndUna, tcb.cwnd)), seq);
    if (avail === 0) {
      // The FIN alone. It needs one octet of window unless it was already sent once.
      if (tcb.finQueued && seq === dataEnd && (retransmitting || (!tcb.finSent && seqGe(wndEnd, seqAdd(dataEnd, 1))))) {
        sendData(tcb, seq, EMPTY, true, retransmitting, false);
        continue;
      }
      break;
    }
    const mss = sendMss(tcb);
    const len = Math.min(avail, mss);
    // Sender SWS avoidance: the next segment must fit (Linux tcp_snd_wnd_test, RFC 9293 §3.8.6.2.1).
    if (len > usable) break;
    // Nagle (RFC 9293 §3.7.4): hold a sub-MSS tail while earlier small data is unacknowledged.
    if (!retransmitting && len < mss && !tcb.config.nodelay && !tcb.finQueued) {
      const blocked = tcb.p.nagle === 'minshall'
        ? seqGt(tcb.sndSml, tcb.sndUna) // a small segment is still unacknowledged
        : tcb.sndNxt !== tcb.sndUna;
      if (blocked) break;
    }
    const payload = tcb.sendBuf.peek(seqSub(seq, tcb.sndBufSeq), len);
    const end = seqAdd(seq, len);
    const fin = tcb.finQueued && end === dataEnd && seqGe(wndEnd, seqAdd(end, 1));
    // Linux: PSH where the burst stops (the end of a TSO super-segment), not only at the buffer's end.
    let push = end === dataEnd;
    if (!push && tcb.p.pshRule === 'burst-end') {
      const nextLen = Math.min(seqSub(dataEnd, end), mss);
      push = nextLen > usable - len;
    }
    sendData(tcb, seq, payload, fin, retransmitting, push);
  }
  armPersistIfStalled(tcb);
}

function sendData(tcb: Tcb, seq: number, payload: Uint8Array, fin: boolean, retransmitting: boolean, push: boolean): void {
  let flags = TcpFlags.ACK;
  const end = seqAdd(seq, payload.length);
  if (payload.length > 0 && (push || end === tcb.dataEnd)) flags |= TcpFlags.PSH;
  if (fin) flags |= TcpFlags.FIN;
  const window = selectWindow(tcb);
  emit(tcb, seq, flags, window, establishedOptions(tcb), payload);
  if (payload.length > 0 && payload.length < tcb.sndMss) tcb.sndSml = end;
  const next = fin ? seqAdd(end, 1) : end;
  if (retransmitting) {
    tcb.rtxNxt = next;
    if (seqGt(next, tcb.sndNxt)) tcb.sndNxt = next;
  } else {
    tcb.sndNxt = next;
    tcb.rtxNxt = next;
    // Karn: time one new segment at a time.
    if (tcb.rttStartUs < 0) {
      tcb.rttSeq = next;
      tcb.rttStartUs = tcb.now;
    }
  }
  if (payload.length > 0) dataSent(tcb);
  if (tcb.rtxAt < 0) tcb.rtxAt = tcb.now + tcb.rto;
  tcb.persistAt = -1;
}

/**
 * Linux tcp_event_data_sent: sending data within ATO of the last data received makes the exchange
 * interactive ("pingpong"), and ACKs are then delayed.
 */
function dataSent(tcb: Tcb): void {
  if (tcb.p.delayedAck.kind !== 'linux') return;
  if (tcb.ato > 0 && tcb.now - tcb.lrcvUs < tcb.ato) tcb.pingpong = true;
}

/** Data waits, nothing is in flight and no timer runs: probe the window later (RFC 9293 §3.8.6.1). */
function armPersistIfStalled(tcb: Tcb): void {
  const unsent = seqGt(tcb.dataEnd, tcb.sndNxt) || (tcb.finQueued && !tcb.finSent);
  if (unsent && tcb.sndNxt === tcb.sndUna && tcb.rtxAt < 0 && tcb.persistAt < 0) {
    tcb.persistAt = tcb.now + persistInterval(tcb);
  }
}

/**
 * A window probe when the persist timer fires: new data if any of the window is open (Linux
 * tcp_write_wakeup), else the personality's probe: an old-sequence ACK (Linux) or one octet of data
 * beyond the window (FreeBSD).
 */
export function sendWindowProbe(tcb: Tcb): void {
  const usable = seqSub(seqAdd(tcb.sndUna, tcb.sndWnd), tcb.sndNxt);
  const avail = Math.max(0, seqSub(tcb.dataEnd, tcb.sndNxt));
  if (avail > 0 && (usable > 0 || tcb.p.zeroWindowProbe === 'one-byte')) {
    const len = Math.min(avail, currentMss(tcb), Math.max(usable, 1));
    const payload = tcb.sendBuf.peek(seqSub(tcb.sndNxt, tcb.sndBufSeq), len);
    sendData(tcb, tcb.sndNxt, payload, false, false, true);
    return;
  }
  if (avail === 0 && tcb.finQueued && !tcb.finSent) {
    sendData(tcb, tcb.sndNxt, EMPTY, true, false, false);
    return;
  }
  sendOldSeqProbe(tcb);
}
