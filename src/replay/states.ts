/**
 * The eleven RFC 9293 states as small numbers, for the observe-mode endpoint machines: a switch on a
 * number costs nothing per frame, and `STATE_NAMES[s]` gives the RFC spelling for every report.
 */
import { TCP_STATES } from '../tcp/state.js';
import type { TcpState } from '../tcp/state.js';

export const St = {
  CLOSED: 0,
  LISTEN: 1,
  SYN_SENT: 2,
  SYN_RECEIVED: 3,
  ESTABLISHED: 4,
  FIN_WAIT_1: 5,
  FIN_WAIT_2: 6,
  CLOSE_WAIT: 7,
  CLOSING: 8,
  LAST_ACK: 9,
  TIME_WAIT: 10,
} as const;
export type StateNo = (typeof St)[keyof typeof St];

/** RFC names, indexed by StateNo (the same order as tcp/state.ts TCP_STATES). */
export const STATE_NAMES: readonly TcpState[] = TCP_STATES;

export function stateName(s: StateNo): TcpState {
  return STATE_NAMES[s] as TcpState;
}

/**
 * States in which a socket has a 4-tuple in its host's TupleIndex (Linux: in the established hash, as a
 * full socket, a request socket or a TIME-WAIT socket). CLOSED and LISTEN have none.
 */
export function hasTuple(s: StateNo): boolean {
  return s !== St.CLOSED && s !== St.LISTEN;
}

/** The socket has sent its FIN (it may only retransmit up to it and acknowledge from now on). */
export function finSentState(s: StateNo): boolean {
  return s === St.FIN_WAIT_1 || s === St.FIN_WAIT_2 || s === St.CLOSING || s === St.LAST_ACK || s === St.TIME_WAIT;
}
