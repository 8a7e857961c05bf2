/** The eleven connection states of RFC 9293 §3.3.2, spelt as the RFC spells them. */
export type TcpState =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN-SENT'
  | 'SYN-RECEIVED'
  | 'ESTABLISHED'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'CLOSE-WAIT'
  | 'CLOSING'
  | 'LAST-ACK'
  | 'TIME-WAIT';

export const TCP_STATES: readonly TcpState[] = [
  'CLOSED',
  'LISTEN',
  'SYN-SENT',
  'SYN-RECEIVED',
  'ESTABLISHED',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'CLOSE-WAIT',
  'CLOSING',
  'LAST-ACK',
  'TIME-WAIT',
];

/** What made a connection change state. */
export type StateCause = 'segment' | 'call' | 'timer';

/**
 * RFC 9293 §3.5.2: "synchronized" states are ESTABLISHED and every state after it; the others
 * (CLOSED, LISTEN, SYN-SENT, SYN-RECEIVED) are not.
 */
export function isSynchronized(state: TcpState): boolean {
  switch (state) {
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN-SENT':
    case 'SYN-RECEIVED':
      return false;
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSE-WAIT':
    case 'CLOSING':
    case 'LAST-ACK':
    case 'TIME-WAIT':
      return true;
    default:
      return unreachable(state);
  }
}

/** Exhaustiveness check for `switch (state)`: a new state makes every switch without it fail to compile. */
export function unreachable(x: never): never {
  throw new Error(`unreachable: ${String(x)}`);
}
