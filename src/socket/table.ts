/**
 * The socket table of one host: descriptors, the 4-tuple index, listeners, ports and queues, driven by
 * BSD-like calls that return a value or an errno name, and by segments the Host hands in (segmentIn;
 * the demux and accept-by-clone are in demux.ts).
 */
import type { Endpoint, Env } from '../tcp/env.js';
import type { Personality } from '../tcp/personality.js';
import { linux } from '../tcp/personality.js';
import type { TcpState } from '../tcp/state.js';
import { Tcb } from '../tcp/tcb.js';
import type { TcbConfig, TcpError, TcpEvent } from '../tcp/tcb.js';
import { poll as pollTcb, pollAt as pollAtTcb } from '../tcp/timers.js';
import * as calls from '../tcp/user-calls.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { Errno, Result } from './errno.js';
import { errnoNumber, isErrno } from './errno.js';
import { FdTable } from './fd-table.js';
import { parseIp } from './ip.js';
import { ListenerIndex } from './listener-index.js';
import { PortTable } from './ports.js';
import { clampBacklog, LINUX_LISTEN_DEFAULTS, ListenQueues } from './queues.js';
import type { ListenSettings } from './queues.js';
import { defaultSocketOptions, Socket } from './socket.js';
import type { Domain, SocketOptions } from './socket.js';
import { TupleIndex } from './tuple-index.js';
import { demuxSegment } from './demux.js';
import { MinHeap } from './min-heap.js';
import type { DemuxVerdict } from './demux.js';
export type { DemuxAction, DemuxStep, DemuxVerdict } from './demux.js';
import type { TupleRecord } from './tuple-index.js';

export type SocketEvent =
  | { type: 'state'; socket: Socket; fd: number | null; from: TcpState; to: TcpState; cause: 'segment' | 'call' | 'timer' }
  | { type: 'drop'; socket: Socket; fd: number | null; reason: string }
  | { type: 'accept'; socket: Socket; listener: Socket; fd: number }
  | { type: 'close'; socket: Socket; fd: number };

export interface SocketTableInit {
  env: Env;
  personality?: Personality;
  listen?: Partial<ListenSettings>;
  fdLimit?: number;
  /** Where every segment a connection sends goes: the Host wraps it in IP and a frame. */
  output(seg: TcpRepr, local: Endpoint, remote: Endpoint, vlan: number): void;
  onEvent?: (e: SocketEvent) => void;
  /** Is `addr` one of this host's addresses (bind() gives EADDRNOTAVAIL otherwise)? */
  isLocalAddress(addr: string): boolean;
  /** The source address for a connection to `remote`, or null when there is no route (ENETUNREACH). */
  sourceAddressFor(remote: string): string | null;
}

export interface SockAddr {
  address: string;
  port: number;
}

/** What poll() reports for a descriptor (POLLIN, POLLOUT, POLLERR, POLLHUP). */
export interface Readiness {
  readable: boolean;
  writable: boolean;
  error: boolean;
  hangup: boolean;
}

export type SockOpt = 'SO_REUSEADDR' | 'SO_LINGER' | 'SO_ERROR' | 'SO_RCVBUF' | 'SO_SNDBUF' | 'TCP_MAXSEG' | 'TCP_NODELAY' | 'IPV6_V6ONLY';
export type SockOptValue = number | boolean | { onoff: boolean; seconds: number };

const ANY: Record<Domain, string> = { inet: '0.0.0.0', inet6: '::' };

export class SocketTable {
  readonly env: Env;
  readonly personality: Personality;
  readonly settings: ListenSettings;
  readonly fds: FdTable<Socket>;
  readonly tuples: TupleIndex<Socket>;
  readonly listeners = new ListenerIndex<Socket>();
  readonly ports: PortTable;
  /** Every socket with a live TCB (descriptor or not), for timers and the socket table view. */
  readonly live = new Set<Socket>();
  /** @internal */
  readonly byTcb = new Map<Tcb, Socket>();
  private nextId = 1;
  /** Every live socket's next deadline, filed when it moves earlier (see arm and settle). */
  private readonly timers = new MinHeap<Socket>();
  private nextLiveSeq = 0;
  /** @internal */
  readonly init: SocketTableInit;
  private now = 0;

  constructor(init: SocketTableInit) {
    this.init = init;
    this.env = init.env;
    this.personality = init.personality ?? linux;
    this.settings = { ...LINUX_LISTEN_DEFAULTS, ...init.listen };
    this.fds = new FdTable<Socket>(init.fdLimit !== undefined ? { limit: init.fdLimit } : {});
    this.tuples = new TupleIndex<Socket>({ seed: init.env.rand.nextU32() });
    this.ports = new PortTable({ rand: init.env.rand });
  }

  // ---- plumbing ----------------------------------------------------------------------------------

  /**
   * While acceptSyn builds a child, the child has no socket yet but already sends its SYN-ACK and
   * changes state: both wait here and go out, in order, once the child is adopted.
   */
  /** @internal */
  unborn: Array<{ seg: TcpRepr; tcb: Tcb } | TcpEvent> | null = null;

  /** @internal */
  readonly hooks = {
    output: (seg: TcpRepr, tcb: Tcb): void => {
      const s = this.byTcb.get(tcb);
      if (s === undefined && this.unborn !== null) {
        this.unborn.push({ seg, tcb });
        return;
      }
      this.init.output(seg, tcb.local, tcb.remote, s?.tuple?.vlan ?? 0);
    },
    onEvent: (e: TcpEvent): void => this.tcpEvent(e),
  };

  /** @internal */
  tcpEvent(e: TcpEvent): void {
    const s = this.byTcb.get(e.tcb);
    if (s === undefined) {
      this.unborn?.push(e);
      return;
    }
    if (e.type === 'drop') {
      this.init.onEvent?.({ type: 'drop', socket: s, fd: s.fd, reason: e.reason });
      return;
    }
    this.init.onEvent?.({ type: 'state', socket: s, fd: s.fd, from: e.from, to: e.to, cause: e.cause });
    if (e.to === 'CLOSED') this.connectionClosed(s);
  }

  /** @internal */
  newSocket(domain: Domain, tcb: Tcb, options: SocketOptions): Socket {
    const s = new Socket(this.nextId++, domain, tcb, options);
    this.byTcb.set(tcb, s);
    return s;
  }

  private tcbConfig(o: SocketOptions): Partial<TcbConfig> {
    const c: Partial<TcbConfig> = { personality: this.personality, nodelay: o.noDelay, userMss: o.maxSeg };
    if (o.rcvBuf > 0) c.rcvBuf = o.rcvBuf;
    if (o.sndBuf > 0) c.sndBuf = o.sndBuf;
    return c;
  }

  private socketOf(fd: number): Result<Socket> {
    return this.fds.lookup(fd);
  }

  /** A connection reached CLOSED: out of the index; its port is free once nothing names it. */
  private connectionClosed(s: Socket): void {
    if (s.tuple !== null) {
      this.tuples.unhash(s.tuple, s);
      s.tuple = null;
    }
    if (s.parent !== null) {
      s.parent.queues?.removeSyn(s);
      s.parent.queues?.removeAccepted(s);
      s.parent = null;
    }
    if (s.fd === null) this.forget(s);
    else if (s.tcb.error !== null && s.pendingError === null) s.pendingError = s.tcb.error;
  }

  /** Drops every trace of a socket that has neither a descriptor nor a connection. */
  /** @internal */
  forget(s: Socket): void {
    if (s.tuple !== null) {
      this.tuples.unhash(s.tuple, s);
      s.tuple = null;
    }
    if (s.binding !== null) {
      this.ports.release(s.binding);
      s.binding = null;
    }
    this.listeners.remove(s);
    this.live.delete(s);
    this.byTcb.delete(s.tcb);
  }

  /** TCP's errors are errno names already (TcpError is a subset of Errno). */
  private err(e: TcpError): Errno {
    return e;
  }

  // ---- BSD-like calls ------------------------------------------------------------------------------

  socket(domain: Domain): Result<number> {
    const options = defaultSocketOptions();
    const tcb = new Tcb({ env: this.env, local: { addr: ANY[domain], port: 0 }, config: this.tcbConfig(options), hooks: this.hooks });
    const s = this.newSocket(domain, tcb, options);
    const fd = this.fds.alloc(s);
    if (isErrno(fd)) {
      this.byTcb.delete(tcb);
      return fd;
    }
    s.fd = fd;
    return fd;
  }

  bind(fd: number, address: string, port: number): Result<0> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    if (s.binding !== null) return 'EINVAL';
    const key = parseIp(address);
    if (key === undefined) return 'EINVAL';
    if (s.domain === 'inet' && key.family !== 4) return 'EAFNOSUPPORT';
    if (s.domain === 'inet6' && key.family !== 6) return 'EINVAL';
    if (address !== ANY[s.domain] && !this.init.isLocalAddress(address) && !this.isAnyAddress(address)) return 'EADDRNOTAVAIL';
    const b = this.ports.bind({ address, port, reuseAddr: s.options.reuseAddr, v6only: s.options.v6only });
    if (isErrno(b)) return b;
    s.binding = b;
    s.tcb.local = { addr: address, port: b.port };
    return 0;
  }

  private isAnyAddress(address: string): boolean {
    return address === '0.0.0.0' || address === '::';
  }

  listen(fd: number, backlog: number): Result<0> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    if (s.role === 'connection') return 'EINVAL';
    if (s.role === 'listener') {
      s.queues?.setBacklog(clampBacklog(backlog, this.settings.somaxconn));
      return 0;
    }
    if (s.binding === null) {
      // Linux autobinds a listening socket with no port to an ephemeral one (inet_autobind).
      const r = this.bind(fd, ANY[s.domain], 0);
      if (isErrno(r)) return r;
    }
    const b = s.binding;
    if (b === null) return 'EINVAL';
    const ok = this.ports.listen(b);
    if (isErrno(ok)) return ok;
    const e = calls.listen(s.tcb, this.now);
    if (e !== null) return this.err(e);
    s.role = 'listener';
    s.queues = new ListenQueues<Socket>(clampBacklog(backlog, this.settings.somaxconn), this.settings);
    this.listeners.add({ address: b.address, port: b.port, v6only: s.options.v6only }, s);
    this.addLive(s);
    this.arm(s);
    return 0;
  }

  /** Takes the first completed connection off the accept queue; 'EAGAIN' when there is none. */
  accept(fd: number): Result<{ fd: number; peer: SockAddr }> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    if (s.role !== 'listener' || s.queues === null) return 'EINVAL';
    const child = s.queues.accept();
    if (child === undefined) return 'EAGAIN';
    const nfd = this.fds.alloc(child);
    if (isErrno(nfd)) {
      // Linux leaves the connection queued when there is no descriptor for it.
      s.queues.complete(child);
      return nfd;
    }
    child.fd = nfd;
    child.parent = null;
    this.init.onEvent?.({ type: 'accept', socket: child, listener: s, fd: nfd });
    return { fd: nfd, peer: { address: child.tcb.remote.addr, port: child.tcb.remote.port } };
  }

  /** Starts a connection: 'EINPROGRESS' (the handshake runs; wait for writable), or an error. */
  connect(fd: number, address: string, port: number): Result<'EINPROGRESS'> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    if (s.role === 'listener') return 'EISCONN';
    if (s.role === 'connection') {
      const st = s.tcb.state;
      if (st === 'SYN-SENT' || st === 'SYN-RECEIVED') return 'EALREADY';
      return st === 'CLOSED' ? (s.pendingError ?? 'ECONNABORTED') : 'EISCONN';
    }
    const key = parseIp(address);
    if (key === undefined || port <= 0 || port > 0xffff) return 'EINVAL';
    if (s.domain === 'inet' && key.family !== 4) return 'EAFNOSUPPORT';
    const local = s.binding !== null && !this.isAnyAddress(s.binding.address) ? s.binding.address : this.init.sourceAddressFor(address);
    if (local === null) return 'ENETUNREACH';
    const req = { localAddress: local, remoteAddress: address, remotePort: port, reuseAddr: s.options.reuseAddr, v6only: s.options.v6only };
    const timeWait = (c: Socket): boolean => c.tcb.state === 'TIME-WAIT';
    const r = s.binding === null ? this.ports.connect(req, this.tuples, s, timeWait) : this.ports.connectBound(s.binding, req, this.tuples, s, timeWait);
    if (isErrno(r)) return r;
    // The 4-tuple was a TIME-WAIT connection's: the index now names this socket; end the old one.
    if (r.recycled !== undefined) this.retire(r.recycled, false);
    s.binding = r.binding;
    const tuple: TupleRecord = { localAddress: r.binding.address === ANY[s.domain] ? local : r.binding.address, localPort: r.binding.port, remoteAddress: address, remotePort: port, vlan: 0 };
    s.tuple = tuple;
    s.role = 'connection';
    s.tcb.local = { addr: local, port: tuple.localPort };
    this.addLive(s);
    const e = calls.connect(s.tcb, { addr: address, port }, this.now);
    this.arm(s);
    if (e !== null) return this.err(e);
    return 'EINPROGRESS';
  }

  /**
   * Ends a TIME-WAIT connection early (its 4-tuple is reused). `unhash`: false when the index already
   * names the new owner of the 4-tuple.
   */
  /** @internal */
  retire(s: Socket, unhash = true): void {
    if (!unhash) s.tuple = null;
    s.tcb.state = 'CLOSED';
    this.forget(s);
  }

  send(fd: number, data: Uint8Array): Result<number> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    if (s.role !== 'connection') return 'ENOTCONN';
    if (s.shutWrite) return 'EPIPE';
    if (s.pendingError !== null) return this.takeError(s);
    const st = s.tcb.state;
    if (st === 'SYN-SENT' || st === 'SYN-RECEIVED') return 'EAGAIN';
    const n = calls.send(s.tcb, data, this.now);
    this.arm(s);
    if (typeof n !== 'number') return this.err(n);
    return n === 0 && data.length > 0 ? 'EAGAIN' : n;
  }

  /** Up to `max` bytes; an empty array at end of stream; 'EAGAIN' when nothing is there yet. */
  recv(fd: number, max = 65536): Result<Uint8Array> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    if (s.role !== 'connection') return 'ENOTCONN';
    if (s.shutRead) return new Uint8Array(0);
    const r = calls.receive(s.tcb, max, this.now);
    this.arm(s);
    if (r === 'EOF') return new Uint8Array(0);
    if (typeof r === 'string') {
      if (r === 'EAGAIN') return s.pendingError !== null ? this.takeError(s) : 'EAGAIN';
      if (s.pendingError !== null) return this.takeError(s);
      return this.err(r);
    }
    return r;
  }

  private takeError(s: Socket): Errno {
    const e = s.pendingError ?? 'EIO';
    s.pendingError = null;
    return e;
  }

  shutdown(fd: number, how: 'SHUT_RD' | 'SHUT_WR' | 'SHUT_RDWR'): Result<0> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    if (s.role !== 'connection') return 'ENOTCONN';
    if (how !== 'SHUT_WR') s.shutRead = true;
    if (how !== 'SHUT_RD' && !s.shutWrite) {
      s.shutWrite = true;
      const e = calls.shutdownWrite(s.tcb, this.now);
      this.arm(s);
      if (e !== null && e !== 'ENOTCONN') return this.err(e);
    }
    return 0;
  }

  close(fd: number): Result<0> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    this.fds.close(fd);
    this.init.onEvent?.({ type: 'close', socket: s, fd });
    s.fd = null;
    s.orphan = true;
    if (s.role === 'listener') {
      this.closeListener(s);
      return 0;
    }
    if (s.role === 'fresh') {
      this.forget(s);
      return 0;
    }
    // SO_LINGER with a zero timeout: abort with a RST instead of the FIN handshake (Linux tcp_close).
    if (s.options.linger.onoff && s.options.linger.seconds === 0) calls.abort(s.tcb, this.now);
    else calls.close(s.tcb, this.now);
    if (s.tcb.state === 'CLOSED') this.forget(s);
    else this.arm(s);
    return 0;
  }

  /**
   * Closing a listener (Linux inet_csk_listen_stop): children that completed the handshake are reset,
   * children still in the SYN queue are dropped without a word.
   */
  private closeListener(s: Socket): void {
    this.listeners.remove(s);
    const q = s.queues;
    s.queues = null;
    if (q !== null) {
      const { accepted, pending } = q.drain();
      for (const c of accepted) {
        c.parent = null;
        calls.abort(c.tcb, this.now);
        this.forget(c);
      }
      for (const c of pending) {
        c.parent = null;
        c.tcb.state = 'CLOSED';
        this.forget(c);
      }
    }
    calls.abort(s.tcb, this.now);
    this.forget(s);
  }

  getsockname(fd: number): Result<SockAddr> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    return { address: s.tcb.local.addr, port: s.tcb.local.port };
  }

  getpeername(fd: number): Result<SockAddr> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    if (s.role !== 'connection' || s.tcb.state === 'SYN-SENT' || s.tcb.state === 'CLOSED') return 'ENOTCONN';
    return { address: s.tcb.remote.addr, port: s.tcb.remote.port };
  }

  setsockopt(fd: number, name: SockOpt, value: SockOptValue): Result<0> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    const o = s.options;
    const num = typeof value === 'number' ? value : typeof value === 'boolean' ? (value ? 1 : 0) : NaN;
    switch (name) {
      case 'SO_REUSEADDR':
        o.reuseAddr = num !== 0;
        if (s.binding !== null) this.ports.setReuseAddr(s.binding, o.reuseAddr);
        return 0;
      case 'SO_LINGER':
        if (typeof value !== 'object') return 'EINVAL';
        o.linger = { onoff: value.onoff, seconds: value.seconds };
        return 0;
      case 'SO_RCVBUF':
      case 'SO_SNDBUF':
        if (!(num >= 0)) return 'EINVAL';
        if (name === 'SO_RCVBUF') o.rcvBuf = num;
        else o.sndBuf = num;
        Object.assign(s.tcb.config, this.tcbConfig(o));
        return 0;
      case 'TCP_MAXSEG':
        // Linux: 88..32767, or 0 to clear; only before the connection starts (tcp_setsockopt).
        if (num !== 0 && (num < 88 || num > 32767)) return 'EINVAL';
        o.maxSeg = num;
        s.tcb.config.userMss = num;
        return 0;
      case 'TCP_NODELAY':
        o.noDelay = num !== 0;
        s.tcb.config.nodelay = o.noDelay;
        return 0;
      case 'IPV6_V6ONLY':
        if (s.domain !== 'inet6') return 'ENOPROTOOPT';
        if (s.binding !== null) return 'EINVAL';
        o.v6only = num !== 0;
        return 0;
      case 'SO_ERROR':
        return 'ENOPROTOOPT';
      default: {
        const never: never = name;
        return never;
      }
    }
  }

  getsockopt(fd: number, name: SockOpt): Result<SockOptValue> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    const o = s.options;
    switch (name) {
      case 'SO_REUSEADDR':
        return o.reuseAddr ? 1 : 0;
      case 'SO_LINGER':
        return { ...o.linger };
      case 'SO_ERROR': {
        const e = s.pendingError;
        s.pendingError = null;
        return e === null ? 0 : errnoNumber(e);
      }
      case 'SO_RCVBUF':
        // Linux reports sk_rcvbuf: twice what setsockopt asked for, else tcp_rmem[1] (twice the window
        // space at the default scaling ratio). FreeBSD reports sb_hiwat as it is, which tcp_mss_update
        // rounds up to a multiple of the MSS once the connection is set up (pd: established-ipv4.pkt
        // reads 65536, then 65700).
        if (this.personality.name === 'freebsd') return o.rcvBuf > 0 ? o.rcvBuf : s.tcb.rcvSpace;
        return o.rcvBuf > 0 ? o.rcvBuf * 2 : s.tcb.rcvSpace * 2;
      case 'SO_SNDBUF':
        // Linux doubles the value set (sock_setsockopt), FreeBSD keeps it (sb_hiwat).
        if (o.sndBuf === 0) return this.personality.sndBufDefault;
        return this.personality.name === 'freebsd' ? o.sndBuf : o.sndBuf * 2;
      case 'TCP_MAXSEG':
        return s.role === 'connection' && s.tcb.state !== 'SYN-SENT' ? calls.status(s.tcb).mss : o.maxSeg || s.tcb.config.mss;
      case 'TCP_NODELAY':
        return o.noDelay ? 1 : 0;
      case 'IPV6_V6ONLY':
        return o.v6only ? 1 : 0;
      default: {
        const never: never = name;
        return never;
      }
    }
  }

  fcntl(fd: number, cmd: 'F_GETFL' | 'F_SETFL', flags = 0): Result<number> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    const O_RDWR = 2;
    const O_NONBLOCK = 0o4000;
    if (cmd === 'F_GETFL') return O_RDWR | (s.options.nonBlocking ? O_NONBLOCK : 0);
    s.options.nonBlocking = (flags & O_NONBLOCK) !== 0;
    return 0;
  }

  /** poll(2) for one descriptor. */
  readiness(fd: number): Result<Readiness> {
    const s = this.socketOf(fd);
    if (isErrno(s)) return s;
    const st = s.tcb.state;
    if (s.role === 'listener') {
      return { readable: (s.queues?.acceptQueueLength ?? 0) > 0, writable: false, error: false, hangup: false };
    }
    if (s.role === 'fresh') return { readable: false, writable: false, error: false, hangup: true };
    const t = s.tcb;
    const error = s.pendingError !== null || t.error !== null;
    const closed = st === 'CLOSED';
    const readable = t.rcvBuf.length > 0 || t.finReceived || closed || s.shutRead;
    const connected = st !== 'SYN-SENT' && st !== 'SYN-RECEIVED';
    const writable = connected && !closed && !s.shutWrite && calls.status(t).unsent < t.config.sndBuf;
    return { readable, writable: writable || (closed && error), error, hangup: closed || (t.finReceived && s.shutWrite) };
  }

  // ---- the input side (demux.ts) ------------------------------------------------------------------

  /**
   * Demultiplexes one segment that arrived for `local` from `remote` (`vlan`: the frame's VLAN key) and
   * hands it to the socket that takes it; returns the verdict.
   */
  segmentIn(seg: TcpRepr, local: Endpoint, remote: Endpoint, vlan: number, nowUs: number): DemuxVerdict {
    this.now = nowUs;
    const v = demuxSegment(this, seg, local, remote, vlan, nowUs);
    if (v.socket !== null) this.arm(v.socket);
    if (v.listener !== null && v.listener !== v.socket) this.arm(v.listener);
    return v;
  }

  // ---- timers --------------------------------------------------------------------------------------

  /** Puts a socket in the live set (once), remembering when: the order its timers fire in at one instant. */
  /** @internal */
  addLive(s: Socket): void {
    if (this.live.has(s)) return;
    s.liveSeq = this.nextLiveSeq++;
    this.live.add(s);
  }

  /**
   * Files a live socket's next deadline when it is earlier than the one on file; called after every
   * segment, call or timer that touched the socket. A deadline that moved later or went away is left
   * for settle() to find (lazy deletion): the invariant is only that no live socket's real deadline is
   * earlier than the one it is filed under.
   */
  /** @internal */
  arm(s: Socket): void {
    const t = pollAtTcb(s.tcb);
    if (t === null || (s.timerAt >= 0 && s.timerAt <= t) || !this.live.has(s)) return;
    s.timerAt = t;
    this.timers.push(t, s);
  }

  /** Drops stale entries off the heap until its top is a live socket's real next deadline. */
  private settle(): void {
    const h = this.timers;
    while (h.size > 0) {
      const t = h.peekKey();
      const s = h.peekItem();
      // A socket filed again under an earlier deadline, or gone from the table: a leftover.
      if (s.timerAt === t && this.live.has(s)) {
        if (pollAtTcb(s.tcb) === t) return;
        h.pop();
        s.timerAt = -1;
        this.arm(s);
      } else h.pop();
    }
  }

  /** The earliest timer deadline of any connection (µs), or null. */
  pollAt(): number | null {
    this.settle();
    return this.timers.size > 0 ? this.timers.peekKey() : null;
  }

  /** Fires every timer due at `nowUs`, socket by socket in the order they joined the table. */
  poll(nowUs: number): void {
    this.now = nowUs;
    const due: Socket[] = [];
    for (;;) {
      this.settle();
      if (this.timers.size === 0 || this.timers.peekKey() > nowUs) break;
      const s = this.timers.pop();
      s.timerAt = -1;
      due.push(s);
    }
    if (due.length > 1) due.sort((a, b) => a.liveSeq - b.liveSeq);
    for (const s of due) {
      const t = pollAtTcb(s.tcb);
      if (t !== null && t <= nowUs) pollTcb(s.tcb, nowUs);
    }
    for (const s of due) this.arm(s);
  }

  /** Advances the table's notion of time for calls made without a segment or timer. */
  setTime(nowUs: number): void {
    this.now = nowUs;
  }

  /** Every socket with a descriptor or a connection, listeners first, by descriptor then id. */
  list(): Socket[] {
    const all = new Set<Socket>(this.live);
    for (const [, s] of this.fds.entries()) all.add(s);
    return [...all].sort((a, b) => (a.role === 'listener' ? 0 : 1) - (b.role === 'listener' ? 0 : 1) || (a.fd ?? 1e9) - (b.fd ?? 1e9) || a.id - b.id);
  }
}
