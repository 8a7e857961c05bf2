/**
 * Local port bookkeeping, as Linux does it (net/ipv4/inet_connection_sock.c, inet_hashtables.c).
 *
 * Every socket that holds a local port - bound, listening, connected, accepted child, TIME-WAIT -
 * is an owner of that port's bucket (Linux: inet_bind_bucket and its owners). What this file
 * decides:
 *
 * - bind() conflicts (inet_csk_get_port / inet_csk_bind_conflict): a new owner conflicts with an
 *   existing one when their addresses overlap, unless BOTH set SO_REUSEADDR and the existing one
 *   is not listening. listen() re-runs the check with the socket now listening (Linux calls
 *   get_port again from inet_csk_listen_start), so two SO_REUSEADDR sockets may share a port
 *   until one of them listens. A TIME-WAIT owner keeps the SO_REUSEADDR flag of the socket it
 *   came from (tw_reuse), so it blocks a SO_REUSEADDR bind only if its socket had not set it.
 *   Address overlap follows inet_rcv_saddr_equal with wildcards on, which the kernel selftest
 *   tools/testing/selftests/net/bind_wildcard.c pins down (see the test): IPv4 addresses and
 *   v4-mapped IPv6 ones overlap when equal or when either is 0.0.0.0; an AF_INET6 socket on ::
 *   overlaps every IPv4 address unless IPV6_V6ONLY, and every IPv6 one; a unicast IPv6 address
 *   never overlaps an IPv4 one.
 * - bind() to port 0 (inet_csk_find_open_port): a random odd offset in the ephemeral range,
 *   stepping by 2, then the even ports; with SO_REUSEADDR the lower half of the range first. Any
 *   existing owner on an overlapping address rules the port out (no SO_REUSEADDR sharing), unless
 *   ip_autobind_reuse. Exhausted: EADDRINUSE.
 * - connect() without a bound port (__inet_hash_connect, RFC 6056 section 3.3.4 "Algorithm 4,
 *   double-hash"): offset = table_perturb[F & (size - 1)] + (F >> 32), F = SipHash(local address,
 *   remote address, remote port) under a secret key; even ports first (bind(0) takes odd ones),
 *   step 2, then the odd ports. A port whose bucket was made by bind() is skipped; a port already
 *   used by connect() is fine when the full 4-tuple (with the VLAN key) is not in the
 *   TupleIndex, or holds a TIME-WAIT socket the caller agrees to recycle (tcp_twsk_unique).
 *   After a success table_perturb[index] advances by max(i, random(0..7) * 2) + 2, i being the
 *   distance scanned. Exhausted: EADDRNOTAVAIL.
 *
 * Randomness (keys, table_perturb, bind(0) offsets) comes from the injected RandomSource.
 * SO_REUSEPORT, IP_LOCAL_PORT_RANGE and privileged ports are out of scope.
 */
import type { Result } from './errno.js';
import { isAnyKey, isV4Like, parseIp, type IpKey } from './ip.js';
import { sipHash24, sipKeyFrom, type RandomSource, type SipKey } from '../wire/siphash.js';
import type { TupleIndex } from './tuple-index.js';

/** net.ipv4.ip_local_port_range default. */
export const EPHEMERAL_RANGE: readonly [number, number] = [32768, 60999];
/** CONFIG_INET_TABLE_PERTURB_ORDER default: a 65536-entry perturbation table. */
export const TABLE_PERTURB_ORDER = 16;

export type PortState = 'bound' | 'listening' | 'connected' | 'time-wait';

export interface BindRequest {
  /** "0.0.0.0", "::", a unicast address or "::ffff:a.b.c.d"; the text's family is the socket's. */
  address: string;
  /** 0 picks an ephemeral port. */
  port: number;
  reuseAddr?: boolean;
  /** IPV6_V6ONLY (AF_INET6 only). */
  v6only?: boolean;
  /** Bound to one device / VLAN key (SO_BINDTODEVICE); sockets on different devices never conflict. */
  device?: number;
}

export interface ConnectRequest {
  /** The source address routing chose (never a wildcard). */
  localAddress: string;
  remoteAddress: string;
  remotePort: number;
  /** VLAN key of the connection (part of the 4-tuple's uniqueness). Default 0. */
  vlan?: number;
  reuseAddr?: boolean;
  v6only?: boolean;
  device?: number;
}

export interface ConnectResult<C> {
  binding: PortBinding;
  /** A TIME-WAIT connection that owned the same 4-tuple and was replaced in the TupleIndex; release its binding. */
  recycled: C | undefined;
}

/** One socket's hold on a local port. Fields are for reading; change them through PortTable. */
export class PortBinding {
  port: number;
  address: string;
  key: IpKey;
  readonly v6only: boolean;
  readonly device: number;
  reuseAddr: boolean;
  state: PortState;
  released = false;

  constructor(port: number, address: string, key: IpKey, reuseAddr: boolean, v6only: boolean, device: number, state: PortState) {
    this.port = port;
    this.address = address;
    this.key = key;
    this.reuseAddr = reuseAddr;
    this.v6only = v6only;
    this.device = device;
    this.state = state;
  }
}

interface Bucket {
  readonly port: number;
  /** Insertion-ordered: O(1) release even with a listener's many children on one port. */
  readonly owners: Set<PortBinding>;
  /** Linux tb->fastreuse: -1 made by connect(), else 1 while every owner may share (SO_REUSEADDR, not listening), 0 otherwise. */
  fastreuse: number;
}

/** The IPv4 side of a bound address: -1 none (IPv6-only), -2 the IPv4 wildcard, else the address. */
function v4View(k: IpKey, v6only: boolean): number {
  if (k.family === 4 || isV4Like(k)) return k.w3 === 0 ? -2 : k.w3;
  if (isAnyKey(k) && !v6only) return -2;
  return -1;
}

/** The IPv6 side: 0 none (IPv4 or v4-mapped), 1 the IPv6 wildcard, 2 a unicast IPv6 address. */
function v6View(k: IpKey): number {
  if (k.family === 4 || isV4Like(k)) return 0;
  return isAnyKey(k) ? 1 : 2;
}

/** inet_rcv_saddr_equal(sk, sk2, match_wildcard = true). Symmetric. */
export function addressesOverlap(a: IpKey, aV6only: boolean, b: IpKey, bV6only: boolean): boolean {
  const a4 = v4View(a, aV6only);
  const b4 = v4View(b, bV6only);
  if (a4 !== -1 && b4 !== -1 && (a4 === -2 || b4 === -2 || a4 === b4)) return true;
  const a6 = v6View(a);
  const b6 = v6View(b);
  if (a6 === 0 || b6 === 0) return false;
  if (a6 === 1 || b6 === 1) return true;
  return a.w0 === b.w0 && a.w1 === b.w1 && a.w2 === b.w2 && a.w3 === b.w3;
}

/** Does any owner of the bucket keep `sk` off the port? */
function anyConflict(sk: PortBinding, tb: Bucket, relax: boolean): boolean {
  for (const o of tb.owners) if (conflicts(sk, o, relax)) return true;
  return false;
}

/** inet_bind_conflict + the address test: may `sk` not share the port with `sk2`? */
function conflicts(sk: PortBinding, sk2: PortBinding, relax: boolean): boolean {
  if (sk === sk2) return false;
  if (sk.device >= 0 && sk2.device >= 0 && sk.device !== sk2.device) return false;
  if (!addressesOverlap(sk.key, sk.v6only, sk2.key, sk2.v6only)) return false;
  if (sk.reuseAddr && sk2.reuseAddr && sk2.state !== 'listening') return !relax;
  return true;
}

export interface PortTableOptions {
  rand: RandomSource;
  /** net.ipv4.ip_local_port_range, inclusive. Default [32768, 60999]. */
  range?: readonly [number, number];
  /** net.ipv4.ip_local_reserved_ports: never picked automatically (explicit bind still works). */
  reserved?: Iterable<number>;
  /** log2 of the table_perturb size. Default 16. */
  perturbOrder?: number;
  /** net.ipv4.ip_autobind_reuse: bind(0) may, as a last resort, share a port with SO_REUSEADDR owners. */
  autobindReuse?: boolean;
}

export class PortTable {
  private readonly buckets = new Map<number, Bucket>();
  private readonly rand: RandomSource;
  private readonly low: number;
  private readonly high: number;
  private readonly reserved: Set<number>;
  private readonly perturbSize: number;
  private readonly autobindReuse: boolean;
  private perturb: Uint32Array | undefined;
  private key: SipKey | undefined;
  private readonly msg = new Uint8Array(36);
  private readonly msgView = new DataView(this.msg.buffer);
  private readonly hashOut = new Uint32Array(2);

  constructor(options: PortTableOptions) {
    this.rand = options.rand;
    const [low, high] = options.range ?? EPHEMERAL_RANGE;
    if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1 || high > 0xffff || low > high) {
      throw new RangeError(`bad ephemeral port range [${low}, ${high}]`);
    }
    this.low = low;
    this.high = high;
    this.reserved = new Set(options.reserved ?? []);
    const order = options.perturbOrder ?? TABLE_PERTURB_ORDER;
    if (!Number.isInteger(order) || order < 0 || order > 20) throw new RangeError(`bad perturbOrder ${order}`);
    this.perturbSize = 1 << order;
    this.autobindReuse = options.autobindReuse ?? false;
  }

  get range(): readonly [number, number] {
    return [this.low, this.high];
  }

  /** Sockets holding `port`, in the order they took it. */
  owners(port: number): readonly PortBinding[] {
    const tb = this.buckets.get(port);
    return tb === undefined ? [] : [...tb.owners];
  }

  isInUse(port: number): boolean {
    return this.buckets.has(port);
  }

  // ---- bind / listen ----

  /** bind(): the binding, 'EINVAL' for a bad address or port, 'EADDRINUSE' for a conflict or no free port. */
  bind(req: BindRequest): Result<PortBinding> {
    const key = parseIp(req.address);
    if (key === undefined || !Number.isInteger(req.port) || req.port < 0 || req.port > 0xffff) return 'EINVAL';
    // inet6_bind: an IPV6_V6ONLY socket cannot take a v4-mapped address.
    const v6only = key.family === 6 && req.v6only === true;
    if (v6only && isV4Like(key)) return 'EINVAL';
    const b = new PortBinding(req.port, req.address, key, req.reuseAddr ?? false, v6only, req.device ?? -1, 'bound');
    if (req.port === 0) {
      const port = this.findOpenPort(b);
      if (port < 0) return 'EADDRINUSE';
      b.port = port;
    } else {
      const tb = this.buckets.get(req.port);
      if (tb !== undefined && tb.owners.size > 0) {
        // The fast path of inet_csk_get_port: every owner may share and so may we.
        const fast = tb.fastreuse > 0 && b.reuseAddr;
        if (!fast && anyConflict(b, tb, true)) return 'EADDRINUSE';
      }
    }
    this.addOwner(b);
    return b;
  }

  /** listen(): re-check the port with the socket listening; on 'EADDRINUSE' the binding stays as it was. */
  listen(b: PortBinding): Result<true> {
    if (b.released) return 'EINVAL';
    // listen() on a listening socket only changes its backlog (inet_listen): no second check,
    // which would find the listener's own accepted children.
    if (b.state === 'listening') return true;
    const tb = this.buckets.get(b.port) as Bucket;
    const before = b.state;
    b.state = 'listening';
    if (anyConflict(b, tb, true)) {
      b.state = before;
      return 'EADDRINUSE';
    }
    this.updateFastreuse(tb, b);
    return true;
  }

  /** Record a state change that matters to later conflicts (connected, time-wait, back to bound). */
  setState(b: PortBinding, state: PortState): void {
    b.state = state;
  }

  /** setsockopt(SO_REUSEADDR) after bind: later checks see the new flag (the bucket's fast path does not, as in Linux). */
  setReuseAddr(b: PortBinding, on: boolean): void {
    b.reuseAddr = on;
  }

  /** The socket lets go of its port (close, or the end of TIME-WAIT). */
  release(b: PortBinding): void {
    if (b.released) return;
    b.released = true;
    const tb = this.buckets.get(b.port);
    if (tb === undefined) return;
    tb.owners.delete(b);
    if (tb.owners.size === 0) this.buckets.delete(b.port);
  }

  /**
   * __inet_inherit_port: an accepted child joins its listener's port without a conflict check,
   * bound to the connection's own local address (IPv4 text for a child of an AF_INET6 listener is
   * taken as v4-mapped).
   */
  inherit(parent: PortBinding, localAddress: string): PortBinding {
    let key = parseIp(localAddress);
    if (key === undefined) throw new RangeError(`inherit: not an IP address: ${JSON.stringify(localAddress)}`);
    if (parent.key.family === 6 && key.family === 4) key = { family: 6, w0: 0, w1: 0, w2: 0xffff, w3: key.w3 };
    const child = new PortBinding(parent.port, localAddress, key, parent.reuseAddr, parent.v6only, parent.device, 'connected');
    const tb = this.buckets.get(parent.port);
    if (tb === undefined || parent.released) throw new RangeError('inherit: the parent holds no port');
    tb.owners.add(child);
    return child;
  }

  // ---- connect ----

  /**
   * connect() on a socket without a port (inet_hash_connect): choose the port, take it, and hash
   * `conn` into `tuples` under the new 4-tuple. `twReusable` says whether a TIME-WAIT connection
   * on the chosen 4-tuple may be recycled (tcp_twsk_unique); by default none is.
   */
  connect<C>(req: ConnectRequest, tuples: TupleIndex<C>, conn: C, twReusable?: (c: C) => boolean): Result<ConnectResult<C>> {
    const local = parseIp(req.localAddress);
    const remote = parseIp(req.remoteAddress);
    if (local === undefined || remote === undefined || isV4Like(local) !== isV4Like(remote)) return 'EINVAL';
    if (!Number.isInteger(req.remotePort) || req.remotePort < 1 || req.remotePort > 0xffff) return 'EINVAL';
    const vlan = req.vlan ?? 0;
    const reusable = twReusable ?? never;

    this.portOffset(local, remote, req.remotePort);
    const fLow = this.hashOut[0] as number;
    const fHigh = this.hashOut[1] as number;
    const perturb = this.perturbTable();

    const low = this.low;
    const high = this.high + 1; // [32768, 60999] -> [32768, 61000[
    let remaining = high - low;
    if (remaining > 1) remaining &= ~1;
    const index = fLow & (this.perturbSize - 1);
    // Linux: u32 offset = table_perturb[index] + (port_offset >> 32), then offset %= remaining.
    let offset = (((perturb[index] as number) + fHigh) >>> 0) % remaining;
    offset &= ~1; // first pass: ports of low's parity

    for (;;) {
      let port = low + offset;
      for (let i = 0; i < remaining; i += 2, port += 2) {
        if (port >= high) port -= remaining;
        if (this.reserved.has(port)) continue;
        const tb = this.buckets.get(port);
        let recycled: C | undefined;
        if (tb !== undefined) {
          // A port some socket bind()ed is not for connect(); one that connect() made may be
          // shared, and the 4-tuple check alone decides (Linux skips the address checks here).
          if (tb.fastreuse >= 0) continue;
          const other = tuples.lookupKeys(local, port, remote, req.remotePort, vlan);
          if (other !== undefined) {
            if (!reusable(other)) continue;
            recycled = other;
          }
        }
        // Randomise the next choice a little: more when contention is low.
        const step = Math.max(i, this.randBelow(8) * 2);
        perturb[index] = (perturb[index] as number) + step + 2;
        const b = new PortBinding(port, req.localAddress, local, req.reuseAddr ?? false, local.family === 6 && req.v6only === true, req.device ?? -1, 'connected');
        this.addOwner(b, -1);
        const t = { localAddress: req.localAddress, localPort: port, remoteAddress: req.remoteAddress, remotePort: req.remotePort, vlan };
        if (recycled !== undefined) tuples.replace(t, conn);
        else tuples.hash(t, conn);
        return { binding: b, recycled };
      }
      offset++;
      if ((offset & 1) === 0 || remaining <= 1) break;
    }
    return 'EADDRNOTAVAIL';
  }

  /**
   * connect() on a socket that already has a port (__inet_check_established): the 4-tuple must be
   * free (or hold a recyclable TIME-WAIT connection), else 'EADDRNOTAVAIL'. A binding on a wildcard
   * takes the routed source address req.localAddress (inet_bhash2_update_saddr) once the check
   * passes; one bound to a unicast address keeps it and req.localAddress is not used.
   */
  connectBound<C>(b: PortBinding, req: ConnectRequest, tuples: TupleIndex<C>, conn: C, twReusable?: (c: C) => boolean): Result<ConnectResult<C>> {
    if (b.released) return 'EINVAL';
    const local = parseIp(req.localAddress);
    const remote = parseIp(req.remoteAddress);
    if (local === undefined || remote === undefined || isV4Like(local) !== isV4Like(remote)) return 'EINVAL';
    if (!Number.isInteger(req.remotePort) || req.remotePort < 1 || req.remotePort > 0xffff) return 'EINVAL';
    const vlan = req.vlan ?? 0;
    const wildcard = isAnyKey(b.key) || (b.key.family === 6 && isV4Like(b.key) && b.key.w3 === 0);
    // Bound to one address: that is the source, whatever routing said.
    const src = wildcard ? local : b.key;
    const srcText = wildcard ? req.localAddress : b.address;
    if (isV4Like(src) !== isV4Like(remote)) return 'EINVAL';
    const other = tuples.lookupKeys(src, b.port, remote, req.remotePort, vlan);
    if (other !== undefined && !(twReusable ?? never)(other)) return 'EADDRNOTAVAIL';
    if (wildcard) {
      b.address = req.localAddress;
      b.key = b.key.family === 6 && local.family === 4 ? { family: 6, w0: 0, w1: 0, w2: 0xffff, w3: local.w3 } : local;
    }
    b.state = 'connected';
    const t = { localAddress: srcText, localPort: b.port, remoteAddress: req.remoteAddress, remotePort: req.remotePort, vlan };
    if (other !== undefined) tuples.replace(t, conn);
    else tuples.hash(t, conn);
    return { binding: b, recycled: other };
  }

  /**
   * F(local, remote, remote port) of RFC 6056 section 3.3.4, 64 bits as Linux's
   * secure_ipv4_port_ephemeral / secure_ipv6_port_ephemeral compute it (SipHash with a secret
   * key). Returned in hashOut: [0] low word (table index), [1] high word (offset).
   */
  private portOffset(local: IpKey, remote: IpKey, remotePort: number): void {
    const dv = this.msgView;
    let len: number;
    if (isV4Like(local)) {
      dv.setUint32(0, local.w3);
      dv.setUint32(4, remote.w3);
      dv.setUint32(8, remotePort);
      len = 12;
    } else {
      dv.setUint32(0, local.w0); dv.setUint32(4, local.w1); dv.setUint32(8, local.w2); dv.setUint32(12, local.w3);
      dv.setUint32(16, remote.w0); dv.setUint32(20, remote.w1); dv.setUint32(24, remote.w2); dv.setUint32(28, remote.w3);
      dv.setUint16(32, remotePort);
      len = 34;
    }
    this.key ??= sipKeyFrom(this.rand);
    sipHash24(this.key, this.msg, len, this.hashOut);
  }

  /** table_perturb, filled from the random source on first use (get_random_sleepable_once). */
  private perturbTable(): Uint32Array {
    if (this.perturb === undefined) {
      this.perturb = new Uint32Array(this.perturbSize);
      for (let i = 0; i < this.perturbSize; i++) this.perturb[i] = this.rand.nextU32();
    }
    return this.perturb;
  }

  /** get_random_u32_below(n): multiply-shift on a 32-bit draw. */
  private randBelow(n: number): number {
    return Math.floor((this.rand.nextU32() * n) / 0x100000000);
  }

  /** inet_csk_find_open_port for bind(port 0); -1 when nothing is free. */
  private findOpenPort(b: PortBinding): number {
    let relax = false;
    for (;;) {
      let attemptHalf = b.reuseAddr ? 1 : 0;
      for (;;) {
        let low = this.low;
        let high = this.high + 1;
        if (high - low < 4) attemptHalf = 0;
        if (attemptHalf !== 0) {
          const half = low + (((high - low) >> 2) << 1);
          if (attemptHalf === 1) high = half;
          else low = half;
        }
        let remaining = high - low;
        if (remaining > 1) remaining &= ~1;
        // Odd offsets first: __inet_hash_connect favours low's parity, so bind(0) takes the other.
        let offset = this.randBelow(remaining) | 1;
        for (;;) {
          let port = low + offset;
          for (let i = 0; i < remaining; i += 2, port += 2) {
            if (port >= high) port -= remaining;
            if (this.reserved.has(port)) continue;
            const tb = this.buckets.get(port);
            if (tb === undefined || !anyConflict(b, tb, relax)) return port;
          }
          offset--;
          if ((offset & 1) !== 0) break;
        }
        if (attemptHalf !== 1) break;
        attemptHalf = 2; // now the upper half
      }
      if (!this.autobindReuse || relax) return -1;
      relax = true; // ip_autobind_reuse: share with SO_REUSEADDR owners; connect() will need distinct 4-tuples
    }
  }

  private addOwner(b: PortBinding, fastreuse?: number): void {
    let tb = this.buckets.get(b.port);
    if (tb === undefined) {
      tb = { port: b.port, owners: new Set(), fastreuse: fastreuse ?? 0 };
      this.buckets.set(b.port, tb);
      if (fastreuse === undefined) this.updateFastreuse(tb, b);
    } else if (fastreuse === undefined) {
      this.updateFastreuse(tb, b);
    }
    tb.owners.add(b);
  }

  /** inet_csk_update_fastreuse, called before `b` joins the owners (or while it is one, from listen). */
  private updateFastreuse(tb: Bucket, b: PortBinding): void {
    const reuse = b.reuseAddr && b.state !== 'listening';
    const others = tb.owners.size > (tb.owners.has(b) ? 1 : 0);
    if (!others) tb.fastreuse = reuse ? 1 : 0;
    else if (!reuse) tb.fastreuse = 0;
  }
}

function never(): boolean {
  return false;
}
