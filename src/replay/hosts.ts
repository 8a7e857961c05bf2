/**
 * Host models for observe mode: every address seen in a capture is a host with the socket table's own
 * data structures (socket/): an FdTable (POSIX lowest-free descriptors from 3), a ListenerIndex (exact
 * address, then ANY, as Linux's __inet_lookup_listener) and a TupleIndex with numeric keys (Linux's
 * established hash, holding SYN-SENT, SYN-RECEIVED children, synchronized and TIME-WAIT sockets).
 *
 * The descriptor model (what a replay can know from the wire alone):
 * - a listener inferred from the capture gets its descriptor before the first frame, in the order its
 *   first SYN-ACK appears (the server called socket/bind/listen before the capture started);
 * - a child accepted from a listener gets the lowest free descriptor the moment its handshake completes
 *   (the application calls accept() at once) and gives it back when the server side closes: it sends a
 *   FIN (close()) or a RST (abort), or accepts a RST (the application sees ECONNRESET and closes);
 * - a connecting socket gets its descriptor when it sends its SYN (socket + connect) and gives it back
 *   the same way;
 * - sockets that outlive their descriptor (FIN-WAIT-*, CLOSING, LAST-ACK, TIME-WAIT) stay in the 4-tuple
 *   index without one, as orphans do in Linux, until they reach CLOSED (TIME-WAIT: 60 s or reuse).
 */
import { FdTable } from '../socket/fd-table.js';
import { ListenerIndex } from '../socket/listener-index.js';
import type { ListenerStep } from '../socket/listener-index.js';
import { TupleIndex } from '../socket/tuple-index.js';
import { formatIpv6 } from '../wire/address.js';
import { allocBytes } from '../wire/bytes.js';
import type { Bytes } from '../wire/bytes.js';
import { ipv4Text, ipv6Text, parseIp } from '../socket/ip.js';
import type { TcpState } from '../tcp/state.js';
import type { Endpoint } from './conn.js';
import { stateName } from './states.js';

/** A listening socket of a host model. */
export interface Listener {
  readonly kind: 'listener';
  readonly host: Host;
  readonly port: number;
  /** Bound to the host's own address (`listen` option) rather than to ANY. */
  readonly exact: boolean;
  /** The bound address as text: "0.0.0.0", "::" or the host's address. */
  readonly address: string;
  /** Its descriptor, or -1 when the descriptor table was full (EMFILE). */
  readonly fd: number;
  /** Children in SYN-RECEIVED (the SYN queue). */
  synQueue: number;
  /** Children accept()ed so far. */
  accepted: number;
}

/** One row of a host's socket table (the table view and the JSON `hosts` field). */
export interface SocketRow {
  fd: number | null;
  state: TcpState;
  /** "198.18.0.1:80", "[2001:db8::1]:80", "*:80" for a listener bound to ANY. */
  local: string;
  /** "198.18.0.11:40001", or "*:*" for a listener. */
  remote: string;
  /** Listener: "syn N, accept M"; a connection: unacknowledged bytes it sent ("send-q N", '' when none). */
  queue: string;
  /** The connection id, for sockets of a connection. */
  connection: number | null;
  /** For a listener's children: the listener's descriptor. */
  listenerFd: number | null;
}

export interface HostTable {
  host: string;
  sockets: SocketRow[];
}

export interface HostOptions {
  /** RLIMIT_NOFILE of every host model (default 1,048,576, Linux's nr_open: replay should not run out). */
  fdLimit?: number;
}

export const HOST_DEFAULTS = { fdLimit: 1 << 20 } as const;

/** Sockets with a 4-tuple a host keeps in a plain list before it takes a TupleIndex. */
const FEW_MAX = 8;
/** Empty 4-tuple indexes kept for reuse (only small ones: a server's grown table is let go). */
const INDEX_POOL: Array<TupleIndex<Endpoint>> = [];
const INDEX_POOL_MAX = 1024;
const INDEX_POOL_BYTES = 4096;
/** Dropped host objects kept for reuse. */
const FREE_HOSTS_MAX = 4096;

export class Host {
  readonly fds: FdTable<Endpoint | Listener>;
  /**
   * Sockets with a 4-tuple while there are at most FEW_MAX of them, `nFew` of them: the first in `few0`,
   * the others in `few[0, nFew - 1)`. Most hosts of a big capture are a client with one socket at a
   * time, and a list of one is found without a hash table's cold rows (a million client hosts would
   * each touch one); held in a field of its own, it costs no array's header and storage to reach either
   * (the host itself is cold memory by the time its connection is reported). Past that, the TupleIndex.
   */
  private few0: Endpoint | null = null;
  private readonly few: Endpoint[] = [];
  private nFew = 0;
  private tupleIndex: TupleIndex<Endpoint> | null = null;
  private listenerIndex: ListenerIndex<Listener> | null = null;
  readonly listenerList: Listener[] = [];
  /** listenerList.length, read without reaching the array. */
  private nListeners = 0;
  /** Connections not yet reported that have an end here: while any, the host model stays. */
  refs = 0;
  private step: ListenerStep = 'none';
  // Who the host is: fixed while it is held (the registry reuses a dropped host's object for another).
  private _id = 0;
  private _text: string | null = null;
  private _v6 = false;
  private _w0 = 0;
  private _w1 = 0;
  private _w2 = 0;
  private _w3 = 0;
  /**
   * The last endpoint text made and its port: a record, a verdict row or a table row asks for the same
   * end's text again and again, and a client host has one port at a time.
   */
  private epPort = -1;
  private epText = '';
  /** A listening host's endpoint texts by port (a server's texts, asked for once per connection record). */
  private epTexts: Map<number, string> | null = null;

  constructor(
    /** Order of first sight. */
    id: number,
    /** The address as text ("198.18.0.1", "2001:db8::1"); null: made from the words when first asked for. */
    text: string | null,
    v6: boolean,
    /** The address as big-endian words; an IPv4 host uses w3 only. */
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    options: HostOptions,
  ) {
    this.fds = new FdTable<Endpoint | Listener>({ limit: options.fdLimit ?? HOST_DEFAULTS.fdLimit });
    this.assign(id, text, v6, w0, w1, w2, w3);
  }

  /** An idle host's object becomes a new host (HostRegistry reuses it): as the constructor leaves it. */
  reinit(id: number, text: string | null, v6: boolean, w0: number, w1: number, w2: number, w3: number): void {
    if (!this.idle) throw new Error('Host.reinit: the host is still in use');
    this.fds.clear();
    this.step = 'none';
    this.assign(id, text, v6, w0, w1, w2, w3);
  }

  private assign(id: number, text: string | null, v6: boolean, w0: number, w1: number, w2: number, w3: number): void {
    this._id = id;
    this._text = text;
    this._v6 = v6;
    this._w0 = w0 | 0;
    this._w1 = w1 | 0;
    this._w2 = w2 | 0;
    this._w3 = w3 | 0;
    this.epPort = -1;
    this.epText = '';
    this.epTexts = null;
  }

  /** Order of first sight. */
  get id(): number {
    return this._id;
  }

  /** The address as text ("198.18.0.1", "2001:db8::1"). */
  get text(): string {
    this._text ??= this._v6 ? ipv6Text(this.w0, this.w1, this.w2, this.w3) : ipv4Text(this.w3);
    return this._text;
  }

  get v6(): boolean {
    return this._v6;
  }

  /** The address as big-endian words (uint32); an IPv4 host uses w3 only. */
  get w0(): number {
    return this._w0 >>> 0;
  }

  get w1(): number {
    return this._w1 >>> 0;
  }

  get w2(): number {
    return this._w2 >>> 0;
  }

  get w3(): number {
    return this._w3 >>> 0;
  }

  /**
   * The same words as int32 (their 32 bits): small integers to V8, so passing them to the 4-tuple
   * indexes (which compare 32 bits) never boxes a number.
   */
  get i0(): number {
    return this._w0;
  }

  get i1(): number {
    return this._w1;
  }

  get i2(): number {
    return this._w2;
  }

  get i3(): number {
    return this._w3;
  }

  /** Nothing open and nothing pending: the model can go (a new one starts the same way: lowest descriptor 3). */
  get idle(): boolean {
    return this.refs === 0 && this.nListeners === 0 && this.tupleCount === 0 && this.fds.size === 0;
  }

  /** Sockets with a 4-tuple now. */
  get tupleCount(): number {
    return this.nFew + (this.tupleIndex === null ? 0 : this.tupleIndex.size);
  }

  /** "ip:port" or "[v6]:port". */
  endpointText(port: number): string {
    if (port === this.epPort) return this.epText;
    let t: string | undefined;
    if (this.nListeners > 0) {
      // A server's ports are few and its connections many: each port's text is made once. (A host with
      // a listener keeps it for the whole replay, so the map is never made again for another host.)
      this.epTexts ??= new Map();
      t = this.epTexts.get(port);
      if (t === undefined) {
        t = this.makeEndpointText(port);
        this.epTexts.set(port, t);
      }
    } else t = this.makeEndpointText(port);
    this.epPort = port;
    this.epText = t;
    return t;
  }

  private makeEndpointText(port: number): string {
    // An IPv4 client's address text is wanted only inside this one (a record's "ip:port"): made in one go.
    if (!this._v6 && this._text === null) return `${this._w3 >>> 24}.${(this._w3 >>> 16) & 255}.${(this._w3 >>> 8) & 255}.${this._w3 & 255}:${port}`;
    return endpointText(this._v6, this.text, port);
  }

  /** Opens a listener (socket, bind, listen) with the lowest free descriptor. */
  addListener(port: number, exact: boolean): Listener {
    const address = exact ? this.text : this.v6 ? '::' : '0.0.0.0';
    const l: { -readonly [K in keyof Listener]: Listener[K] } = { kind: 'listener', host: this, port, exact, address, fd: -1, synQueue: 0, accepted: 0 };
    const fd = this.fds.alloc(l);
    l.fd = typeof fd === 'number' ? fd : -1;
    this.listenerIndex ??= new ListenerIndex<Listener>();
    this.listenerIndex.add({ address, port }, l);
    this.listenerList.push(l);
    this.nListeners++;
    return l;
  }

  /** The listener a segment to `port` on VLAN/link key `key` reaches, or undefined; `lastListenerStep` names the pass. */
  lookupListener(port: number, key: number): Listener | undefined {
    const li = this.listenerIndex;
    if (li === null) {
      this.step = 'none';
      return undefined;
    }
    const l = this.v6 ? li.lookupV6Words(this.w0, this.w1, this.w2, this.w3, port, key) : li.lookupV4(this.w3, port, key);
    this.step = li.lastStep;
    return l;
  }

  get lastListenerStep(): ListenerStep {
    return this.step;
  }

  /** Puts a socket in the 4-tuple index under the key of the frames it receives; false when the tuple is taken. */
  hash(ep: Endpoint): boolean {
    if (this.tupleIndex === null) {
      if (this.lookupTupleOf(ep) !== undefined) return false;
      if (this.nFew < FEW_MAX) {
        this.setFew(this.nFew++, ep);
        return true;
      }
      // One socket too many for the list: all of them go into a TupleIndex.
      const t = (this.tupleIndex = INDEX_POOL.pop() ?? new TupleIndex<Endpoint>());
      for (let i = 0; i < this.nFew; i++) this.hashInto(t, this.fewAt(i));
      this.few0 = null;
      this.nFew = 0;
    }
    return this.hashInto(this.tupleIndex, ep);
  }

  /** The i-th socket of the list (i < nFew). */
  private fewAt(i: number): Endpoint {
    return i === 0 ? (this.few0 as Endpoint) : (this.few[i - 1] as Endpoint);
  }

  private setFew(i: number, ep: Endpoint): void {
    if (i === 0) this.few0 = ep;
    else this.few[i - 1] = ep;
  }

  private hashInto(t: TupleIndex<Endpoint>, ep: Endpoint): boolean {
    const r = ep.peer.host;
    if (!this.v6) return t.hashV4(this.i3, ep.port, r.i3, ep.peer.port, ep.rxKey, ep);
    return t.hashV6Words(this.i0, this.i1, this.i2, this.i3, ep.port, r.i0, r.i1, r.i2, r.i3, ep.peer.port, ep.rxKey, ep);
  }

  unhash(ep: Endpoint): void {
    const t = this.tupleIndex;
    if (t === null) {
      // As the index would: only the socket that holds its key goes; the last one takes its place.
      const n = this.nFew;
      for (let i = 0; i < n; i++) {
        if (this.fewAt(i) === ep) {
          this.setFew(i, this.fewAt(n - 1));
          if (n === 1) this.few0 = null;
          this.nFew = n - 1;
          return;
        }
      }
      return;
    }
    const r = ep.peer.host;
    if (!this.v6) t.unhashV4(this.i3, ep.port, r.i3, ep.peer.port, ep.rxKey, ep);
    else t.unhashV6Words(this.i0, this.i1, this.i2, this.i3, ep.port, r.i0, r.i1, r.i2, r.i3, ep.peer.port, ep.rxKey, ep);
    // An empty index goes (back to a small pool): a client host holds one socket at a time, and a
    // million of them must neither keep nor each allocate their own.
    if (t.size === 0) {
      this.tupleIndex = null;
      if (INDEX_POOL.length < INDEX_POOL_MAX && t.tableBytes <= INDEX_POOL_BYTES) INDEX_POOL.push(t);
    }
  }

  /** The socket a segment from `remote`:`remotePort` to `port` finds (demux step one), read from the IP header bytes. */
  lookupTuple(b: Bytes, remoteOff: number, remotePort: number, localOff: number, port: number, key: number): Endpoint | undefined {
    const t = this.tupleIndex;
    if (t === null) {
      const dv = b.dv;
      for (let i = 0; i < this.nFew; i++) {
        const e = this.fewAt(i);
        const r = e.peer.host;
        if (e.port !== port || e.peer.port !== remotePort || e.rxKey !== key) continue;
        if (this.v6) {
          if (!sameWords(this, dv, localOff) || !sameWords(r, dv, remoteOff)) continue;
        } else if (dv.getInt32(localOff) !== this.i3 || dv.getInt32(remoteOff) !== r.i3) continue;
        return e;
      }
      return undefined;
    }
    return this.v6 ? t.lookupV6(b, localOff, port, remoteOff, remotePort, key) : t.lookupV4Bytes(b, localOff, port, remoteOff, remotePort, key);
  }

  /** The socket holding `ep`'s own 4-tuple key (the one `hash` would use). */
  lookupTupleOf(ep: Endpoint): Endpoint | undefined {
    const t = this.tupleIndex;
    const r = ep.peer.host;
    if (t === null) {
      for (let i = 0; i < this.nFew; i++) {
        const e = this.fewAt(i);
        const z = e.peer.host;
        if (e.port !== ep.port || e.peer.port !== ep.peer.port || e.rxKey !== ep.rxKey || z.i3 !== r.i3) continue;
        // An IPv4 host's key holds the last word only, as its TupleIndex's would.
        if (!this.v6 || (z.i2 === r.i2 && z.i1 === r.i1 && z.i0 === r.i0)) return e;
      }
      return undefined;
    }
    if (!this.v6) return t.lookupV4(this.i3, ep.port, r.i3, ep.peer.port, ep.rxKey);
    return t.lookupV6Words(this.i0, this.i1, this.i2, this.i3, ep.port, r.i0, r.i1, r.i2, r.i3, ep.peer.port, ep.rxKey);
  }

  /** The rows of this host's own tables: listeners, then every socket with a 4-tuple (TIME-WAIT ones live in the replay's TIME-WAIT table). */
  rows(): SocketRow[] {
    const rows: SocketRow[] = [];
    for (const l of this.listenerList) {
      rows.push({
        fd: l.fd < 0 ? null : l.fd,
        state: 'LISTEN',
        local: l.exact ? this.endpointText(l.port) : `*:${l.port}`,
        remote: '*:*',
        queue: listenerQueueText(l.synQueue),
        connection: null,
        listenerFd: null,
      });
    }
    const eps: Endpoint[] = [];
    if (this.tupleIndex !== null) for (const ep of this.tupleIndex.values()) eps.push(ep);
    else for (let i = 0; i < this.nFew; i++) eps.push(this.fewAt(i));
    for (const ep of eps) {
      rows.push({
        fd: ep.fd < 0 ? null : ep.fd,
        state: stateName(ep.state),
        local: this.endpointText(ep.port),
        remote: ep.peer.host.endpointText(ep.peer.port),
        queue: sendQueueText(ep.sendQueue()),
        connection: ep.conn.id,
        listenerFd: ep.listener === null || ep.listener.fd < 0 ? null : ep.listener.fd,
      });
    }
    return rows;
  }
}

/** A listener's queue column: children in its SYN queue (the accept queue is empty: accept() is immediate). */
export function listenerQueueText(synQueue: number): string {
  return `syn ${synQueue}, accept 0`;
}

/** "ip:port" or "[v6]:port". */
export function endpointText(v6: boolean, address: string, port: number): string {
  return v6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The four words of `h`'s address are those at b[off, off+16). */
function sameWords(h: Host, dv: DataView, off: number): boolean {
  return dv.getInt32(off) === h.i0 && dv.getInt32(off + 4) === h.i1 && dv.getInt32(off + 8) === h.i2 && dv.getInt32(off + 12) === h.i3;
}

function sendQueueText(n: number): string {
  return n > 0 ? `send-q ${n}` : '';
}

/**
 * Sorts a host's rows as `ss` would group them for a reader: each listener (in descriptor order) with the
 * sockets that share its port right under it, then the ports without a listener; inside a group by
 * descriptor (orphans last), then by the remote end, then by connection.
 */
export function sortRows(rows: SocketRow[]): SocketRow[] {
  const listenerFd = new Map<number, number>();
  for (const r of rows) if (r.state === 'LISTEN' && r.fd !== null) listenerFd.set(portOf(r.local), r.fd);
  const group = (r: SocketRow): number => listenerFd.get(portOf(r.local)) ?? Number.MAX_SAFE_INTEGER;
  return rows.sort((a, b) => group(a) - group(b) || compareRows(a, b));
}

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
}

/** Local port, the listener first, then descriptors in order (orphans last), then the remote end, then the connection (the same 4-tuple on two VLANs). */
function compareRows(a: SocketRow, b: SocketRow): number {
  const pa = portOf(a.local);
  const pb = portOf(b.local);
  if (pa !== pb) return pa - pb;
  const la = a.state === 'LISTEN' ? 0 : 1;
  const lb = b.state === 'LISTEN' ? 0 : 1;
  if (la !== lb) return la - lb;
  const fa = a.fd ?? Number.MAX_SAFE_INTEGER;
  const fb = b.fd ?? Number.MAX_SAFE_INTEGER;
  if (fa !== fb) return fa - fb;
  if (a.remote !== b.remote) return a.remote < b.remote ? -1 : 1;
  // The same 4-tuple on two VLANs or interfaces: the older connection first (not the tables' hash order).
  return (a.connection ?? 0) - (b.connection ?? 0);
}

/**
 * The host models of a replay, found by address: numbers for IPv4, text for IPv6 (looked up per
 * connection, not per frame). A host with nothing open and no pending connection is dropped (`release`)
 * and made afresh if it shows up again, so a capture of a million client addresses keeps only the ones
 * in use.
 */
export class HostRegistry {
  /** IPv4 hosts by address. */
  private readonly v4 = new V4Hosts();
  private readonly v6 = new Map<string, Host>();
  /** Dropped hosts' objects, for the next new ones. */
  private readonly free: Host[] = [];
  private nextId = 1;

  private readonly options: HostOptions;

  constructor(options: HostOptions = {}) {
    this.options = { ...options };
  }

  /**
   * Changes the descriptor limit of every host, held now or made later. A shard of a parallel replay
   * lifts it once its listeners have theirs: the limit is a fact about a host's descriptors across
   * all shards, and the merge applies it (parallel.ts).
   */
  setFdLimit(limit: number): void {
    this.options.fdLimit = limit;
    for (const h of this.list()) h.fds.limit = limit;
  }

  /** The host at the address in b[off..] (4 or 16 bytes), created on first sight. */
  at(b: Bytes, off: number, addrLen: 4 | 16): Host {
    if (addrLen === 4) {
      const a = b.dv.getInt32(off);
      let h = this.v4.get(a);
      if (h === undefined) {
        h = this.make(null, false, 0, 0, 0xffff, a);
        this.v4.add(a, h);
      }
      return h;
    }
    const text = formatIpv6(b, off);
    let h = this.v6.get(text);
    if (h === undefined) {
      const dv = b.dv;
      h = this.make(text, true, dv.getUint32(off), dv.getUint32(off + 4), dv.getUint32(off + 8), dv.getUint32(off + 12));
      this.v6.set(text, h);
    }
    return h;
  }

  private make(text: string | null, v6: boolean, w0: number, w1: number, w2: number, w3: number): Host {
    const id = this.nextId++;
    const h = this.free.pop();
    if (h === undefined) return new Host(id, text, v6, w0, w1, w2, w3, this.options);
    h.reinit(id, text, v6, w0, w1, w2, w3);
    // The limit as it is now: setFdLimit may have changed it since this object was let go.
    h.fds.limit = this.options.fdLimit ?? HOST_DEFAULTS.fdLimit;
    return h;
  }

  /** The host at the address in b[off..], if it is held (no host is created). */
  peek(b: Bytes, off: number, addrLen: 4 | 16): Host | undefined {
    return addrLen === 4 ? this.v4.get(b.dv.getInt32(off)) : this.v6.get(formatIpv6(b, off));
  }

  /** The host with this address text, created if new (listeners named in options). */
  byText(text: string): Host | undefined {
    const k = parseIp(text);
    if (k === undefined) return undefined;
    const b = allocBytes(16);
    if (k.family === 4) {
      b.dv.setUint32(0, k.w3);
      return this.at(b, 0, 4);
    }
    b.dv.setUint32(0, k.w0);
    b.dv.setUint32(4, k.w1);
    b.dv.setUint32(8, k.w2);
    b.dv.setUint32(12, k.w3);
    return this.at(b, 0, 16);
  }

  /**
   * Drops the host if nothing of it is left. Its object is kept for a later new host: the caller must
   * hold no reference to it (the tracker releases a host when its last connection is reported).
   */
  release(h: Host): void {
    if (!h.idle) return;
    if (h.v6) {
      if (this.v6.get(h.text) !== h) return;
      this.v6.delete(h.text);
    } else {
      if (!this.v4.remove(h.i3, h)) return;
    }
    if (this.free.length < FREE_HOSTS_MAX) this.free.push(h);
  }

  /** Hosts held now, in order of first sight. */
  list(): Host[] {
    const all: Host[] = [];
    this.v4.collect(all);
    for (const h of this.v6.values()) all.push(h);
    return all.sort((a, b) => a.id - b.id);
  }

  get size(): number {
    return this.v4.size + this.v6.size;
  }
}

/**
 * IPv4 hosts by address (int32): open addressing with linear probing in an Int32Array of keys beside an
 * array of hosts (an empty slot holds no host), at most half full. A capture with a fresh client address
 * per connection adds and removes a host per connection: a Map did that with an entry object and
 * rehashing per address, this is a multiply, a probe or two and a store. Removal shifts the rest of a
 * probe run back (no tombstones), so a table that sees a million addresses come and go stays as short to
 * search as the few it holds at once.
 */
class V4Hosts {
  private keys = new Int32Array(64);
  private hosts: Array<Host | undefined> = new Array<Host | undefined>(64).fill(undefined);
  private shift = 26; // 32 - log2(capacity)
  private mask = 63;
  size = 0;

  /** Fibonacci hashing: the top bits of address × 2^32/φ (neighbouring addresses land far apart). */
  private home(a: number): number {
    return Math.imul(a, 0x9e3779b1) >>> this.shift;
  }

  get(a: number): Host | undefined {
    const keys = this.keys;
    const hosts = this.hosts;
    const mask = this.mask;
    for (let i = this.home(a); ; i = (i + 1) & mask) {
      const h = hosts[i];
      if (h === undefined || keys[i] === a) return h;
    }
  }

  /** Adds a host whose address is not held. */
  add(a: number, h: Host): void {
    if (2 * (this.size + 1) > this.hosts.length) this.resize(this.hosts.length * 2);
    this.place(a, h);
    this.size++;
  }

  private place(a: number, h: Host): void {
    const mask = this.mask;
    let i = this.home(a);
    while (this.hosts[i] !== undefined) i = (i + 1) & mask;
    this.keys[i] = a;
    this.hosts[i] = h;
  }

  /** Removes `h` if it is the host held at `a`; false when it is not. */
  remove(a: number, h: Host): boolean {
    const keys = this.keys;
    const hosts = this.hosts;
    const mask = this.mask;
    let i = this.home(a);
    for (;;) {
      const x = hosts[i];
      if (x === undefined) return false;
      if (keys[i] === a) {
        if (x !== h) return false;
        break;
      }
      i = (i + 1) & mask;
    }
    // Backward shift: each later entry of the run whose home is not in (i, j] moves into the gap at i.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const y = hosts[j];
      if (y === undefined) break;
      const k = this.home(keys[j] as number);
      if (((j - k) & mask) >= ((j - i) & mask)) {
        keys[i] = keys[j] as number;
        hosts[i] = y;
        i = j;
      }
    }
    hosts[i] = undefined;
    this.size--;
    return true;
  }

  /** Appends every host held to `out`. */
  collect(out: Host[]): void {
    for (const h of this.hosts) if (h !== undefined) out.push(h);
  }

  private resize(capacity: number): void {
    const keys = this.keys;
    const hosts = this.hosts;
    this.keys = new Int32Array(capacity);
    this.hosts = new Array<Host | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i];
      if (h !== undefined) this.place(keys[i] as number, h);
    }
  }
}
