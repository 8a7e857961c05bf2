/**
 * The two passive machines of an observed connection, in RFC 9293 state names.
 *
 * - `sent`: the sender's side. A sender moves when it sends (RFC 9293 §3.10: SYN → SYN-SENT, FIN →
 *   FIN-WAIT-1 or LAST-ACK, RST → CLOSED), and the segment is checked against the state it was sent
 *   from: one its sender could not have sent (data from SYN-SENT, anything but a RST after CLOSED, new
 *   data after its FIN) is an anomaly code on the connection, never an exception. After an anomaly the
 *   sender is moved to the state the segment proves (an ACK from SYN-SENT proves a SYN-ACK arrived that
 *   the capture missed), so one lost frame does not poison the rest.
 * - `received`: the receiver's side, as Linux demultiplexes and processes an arriving segment (DESIGN.md
 *   decision 4): the 4-tuple first (step 'established', 'syn-received' for a child still in the SYN
 *   queue, 'time-wait'), then the listeners (exact address, then ANY), then nothing. The verdict fields
 *   go to the tracker (`t.vStep`, `t.vAction`, ...).
 *
 * An end that was never seen (a one-sided capture, a capture that starts mid-connection) is created
 * the first time a segment proves it exists, in the state the segment proves, marked midstream
 * (Zeek's "partial" connections): a SYN-ACK proves a client in SYN-SENT, an acknowledging segment from a
 * synchronized sender proves a peer in ESTABLISHED.
 */
import { seqGe, seqGt } from '../wire/seq.js';
import { TcpFlags } from '../wire/tcp.js';
import type { Endpoint } from './conn.js';
import { St } from './states.js';
import type { FrameSeg, Tracker } from './tracker.js';

const SYN = TcpFlags.SYN;
const ACK = TcpFlags.ACK;
const FIN = TcpFlags.FIN;
const RST = TcpFlags.RST;

/** The sender's move. Returns an anomaly code, or null when the segment fits the sender's state. */
export function sent(t: Tracker, s: Endpoint, f: FrameSeg): string | null {
  const fl = f.flags;
  const syn = (fl & SYN) !== 0;
  const rst = (fl & RST) !== 0;
  const fin = (fl & FIN) !== 0;
  const ack = (fl & ACK) !== 0;
  let anomaly: string | null = null;

  if (!s.opened) {
    // A socket the capture has not shown yet: what it sends now says what it is.
    if (rst) {
      // A RST from no socket is what a stack sends for a segment nobody took (RFC 9293 §3.10.7.1).
    } else if (syn && !ack) {
      t.connect(s);
    } else if (syn) {
      t.openSynAck(s);
    } else {
      t.pickup(s, St.ESTABLISHED);
    }
  }

  const prevFinEnd = s.finEnd;
  const hadFin = s.finSent;
  switch (s.state) {
    case St.CLOSED:
      if (rst) break;
      if (syn && !ack && s.opened) {
        // The same connect() trying again after a RST (Windows retries a refused SYN with the same ISN).
        t.connect(s);
        break;
      }
      if (!s.opened || isOld(s, f, syn, fin, ack)) break;
      // Linux acknowledges the FIN before it finds no room for a TIME-WAIT socket (tcp_time_wait).
      if (s.twOverflow && ack && !syn && !fin && f.len === 0) break;
      if (t.revive(s)) return sent(t, s, f) ?? 'sent-after-reset';
      anomaly = 'sent-after-close';
      break;
    case St.LISTEN:
      break;
    case St.SYN_SENT:
      if (rst) t.resetSent(s);
      else if (syn && ack) t.setState(s, St.SYN_RECEIVED); // it must have received the peer's SYN: simultaneous open
      else if (syn) {
        if (s.issKnown && f.seq !== s.iss) anomaly = 'syn-new-isn';
      } else if (fin) {
        anomaly = 'fin-in-syn-sent';
        t.closeFd(s);
        t.setState(s, St.FIN_WAIT_1);
      } else {
        // An ACK or data from SYN-SENT: the SYN-ACK it answers is not in the capture.
        anomaly = f.len > 0 ? 'data-in-syn-sent' : 'ack-in-syn-sent';
        t.setState(s, St.ESTABLISHED);
      }
      break;
    case St.SYN_RECEIVED:
      if (rst) t.resetSent(s);
      else if (syn) {
        if (ack && s.issKnown && f.seq !== s.iss) anomaly = 'syn-ack-new-isn';
      } else if (fin) {
        // close() in SYN-RECEIVED sends a FIN (RFC 9293 §3.10.4).
        t.closeFd(s);
        t.setState(s, St.FIN_WAIT_1);
      }
      // Data before the handshake's last ACK: a TCP Fast Open server may send it (RFC 7413 §3).
      break;
    case St.ESTABLISHED:
      if (rst) t.resetSent(s);
      else if (syn) {
        // A handshake segment again (retransmitted, or captured out of order) repeats the ISN.
        if (!s.issKnown || f.seq !== s.iss) anomaly = 'syn-in-established';
      } else if (fin) {
        t.closeFd(s);
        t.setState(s, St.FIN_WAIT_1);
      }
      break;
    case St.CLOSE_WAIT:
      if (rst) t.resetSent(s);
      else if (syn) anomaly = 'syn-in-close-wait';
      else if (fin) {
        t.closeFd(s);
        t.setState(s, St.LAST_ACK);
      }
      break;
    case St.FIN_WAIT_1:
    case St.FIN_WAIT_2:
    case St.CLOSING:
    case St.LAST_ACK:
    case St.TIME_WAIT:
      if (rst) t.resetSent(s);
      else if (syn) anomaly = 'syn-after-fin';
      else if (hadFin) {
        const end = (f.seq + f.len + (fin ? 1 : 0)) >>> 0;
        // Up to its FIN it may retransmit; past it nothing may come.
        if (fin && end !== prevFinEnd) anomaly = 'second-fin';
        else if (!fin && f.len > 0 && seqGt(end, (prevFinEnd - 1) >>> 0)) anomaly = 'data-after-fin';
      }
      break;
    default:
      unreachable(s.state);
  }
  record(s, f, syn, fin, rst, ack);
  return anomaly;
}

/**
 * A copy of something the end sent before (nothing past its SND.NXT, no newer ACK): a duplicate or a
 * retransmission captured after the end closed, not a new send.
 */
function isOld(s: Endpoint, f: FrameSeg, syn: boolean, fin: boolean, ack: boolean): boolean {
  if (syn || !s.sndKnown) return false;
  const end = (f.seq + f.len + (fin ? 1 : 0)) >>> 0;
  if (seqGt(end, s.sndNxt)) return false;
  return !ack || (s.ackKnown && !seqGt(f.ack, s.lastAck));
}

/** Sequence bookkeeping of what `s` sent (after the state move, which reads the old values). */
function record(s: Endpoint, f: FrameSeg, syn: boolean, fin: boolean, rst: boolean, ack: boolean): void {
  if (syn) {
    s.iss = f.seq;
    s.issKnown = true;
    if (f.wscale >= 0 || !ack) s.wscale = f.wscale;
  }
  if (rst) return;
  const end = (f.seq + f.len + (syn ? 1 : 0) + (fin ? 1 : 0)) >>> 0;
  if (!s.sndKnown || seqGe(end, s.sndNxt)) {
    s.sndNxt = end;
    s.sndKnown = true;
  }
  if (fin && !s.finSent) {
    s.finSent = true;
    s.finEnd = end;
  }
  if (ack) {
    s.lastAck = f.ack;
    s.ackKnown = true;
    // RFC 7323 §2.2: the window of a SYN is never scaled; later ones are when both SYNs offered scaling.
    const shift = !syn && s.wscale >= 0 && s.peer.wscale >= 0 ? Math.min(s.wscale, 14) : 0;
    s.wnd = f.window << shift; // at most 65535 << 14 < 2^31
  }
}

/**
 * The receiver's demux and move. `senderNxt` is the sender's SND.NXT before this segment (a RST is
 * acceptable at it or at the receiver's own last ACK: RFC 9293 §3.10.7.4 with RFC 5961 §3.2).
 */
export function received(t: Tracker, r: Endpoint, s: Endpoint, f: FrameSeg, senderNxt: number, senderNxtKnown: boolean): void {
  const fl = f.flags;
  const syn = (fl & SYN) !== 0;
  const rst = (fl & RST) !== 0;
  const fin = (fl & FIN) !== 0;
  const ack = (fl & ACK) !== 0;

  if (!r.opened && !rst) {
    if (syn && ack) t.inferPeer(r, St.SYN_SENT, f);
    else if (!syn && s.opened && s.state >= St.ESTABLISHED) t.inferPeer(r, St.ESTABLISHED, f);
  }

  if (!r.indexed) {
    // No socket with this 4-tuple: the listeners, exact address first (Linux __inet_lookup_listener).
    const l = r.host.lookupListener(r.port, f.key);
    t.vListener = l ?? null;
    if (l === undefined) {
      t.vStep = 'none';
      t.vAction = rst ? 'dropped' : 'reset';
      return;
    }
    t.vStep = r.host.lastListenerStep;
    if (syn && !ack && !rst) {
      t.clone(r, l);
      t.vAction = 'cloned';
    } else {
      // A listener answers a stray ACK with a RST (no SYN cookie to check here) and ignores a RST.
      t.vAction = rst ? 'dropped' : 'reset';
    }
    return;
  }

  const st = r.state;
  t.vStep = st === St.TIME_WAIT ? 'time-wait' : st === St.SYN_RECEIVED && r.inSynQueue ? 'syn-received' : 'established';
  t.vListener = r.listener;
  t.vAction = 'delivered';
  switch (st) {
    case St.SYN_SENT:
      if (rst) {
        // RFC 9293 §3.10.7.3: in SYN-SENT a RST counts only when it acknowledges our SYN.
        if (ack && acksOurSyn(r, f.ack)) t.abort(r);
        else t.vAction = 'dropped';
      } else if (syn && ack) {
        if (acksOurSyn(r, f.ack)) t.setState(r, St.ESTABLISHED);
        else t.vAction = 'reset';
      } else if (syn) {
        t.setState(r, St.SYN_RECEIVED); // simultaneous open (RFC 9293 §3.5, figure 8)
      } else t.vAction = 'dropped';
      return;
    case St.SYN_RECEIVED:
      if (rst) {
        rstAt(t, r, f, senderNxt, senderNxtKnown);
        return;
      }
      if (syn && !ack) return; // a repeated SYN: the SYN-ACK goes again
      if (ack && (!r.issKnown || seqGe(f.ack, (r.iss + 1) >>> 0))) {
        t.setState(r, St.ESTABLISHED);
        if (r.inSynQueue) {
          t.accept(r);
          t.vAction = 'accepted';
        }
        if (fin) t.setState(r, St.CLOSE_WAIT);
      } else t.vAction = 'reset';
      return;
    case St.ESTABLISHED:
      if (rst) rstAt(t, r, f, senderNxt, senderNxtKnown);
      else if (fin && !syn) t.setState(r, St.CLOSE_WAIT);
      return;
    case St.FIN_WAIT_1: {
      if (rst) {
        rstAt(t, r, f, senderNxt, senderNxtKnown);
        return;
      }
      const finAcked = ack && r.finSent && seqGe(f.ack, r.finEnd);
      if (fin) t.toStateOrTimeWait(r, finAcked ? St.TIME_WAIT : St.CLOSING);
      else if (finAcked) t.setState(r, St.FIN_WAIT_2);
      return;
    }
    case St.FIN_WAIT_2:
      if (rst) rstAt(t, r, f, senderNxt, senderNxtKnown);
      else if (fin) t.toStateOrTimeWait(r, St.TIME_WAIT);
      return;
    case St.CLOSING:
      if (rst) rstAt(t, r, f, senderNxt, senderNxtKnown);
      else if (ack && r.finSent && seqGe(f.ack, r.finEnd)) t.toStateOrTimeWait(r, St.TIME_WAIT);
      return;
    case St.LAST_ACK:
      if (rst) rstAt(t, r, f, senderNxt, senderNxtKnown);
      else if (ack && r.finSent && seqGe(f.ack, r.finEnd)) t.toClosed(r);
      return;
    case St.CLOSE_WAIT:
      if (rst) rstAt(t, r, f, senderNxt, senderNxtKnown);
      return;
    case St.TIME_WAIT:
      // Linux tcp_timewait_state_process: a RST at RCV.NXT ends TIME-WAIT (no RFC 1337 protection by default).
      if (rst) {
        if (rstAcceptable(r, f.seq, senderNxt, senderNxtKnown) === 'exact') t.abort(r);
        else t.vAction = 'dropped';
      }
      return;
    case St.CLOSED:
    case St.LISTEN:
      // Not hashed in these states (hasTuple): unreachable while the tables are consistent.
      t.vAction = 'dropped';
      return;
    default:
      unreachable(st);
  }
}

/** RFC 9293 §3.10.7.3: in SYN-SENT an ACK is acceptable when SND.UNA < SEG.ACK =< SND.NXT (SYN data counts). */
function acksOurSyn(r: Endpoint, ack: number): boolean {
  if (!r.issKnown) return true;
  if (!r.sndKnown) return ack === ((r.iss + 1) >>> 0);
  return seqGt(ack, r.iss) && seqGe(r.sndNxt, ack);
}

function rstAt(t: Tracker, r: Endpoint, f: FrameSeg, senderNxt: number, senderNxtKnown: boolean): void {
  const ok = rstAcceptable(r, f.seq, senderNxt, senderNxtKnown);
  if (ok === 'exact') t.abort(r);
  else t.vAction = ok === 'window' ? 'challenge-ack' : 'dropped';
}

/**
 * RFC 5961 §3.2 as Linux applies it (tcp_validate_incoming): a RST whose sequence number is exactly
 * RCV.NXT resets; one elsewhere in the window draws a challenge ACK; outside it is dropped. RCV.NXT is
 * not on the wire: it is the receiver's last ACK, or (when the sender's data has not been acknowledged
 * yet) the sender's SND.NXT. An end whose numbers are unknown takes the RST.
 */
function rstAcceptable(r: Endpoint, seq: number, senderNxt: number, senderNxtKnown: boolean): 'exact' | 'window' | 'no' {
  if (senderNxtKnown ? seq === senderNxt : !r.ackKnown) return 'exact';
  if (!r.ackKnown) return 'no';
  if (seq === r.lastAck) return 'exact';
  const off = (seq - r.lastAck) >>> 0;
  return off < Math.max(r.wnd, 1) ? 'window' : 'no';
}

function unreachable(x: never): never {
  throw new Error(`unreachable state: ${String(x)}`);
}
