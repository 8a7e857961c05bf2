/**
 * The replies a processing step can ask for when it drops a segment, and their rate limits.
 *
 * Each step of SEGMENT ARRIVES returns a Step: go on, or drop — silently, with an ACK (RFC 9293: "an
 * acknowledgment should be sent in reply"), with a challenge ACK (RFC 5961), or with a reset in the
 * §3.10.7.1 form. The driver executes it here.
 */
import type { TcpRepr } from '../wire/tcp.js';
import { sendAck, sendBareAck, sendResetFor } from './output.js';
import { reportDrop, type DropReason, type Tcb } from './tcb.js';

export type Step = 'continue' | 'drop' | 'ack' | 'challenge' | 'reset-reply';

/**
 * RFC 5961 §7 ACK throttling: at most `count` challenge ACKs per `windowUs` on this connection
 * (Linux: one per tcp_invalid_ratelimit 500 ms, shared with out-of-window dup-ACKs).
 */
export function ackAllowed(tcb: Tcb): boolean {
  const lim = tcb.p.challengeAckLimit;
  if (tcb.chAckWindowUs < 0 || tcb.now - tcb.chAckWindowUs >= lim.windowUs) {
    tcb.chAckWindowUs = tcb.now;
    tcb.chAckCount = 0;
  }
  if (tcb.chAckCount >= lim.count) return false;
  tcb.chAckCount += 1;
  return true;
}

/** Sends what `step` asks for and reports the drop. */
export function dropWith(tcb: Tcb, seg: TcpRepr, step: Exclude<Step, 'continue'>, reason: DropReason): void {
  switch (step) {
    case 'drop':
      break;
    case 'ack':
      // Linux rate-limits dup-ACKs only for segments without data or with SYN (tcp_oow_rate_limited:
      // "Data packets without SYNs are not likely part of an ACK loop").
      if (tcb.p.rateLimitOutOfWindowAcks && (seg.payload.length === 0 || (seg.flags & 0x02) !== 0)) {
        if (ackAllowed(tcb)) sendAck(tcb);
      } else {
        sendAck(tcb);
      }
      break;
    case 'challenge':
      if (ackAllowed(tcb)) sendBareAck(tcb);
      break;
    case 'reset-reply':
      sendResetFor(tcb, seg);
      break;
    default: {
      const never: never = step;
      throw new Error(`unknown step ${String(never)}`);
    }
  }
  reportDrop(tcb, seg, reason);
}
