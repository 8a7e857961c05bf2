/**
 * What the captured host's application must have called for its kernel to send what the capture shows
 * (emulate mode, DESIGN.md "Replay modes"), read from the host's own segments and the peer segments
 * around them:
 *
 * - listen (SO_REUSEADDR, before the first frame) on every port where it answered a SYN with a SYN-ACK
 *   without having sent a SYN on that 4-tuple; after the last SYN it refused there, if it refused one
 *   first; and closed before the first SYN it refused after answering some;
 * - connect, bound to the captured local port, at each SYN it sent with a new ISN (a retransmitted SYN
 *   is the stack's own doing);
 * - send each byte range it sent for the first time, when it sent it (retransmissions are the stack's);
 *   a data segment without PSH is followed by more of the same write (Linux pushes at the end of a
 *   write), so the write is made whole at its first segment and the stack segments it again;
 * - close at its first FIN, or shutdown(SHUT_WR) when it went on taking data after the FIN (a closed
 *   socket answers data with a RST, Linux tcp_rcv_state_process);
 * - abort (SO_LINGER {1, 0}, close) where it sent a RST while the application still held the
 *   connection (decided when the emulation gets there: a RST the stack already sent in reply leaves
 *   nothing to abort);
 * - accept as soon as a connection is ready, and read what arrives at once (the windows it advertises
 *   depend on it), except:
 *   - SYNs dropped without a reply while the port was answering others: the accept queue was full.
 *     The backlog is what makes it full at the first drop (Linux sk_acceptq_is_full: more than backlog
 *     connections waiting), and nothing is accepted until after the last drop;
 *   - connections that got only ACKs and then, together, a RST each, with no SYN-ACK on the port
 *     afterwards: they were never accepted, and the listener was closed (inet_csk_listen_stop resets
 *     the accept queue). The application stops accepting at the first of them.
 *
 * The plan is data (`AppPlan`); app-runtime.ts carries it out against a Host.
 */
import { seqAdd, seqGt } from '../wire/seq.js';
import { TcpFlags } from '../wire/tcp.js';
import { endpointText, hostTuple } from './segments.js';
import type { CapturedSegment } from './segments.js';

export interface Endpoint {
  addr: string;
  port: number;
}

export interface ListenPlan {
  addr: string;
  port: number;
  backlog: number;
  /** Listen right after this frame (a SYN it refused first); null: before the first frame. */
  listenAfter: number | null;
  /** Accept nothing before this frame has been delivered (SYNs dropped on a full accept queue). */
  acceptFrom: number | null;
  /** Accept nothing once this frame has been delivered (connections never accepted). */
  acceptUntil: number | null;
  /** Close the listening socket at this frame (before it is delivered). */
  closeAt: number | null;
}

/** Ending a connection: close() at a FIN, shutdown(SHUT_WR) at a half-close, SO_LINGER {1, 0} + close() at a RST. */
export interface EndCall {
  call: 'close' | 'shutdown' | 'abort';
  frame: number;
  tuple: string;
}

export type CallPlan = { call: 'connect'; frame: number; local: Endpoint; remote: Endpoint } | { call: 'send'; frame: number; tuple: string; bytes: Uint8Array } | EndCall;

export interface AppPlan {
  listeners: ListenPlan[];
  /** In capture order; calls at the same frame in the order they are to be made. */
  calls: CallPlan[];
  /** What was inferred beyond the obvious, and what could not be. */
  notes: string[];
}

/** listen()'s backlog when nothing in the capture bounds it: net.core.somaxconn. */
export const DEFAULT_BACKLOG = 4096;

interface Conn {
  tuple: string;
  local: Endpoint;
  remote: Endpoint;
  hostIsn: number | null;
  peerIsn: number | null;
  /** The host opened it (its SYN came first) or answered the peer's SYN (passive). */
  opener: 'host' | 'peer' | null;
  synAckFrame: number | null;
  /** Passive: the peer's first ACK after the SYN-ACK. */
  completedFrame: number | null;
  /** Highest relative sequence number of data the host sent. */
  sentHigh: number;
  hostDataOrFin: boolean;
  finFrame: number | null;
  /** New peer data after the host's FIN, and whether the host answered it with a RST. */
  dataAfterFin: 'none' | 'acked' | 'reset';
  /** Where the peer's data ends so far (to tell new data from a retransmission). */
  peerEnd: number | null;
  lastHost: CapturedSegment | null;
  /** The host's RST frames. */
  rsts: number[];
  /** The last write, while the host's data segments say it goes on (no PSH yet). */
  openWrite: Extract<CallPlan, { call: 'send' }> | null;
  /** The close() planned at its FIN (a shutdown() if the FIN turns out to be a half-close). */
  closeCall: EndCall | null;
}

export function inferApp(segments: readonly CapturedSegment[]): AppPlan {
  const notes: string[] = [];
  const calls: CallPlan[] = [];
  const current = new Map<string, Conn>();
  const conns: Conn[] = [];
  /** The last segment seen on each 4-tuple (a SYN is answered when the host's segment comes next). */
  const lastOn = new Map<string, CapturedSegment>();
  const refused: Array<{ port: number; addr: string; frame: number }> = [];
  const dropped: Array<{ port: number; addr: string; frame: number }> = [];

  const open = (s: CapturedSegment): Conn => {
    const local = s.fromHost ? { addr: s.src, port: s.tcp.srcPort } : { addr: s.dst, port: s.tcp.dstPort };
    const remote = s.fromHost ? { addr: s.dst, port: s.tcp.dstPort } : { addr: s.src, port: s.tcp.srcPort };
    const c: Conn = { tuple: hostTuple(s), local, remote, hostIsn: null, peerIsn: null, opener: null, synAckFrame: null, completedFrame: null, sentHigh: 0, hostDataOrFin: false, finFrame: null, dataAfterFin: 'none', peerEnd: null, lastHost: null, rsts: [], openWrite: null, closeCall: null };
    conns.push(c);
    current.set(c.tuple, c);
    return c;
  };

  for (const s of segments) {
    const t = s.tcp;
    const k = hostTuple(s);
    const syn = (t.flags & TcpFlags.SYN) !== 0;
    const ack = (t.flags & TcpFlags.ACK) !== 0;
    const rst = (t.flags & TcpFlags.RST) !== 0;
    let c = current.get(k);
    // A SYN with a new ISN from a side that already had one is the next connection on this 4-tuple.
    if (syn && !rst) {
      const had = c === undefined ? null : s.fromHost ? c.hostIsn : c.peerIsn;
      if (c === undefined || (had !== null && had !== t.seq)) c = open(s);
    }
    c ??= open(s);
    const prev = lastOn.get(k);
    lastOn.set(k, s);
    if (!s.fromHost) {
      // The host let the peer's last SYN pass without a word before the peer sent again: dropped.
      if (prev !== undefined && !prev.fromHost && prev.tcp.flags & TcpFlags.SYN && (prev.tcp.flags & TcpFlags.ACK) === 0 && c.opener === 'peer') {
        dropped.push({ port: prev.tcp.dstPort, addr: prev.dst, frame: prev.frame });
      }
      if (syn && !ack) {
        c.peerIsn = t.seq;
        c.opener ??= 'peer';
      }
      if (ack && !rst && c.synAckFrame !== null && c.completedFrame === null && c.opener === 'peer') c.completedFrame = s.frame;
      const end = seqAdd(t.seq, s.payloadLength + (syn ? 1 : 0));
      const fresh = c.peerEnd === null || seqGt(end, c.peerEnd);
      if (fresh) c.peerEnd = end;
      // Only new data counts: a closed socket still acknowledges a retransmission of what it had.
      if (s.payloadLength > 0 && fresh && c.finFrame !== null && c.dataAfterFin === 'none') c.dataAfterFin = 'acked';
      continue;
    }
    if (c.dataAfterFin === 'acked' && prev !== undefined && !prev.fromHost && prev.payloadLength > 0 && rst) c.dataAfterFin = 'reset';
    c.lastHost = s;
    if (rst) {
      // A RST answering a SYN on a 4-tuple where the host has no connection: nothing listens there.
      if (c.hostIsn === null && prev !== undefined && !prev.fromHost && prev.tcp.flags & TcpFlags.SYN) refused.push({ port: t.srcPort, addr: s.src, frame: prev.frame });
      else c.rsts.push(s.frame);
      continue;
    }
    if (syn) {
      if (c.hostIsn === t.seq) continue; // retransmitted SYN or SYN-ACK
      c.hostIsn = t.seq;
      // A bare SYN is always a connect() (a listener answers with SYN-ACKs), even when the peer's SYN
      // came first (a simultaneous open).
      if (!ack) {
        c.opener ??= 'host';
        calls.push({ call: 'connect', frame: s.frame, local: c.local, remote: c.remote });
      } else if (c.opener === 'peer') c.synAckFrame = s.frame;
    }
    if (c.hostIsn === null) {
      notes.push(`${k.replace(' ', ' > ')}: picked up mid-connection at frame ${s.frame}; no call can reproduce it`);
      c.hostIsn = (t.seq - 1) >>> 0;
    }
    const start = (t.seq - c.hostIsn - (syn ? 0 : 1)) >>> 0;
    const len = s.payloadLength;
    if (len > 0 && !syn) {
      c.hostDataOrFin = true;
      const end = start + len;
      if (end > c.sentHigh) {
        const from = Math.max(start, c.sentHigh);
        const bytes = new Uint8Array(end - from);
        bytes.set(t.payload.subarray(from - start, Math.min(t.payload.length, end - start)));
        c.sentHigh = end;
        const w = c.openWrite;
        if (w !== null) {
          const merged = new Uint8Array(w.bytes.length + bytes.length);
          merged.set(w.bytes);
          merged.set(bytes, w.bytes.length);
          w.bytes = merged;
        } else {
          c.openWrite = { call: 'send', frame: s.frame, tuple: c.tuple, bytes };
          calls.push(c.openWrite);
        }
        // PSH ends a write (Linux tcp_push at the end of sendmsg, FreeBSD when the send buffer empties):
        // data without it is followed by more of the same write, which is made whole at its first segment.
        if (t.flags & TcpFlags.PSH) c.openWrite = null;
      }
    }
    if (t.flags & TcpFlags.FIN && c.finFrame === null) {
      c.hostDataOrFin = true;
      c.openWrite = null;
      c.finFrame = s.frame;
      c.closeCall = { call: 'close', frame: s.frame, tuple: c.tuple };
      calls.push(c.closeCall);
    }
  }

  // close or shutdown: decided by what followed the FIN.
  for (const c of conns) if (c.closeCall !== null && c.dataAfterFin === 'acked') c.closeCall.call = 'shutdown';

  const listeners = planListeners(segments, conns, refused, dropped, notes);
  const neverAccepted = new Set(listeners.flatMap((l) => l.neverAccepted));
  for (const c of conns) {
    if (neverAccepted.has(c)) continue;
    for (const f of c.rsts) calls.push({ call: 'abort', frame: f, tuple: c.tuple });
  }
  calls.sort((a, b) => a.frame - b.frame); // stable: calls at one frame keep their order
  return { listeners: listeners.map((l) => l.plan), calls, notes };
}

function planListeners(
  segments: readonly CapturedSegment[],
  conns: readonly Conn[],
  refused: ReadonlyArray<{ port: number; addr: string; frame: number }>,
  dropped: ReadonlyArray<{ port: number; addr: string; frame: number }>,
  notes: string[],
): Array<{ plan: ListenPlan; neverAccepted: Conn[] }> {
  const byPort = new Map<string, Conn[]>();
  for (const c of conns) {
    if (c.opener !== 'peer' || c.synAckFrame === null) continue;
    const k = endpointText(c.local.addr, c.local.port);
    const list = byPort.get(k) ?? [];
    list.push(c);
    byPort.set(k, list);
  }
  const out: Array<{ plan: ListenPlan; neverAccepted: Conn[] }> = [];
  for (const [name, children] of byPort) {
    const { addr, port } = (children[0] as Conn).local;
    const synAcks = children.map((c) => c.synAckFrame as number);
    const firstSynAck = Math.min(...synAcks);
    const lastSynAck = Math.max(...synAcks);
    const here = (r: { port: number; addr: string }): boolean => r.port === port && r.addr === addr;
    const refusedBefore = refused.filter((r) => here(r) && r.frame < firstSynAck).map((r) => r.frame);
    const refusedAfter = refused.filter((r) => here(r) && r.frame > lastSynAck).map((r) => r.frame);
    const plan: ListenPlan = {
      addr,
      port,
      backlog: DEFAULT_BACKLOG,
      listenAfter: refusedBefore.length > 0 ? Math.max(...refusedBefore) : null,
      acceptFrom: null,
      acceptUntil: null,
      closeAt: refusedAfter.length > 0 ? Math.min(...refusedAfter) : null,
    };
    const drops = dropped.filter((d) => here(d) && d.frame > (plan.listenAfter ?? 0)).map((d) => d.frame);
    if (drops.length > 0) {
      const first = Math.min(...drops);
      const last = Math.max(...drops);
      const waiting = children.filter((c) => c.completedFrame !== null && c.completedFrame < first).length;
      const used = children.some((c) => c.completedFrame !== null && c.completedFrame < last && c.lastHost !== null && c.lastHost.frame < last && c.hostDataOrFin);
      if (waiting === 0 || used) {
        notes.push(`${name}: SYNs dropped (frames ${first}–${last}) that a full accept queue does not explain; backlog left at ${DEFAULT_BACKLOG}`);
      } else {
        plan.backlog = waiting - 1;
        plan.acceptFrom = last;
        notes.push(`${name}: listen backlog ${plan.backlog}: SYNs dropped from frame ${first} while ${waiting} connections waited to be accepted; accept() from frame ${last} on`);
      }
    }
    const never = neverAcceptedChildren(segments, children, name, plan, notes);
    out.push({ plan, neverAccepted: never });
  }
  return out;
}

/** The listener-closed pattern (see the header): the children never accepted, or none. */
function neverAcceptedChildren(segments: readonly CapturedSegment[], children: readonly Conn[], name: string, plan: ListenPlan, notes: string[]): Conn[] {
  const candidates = children.filter((c) => c.completedFrame !== null && !c.hostDataOrFin && c.rsts.length > 0 && c.lastHost !== null && c.lastHost.frame === c.rsts[c.rsts.length - 1]);
  if (candidates.length === 0) return [];
  const rstOf = new Map(candidates.map((c) => [c.rsts[c.rsts.length - 1] as number, c]));
  const firstRst = Math.min(...rstOf.keys());
  // The burst: the host's RSTs to candidates one after the other in the capture, from the first on.
  const burst: Conn[] = [];
  let i = segments.findIndex((s) => s.frame === firstRst);
  for (; i < segments.length; i++) {
    const c = rstOf.get((segments[i] as CapturedSegment).frame);
    if (c === undefined) break;
    burst.push(c);
  }
  const synAckLater = children.some((c) => (c.synAckFrame as number) > firstRst);
  const firstDone = Math.min(...burst.map((c) => c.completedFrame as number));
  const behind = children.filter((c) => (c.completedFrame ?? Infinity) >= firstDone && (c.completedFrame ?? Infinity) < firstRst);
  if (synAckLater || behind.some((c) => !burst.includes(c))) return [];
  plan.acceptUntil = firstDone;
  plan.closeAt = plan.closeAt === null ? firstRst : Math.min(plan.closeAt, firstRst);
  notes.push(`${name}: ${burst.length} connections never accepted; the listener closed at frame ${firstRst}, which resets them`);
  return burst;
}
