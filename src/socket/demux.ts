/**
 * Demux, as Linux's __inet_lookup_skb does it (DESIGN.md decision 4): the exact 4-tuple (ESTABLISHED and
 * the other synchronized states, SYN-RECEIVED children, TIME-WAIT), then a listener bound to the exact
 * local address, then one bound to ANY, then nothing: a RST (never for a RST). Every verdict is reported.
 *
 * Accept, as Linux does it (decision 5): a SYN to a listener clones it into a child in SYN-RECEIVED,
 * with the listener's port and options, indexed by its 4-tuple at once and held in the SYN queue; the
 * ACK that completes the handshake moves it to the accept queue. The accept queue is checked before that
 * ACK is processed, as tcp_v4_syn_recv_sock does: a full queue drops the ACK (the child stays in
 * SYN-RECEIVED and its SYN-ACK is retransmitted) or, with abort-on-overflow, resets the connection.
 */
import type { Endpoint } from '../tcp/env.js';
import { acceptSyn, listenerSegment, synCookieReply } from '../tcp/listen.js';
import { sendBareAck } from '../tcp/output.js';
import { resetFor } from '../tcp/rst.js';
import { segmentArrives } from '../tcp/segment-arrives.js';
import type { TcpState } from '../tcp/state.js';
import type { Tcb } from '../tcp/tcb.js';
import * as calls from '../tcp/user-calls.js';
import { TcpFlags } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { ListenerStep } from './listener-index.js';
import type { Socket } from './socket.js';
import type { SocketTable } from './table.js';
import type { TupleRecord } from './tuple-index.js';

/** The step of the demux that matched a segment (DESIGN.md output contract). */
export type DemuxStep = 'established' | 'syn-received' | 'time-wait' | ListenerStep;

/** What the socket layer did with a segment. */
export type DemuxAction =
  /** Processed by the connection (it may still have been dropped by TCP's own checks: see `drop`). */
  | 'delivered'
  /** A listener cloned itself into a child for this SYN. */
  | 'cloned'
  /** A listener answered with a SYN cookie and kept no state. */
  | 'syn-cookie'
  /** A SYN-cookie ACK recreated a connection straight into the accept queue. */
  | 'cookie-child'
  /** The accept queue had no room for the completed handshake (Linux: "listen overflow"). */
  | 'accept-queue-full'
  /** The SYN queue was full (or the accept queue, which also stops new SYNs) and cookies are off. */
  | 'syn-dropped'
  /** A new SYN on a TIME-WAIT 4-tuple ended the TIME-WAIT and went to the listener. */
  | 'time-wait-reopen'
  /** Answered with a reset. */
  | 'reset'
  /** Dropped without an answer (see `drop`). */
  | 'dropped';

export interface DemuxVerdict {
  step: DemuxStep;
  /** The socket that took the segment (for 'cloned': the new child), or null. */
  socket: Socket | null;
  /** Its descriptor at the time (null for unaccepted children and orphans). */
  fd: number | null;
  /** The listener involved, for listener steps and clones. */
  listener: Socket | null;
  action: DemuxAction;
  /** The socket's TCP state after the segment. */
  state: TcpState | null;
  /** Why the segment was dropped, when it was. */
  drop: string | null;
}

/** Demultiplexes one segment (SocketTable.segmentIn is the public entry). */
export function demuxSegment(t: SocketTable, seg: TcpRepr, local: Endpoint, remote: Endpoint, vlan: number, nowUs: number): DemuxVerdict {
  const tuple: TupleRecord = { localAddress: local.addr, localPort: local.port, remoteAddress: remote.addr, remotePort: remote.port, vlan };
  const conn = t.tuples.lookupEstablished(tuple);
  if (conn !== undefined) return toConnection(t, conn, seg, local, remote, vlan, nowUs);
  return toListener(t, seg, local, remote, vlan, nowUs, tuple, undefined);
}

export function toConnection(t: SocketTable, s: Socket, seg: TcpRepr, local: Endpoint, remote: Endpoint, vlan: number, nowUs: number): DemuxVerdict {
  const before = s.tcb.state;
  const step: DemuxStep = before === 'TIME-WAIT' ? 'time-wait' : before === 'SYN-RECEIVED' ? 'syn-received' : 'established';
  // A child about to complete the handshake needs room in its listener's accept queue first.
  const parent = s.parent;
  if (before === 'SYN-RECEIVED' && parent !== null && parent.queues !== null && (seg.flags & TcpFlags.ACK) !== 0 && (seg.flags & (TcpFlags.RST | TcpFlags.SYN)) === 0) {
    const q = parent.queues;
    if (q.inSynQueue(s) && q.acceptQueueLength > q.maxAckBacklog) {
      if (t.settings.abortOnOverflow) {
        calls.abort(s.tcb, nowUs);
        return verdict(step, s, parent, 'reset', 'accept-queue-full');
      }
      t.init.onEvent?.({ type: 'drop', socket: s, fd: s.fd, reason: 'accept-queue-full' });
      return verdict(step, s, parent, 'accept-queue-full', 'accept-queue-full');
    }
  }
  const r = segmentArrives(s.tcb, seg, nowUs);
  if (r === 'reopen') {
    // Linux tcp_timewait_state_process → TCP_TW_SYN: the TIME-WAIT ends, the SYN goes to the listener
    // with an ISN beyond the old connection's (Tcb.reopenIsn).
    // With no listener the TIME-WAIT stays and ACKs the SYN (tcp_v4_rcv: TCP_TW_SYN falls through to
    // TCP_TW_ACK, tcp_v4_timewait_ack).
    const l = t.listeners.lookup(local.addr, local.port, vlan);
    if (l === undefined || l.queues === null) {
      sendBareAck(s.tcb);
      return verdict(step, s, null, 'dropped', 'time-wait');
    }
    const isn = s.tcb.reopenIsn;
    t.retire(s);
    const tuple: TupleRecord = { localAddress: local.addr, localPort: local.port, remoteAddress: remote.addr, remotePort: remote.port, vlan };
    const v = toListener(t, seg, local, remote, vlan, nowUs, tuple, isn);
    if (v.action === 'cloned') v.action = 'time-wait-reopen';
    // The step that matched was the 4-tuple's TIME-WAIT (the listener is in `listener`).
    v.step = step;
    return v;
  }
  if (before === 'SYN-RECEIVED' && parent !== null && parent.queues !== null && s.tcb.state !== 'SYN-RECEIVED' && s.tcb.state !== 'CLOSED') {
    parent.queues.complete(s);
  }
  const action: DemuxAction = r === 'reset' ? 'reset' : r === 'dropped' ? 'dropped' : 'delivered';
  return verdict(step, s, parent, action, r === 'dropped' ? (s.tcb.dropReason ?? 'dropped') : null);
}

function toListener(t: SocketTable, seg: TcpRepr, local: Endpoint, remote: Endpoint, vlan: number, nowUs: number, tuple: TupleRecord, reopenIsn: number | undefined): DemuxVerdict {
  const l = t.listeners.lookup(local.addr, local.port, vlan);
  const step = t.listeners.lastStep;
  if (l === undefined || l.queues === null) return noSocket(t, seg, local, remote, vlan);
  const q = l.queues;
  const cookiesOn = t.settings.syncookies !== 'off';
  const v = listenerSegment(l.tcb, seg, local, remote, nowUs, cookiesOn, q.acceptQueueLength > q.maxAckBacklog);
  switch (v.action) {
    case 'rst':
      t.init.output(v.reply, local, remote, vlan);
      return verdict(step, l, l, 'reset', v.reason);
    case 'drop':
      return verdict(step, l, l, v.reason === 'accept-queue-full' ? 'accept-queue-full' : 'dropped', v.reason);
    case 'child': {
      if (q.acceptQueueLength > q.maxAckBacklog) return verdict(step, l, l, 'accept-queue-full', 'accept-queue-full');
      // listenerSegment built the child while processing the ACK; its events came before it had a socket.
      const child = adopt(t, l, v.child, tuple);
      q.complete(child);
      return verdict(step, child, l, 'cookie-child', null);
    }
    case 'syn': {
      const d = q.onSyn(reopenIsn !== undefined ? { fromTimeWait: true } : {});
      if (d.verdict === 'drop') {
        t.init.onEvent?.({ type: 'drop', socket: l, fd: l.fd, reason: d.reason });
        return verdict(step, l, l, 'syn-dropped', d.reason);
      }
      if (d.verdict === 'cookie') {
        t.init.output(synCookieReply(l.tcb, seg, local, remote, nowUs), local, remote, vlan);
        return verdict(step, l, l, 'syn-cookie', null);
      }
      t.unborn = [];
      const tcb = acceptSyn(l.tcb, seg, local, remote, nowUs, reopenIsn !== undefined ? { isn: reopenIsn } : {});
      const child = adopt(t, l, tcb, tuple);
      q.addSyn(child);
      const held = t.unborn;
      t.unborn = null;
      for (const h of held) {
        if ('seg' in h) t.hooks.output(h.seg, h.tcb);
        else t.tcpEvent(h);
      }
      return verdict(step, child, l, 'cloned', null);
    }
    default: {
      const never: never = v;
      return never;
    }
  }
}

/** Gives a child TCB its socket: a clone of the listener's, indexed by 4-tuple, sharing its port. */
function adopt(t: SocketTable, l: Socket, tcb: Tcb, tuple: TupleRecord): Socket {
  const options = { ...l.options, linger: { ...l.options.linger } };
  const child = t.newSocket(l.domain, tcb, options);
  child.role = 'connection';
  child.parent = l;
  child.tuple = tuple;
  if (l.binding !== null) child.binding = t.ports.inherit(l.binding, tuple.localAddress);
  t.tuples.hash(tuple, child);
  t.addLive(child);
  return child;
}

/** No socket: RFC 9293 §3.10.7.1 — reset anything but a reset. */
function noSocket(t: SocketTable, seg: TcpRepr, local: Endpoint, remote: Endpoint, vlan: number): DemuxVerdict {
  const rst = resetFor(seg);
  if (rst === null) return verdict('none', null, null, 'dropped', 'no-socket-rst');
  t.init.output(rst, local, remote, vlan);
  return verdict('none', null, null, 'reset', null);
}

function verdict(step: DemuxStep, s: Socket | null, listener: Socket | null, action: DemuxAction, drop: string | null): DemuxVerdict {
  return { step, socket: s, fd: s?.fd ?? null, listener, action, state: s?.tcb.state ?? null, drop };
}

