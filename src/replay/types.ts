/**
 * The public shapes of observe-mode replay: options, the result (DESIGN.md output contract), the
 * per-frame demux verdict, and the per-connection view hook through which report/ (Zeek conn_state and
 * history, ladder diagrams) reads a connection without replay/ importing it (layers point down).
 */
import type { CaptureError } from '../capture/errors.js';
import type { CaptureFormat, CaptureFrame, InterfaceInfo } from '../capture/frame.js';
import type { DecodedFrame } from '../wire/frame-decoder.js';
import type { DemuxStep } from '../socket/demux.js';
import type { TcpState } from '../tcp/state.js';
import type { HostTable } from './hosts.js';

/**
 * One TCP segment of a connection, as a connection view reads it. The same fields as report/'s
 * ConnSegment (so ZeekConn takes it as is). ONE object is reused for every segment: read it, never keep it.
 */
export interface ReplaySegment {
  frame: number;
  timeUs: number;
  /** Sent by the connection's client. */
  fromClient: boolean;
  flags: number;
  seq: number;
  ack: number;
  window: number;
  payloadLength: number;
  /**
   * Options as tcpdump text. Observe mode fills in only what a view reads from it: the window scale of a
   * SYN ("wscale 7"); '' otherwise.
   */
  options: string;
  /**
   * The window-scale shift of a SYN's options, when the producer read it from the bytes (-1: none); a
   * view then need not parse `options` for it. Absent: read `options`.
   */
  windowScale?: number;
  badChecksum: boolean;
}

/** A state change at one end of a connection (RFC 9293 names). */
export interface ReplayStateNote {
  frame: number;
  timeUs: number;
  side: 'client' | 'server';
  from: TcpState;
  to: TcpState;
}

/**
 * A per-connection view fed by the replay: report/'s ZeekConn fits (`add`, `addHeaderCut`, `state`,
 * `history`); a ladder-diagram collector would also take `note`.
 */
export interface ConnView {
  /** A segment whose TCP header was captured whole; `payloadCaptured` bytes of its payload are in the capture. */
  add(seg: ReplaySegment, payloadCaptured: number): void;
  /** A segment whose TCP header the capture cut (only the fixed 20 bytes are known). */
  addHeaderCut(seg: ReplaySegment): void;
  /** Zeek's conn_state (or the view's own summary). */
  readonly state: string;
  /** Zeek's history (or the view's own). */
  readonly history: string;
  note?(n: ReplayStateNote): void;
  /**
   * The replay is done with the view: its connection's record is out and nothing will read the view
   * again. Called once; a view that is pooled may now serve another connection.
   */
  release?(): void;
}

export interface ConnViewInit {
  id: number;
  client: string;
  server: string;
  clientPort: number;
  serverPort: number;
}

export type ConnViewFactory = (init: ConnViewInit) => ConnView;

export interface ReplayOptions {
  /**
   * Listeners bound to their host's own address ("198.18.0.1:25", "[2001:db8::1]:80"); every other
   * inferred listener is bound to ANY. A listener named here is created even if the capture never shows
   * it answering.
   */
  listen?: readonly string[];
  /**
   * How listeners are inferred from the SYN-ACKs: 'prepass' reads the file once before replaying (only
   * possible for a path; the default then), 'lazy' creates a listener at its first SYN-ACK (the default
   * for a reader, which cannot be read twice), 'off' uses only `listen`.
   */
  inferListeners?: 'prepass' | 'lazy' | 'off';
  /** Collect every frame's demux verdict in `result.demux`. */
  frames?: boolean;
  /** Called with each frame's verdict as it is made (a fresh object: it may be kept). */
  onVerdict?: (v: DemuxRecord) => void;
  /**
   * `replay()` calls it after every frame (TCP or not) with the frame, its verdict and how it decoded:
   * what `synack replay --write` needs to copy the capture with a comment per frame. Turns verdicts on.
   */
  onFrame?: (f: ObservedFrame) => void;
  /** Build each TCP frame's verdict for `Observer.frame()` to return, even without `frames`/`onVerdict`. */
  verdicts?: boolean;
  /** Called with each connection's record when it is final (closed and lingered, reused, or at the end). */
  onConnection?: (c: ConnectionRecord) => void;
  /** Keep the connection records in `result.connections` (default true; false keeps memory flat). */
  connections?: boolean;
  /** The per-connection view (report/'s ZeekConn for Zeek conn_state and history); none: state and history are null. */
  connView?: ConnViewFactory;
  /**
   * A closed connection still takes stragglers (duplicates, a RST after a RST, a FIN retransmitted at the
   * first RTO, Windows retrying a refused SYN with the same ISN 0.5 s later) for this long after its last
   * frame, µs; then it is reported. Default 2 s (Zeek waits 5 s, tcp_close_delay; 2 s keeps a million-
   * connection replay small). A later straggler still gets its verdict from the TIME-WAIT record, as late.
   */
  closeLingerUs?: number;
  /** TIME-WAIT length, µs. Default 60 s (Linux TCP_TIMEWAIT_LEN). */
  timeWaitUs?: number;
  /** TIME-WAIT sockets per host at most (Linux tcp_max_tw_buckets). Default 262,144. */
  maxTimeWait?: number;
  /** Descriptor limit of every host model. Default 1,048,576. */
  fdLimit?: number;
  /** Socket tables in the result: every host with a socket at the end (default true). */
  hostTables?: boolean;
  /** Take the socket tables right after this frame instead of at the end (a moment when many sockets are open). */
  tablesAt?: number;
  /** Called every 65,536 frames with the file offset reached and the frame number (a progress bar). */
  onProgress?: (fileOffset: number, frame: number) => void;
}

/** What a frame did at its receiver (DESIGN.md decision 4, output contract `demux`). */
export type ObserveAction =
  /** Taken by the socket the 4-tuple names; the state column says if it moved. */
  | 'delivered'
  /** It completed a child's handshake: the child left the SYN queue and accept() gave it a descriptor. */
  | 'accepted'
  /** A SYN to a listener: cloned into a child in SYN-RECEIVED. */
  | 'cloned'
  /** A SYN on a TIME-WAIT 4-tuple: the TIME-WAIT socket ended and the listener cloned a child. */
  | 'time-wait-reopen'
  /** An acceptable RST: the socket is CLOSED (the application sees ECONNRESET or ECONNREFUSED). */
  | 'aborted'
  /** A RST in the window but not at RCV.NXT (RFC 5961 §3.2): Linux answers a challenge ACK, nothing changes. */
  | 'challenge-ack'
  /** No socket (or only a listener, for a segment that is not a SYN): Linux answers with a RST. */
  | 'reset'
  /** Ignored: a RST nobody takes, a RST or SYN-ACK that does not fit, a segment to a closed socket's stray. */
  | 'dropped';

export interface DemuxRecord {
  /** Frame number, from 1 as Wireshark counts. */
  frame: number;
  /** The receiver's address. */
  host: string;
  step: DemuxStep;
  /** The receiving socket's descriptor (null: an unaccepted child, an orphan, a listener step without a clone). */
  fd: number | null;
  /** The listener involved (listener steps, and the listener a child came from). */
  listenerFd: number | null;
  connection: number;
  action: ObserveAction;
  /** The receiver's state after the frame ('LISTEN' for a listener that did not clone, 'CLOSED' for none). */
  state: TcpState;
  /** The sender's state after the frame. */
  sender: TcpState;
  /** "local <- remote" of the receiving socket: "198.18.0.1:80 <- 198.18.0.11:40001". */
  socket: string;
  /** TCP flags, tcpdump letters ("S", "S.", "P.", "F.", "R."). */
  flags: string;
  /** The receiver's socket was picked up mid-connection: what it did before the capture is inferred. */
  midstream?: true;
  /** The segment is one its sender could not have sent in its state (anomaly code). */
  anomaly?: string;
  /** The TCP checksum did not verify (offload, most likely): the segment still drove both ends. */
  badChecksum?: true;
  /** The frame belongs to a connection already reported (a straggler reaching its TIME-WAIT socket). */
  late?: true;
}

export interface ConnectionRecord {
  id: number;
  /**
   * "ip:port" / "[v6]:port": the sender of the first SYN; without one, the receiver of the first
   * SYN-ACK; without either, the end that is not a known listener, else the first sender (tshark's rule).
   */
  client: string;
  server: string;
  firstFrame: number;
  lastFrame: number;
  /** Zeek conn_state from the connection view (null without one). */
  state: string | null;
  history: string | null;
  /** The server socket's descriptor: the accepted child's, or the connecting socket's (simultaneous open); null when it never had one. */
  serverFd: number | null;
  listenerFd: number | null;
  clientFd: number | null;
  frames: number;
  /** Seconds from the first to the last frame. */
  duration: number;
  /** Each end's state when the connection was reported. */
  clientState: TcpState;
  serverState: TcpState;
  /** Handshake complete as tshark's truth defines it: client SYN, SYN-ACK acking its ISN + 1, client ACK acking the SYN-ACK. */
  handshake: boolean;
  /** Frames with RST / FIN from each side. */
  rst: { client: number; server: number };
  fin: { client: number; server: number };
  /** Frames whose TCP checksum did not verify. */
  badChecksum: number;
  /** The connection was picked up mid-stream (its start is not in the capture). */
  midstream: boolean;
  /** VLAN ids (outermost first) of the client's frames, when tagged; `vlanReply` when the server's differ. */
  vlan?: number[];
  vlanReply?: number[];
  /** Capture interface (pcapng), when the file has more than one. */
  interface?: number;
  /** Anomaly codes (the first 8) and how many there were. */
  anomalies: string[];
  anomalyCount: number;
}

export interface FrameCounts {
  total: number;
  tcp: number;
  /** Frames that failed to decode (a header cut by the snap length is not malformed). */
  malformed: number;
  /** TCP segments whose checksum did not verify. */
  badChecksum: number;
  badIpChecksum: number;
  /** Frames shorter than on the wire (snap length). */
  truncated: number;
  /** IP fragments (each fragment frame; the one that completes a datagram is also counted as TCP). */
  fragments: number;
  /** TCP frames that reached a connection already reported (TIME-WAIT stragglers). */
  late: number;
  /** Segments their sender could not have sent in its state. */
  anomalies: number;
}

export interface ReplayResult {
  /** The file replayed (a live observation: the interface). */
  file: string;
  /** 'live': frames from an interface (synack live), not a file. */
  format: CaptureFormat | 'live';
  linkTypes: number[];
  frames: FrameCounts;
  /** Sorted by id (empty with `connections: false`). */
  connections: ConnectionRecord[];
  /** With `frames: true`. */
  demux?: DemuxRecord[];
  /** Each host's socket table at the end, or after frame `hostsAt` (hosts with a socket or listener). */
  hosts: HostTable[];
  /** The frame after which `hosts` was taken, or null for the end of the capture. */
  hostsAt: number | null;
  /** How listeners were found. */
  listenerInference: 'prepass' | 'lazy' | 'off';
  /** The capture was damaged: every frame before the damage was replayed. */
  error: CaptureError | null;
}

/**
 * A frame as `onFrame` sees it: the capture's frame, its verdict (TCP frames), how it decoded, and the
 * capture's interfaces so far. ONE object, reused, with the reader's reused frame: valid only during the
 * callback.
 */
export interface ObservedFrame {
  frame: CaptureFrame;
  verdict: DemuxRecord | null;
  decoded: DecodedFrame;
  interfaces: readonly InterfaceInfo[];
}
