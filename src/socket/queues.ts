/**
 * A listener's two queues and the decisions around them, counted as Linux counts them.
 *
 * - listen(fd, backlog): __sys_listen clamps `(unsigned) backlog` to net.core.somaxconn (4096), so
 *   a negative backlog means somaxconn; the result is sk_max_ack_backlog.
 * - SYN queue: the children still in SYN-RECEIVED (Linux: request sockets, counted in
 *   icsk_accept_queue.qlen). It is "full" when qlen > sk_max_ack_backlog
 *   (inet_csk_reqsk_queue_is_full; `>=` before the 2025 fix "tcp/dccp: allow a connection when
 *   sk_max_ack_backlog is zero", which made it agree with the accept queue).
 * - Accept queue: children whose handshake completed, FIFO for accept(). Full when
 *   sk_ack_backlog > sk_max_ack_backlog (sk_acceptq_is_full). The `>` is deliberate in Linux
 *   (commit 64a146513f8f "Revert incorrect accept queue backlog changes"): a listener holds
 *   backlog + 1 completed connections, and listen(fd, 0) still accepts one.
 *
 * New SYN (tcp_conn_request), in this order:
 *   1. unless the SYN revives a TIME-WAIT tuple (tcp_tw_isn, which skips the limits): with
 *      tcp_syncookies = 2, or with the SYN queue full, answer with a cookie (tcp_syncookies 1 or
 *      2) or drop (0);
 *   2. accept queue full: drop, even a cookie (LINUX_MIB_LISTENOVERFLOWS);
 *   3. no cookie and tcp_syncookies = 0: when fewer than a quarter of tcp_max_syn_backlog slots
 *      are left, drop SYNs from peers not proven alive (tcp_peer_is_proven);
 *   4. otherwise queue a child.
 * Completing ACK (tcp_check_req -> syn_recv_sock): accept queue full -> with tcp_abort_on_overflow
 * reset the child (RST, out of the SYN queue), else ignore the ACK and keep the child (Linux sets
 * req->acked and lets the SYN-ACK timer retry); otherwise the child moves to the accept queue.
 */

/** net.core.somaxconn default since Linux 5.4. */
export const SOMAXCONN = 4096;
/** net.ipv4.tcp_max_syn_backlog; Linux sizes it max(128, ehash entries / 128): 2048 on the reference machine. */
export const TCP_MAX_SYN_BACKLOG = 2048;

/** net.ipv4.tcp_syncookies: 0 'off', 1 'on-overflow' (the default), 2 'always'. */
export type SynCookieMode = 'off' | 'on-overflow' | 'always';

export interface ListenSettings {
  somaxconn: number;
  maxSynBacklog: number;
  syncookies: SynCookieMode;
  /** net.ipv4.tcp_abort_on_overflow: reset instead of ignoring an ACK the accept queue has no room for. */
  abortOnOverflow: boolean;
}

export const LINUX_LISTEN_DEFAULTS: Readonly<ListenSettings> = Object.freeze({
  somaxconn: SOMAXCONN,
  maxSynBacklog: TCP_MAX_SYN_BACKLOG,
  syncookies: 'on-overflow',
  abortOnOverflow: false,
});

/** __sys_listen: `if ((unsigned int)backlog > somaxconn) backlog = somaxconn`. */
export function clampBacklog(backlog: number, somaxconn: number = SOMAXCONN): number {
  const u = Math.trunc(backlog) >>> 0;
  return u > somaxconn ? somaxconn : u;
}

/** sk_acceptq_is_full. */
export function acceptQueueFull(acceptQueueLen: number, maxAckBacklog: number): boolean {
  return acceptQueueLen > maxAckBacklog;
}

/** inet_csk_reqsk_queue_is_full. */
export function synQueueFull(synQueueLen: number, maxAckBacklog: number): boolean {
  return synQueueLen > maxAckBacklog;
}

/** What a listener looks like to an arriving SYN. */
export interface SynState {
  synQueueLen: number;
  acceptQueueLen: number;
  maxAckBacklog: number;
  syncookies: SynCookieMode;
  maxSynBacklog: number;
  /** The SYN was accepted by a TIME-WAIT socket as a new incarnation (Linux tcp_tw_isn): no SYN-queue limits. */
  fromTimeWait?: boolean;
  /** tcp_peer_is_proven: the peer is remembered as alive (tcp_metrics). Default false. */
  peerProven?: boolean;
}

export type SynVerdict = 'queue' | 'cookie' | 'drop';
export type SynReason = 'ok' | 'cookies-always' | 'syn-queue-full' | 'accept-queue-full' | 'syn-backlog-reserved';

export interface SynDecision {
  readonly verdict: SynVerdict;
  /** Why: for the trace's drop reason and counters. */
  readonly reason: SynReason;
}

const QUEUE: SynDecision = Object.freeze({ verdict: 'queue', reason: 'ok' });
const COOKIE_ALWAYS: SynDecision = Object.freeze({ verdict: 'cookie', reason: 'cookies-always' });
const COOKIE_FULL: SynDecision = Object.freeze({ verdict: 'cookie', reason: 'syn-queue-full' });
const DROP_SYN_FULL: SynDecision = Object.freeze({ verdict: 'drop', reason: 'syn-queue-full' });
const DROP_ACCEPT_FULL: SynDecision = Object.freeze({ verdict: 'drop', reason: 'accept-queue-full' });
const DROP_RESERVED: SynDecision = Object.freeze({ verdict: 'drop', reason: 'syn-backlog-reserved' });

/** tcp_conn_request's admission decision with its reason (shared frozen objects: no allocation). */
export function decideSyn(s: SynState): SynDecision {
  let cookie: SynDecision | undefined;
  if (s.fromTimeWait !== true) {
    const always = s.syncookies === 'always';
    if (always || synQueueFull(s.synQueueLen, s.maxAckBacklog)) {
      if (s.syncookies === 'off') return DROP_SYN_FULL;
      cookie = always ? COOKIE_ALWAYS : COOKIE_FULL;
    }
  }
  if (acceptQueueFull(s.acceptQueueLen, s.maxAckBacklog)) return DROP_ACCEPT_FULL;
  if (cookie !== undefined) return cookie;
  // With cookies off, Linux keeps the last quarter of tcp_max_syn_backlog for peers it has seen alive.
  if (
    s.fromTimeWait !== true &&
    s.syncookies === 'off' &&
    s.maxSynBacklog - s.synQueueLen < s.maxSynBacklog >> 2 &&
    s.peerProven !== true
  ) {
    return DROP_RESERVED;
  }
  return QUEUE;
}

/** The pure decision for a new SYN: queue a child, answer with a SYN cookie, or drop. */
export function synVerdict(s: SynState): SynVerdict {
  return decideSyn(s).verdict;
}

export type AckVerdict = 'accept' | 'drop' | 'reset';

/** The completing ACK of a child (or a valid cookie): room in the accept queue, else drop or reset. */
export function ackVerdict(acceptQueueLen: number, maxAckBacklog: number, abortOnOverflow: boolean): AckVerdict {
  if (!acceptQueueFull(acceptQueueLen, maxAckBacklog)) return 'accept';
  return abortOnOverflow ? 'reset' : 'drop';
}

/**
 * The queues of one listener. Children are whatever the stack uses for a connection; each child
 * object is in at most one queue. Insertion-ordered sets give FIFO order with O(1) removal of any
 * child (a SYN-queue child times out or is reset; Linux leaves a reset child in the accept queue
 * for accept() to return, so removing one from there is the caller's choice).
 */
export class ListenQueues<C> {
  private readonly syn = new Set<C>();
  private readonly acc = new Set<C>();
  private max: number;
  readonly settings: ListenSettings;

  constructor(backlog: number, settings: Partial<ListenSettings> = {}) {
    this.settings = { ...LINUX_LISTEN_DEFAULTS, ...settings };
    this.max = clampBacklog(backlog, this.settings.somaxconn);
  }

  /** sk_max_ack_backlog. */
  get maxAckBacklog(): number {
    return this.max;
  }

  /** listen() on a socket that already listens only changes the backlog (inet_listen). */
  setBacklog(backlog: number): void {
    this.max = clampBacklog(backlog, this.settings.somaxconn);
  }

  get synQueueLength(): number {
    return this.syn.size;
  }

  get acceptQueueLength(): number {
    return this.acc.size;
  }

  /** Decide a new SYN against this listener's counts and settings. */
  onSyn(opts: { fromTimeWait?: boolean; peerProven?: boolean } = {}): SynDecision {
    return decideSyn({
      synQueueLen: this.syn.size,
      acceptQueueLen: this.acc.size,
      maxAckBacklog: this.max,
      syncookies: this.settings.syncookies,
      maxSynBacklog: this.settings.maxSynBacklog,
      fromTimeWait: opts.fromTimeWait,
      peerProven: opts.peerProven,
    });
  }

  /** A child in SYN-RECEIVED, after onSyn said 'queue'. */
  addSyn(child: C): void {
    if (this.syn.has(child) || this.acc.has(child)) throw new RangeError('ListenQueues.addSyn: child already queued');
    this.syn.add(child);
  }

  /** Take a child off the SYN queue (SYN-ACK retries exhausted, RST, reset on overflow); false if it was not there. */
  removeSyn(child: C): boolean {
    return this.syn.delete(child);
  }

  inSynQueue(child: C): boolean {
    return this.syn.has(child);
  }

  /**
   * The child's handshake completed. 'accept': it moved to the accept queue. 'reset': it left the
   * SYN queue and the caller sends RST. 'drop': nothing changed (the ACK is ignored). A child that
   * is not in the SYN queue (a SYN-cookie child) is added to the accept queue when there is room.
   */
  complete(child: C): AckVerdict {
    if (this.acc.has(child)) throw new RangeError('ListenQueues.complete: child already in the accept queue');
    const v = ackVerdict(this.acc.size, this.max, this.settings.abortOnOverflow);
    if (v === 'accept') {
      this.syn.delete(child);
      this.acc.add(child);
    } else if (v === 'reset') {
      this.syn.delete(child);
    }
    return v;
  }

  /** accept(): the oldest completed child, or undefined (the caller says EAGAIN or waits). */
  accept(): C | undefined {
    for (const child of this.acc) {
      this.acc.delete(child);
      return child;
    }
    return undefined;
  }

  removeAccepted(child: C): boolean {
    return this.acc.delete(child);
  }

  inAcceptQueue(child: C): boolean {
    return this.acc.has(child);
  }

  synChildren(): IterableIterator<C> {
    return this.syn.values();
  }

  acceptChildren(): IterableIterator<C> {
    return this.acc.values();
  }

  /**
   * Closing the listener (inet_csk_listen_stop): empty both queues and hand back the children,
   * completed ones first (Linux resets those with tcp_disconnect), then those still in SYN-RECEIVED.
   */
  drain(): { accepted: C[]; pending: C[] } {
    const accepted = [...this.acc];
    const pending = [...this.syn];
    this.acc.clear();
    this.syn.clear();
    return { accepted, pending };
  }
}
