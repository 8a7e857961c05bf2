/**
 * The order in which the captured host and its peers saw each other's segments, where the capture shows
 * another. Nobody acknowledges what it has not received: a segment whose ACK covers segments of the
 * other side that the capture shows after it (a capture point that reordered them:
 * zeek-tcp-handshake-reorder.pcap holds the SYN-ACK before the SYN it answers) came after them.
 *
 * - The host acknowledges peer segments shown later: those reached it first, and are fed to it just
 *   before the host's segment (`deliverBefore`).
 * - A peer acknowledges host segments shown later: the host sent those first, so the peer's segment is
 *   fed right after the last of them (`deliverAfter`; the application's calls at those frames come first).
 *
 * Only a few segments ahead are searched (a reordering capture point shuffles neighbours, not minutes).
 * The returned list is in the new order, for the inference; frame numbers and times are the capture's.
 */
import { seqAdd, seqGt } from '../wire/seq.js';
import { TcpFlags } from '../wire/tcp.js';
import { hostTuple } from './segments.js';
import type { CapturedSegment } from './segments.js';

/** How many segments after an acknowledging one are searched for what it acknowledges. */
const LOOKAHEAD = 32;

export interface ReceiveOrder {
  segments: CapturedSegment[];
  /** Peer frames the host received before the capture shows them: frame → the host frame they come just before. */
  deliverBefore: Record<number, number>;
  /** Peer frames sent after host segments the capture shows later: frame → the host frame they come right after. */
  deliverAfter: Record<number, number>;
}

/** Where a sender's sequence space ends after a segment: SYN and FIN count one each (RFC 9293 §3.4). */
function segmentEnd(t: CapturedSegment): number {
  const f = t.tcp.flags;
  return seqAdd(t.tcp.seq, t.payloadLength + (f & TcpFlags.SYN ? 1 : 0) + (f & TcpFlags.FIN ? 1 : 0));
}

export function receiveOrder(segments: readonly CapturedSegment[]): ReceiveOrder {
  const deliverAfter: Record<number, number> = {};
  const deliverBefore: Record<number, number> = {};
  // A peer's segment moves after the host's it acknowledges: the host's move before it.
  const first = moveAcknowledged(segments, false, (moved, acker) => void (deliverAfter[acker.frame] = moved[moved.length - 1]?.frame as number));
  const second = moveAcknowledged(first, true, (moved, acker) => {
    for (const m of moved) deliverBefore[m.frame] = acker.frame;
  });
  return { segments: second, deliverBefore, deliverAfter };
}

/**
 * Moves, before each segment of one side (`hostAcks`: the host's, else the peers') that carries an
 * ACK, the segments of the other side it acknowledges that come later in the list.
 */
function moveAcknowledged(list: readonly CapturedSegment[], hostAcks: boolean, moved: (segs: CapturedSegment[], acker: CapturedSegment) => void): CapturedSegment[] {
  const out: CapturedSegment[] = [];
  const taken = new Set<CapturedSegment>();
  /** Per 4-tuple: the other side's ISN and the end of what the acknowledging side has seen of it. */
  const seen = new Map<string, { isn: number; end: number }>();
  const see = (p: CapturedSegment): void => {
    const k = hostTuple(p);
    const g = seen.get(k);
    if (p.tcp.flags & TcpFlags.SYN && (g === undefined || g.isn !== p.tcp.seq)) seen.set(k, { isn: p.tcp.seq, end: segmentEnd(p) });
    else if (g !== undefined && seqGt(segmentEnd(p), g.end)) g.end = segmentEnd(p);
  };
  for (let i = 0; i < list.length; i++) {
    const s = list[i] as CapturedSegment;
    if (taken.has(s)) continue;
    if (s.fromHost === hostAcks && s.tcp.flags & TcpFlags.ACK) {
      const k = hostTuple(s);
      const ack = s.tcp.ack;
      const here: CapturedSegment[] = [];
      for (let j = i + 1; j < list.length && j <= i + LOOKAHEAD; j++) {
        const g = seen.get(k);
        if (g !== undefined && !seqGt(ack, g.end)) break; // nothing acknowledged that is not seen
        const p = list[j] as CapturedSegment;
        if (p.fromHost === hostAcks || taken.has(p) || hostTuple(p) !== k) continue;
        // Before any SYN of the other side, only its SYN can be what is acknowledged.
        if (g === undefined && (p.tcp.flags & TcpFlags.SYN) === 0) continue;
        if (g !== undefined && p.tcp.flags & TcpFlags.SYN && p.tcp.seq !== g.isn) break; // the next connection
        if (g !== undefined && !seqGt(segmentEnd(p), g.end)) continue; // nothing new in it
        if (seqGt(segmentEnd(p), ack)) break;
        taken.add(p);
        here.push(p);
        out.push(p);
        see(p);
      }
      if (here.length > 0) moved(here, s);
    }
    out.push(s);
    if (s.fromHost !== hostAcks) see(s);
  }
  return out;
}
