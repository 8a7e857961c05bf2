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
 * - A simultaneous open whose peer SYN the capture shows before the host's own SYN (held between the
 *   capture tap and the host's TCP: fixtures/simultaneous-open-v4.pcap, an NFQUEUE on the host): see
 *   `moveHeldSyns`. That SYN is fed right after the host's SYN (`deliverAfter`), and the peer's SYN-ACK
 *   held with it just before the host's answer to it (`deliverBefore`).
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
  const held = moveHeldSyns(
    segments,
    (syn, hostSyn) => void (deliverAfter[syn.frame] = hostSyn.frame),
    (synAck, hostNext) => void (deliverBefore[synAck.frame] = hostNext.frame),
  );
  // A peer's segment moves after the host's it acknowledges: the host's move before it.
  const first = moveAcknowledged(held, false, (moved, acker) => void (deliverAfter[acker.frame] = moved[moved.length - 1]?.frame as number));
  const second = moveAcknowledged(first, true, (moved, acker) => {
    for (const m of moved) deliverBefore[m.frame] = acker.frame;
  });
  return { segments: second, deliverBefore, deliverAfter };
}

/**
 * A peer's SYN that reached the host after the host's own SYN on the same 4-tuple, though the capture
 * shows it before. The capture proves it when three things follow the peer's SYN on that 4-tuple:
 * (a) no reply from the host (a host with no socket there answers a SYN with a RST, RFC 9293 §3.10.7.1;
 * a listener, with a SYN-ACK of a new ISN), (b) the host's next segment is its own SYN, and (c) the one
 * after that is a SYN-ACK repeating that SYN's ISN and acknowledging the peer's ISN + 1, which a host
 * only sends from SYN-SENT on receiving a SYN (RFC 9293 §3.10.7.3, simultaneous open). Such a SYN is fed
 * right after the host's SYN (`syn`).
 *
 * The peer's own SYN-ACK (its SYN again, acknowledging the host's: the peer was in SYN-SENT too), when
 * the capture shows it before the host's SYN-ACK, was held with it: had the host taken it in SYN-SENT,
 * it would have answered with a plain ACK, not that SYN-ACK. It reached the host after its SYN-ACK left,
 * and a SYN-ACK to a synchronized connection is answered at once (an ACK, RFC 9293 §3.10.7.4; RFC 5961
 * §4.2 challenge ACK): it is fed just before the host's next segment on the 4-tuple (`synAck`).
 */
function moveHeldSyns(
  list: readonly CapturedSegment[],
  syn: (p: CapturedSegment, hostSyn: CapturedSegment) => void,
  synAck: (q: CapturedSegment, hostNext: CapturedSegment) => void,
): CapturedSegment[] {
  const after = new Map<CapturedSegment, CapturedSegment>();
  const before = new Map<CapturedSegment, CapturedSegment>();
  const taken = new Set<CapturedSegment>();
  const flags = (s: CapturedSegment): number => s.tcp.flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST);
  for (let i = 0; i < list.length; i++) {
    const p = list[i] as CapturedSegment;
    if (p.fromHost || flags(p) !== TcpFlags.SYN || taken.has(p)) continue;
    const k = hostTuple(p);
    // The host's first three segments on the 4-tuple after the peer's SYN, and the peer's SYN-ACK.
    const mine: CapturedSegment[] = [];
    let peerSynAck: CapturedSegment | null = null;
    for (let j = i + 1; j < list.length && j <= i + LOOKAHEAD && mine.length < 3; j++) {
      const h = list[j] as CapturedSegment;
      if (hostTuple(h) !== k) continue;
      if (h.fromHost) mine.push(h);
      else if (mine.length < 2 && peerSynAck === null && flags(h) === (TcpFlags.SYN | TcpFlags.ACK) && h.tcp.seq === p.tcp.seq) peerSynAck = h;
    }
    const [hostSyn, answer, next] = mine;
    if (hostSyn === undefined || answer === undefined || flags(hostSyn) !== TcpFlags.SYN || flags(answer) !== (TcpFlags.SYN | TcpFlags.ACK)) continue;
    if (answer.tcp.seq !== hostSyn.tcp.seq || answer.tcp.ack !== seqAdd(p.tcp.seq, 1)) continue;
    after.set(hostSyn, p);
    taken.add(p);
    syn(p, hostSyn);
    if (peerSynAck !== null && next !== undefined && peerSynAck.tcp.ack === seqAdd(hostSyn.tcp.seq, 1)) {
      before.set(next, peerSynAck);
      taken.add(peerSynAck);
      synAck(peerSynAck, next);
    }
  }
  if (taken.size === 0) return [...list];
  const out: CapturedSegment[] = [];
  for (const s of list) {
    if (taken.has(s)) continue;
    const q = before.get(s);
    if (q !== undefined) out.push(q);
    out.push(s);
    const p = after.get(s);
    if (p !== undefined) out.push(p);
  }
  return out;
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
