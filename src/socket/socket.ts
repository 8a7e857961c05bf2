/**
 * One socket: what a descriptor names. A listening socket and each connection it accepts are separate
 * Sockets; the accepted one is a clone of the listener (same local port, inherited options) told apart
 * only by its 4-tuple, and it gets a descriptor only when accept() hands it out.
 */
import type { Tcb } from '../tcp/tcb.js';
import type { TcpState } from '../tcp/state.js';
import type { Errno } from './errno.js';
import type { PortBinding } from './ports.js';
import type { ListenQueues } from './queues.js';
import type { TupleRecord } from './tuple-index.js';

export type Domain = 'inet' | 'inet6';

/** What the socket is in the BSD sense; the TCP state is on its TCB. */
export type SocketRole = 'fresh' | 'listener' | 'connection';

export interface LingerOption {
  onoff: boolean;
  seconds: number;
}

/** The socket options synack models (setsockopt/getsockopt). */
export interface SocketOptions {
  reuseAddr: boolean;
  linger: LingerOption;
  /** SO_RCVBUF / SO_SNDBUF as set (Linux reports double the value set; getsockopt does too). */
  rcvBuf: number;
  sndBuf: number;
  /** TCP_MAXSEG; 0 = not set. */
  maxSeg: number;
  noDelay: boolean;
  /** IPV6_V6ONLY on an AF_INET6 socket. */
  v6only: boolean;
  /** O_NONBLOCK (fcntl). The synchronous calls never block either way; the promise forms honour it. */
  nonBlocking: boolean;
}

export function defaultSocketOptions(): SocketOptions {
  return {
    reuseAddr: false,
    linger: { onoff: false, seconds: 0 },
    rcvBuf: 0,
    sndBuf: 0,
    maxSeg: 0,
    noDelay: false,
    v6only: false,
    nonBlocking: false,
  };
}

export class Socket {
  /** The descriptor, or null: an unaccepted child, or a socket closed by the user but still in TCP states. */
  fd: number | null = null;
  role: SocketRole = 'fresh';
  binding: PortBinding | null = null;
  /** The 4-tuple under which the socket is in the index; null until connected or cloned. */
  tuple: TupleRecord | null = null;
  /** A listener's SYN and accept queues. */
  queues: ListenQueues<Socket> | null = null;
  /** For a child not yet accepted: its listener. */
  parent: Socket | null = null;
  /** SO_ERROR: set when the connection fails, cleared by reading it. */
  pendingError: Errno | null = null;
  shutRead = false;
  shutWrite = false;
  /** The user called close(): the socket lives on only while TCP needs it (FIN-WAIT, TIME-WAIT...). */
  orphan = false;
  /**
   * The deadline under which the table's timer heap holds this socket (-1: none). It may be earlier than
   * the TCB's real next deadline (a timer was stopped or pushed back), never later.
   * @internal
   */
  timerAt = -1;
  /** When the socket joined the table's live set: timers due at one instant fire in that order. @internal */
  liveSeq = 0;

  constructor(
    /** Stable number for traces, given by the table (descriptors are reused; this is not). */
    readonly id: number,
    readonly domain: Domain,
    readonly tcb: Tcb,
    readonly options: SocketOptions,
  ) {}

  get state(): TcpState {
    return this.tcb.state;
  }
}
