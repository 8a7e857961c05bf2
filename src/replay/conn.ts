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
  state: StateNo = St.CLOSED;
  /** Has been a socket (connected, cloned or picked up); a never-opened end is inferred, not seen. */
  opened = false;
  /** Picked up mid-connection: its earlier life is not in the capture. */
  midstream = false;
  fd = -1;
  /** The listener a server-side child came from (cloned, or picked up on a listening port). */
  listener: Listener | null = null;
  /** Counted in its listener's SYN queue. */
  inSynQueue = false;
  /** In its host's 4-tuple index. */
  hashed = false;
  /** Link key (VLAN stack + interface) of the frames it receives: part of its 4-tuple key. */
  rxKey: number;
  /** The other end has sent a frame, so rxKey is known rather than assumed. */
  rxConfirmed = false;

  // Sequence bookkeeping, raw u32 values as the wire carries them.
  iss = 0;
  issKnown = false;
  /** One past the highest sequence number sent (SYN and FIN count one). */
  sndNxt = 0;
  sndKnown = false;
  /** One past its FIN, once it sent one. */
  finEnd = 0;
  finSent = false;
  /** The last acknowledgment number and window (scaled) it sent. */
  lastAck = 0;
  ackKnown = false;
  wnd = 0;
  /** Window-scale shift it announced in its SYN (-1: none seen). */
  wscale = -1;
  /** The state a RST it received ended (-1: none): a RST the end did not take shows when it sends again. */
  abortedFrom = -1;
  /** It went to CLOSED instead of TIME-WAIT (the TIME-WAIT table was full): its last ACK may still follow. */
  twOverflow = false;
  /** Its record in the TIME-WAIT table, while in TIME-WAIT. */
  tw: TwSock | null = null;
  /** A parallel replay's TIME-WAIT admission not settled yet (its number), else -1: the end is in TIME-WAIT until settled. */
  twPending = -1;

  peer!: Endpoint;
  /** The next end sending on the same 4-tuple and direction over another link (VLAN stack, interface). */
  alias: Endpoint | null = null;

  constructor(
    readonly conn: Conn,
    readonly isClient: boolean,
    readonly host: Host,
    readonly port: number,
    rxKey: number,
  ) {
    this.rxKey = rxKey;
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

export class Conn {
  readonly client: Endpoint;
  readonly server: Endpoint;
  lastFrame: number;
  lastUs: number;
  frames = 0;
  view: ConnView | null = null;
  clientText = '';
  serverText = '';
  /** The last descriptor each end held (it is given back at close; the record keeps it). */
  clientFd: number | null = null;
  serverFd: number | null = null;

  // Handshake as tshark's truth defines it: client SYN, SYN-ACK acking ISN + 1, client ACK acking that.
  clientIsn = 0;
  clientIsnKnown = false;
  /** Payload of the client's SYN (TCP Fast Open): the SYN-ACK may acknowledge it too. */
  clientSynLen = 0;
  serverIsn = 0;
  synAckAck = 0;
  synAckKnown = false;
  handshakeAck = false;

  rstClient = 0;
  rstServer = 0;
  finClient = 0;
  finServer = 0;
  badChecksum = 0;
  midstream = false;
  anomalies: string[] | null = null;
  anomalyCount = 0;

  /** VLAN ids of the first frame from each side (null: none seen yet or untagged). */
  vlanClient: number[] | null = null;
  vlanServer: number[] | null = null;
  vlanServerSeen = false;
  vlanClientSeen = false;

  /** In the close-linger queue. */
  lingering = false;
  /** Its linger is over: it is reported at the end of this step of the clock (Tracker.expire). */
  due = false;
  /** Reported: its record is out, it no longer takes frames (a TIME-WAIT end may still be in its host). */
  finalized = false;
  /** An end's TIME-WAIT admission is not settled yet (parallel replay: Endpoint.twPending). */
  twPending = false;

  constructor(
    readonly id: number,
    readonly firstFrame: number,
    readonly firstUs: number,
    clientHost: Host,
    clientPort: number,
    serverHost: Host,
    serverPort: number,
    /** Link key of the client's frames (the server receives them) and of the server's. */
    keyToServer: number,
    keyToClient: number,
    readonly iface: number,
  ) {
    this.lastFrame = firstFrame;
    this.lastUs = firstUs;
    this.client = new Endpoint(this, true, clientHost, clientPort, keyToClient);
    this.server = new Endpoint(this, false, serverHost, serverPort, keyToServer);
    this.client.peer = this.server;
    this.server.peer = this.client;
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
