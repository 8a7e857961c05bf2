/**
 * One observed connection and its two ends. Observe mode does not run TCBs: each end is a light
 * passive machine (machine.ts) over the few numbers a wire observer can trust — the ISN, the highest
 * sequence number sent, the last ACK and window sent, where its FIN sits — moved by what the end sends
 * and receives as the capture shows it.
 */
import type { ConnView } from './types.js';
import type { Host, Listener } from './hosts.js';
import type { TwSock } from './timewait.js';
import { St, type StateNo } from './states.js';

/** Anomaly codes kept per connection (the count goes on). */
const MAX_ANOMALIES = 8;

export class Endpoint {
  /** The boolean fields below, one bit each (see flagFields): the object stays small. */
  declare bits: number;
  declare state: StateNo;
  /** Has been a socket (connected, cloned or picked up); a never-opened end is inferred, not seen. */
  declare opened: boolean;
  /** Picked up mid-connection: its earlier life is not in the capture. */
  declare midstream: boolean;
  declare fd: number;
  /** The listener a server-side child came from (cloned, or picked up on a listening port). */
  declare listener: Listener | null;
  /** Counted in its listener's SYN queue. */
  declare inSynQueue: boolean;
  /** In its host's 4-tuple index. */
  declare hashed: boolean;
  /** Link key (VLAN stack + interface) of the frames it receives: part of its 4-tuple key. */
  declare rxKey: number;
  /** The other end has sent a frame, so rxKey is known rather than assumed. */
  declare rxConfirmed: boolean;

  // Sequence bookkeeping, raw u32 values as the wire carries them. Each is held as an int32 (its 32
  // bits) and read back as u32: a small integer lives in the object itself, where a u32 above 2^31
  // would be a heap number of its own (one more cache miss per frame, garbage when copied).
  private declare _iss: number;
  declare issKnown: boolean;
  private declare _sndNxt: number;
  declare sndKnown: boolean;
  private declare _finEnd: number;
  declare finSent: boolean;
  private declare _lastAck: number;
  declare ackKnown: boolean;
  /** The last window it sent (scaled). */
  declare wnd: number;
  /** Window-scale shift it announced in its SYN (-1: none seen). */
  declare wscale: number;
  /** The state a RST it received ended (-1: none): a RST the end did not take shows when it sends again. */
  declare abortedFrom: number;
  /** It went to CLOSED instead of TIME-WAIT (the TIME-WAIT table was full): its last ACK may still follow. */
  declare twOverflow: boolean;
  /** Its record in the TIME-WAIT table, while in TIME-WAIT. */
  declare tw: TwSock | null;
  /** A parallel replay's TIME-WAIT admission not settled yet (its number), else -1: the end is in TIME-WAIT until settled. */
  declare twPending: number;

  declare peer: Endpoint;

  // Fixed for a connection's life (set again when a pooled Conn serves another connection).
  conn: Conn;
  isClient: boolean;
  host: Host;
  port: number;

  constructor(conn: Conn, isClient: boolean, host: Host, port: number, rxKey: number) {
    this.conn = conn;
    this.isClient = isClient;
    this.host = host;
    this.port = port;
    this.init(host, port, rxKey);
  }

  get iss(): number {
    return this._iss >>> 0;
  }

  set iss(v: number) {
    this._iss = v | 0;
  }

  /** One past the highest sequence number sent (SYN and FIN count one). */
  get sndNxt(): number {
    return this._sndNxt >>> 0;
  }

  set sndNxt(v: number) {
    this._sndNxt = v | 0;
  }

  /** One past its FIN, once it sent one. */
  get finEnd(): number {
    return this._finEnd >>> 0;
  }

  set finEnd(v: number) {
    this._finEnd = v | 0;
  }

  /** The last acknowledgment number it sent (its window is `wnd`). */
  get lastAck(): number {
    return this._lastAck >>> 0;
  }

  set lastAck(v: number) {
    this._lastAck = v | 0;
  }

  /** Every field as a new end's: the constructor's, and again for another connection (Conn.init). */
  init(host: Host, port: number, rxKey: number): void {
    this.bits = 0;
    this.host = host;
    this.port = port;
    this.rxKey = rxKey;
    this.state = St.CLOSED;
    this.fd = -1;
    this.listener = null;
    this.iss = 0;
    this.sndNxt = 0;
    this.finEnd = 0;
    this.lastAck = 0;
    this.wnd = 0;
    this.wscale = -1;
    this.abortedFrom = -1;
    this.tw = null;
    this.twPending = -1;
  }

  /** Found by a 4-tuple lookup: in its host's index, or in the TIME-WAIT table. */
  get indexed(): boolean {
    return this.hashed || this.tw !== null;
  }

  /** Bytes it sent that the peer has not acknowledged (what `ss` shows as Send-Q), 0 when unknown. */
  sendQueue(): number {
    if (!this.sndKnown || !this.peer.ackKnown) return 0;
    let q = (this.sndNxt - this.peer.lastAck) | 0;
    if (this.finSent && q > 0) q--;
    return q > 0 ? q : 0;
  }

  /** The side's name in reports. */
  get side(): 'client' | 'server' {
    return this.isClient ? 'client' : 'server';
  }
}

/**
 * A connection and its two ends. The tracker reuses a reported connection's objects for a later one
 * (`init`), so a replay of millions of connections allocates only as many as are open at once.
 */
export class Conn {
  readonly client: Endpoint;
  readonly server: Endpoint;
  id = 0;
  /** The boolean fields below, one bit each (see flagFields). */
  declare bits: number;
  declare firstFrame: number;
  declare firstUs: number;
  /** Capture interface of its first frame. */
  declare iface: number;
  declare lastFrame: number;
  declare lastUs: number;
  declare frames: number;
  declare view: ConnView | null;
  /** The last descriptor each end held (it is given back at close; the record keeps it). */
  declare clientFd: number | null;
  declare serverFd: number | null;

  // Handshake as tshark's truth defines it: client SYN, SYN-ACK acking ISN + 1, client ACK acking that.
  declare clientIsn: number;
  declare clientIsnKnown: boolean;
  /** Payload of the client's SYN (TCP Fast Open): the SYN-ACK may acknowledge it too. */
  declare clientSynLen: number;
  declare serverIsn: number;
  declare synAckAck: number;
  declare synAckKnown: boolean;
  declare handshakeAck: boolean;

  declare rstClient: number;
  declare rstServer: number;
  declare finClient: number;
  declare finServer: number;
  declare badChecksum: number;
  declare midstream: boolean;
  declare anomalies: string[] | null;
  declare anomalyCount: number;

  /** VLAN ids of the first frame from each side (null: none seen yet or untagged). */
  declare vlanClient: number[] | null;
  declare vlanServer: number[] | null;
  declare vlanServerSeen: boolean;
  declare vlanClientSeen: boolean;

  /** The next connection on the same 4-tuple over another link (VLAN stack, interface): the tracker's alias list. */
  declare alias: Conn | null;
  /**
   * The client is the end the tracker's index names first (the lower address, then port; the client on
   * a tie): a frame's sender is the client exactly when it too sorts first.
   */
  declare clientFirst: boolean;

  /** In the close-linger queue. */
  declare lingering: boolean;
  /** Indexed with the lingering connections (Tracker.closedConns) rather than the open ones. */
  declare lingerIndexed: boolean;
  /** Its linger is over: it is reported at the end of this step of the clock (Tracker.expire). */
  declare due: boolean;
  /** Reported: its record is out, it no longer takes frames (a TIME-WAIT end may still be in its host). */
  declare finalized: boolean;
  /** An end's TIME-WAIT admission is not settled yet (parallel replay: Endpoint.twPending). */
  declare twPending: boolean;

  constructor(
    id: number,
    firstFrame: number,
    firstUs: number,
    clientHost: Host,
    clientPort: number,
    serverHost: Host,
    serverPort: number,
    /** Link key of the client's frames (the server receives them) and of the server's. */
    keyToServer: number,
    keyToClient: number,
    iface: number,
  ) {
    this.client = new Endpoint(this, true, clientHost, clientPort, keyToClient);
    this.server = new Endpoint(this, false, serverHost, serverPort, keyToServer);
    this.client.peer = this.server;
    this.server.peer = this.client;
    this.init(id, firstFrame, firstUs, clientHost, clientPort, serverHost, serverPort, keyToServer, keyToClient, iface);
  }

  /** Every field as a new connection's (the constructor's arguments, the rest initial). */
  init(
    id: number,
    firstFrame: number,
    firstUs: number,
    clientHost: Host,
    clientPort: number,
    serverHost: Host,
    serverPort: number,
    keyToServer: number,
    keyToClient: number,
    iface: number,
  ): void {
    this.bits = 0;
    this.clientFirst = true;
    this.client.init(clientHost, clientPort, keyToClient);
    this.server.init(serverHost, serverPort, keyToServer);
    this.id = id;
    this.firstFrame = firstFrame;
    this.firstUs = firstUs;
    this.iface = iface;
    this.lastFrame = firstFrame;
    this.lastUs = firstUs;
    this.frames = 0;
    this.view = null;
    this.clientFd = null;
    this.serverFd = null;
    this.clientIsn = 0;
    this.clientSynLen = 0;
    this.serverIsn = 0;
    this.synAckAck = 0;
    this.rstClient = 0;
    this.rstServer = 0;
    this.finClient = 0;
    this.finServer = 0;
    this.badChecksum = 0;
    this.anomalies = null;
    this.anomalyCount = 0;
    this.vlanClient = null;
    this.vlanServer = null;
    this.alias = null;
  }

  get handshake(): boolean {
    if (!this.clientIsnKnown || !this.synAckKnown || !this.handshakeAck) return false;
    const acked = (this.synAckAck - this.clientIsn - 1) >>> 0;
    return acked <= this.clientSynLen;
  }

  /** Both ends CLOSED (or never opened) or in TIME-WAIT: nothing more is expected. */
  get closed(): boolean {
    const c = this.client.state;
    const s = this.server.state;
    return (c === St.CLOSED || c === St.TIME_WAIT) && (s === St.CLOSED || s === St.TIME_WAIT);
  }

  anomaly(code: string): void {
    this.anomalyCount++;
    this.anomalies ??= [];
    if (this.anomalies.length < MAX_ANOMALIES) this.anomalies.push(code);
  }
}

/**
 * Boolean fields held as bits of the object's `bits` number instead of a field each: a replay holds
 * thousands of connections, and every frame and every report touches one whose state went cold (Node's
 * V8 spends 8 bytes a field); a dozen flags in one word saves a cache line or two of each object.
 * The accessors are on the prototype, so `e.hashed = true` reads as before.
 */
function flagFields<T extends { bits: number }>(proto: T, flags: Record<string, true>): void {
  Object.keys(flags).forEach((name, i) => {
    const bit = 1 << i;
    Object.defineProperty(proto, name, {
      get(this: T): boolean {
        return (this.bits & bit) !== 0;
      },
      set(this: T, v: boolean) {
        this.bits = v ? this.bits | bit : this.bits & ~bit;
      },
    });
  });
}

/** The boolean fields of T; the compiler makes every one of them be listed below, as a flag or not. */
type Booleans<T> = { [K in keyof T]: T[K] extends boolean ? K : never }[keyof T];

/** Endpoint's flags: every boolean but the fixed side and the computed `indexed`. */
export const ENDPOINT_FLAGS: Record<Exclude<Booleans<Endpoint>, 'isClient' | 'indexed'>, true> = {
  opened: true,
  midstream: true,
  inSynQueue: true,
  hashed: true,
  rxConfirmed: true,
  issKnown: true,
  sndKnown: true,
  finSent: true,
  ackKnown: true,
  twOverflow: true,
};

/** Conn's flags: every boolean but the computed `handshake` and `closed`. */
export const CONN_FLAGS: Record<Exclude<Booleans<Conn>, 'handshake' | 'closed'>, true> = {
  clientIsnKnown: true,
  synAckKnown: true,
  handshakeAck: true,
  midstream: true,
  vlanServerSeen: true,
  vlanClientSeen: true,
  clientFirst: true,
  lingering: true,
  lingerIndexed: true,
  due: true,
  finalized: true,
  twPending: true,
};

flagFields(Endpoint.prototype, ENDPOINT_FLAGS);
flagFields(Conn.prototype, CONN_FLAGS);
