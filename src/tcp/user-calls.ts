/**
 * The user calls of RFC 9293 §3.10.1–§3.10.6 (OPEN, SEND, RECEIVE, CLOSE, ABORT, STATUS) plus
 * shutdown(SHUT_WR), on one connection. Errors are returned as values, named as the errno a socket
 * call would give.
 */
import { seqAdd } from '../wire/seq.js';
import { afterRead } from './ack.js';
import { prepareOffer, queueFin } from './handshake.js';
import { sendActiveReset, sendSyn, transmit } from './output.js';
import { keyFrom } from './syncookies.js';
import { closeConnection, setState, type Tcb, type TcpError } from './tcb.js';
import type { Endpoint } from './env.js';
import { unreachable, type TcpState } from './state.js';

function enter(tcb: Tcb, nowUs: number): void {
  tcb.now = nowUs;
  tcb.cause = 'call';
}

/** OPEN, passive (§3.10.1): CLOSED → LISTEN. A listener never changes state on a SYN (see listen.ts). */
export function listen(tcb: Tcb, nowUs: number): TcpError | null {
  enter(tcb, nowUs);
  if (tcb.state === 'LISTEN') return null;
  if (tcb.state !== 'CLOSED') return 'EISCONN';
  prepareOffer(tcb);
  if (tcb.cookieKey === null) tcb.cookieKey = keyFrom(tcb.env.rand);
  setState(tcb, 'LISTEN');
  return null;
}

/**
 * OPEN, active (§3.10.1): "Create a new TCB ... Issue a SYN segment, set SND.UNA to ISS, SND.NXT to
 * ISS+1, enter SYN-SENT state". The ISN comes from env.isn (RFC 6528).
 */
export function connect(tcb: Tcb, remote: Endpoint, nowUs: number): TcpError | null {
  enter(tcb, nowUs);
  switch (tcb.state) {
    case 'CLOSED':
      break;
    case 'SYN-SENT':
    case 'SYN-RECEIVED':
      return 'EALREADY';
    case 'LISTEN':
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSE-WAIT':
    case 'CLOSING':
    case 'LAST-ACK':
    case 'TIME-WAIT':
      return 'EISCONN';
    default:
      return unreachable(tcb.state);
  }
  tcb.remote = remote;
  prepareOffer(tcb);
  const iss = tcb.env.isn.isn(tcb.local, remote, nowUs) >>> 0;
  tcb.tsOffset = tcb.env.isn.tsOffset(tcb.local, remote) >>> 0;
  tcb.iss = iss;
  tcb.sndUna = iss;
  tcb.sndNxt = seqAdd(iss, 1);
  tcb.rtxNxt = tcb.sndNxt;
  tcb.sndBufSeq = tcb.sndNxt;
  tcb.sndSml = iss;
  tcb.sndUp = iss;
  tcb.retransmits = 0;
  tcb.rto = tcb.p.rtoInitialUs;
  setState(tcb, 'SYN-SENT');
  sendSyn(tcb, false);
  tcb.rttSeq = tcb.sndNxt;
  tcb.rttStartUs = nowUs;
  tcb.rtxAt = nowUs + tcb.rto;
  const limit = tcb.config.connectTimeoutUs;
  if (limit !== null) tcb.connectDeadline = nowUs + limit;
  return null;
}

/**
 * SEND (§3.10.2): queue `data` and send what may be sent. Returns the number of octets taken (0 when the
 * send buffer is full), or an error. Before ESTABLISHED the data waits ("queue the data for
 * transmission after entering ESTABLISHED state").
 */
export function send(tcb: Tcb, data: Uint8Array, nowUs: number): number | TcpError {
  enter(tcb, nowUs);
  switch (tcb.state) {
    case 'CLOSED':
      return tcb.error ?? 'ENOTCONN';
    case 'LISTEN':
      return 'ENOTCONN';
    case 'SYN-SENT':
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
    case 'CLOSE-WAIT':
      break;
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSING':
    case 'LAST-ACK':
    case 'TIME-WAIT':
      // "Return 'error: connection closing' and do not service request."
      return 'EPIPE';
    default:
      return unreachable(tcb.state);
  }
  if (tcb.finQueued || tcb.closePending !== 'none') return 'EPIPE';
  const n = tcb.sendBuf.write(data);
  transmit(tcb);
  return n;
}

/**
 * RECEIVE (§3.10.3): up to `max` octets in order; 'EOF' once the peer's FIN was reached; 'EAGAIN' when
 * nothing is there yet; the connection's error after a reset.
 */
export function receive(tcb: Tcb, max: number, nowUs: number): Uint8Array | 'EOF' | 'EAGAIN' | TcpError {
  enter(tcb, nowUs);
  if (tcb.rcvBuf.length > 0 && max > 0) {
    const data = tcb.rcvBuf.read(max);
    afterRead(tcb, data.length);
    return data;
  }
  if (tcb.finReceived) return 'EOF';
  switch (tcb.state) {
    case 'CLOSED':
      return tcb.error ?? 'ENOTCONN';
    case 'LISTEN':
      return 'ENOTCONN';
    case 'SYN-SENT':
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSE-WAIT':
    case 'CLOSING':
    case 'LAST-ACK':
    case 'TIME-WAIT':
      return 'EAGAIN';
    default:
      return unreachable(tcb.state);
  }
}

/** Linux tcp_close: closing with unread data resets the connection (RFC 2525 §2.17). */
function unreadData(tcb: Tcb): boolean {
  return tcb.p.rstOnCloseWithUnreadData && tcb.rcvBuf.length > 0;
}

/** CLOSE (§3.10.4): "I have no more to send" and, for a socket, nothing more to read either. */
export function close(tcb: Tcb, nowUs: number): TcpError | null {
  enter(tcb, nowUs);
  switch (tcb.state) {
    case 'CLOSED':
      return null;
    case 'LISTEN':
    case 'SYN-SENT':
      // "Delete the TCB, enter CLOSED state" — in SYN-SENT nothing is sent (Linux: no RST either).
      closeConnection(tcb, null);
      return null;
    case 'SYN-RECEIVED':
      // "queue for processing after entering ESTABLISHED state"
      tcb.closePending = 'close';
      return null;
    case 'ESTABLISHED':
    case 'CLOSE-WAIT':
      if (unreadData(tcb)) {
        abort(tcb, nowUs);
        return null;
      }
      tcb.userClosed = true;
      queueFin(tcb);
      return null;
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
      if (unreadData(tcb)) {
        abort(tcb, nowUs);
        return null;
      }
      tcb.userClosed = true;
      if (tcb.state === 'FIN-WAIT-2' && tcb.finWait2At < 0) tcb.finWait2At = nowUs + tcb.p.finWait2TimeoutUs;
      return null;
    case 'CLOSING':
    case 'LAST-ACK':
    case 'TIME-WAIT':
      tcb.userClosed = true;
      return null;
    default:
      return unreachable(tcb.state);
  }
}

/** shutdown(SHUT_WR): a FIN after the queued data; receiving goes on (half-close). */
export function shutdownWrite(tcb: Tcb, nowUs: number): TcpError | null {
  enter(tcb, nowUs);
  switch (tcb.state) {
    case 'CLOSED':
    case 'LISTEN':
      return 'ENOTCONN';
    case 'SYN-SENT':
    case 'SYN-RECEIVED':
      if (tcb.closePending === 'none') tcb.closePending = 'shutdown';
      return null;
    case 'ESTABLISHED':
    case 'CLOSE-WAIT':
      queueFin(tcb);
      return null;
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSING':
    case 'LAST-ACK':
    case 'TIME-WAIT':
      return null;
    default:
      return unreachable(tcb.state);
  }
}

/**
 * ABORT (§3.10.5): in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2 and CLOSE-WAIT "a reset segment
 * should be sent: <SEQ=SND.NXT><CTL=RST>"; in every state the TCB goes. (SO_LINGER with a zero timeout.)
 */
export function abort(tcb: Tcb, nowUs: number): void {
  enter(tcb, nowUs);
  switch (tcb.state) {
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSE-WAIT':
      sendActiveReset(tcb);
      break;
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN-SENT':
    case 'CLOSING':
    case 'LAST-ACK':
    case 'TIME-WAIT':
      break;
    default:
      return unreachable(tcb.state);
  }
  tcb.sendBuf.discard(tcb.sendBuf.length);
  closeConnection(tcb, null);
}

export interface TcbStatus {
  state: TcpState;
  local: Endpoint;
  remote: Endpoint;
  iss: number;
  irs: number;
  sndUna: number;
  sndNxt: number;
  sndWnd: number;
  rcvNxt: number;
  rcvWnd: number;
  /** TCP_MAXSEG as getsockopt reports it: the send MSS in use. */
  mss: number;
  rto: number;
  srtt: number;
  cwnd: number;
  readable: number;
  unsent: number;
  unacked: number;
  error: TcpError | null;
  options: { wscale: boolean; sndWscale: number; rcvWscale: number; timestamps: boolean; sack: boolean };
}

/** STATUS (§3.10.6). */
export function status(tcb: Tcb): TcbStatus {
  const unacked = (tcb.sndNxt - tcb.sndUna) >>> 0;
  return {
    state: tcb.state,
    local: tcb.local,
    remote: tcb.remote,
    iss: tcb.iss,
    irs: tcb.irs,
    sndUna: tcb.sndUna,
    sndNxt: tcb.sndNxt,
    sndWnd: tcb.sndWnd,
    rcvNxt: tcb.rcvNxt,
    rcvWnd: tcb.rcvWindow,
    mss: tcb.sndMss,
    rto: tcb.rto,
    srtt: tcb.srtt,
    cwnd: tcb.cwnd,
    readable: tcb.rcvBuf.length,
    unsent: Math.max(0, tcb.sendBuf.length - Math.max(0, ((tcb.sndNxt - tcb.sndBufSeq) | 0))),
    unacked,
    error: tcb.error,
    options: {
      wscale: tcb.wscaleOk,
      sndWscale: tcb.sndWscale,
      rcvWscale: tcb.rcvWscale,
      timestamps: tcb.tsOk,
      sack: tcb.sackOk,
    },
  };
}
