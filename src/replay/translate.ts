/**
 * Sequence-number and timestamp translation for emulate mode. The emulated host picks its own ISNs
 * (RFC 6528) and its own timestamp offset, so the peer's captured segments, which acknowledge the
 * captured host's numbers, must be rewritten before they are fed to it:
 *
 * - SEG.ACK and the edges of SACK blocks (RFC 2018) count in the host's sequence space: shifted by
 *   (our ISN − the captured host's ISN) of the connection in force. The peer's own SEG.SEQ is left as it is.
 * - TSecr (RFC 7323 §3.2) echoes one of the captured host's TSvals: it becomes the TSval of our segment
 *   in the same place (our i-th segment with a timestamp on that 4-tuple for the captured host's i-th:
 *   a RST, which has none, does not shift the count), so the echo is exactly a value we sent (Linux
 *   rejects a SYN-ACK whose TSecr is not one of its own, tcp_rcv_synsent_state_process, and measures
 *   RTT from it).
 *
 * What the captured host did is read from the capture in its order (planTranslation); what we did is
 * noted as we send (noteSent). Nothing is translated for a connection we never opened.
 */
import { TcpFlags } from '../wire/tcp.js';
import type { TcpOption, TcpRepr } from '../wire/tcp.js';
import { hostTuple } from './segments.js';
import type { CapturedSegment } from './segments.js';

/** What the capture says about one peer segment's references to the captured host. */
export interface PeerSegmentPlan {
  /** The captured host's ISN on this 4-tuple when the segment was captured (null: it had none). */
  hostIsn: number | null;
  /**
   * The host segment whose TSval the TSecr echoes (its index among the host's segments with a
   * timestamp on this 4-tuple, from 0), and TSecr − that TSval (0 when it is exactly one of them).
   */
  echo: { index: number; offset: number } | null;
}

/** For every segment the peer sent (by frame number): the host's ISN then, and what its TSecr echoes. */
export function planTranslation(segments: readonly CapturedSegment[]): Map<number, PeerSegmentPlan> {
  const isn = new Map<string, number>();
  /** Per 4-tuple: how many host segments had a timestamp, the latest index of each TSval, the last TSval. */
  const ts = new Map<string, { count: number; index: Map<number, number>; last: number }>();
  const plan = new Map<number, PeerSegmentPlan>();
  for (const s of segments) {
    const k = hostTuple(s);
    const t = s.tcp;
    if (s.fromHost) {
      if (t.flags & TcpFlags.SYN) isn.set(k, t.seq);
      const v = tsVal(t);
      if (v !== null) {
        let m = ts.get(k);
        if (m === undefined) ts.set(k, (m = { count: 0, index: new Map(), last: v }));
        m.index.set(v, m.count++);
        m.last = v;
      }
      continue;
    }
    let echo: PeerSegmentPlan['echo'] = null;
    const ecr = t.flags & TcpFlags.ACK ? tsEcr(t) : null;
    const sent = ts.get(k);
    if (ecr !== null && sent !== undefined) {
      const i = sent.index.get(ecr);
      // Not one of its values (a capture that missed the segment): counted from the latest one.
      echo = i !== undefined ? { index: i, offset: 0 } : { index: sent.count - 1, offset: (ecr - sent.last) | 0 };
    }
    plan.set(s.frame, { hostIsn: isn.get(k) ?? null, echo });
  }
  return plan;
}

/** Our side of every 4-tuple, as we send: the ISN in force and the TSval of each segment. */
export class Translator {
  private readonly isn = new Map<string, number>();
  private readonly ts = new Map<string, number[]>();

  /** A segment the emulated host sent on `tuple` ("local remote"). */
  noteSent(tuple: string, t: TcpRepr): void {
    if (t.flags & TcpFlags.SYN) this.isn.set(tuple, t.seq);
    const v = tsVal(t);
    if (v === null) return;
    const list = this.ts.get(tuple) ?? [];
    list.push(v);
    this.ts.set(tuple, list);
  }

  /** Our ISN on `tuple`, or null before we sent a SYN there. */
  isnOf(tuple: string): number | null {
    return this.isn.get(tuple) ?? null;
  }

  /** A copy of the peer's segment `s` with its references to the captured host turned into ours. */
  translate(s: CapturedSegment, plan: PeerSegmentPlan | undefined): TcpRepr {
    const k = hostTuple(s);
    const t = s.tcp;
    const ours = this.isn.get(k);
    const delta = plan?.hostIsn == null || ours === undefined ? 0 : (ours - plan.hostIsn) | 0;
    const sent = this.ts.get(k);
    const echo = plan?.echo ?? null;
    let ecr: number | null = null;
    // The i-th of ours; past our last one (we sent fewer): the latest.
    if (echo !== null && sent !== undefined && sent.length > 0) ecr = ((sent[Math.min(echo.index, sent.length - 1)] as number) + echo.offset) >>> 0;
    const out: TcpRepr = { ...t, options: t.options.map((o) => translateOption(o, delta, ecr)) };
    delete out.checksum;
    if (t.flags & TcpFlags.ACK) out.ack = (t.ack + delta) >>> 0;
    return out;
  }
}

function translateOption(o: TcpOption, delta: number, ecr: number | null): TcpOption {
  if (o.kind === 'sack') return { kind: 'sack', blocks: o.blocks.map(([l, r]) => [(l + delta) >>> 0, (r + delta) >>> 0]) };
  if (o.kind === 'timestamps' && ecr !== null) return { kind: 'timestamps', tsVal: o.tsVal, tsEcr: ecr };
  return o;
}

export function tsVal(t: TcpRepr): number | null {
  for (const o of t.options) if (o.kind === 'timestamps') return o.tsVal >>> 0;
  return null;
}

export function tsEcr(t: TcpRepr): number | null {
  for (const o of t.options) if (o.kind === 'timestamps') return o.tsEcr >>> 0;
  return null;
}
