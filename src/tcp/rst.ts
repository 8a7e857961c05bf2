/**
 * Reset generation for a segment that matches no connection (RFC 9293 §3.10.7.1, and §3.5.2 group 1:
 * "If the connection does not exist (CLOSED), then a reset is sent in response to any incoming segment
 * except another reset"). The socket layer uses it for the demux step 'none'; listeners and connections
 * use it for the resets the RFC asks them to form from the offending segment.
 *
 *   segment with ACK:    <SEQ=SEG.ACK><CTL=RST>
 *   segment without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
 *
 * Ports are swapped, the window is 0 and there are no options (Linux tcp_v4_send_reset).
 */
import { seqAdd } from '../wire/seq.js';
import { TcpFlags, type TcpOption, type TcpRepr } from '../wire/tcp.js';

const EMPTY = new Uint8Array(0);
const NO_OPTIONS: TcpOption[] = [];

/** The reset answering `seg`, or null when `seg` is itself a reset. */
export function resetFor(seg: TcpRepr): TcpRepr | null {
  if (seg.flags & TcpFlags.RST) return null;
  const len = seg.payload.length + (seg.flags & TcpFlags.SYN ? 1 : 0) + (seg.flags & TcpFlags.FIN ? 1 : 0);
  const hasAck = (seg.flags & TcpFlags.ACK) !== 0;
  return {
    srcPort: seg.dstPort,
    dstPort: seg.srcPort,
    seq: hasAck ? seg.ack >>> 0 : 0,
    ack: hasAck ? 0 : seqAdd(seg.seq, len),
    flags: hasAck ? TcpFlags.RST : TcpFlags.RST | TcpFlags.ACK,
    window: 0,
    urgent: 0,
    options: NO_OPTIONS,
    payload: EMPTY,
  };
}
