/**
 * synack as a host on a real interface: a Host (src/stack) whose frames come from and go to a live
 * capture (live.ts), whose clock is the real clock, and whose timers are ONE setTimeout. This is the
 * library form behind `synack serve` and `synack connect`; users write their own servers and clients
 * against `attached.sockets` (the BSD-like calls) and the promise forms.
 *
 * How the real-time shell drives the deterministic core (DESIGN.md decision 2):
 *
 * - **Clock.** `realClock()`: `process.hrtime` anchored once to the epoch, integer microseconds, never
 *   decreasing. The same clock stamps every frame handed to `Host.input` and every `Host.poll`, so a
 *   frame's time and a timer's time are on one axis (live.ts's own `timeUs` has a separate anchor and is
 *   not used here).
 * - **Frames in.** cap's buffer is reused for the next frame, so each frame is handed to `Host.input`
 *   within the callback, as a view: the Host decodes it there and copies what it keeps (received text,
 *   out-of-order segments and fragments are copied by tcp/buffers.ts and wire/reassembly.ts).
 * - **One timer.** After every input, every call made through `sockets` or the promise forms, every
 *   frame sent and every poll, a re-arm is queued (once per microtask checkpoint); it sets the one
 *   setTimeout to `host.pollAt()`. No per-connection timers, no busy loop: with nothing due there is no
 *   timer at all, and only the capture keeps the process alive.
 * - **Calls.** `sockets` wraps the SocketTable's calls: each sets the Host's time first (the table has no
 *   clock of its own) and re-arms the timer after. Calling `host.sockets` directly works but leaves the
 *   time at the last frame or timer.
 *
 * What the wire needs (issue 5, shown by test/live/serve.test.ts and connect.test.ts):
 *
 * - **Addresses nobody local owns.** An address that any interface of this network namespace holds
 *   would be the local kernel's too: it answers ARP for it (arp_ignore=0 answers for every local address
 *   on every interface) and resets connections it knows nothing about. `attach` refuses such an address
 *   and names the interface that owns it. The MAC defaults to a random locally administered unicast one
 *   (02:xx:xx:xx:xx:xx, IEEE 802 "U/L" bit set), never the interface's own, so the local kernel treats
 *   our frames as PACKET_OTHERHOST and drops them.
 * - **Checksum offload.** A peer kernel with tx checksum offload (a veth's default) sends partial
 *   checksums; the Host is made with `acceptPartialChecksums` (see host.ts). Other bad checksums are
 *   still dropped, as Linux drops them.
 * - **TSO/GRO.** Such a peer also sends segments far above the MSS (one frame of up to 64 KiB); the TCP
 *   core takes any segment that fits the window (RFC 9293 §3.10.7.4 checks the window, not the MSS).
 *   The capture's 65535-byte snaplen holds the largest one Linux sends with the default gso_max_size
 *   (65536, less MAX_TCP_HEADER); a peer with BIG TCP (gso_max_size above 64 KiB) would be cut.
 * - **MTU.** Frames sent must fit: below an MTU of 1500 every socket made through `sockets.socket` gets
 *   TCP_MAXSEG = MTU - 40 (IPv4) or - 60 (IPv6).
 * - **On-link peers only.** The Host resolves every destination by ARP/NDP on this link (no routes).
 */
import { randomFillSync } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { allocBytes } from '../wire/bytes.js';
import { formatIpv4, formatIpv6, formatMac, isIpv4, isIpv6, writeIpv4, writeIpv6, writeMac } from '../wire/address.js';
import type { Clock, Env, Random } from '../tcp/env.js';
import { rfc6528Isn } from '../tcp/isn.js';
import type { Personality } from '../tcp/personality.js';
import { ErrnoError, isErrno } from '../socket/errno.js';
import type { Errno, Result } from '../socket/errno.js';
import type { ListenSettings } from '../socket/queues.js';
import type { SockAddr, SocketTable } from '../socket/table.js';
import { Host } from '../stack/host.js';
import type { TraceEvent } from '../stack/trace.js';
import { isLiveError, openLive } from './live.js';
import type { LiveCapture, LiveError, LiveStats } from './live.js';

// ---------------------------------------------------------------------------------------------------
// The real clock and real randomness (allowed here: the real-time shell)

/** `process.hrtime`, anchored to the epoch once: integer microseconds since 1970, never decreasing. */
export function realClock(): Clock {
  const hr0 = process.hrtime.bigint();
  const epoch0 = Date.now() * 1000;
  let last = 0;
  return {
    now(): number {
      const t = epoch0 + Number((process.hrtime.bigint() - hr0) / 1000n);
      if (t > last) last = t;
      return last;
    },
  };
}

/** Random numbers from the operating system (crypto), drawn 256 words at a time. */
export function cryptoRandom(): Random {
  const pool = new Uint32Array(256);
  let next = pool.length;
  return {
    nextU32(): number {
      if (next === pool.length) {
        randomFillSync(pool);
        next = 0;
      }
      return pool[next++] as number;
    },
  };
}

/** A random locally administered unicast MAC: first octet 0x02 (U/L bit set, I/G bit clear). */
export function randomLocalMac(rand: Random = cryptoRandom()): string {
  const b = allocBytes(6);
  b.u8[0] = 0x02;
  for (let i = 1; i < 6; i++) b.u8[i] = rand.nextU32() & 0xff;
  return formatMac(b, 0);
}

// ---------------------------------------------------------------------------------------------------
// Options and checks

export interface AttachOptions {
  /** IPv4 address(es) of the host; at least one address (IPv4 or IPv6) is needed. */
  ip?: string | readonly string[];
  /** IPv6 address(es). */
  ip6?: string | readonly string[];
  /** The host's MAC; default a random locally administered one (02:...). */
  mac?: string;
  name?: string;
  personality?: Personality;
  /** Listen-queue settings (somaxconn, SYN cookies, abort-on-overflow). */
  listen?: Partial<ListenSettings>;
  fdLimit?: number;
  /** Keep every trace event in `host.trace` (grows without bound: for short sessions and tests). */
  trace?: boolean;
  /** Every trace event as it happens (costs the events' construction; no storage). */
  onTrace?: (e: TraceEvent) => void;
  /**
   * Every frame the host takes in and sends, for writing a capture or printing. `frame` is valid only
   * during the call. An incoming frame comes after the Host has processed it, with the trace events it
   * caused (`events`: demux verdict, drops, state changes); the frames the Host sent in answer follow it.
   */
  onWire?: (w: WireFrame) => void;
  /** A frame could not be sent (too big for the MTU, interface gone). */
  onSendError?: (e: LiveError) => void;
  /** Neighbours known from the start (IP → MAC). */
  neighbors?: Record<string, string>;
  /** Accept partial (offload) checksums; default true on a live interface (see host.ts). */
  acceptPartialChecksums?: boolean;
  /** libpcap ring size in bytes (default 8 MiB, minimum 1 MiB: see DEFAULT_RING). */
  bufferSize?: number;
  /** Loads `cap` (tests inject failures; default require('cap')). */
  loader?: () => unknown;
  /** The Env (default: realClock, cryptoRandom, RFC 6528 ISNs). Tests only: the clock must be real time. */
  env?: Env;
}

export interface WireFrame {
  dir: 'in' | 'out';
  frame: Uint8Array;
  timeUs: number;
  /** For 'in': the Host's frame number (from 1). For 'out': the count of frames sent (from 1). */
  number: number;
  /** What the frame caused ('in') or the frame-out event ('out'), when tracing. */
  events: readonly TraceEvent[];
}

function asList(x: string | readonly string[] | undefined): string[] {
  return x === undefined ? [] : typeof x === 'string' ? [x] : [...x];
}

function attachError(code: LiveError['code'], message: string): LiveError {
  return { code, message };
}

/** The canonical text of an address (as the Host's decoder prints it), or null when it is not one. */
export function canonicalAddress(addr: string, family: 4 | 6): string | null {
  const b = allocBytes(16);
  try {
    if (family === 4) {
      if (!isIpv4(addr)) return null;
      writeIpv4(addr, b, 0);
      return formatIpv4(b, 0);
    }
    if (!isIpv6(addr)) return null;
    writeIpv6(addr, b, 0);
    return formatIpv6(b, 0);
  } catch {
    return null;
  }
}

function canonicalMac(mac: string): string | null {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) return null;
  const b = allocBytes(6);
  writeMac(mac, b, 0);
  return formatMac(b, 0);
}

/** Which interface of this network namespace owns `addr`, if any (os.networkInterfaces, canonical text). */
export function interfaceOwning(addr: string): string | null {
  const family = isIpv4(addr) ? 4 : 6;
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const a of list ?? []) {
      const text = a.address.replace(/%.*$/, '');
      if (canonicalAddress(text, family) === addr) return name;
    }
  }
  return null;
}

interface Checked {
  ipv4: string[];
  ipv6: string[];
  mac: string | null;
}

function checkAddresses(iface: string, o: AttachOptions): Checked | LiveError {
  const ipv4: string[] = [];
  const ipv6: string[] = [];
  for (const [list, family, out] of [
    [asList(o.ip), 4, ipv4],
    [asList(o.ip6), 6, ipv6],
  ] as const) {
    for (const a of list) {
      const c = canonicalAddress(a, family);
      if (c === null) return attachError('bad-option', `${JSON.stringify(a)} is not an IPv${family} address`);
      const owner = interfaceOwning(c);
      if (owner !== null) {
        return attachError(
          'bad-option',
          `${c} belongs to interface ${owner} of this host: the local kernel would answer for it too (ARP/NDP, and ` +
            `RST to connections it does not know). Give synack an address no interface owns, on ${iface}'s subnet.`,
        );
      }
      out.push(c);
    }
  }
  if (ipv4.length === 0 && ipv6.length === 0) return attachError('bad-option', 'no address: give synack an IPv4 (ip) or IPv6 (ip6) address');
  let mac: string | null = null;
  if (o.mac !== undefined) {
    mac = canonicalMac(o.mac);
    if (mac === null) return attachError('bad-option', `${JSON.stringify(o.mac)} is not a MAC address (xx:xx:xx:xx:xx:xx)`);
    if ((parseInt(mac.slice(0, 2), 16) & 1) !== 0) return attachError('bad-option', `${mac} is a multicast MAC; a host needs a unicast one (e.g. 02:...)`);
  }
  return { ipv4, ipv6, mac };
}

// ---------------------------------------------------------------------------------------------------
// The attached host

/** The SocketTable calls, as `attached.sockets` offers them (time set before, timer re-armed after). */
export type LiveSocketCalls = Pick<
  SocketTable,
  | 'socket'
  | 'bind'
  | 'listen'
  | 'accept'
  | 'connect'
  | 'send'
  | 'recv'
  | 'shutdown'
  | 'close'
  | 'getsockname'
  | 'getpeername'
  | 'setsockopt'
  | 'getsockopt'
  | 'fcntl'
  | 'readiness'
>;

export interface AttachedHost {
  readonly iface: string;
  readonly host: Host;
  readonly capture: LiveCapture;
  readonly mac: string;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  /** The BSD-like calls (errno names, never thrown). */
  readonly sockets: LiveSocketCalls;
  /** accept(2), waiting for a completed connection. */
  accept(fd: number): Promise<{ fd: number; peer: SockAddr }>;
  /** connect(2), resolving when the handshake completes; rejects with an ErrnoError. */
  connect(fd: number, address: string, port: number): Promise<0>;
  /** recv(2), waiting for data; an empty array at end of stream. */
  recv(fd: number, max?: number): Promise<Uint8Array>;
  /** Sends all of `data`, waiting for room in the send buffer; resolves with its length. */
  sendAll(fd: number, data: Uint8Array): Promise<number>;
  /** Fires due timers and re-arms (rarely needed: for callers who used `host.sockets` directly). */
  kick(): void;
  stats(): AttachStats;
  readonly closed: boolean;
  /**
   * Stops the timer and closes the capture, so the process can exit. Connections are not closed
   * (nothing would carry their frames): peers see silence. Pending sendAll calls reject with ENETDOWN.
   */
  close(): void;
}

export interface AttachStats {
  capture: LiveStats;
  /** Times the one timer fired (a TCP or neighbour deadline was due). */
  timerFires: number;
  /** Frames the capture refused to send (too big for the MTU, closed). */
  sendErrors: number;
}

/**
 * The libpcap ring of a host: 8 MiB. live.ts's 1 MiB minimum holds only ~16 TSO frames of 64 KiB: a 4 MB
 * echo from a peer with offloads on lost frames in it (the peer retransmitted them); with 8 MiB none.
 */
const DEFAULT_RING = 8 << 20;

/**
 * Attaches a new Host to `iface`. Refuses (a LiveError, not a throw) bad or locally owned addresses,
 * a bad MAC, and everything openLive refuses (no cap, no CAP_NET_RAW, no such interface). The promise
 * resolves once the capture is delivering (the next turn of the event loop).
 */
export function attach(iface: string, options: AttachOptions = {}): Promise<AttachedHost> | LiveError {
  const checked = checkAddresses(iface, options);
  if ('code' in checked) return checked;
  const mac = checked.mac ?? randomLocalMac();
  const live = openLive(iface, {
    direction: 'in',
    // Only what a host receives: its own unicast frames, broadcast (ARP) and multicast (NDP). The local
    // kernel's frames (direction 'in') and other hosts' unicast never reach JavaScript.
    filter: `ether dst ${mac} or ether broadcast or ether multicast`,
    bufferSize: options.bufferSize ?? DEFAULT_RING,
    ...(options.loader !== undefined ? { loader: options.loader } : {}),
  });
  if (isLiveError(live)) return live;
  if (live.mac !== null && mac === live.mac) {
    live.close();
    return attachError('bad-option', `${mac} is ${iface}'s own MAC: the local kernel would take the frames; use a locally administered one (02:...)`);
  }
  const a = new Attached(iface, live, checked, mac, options);
  return new Promise((resolve) => setImmediate(() => resolve(a)));
}

const IPV4_OVERHEAD = 40;
const IPV6_OVERHEAD = 60;
const ETHERNET_MTU = 1500;

class Attached implements AttachedHost {
  readonly host: Host;
  readonly mac: string;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  readonly sockets: LiveSocketCalls;
  private readonly clock: Clock;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = -1;
  private rearmQueued = false;
  private isClosed = false;
  private timerFires = 0;
  private sendErrors = 0;
  /** sendAll calls waiting for room, retried after every input and poll. */
  private writers: Array<() => boolean> = [];
  private readonly onWire: ((w: WireFrame) => void) | undefined;
  /** While a frame is processed: the events it causes and the frames sent in answer (for onWire order). */
  private inFrame = false;
  private frameEvents: TraceEvent[] = [];
  private answered: Array<{ frame: Uint8Array; timeUs: number; number: number; events: TraceEvent[] }> = [];
  private outCount = 0;
  private lastOutEvent: TraceEvent | null = null;

  constructor(
    readonly iface: string,
    readonly capture: LiveCapture,
    addrs: Checked,
    mac: string,
    private readonly o: AttachOptions,
  ) {
    this.mac = mac;
    this.ipv4 = addrs.ipv4;
    this.ipv6 = addrs.ipv6;
    this.onWire = o.onWire;
    let env = o.env;
    if (env === undefined) {
      const rand = cryptoRandom();
      env = { clock: realClock(), rand, isn: rfc6528Isn(rand) };
    }
    this.clock = env.clock;
    const userTrace = o.onTrace;
    const wantEvents = this.onWire !== undefined;
    const onTrace =
      userTrace === undefined && !wantEvents
        ? undefined
        : (e: TraceEvent): void => {
            if (wantEvents) {
              if (e.type === 'frame-out') this.lastOutEvent = e;
              else if (this.inFrame) this.frameEvents.push(e);
            }
            userTrace?.(e);
          };
    this.host = new Host({
      mac,
      ipv4: addrs.ipv4,
      ipv6: addrs.ipv6,
      env,
      sink: (frame, timeUs) => this.out(frame, timeUs),
      acceptPartialChecksums: o.acceptPartialChecksums ?? true,
      ...(o.name !== undefined ? { name: o.name } : {}),
      ...(o.personality !== undefined ? { personality: o.personality } : {}),
      ...(o.listen !== undefined ? { listen: o.listen } : {}),
      ...(o.fdLimit !== undefined ? { fdLimit: o.fdLimit } : {}),
      ...(o.trace !== undefined ? { trace: o.trace } : {}),
      ...(onTrace !== undefined ? { onTrace } : {}),
      ...(o.neighbors !== undefined ? { neighbors: o.neighbors } : {}),
    });
    this.sockets = this.wrapCalls();
    capture.onFrame((f) => this.in(f.bytes.u8.subarray(f.offset, f.offset + f.capLen)));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  // ---- frames ------------------------------------------------------------------------------------

  private in(frame: Uint8Array): void {
    if (this.isClosed) return;
    const t = this.clock.now();
    this.inFrame = true;
    let n: number;
    try {
      n = this.host.input(frame, t);
    } finally {
      this.inFrame = false;
    }
    if (this.onWire !== undefined) {
      const events = this.frameEvents;
      this.frameEvents = [];
      this.onWire({ dir: 'in', frame, timeUs: t, number: n, events });
      const answered = this.answered;
      this.answered = [];
      for (const a of answered) this.onWire({ dir: 'out', frame: a.frame, timeUs: a.timeUs, number: a.number, events: a.events });
    }
    this.retryWriters();
    this.schedule();
  }

  private out(frame: Uint8Array, timeUs: number): void {
    if (this.isClosed) return;
    const err = this.capture.send(frame);
    if (err !== undefined) {
      this.sendErrors++;
      this.o.onSendError?.(err);
    }
    const number = ++this.outCount;
    if (this.onWire !== undefined) {
      const ev = this.lastOutEvent;
      this.lastOutEvent = null;
      const events = ev === null ? [] : [ev];
      // The Host emits a frame once and never touches it again: keeping the array is safe.
      if (this.inFrame) this.answered.push({ frame, timeUs, number, events });
      else this.onWire({ dir: 'out', frame, timeUs, number, events });
    }
    this.schedule();
  }

  // ---- the one timer -----------------------------------------------------------------------------

  private schedule(): void {
    if (this.rearmQueued || this.isClosed) return;
    this.rearmQueued = true;
    queueMicrotask(this.rearm);
  }

  private readonly rearm = (): void => {
    this.rearmQueued = false;
    if (this.isClosed) return;
    const at = this.host.pollAt();
    if (at === null) {
      this.clearTimer();
      return;
    }
    if (this.timer !== null && at === this.timerAt) return;
    this.clearTimer();
    const delayMs = Math.max(0, Math.ceil((at - this.clock.now()) / 1000));
    this.timerAt = at;
    this.timer = setTimeout(this.fire, delayMs);
  };

  private readonly fire = (): void => {
    this.timer = null;
    this.timerAt = -1;
    if (this.isClosed) return;
    this.timerFires++;
    this.host.poll(this.clock.now());
    this.retryWriters();
    this.schedule();
  };

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = -1;
  }

  kick(): void {
    if (this.isClosed) return;
    this.host.poll(this.clock.now());
    this.retryWriters();
    this.schedule();
  }

  // ---- calls -------------------------------------------------------------------------------------

  private call<T>(f: () => T): T {
    this.host.now();
    try {
      return f();
    } finally {
      this.schedule();
    }
  }

  private wrapCalls(): LiveSocketCalls {
    const t = this.host.sockets;
    const mtu = this.capture.mtu;
    const c = <T>(f: () => T): T => this.call(f);
    return {
      socket: (domain) =>
        c(() => {
          const fd = t.socket(domain);
          // Frames must fit the link: below Ethernet's 1500, cap the MSS both ways (TCP_MAXSEG).
          if (!isErrno(fd) && mtu !== null && mtu < ETHERNET_MTU) {
            t.setsockopt(fd, 'TCP_MAXSEG', Math.max(88, mtu - (domain === 'inet6' ? IPV6_OVERHEAD : IPV4_OVERHEAD)));
          }
          return fd;
        }),
      bind: (fd, address, port) => c(() => t.bind(fd, address, port)),
      listen: (fd, backlog) => c(() => t.listen(fd, backlog)),
      accept: (fd) => c(() => t.accept(fd)),
      connect: (fd, address, port) => c(() => t.connect(fd, address, port)),
      send: (fd, data) => c(() => t.send(fd, data)),
      recv: (fd, max) => c(() => t.recv(fd, max)),
      shutdown: (fd, how) => c(() => t.shutdown(fd, how)),
      close: (fd) => c(() => t.close(fd)),
      getsockname: (fd) => c(() => t.getsockname(fd)),
      getpeername: (fd) => c(() => t.getpeername(fd)),
      setsockopt: (fd, name, value) => c(() => t.setsockopt(fd, name, value)),
      getsockopt: (fd, name) => c(() => t.getsockopt(fd, name)),
      fcntl: (fd, cmd, flags) => c(() => t.fcntl(fd, cmd, flags)),
      readiness: (fd) => c(() => t.readiness(fd)),
    };
  }

  accept(fd: number): Promise<{ fd: number; peer: SockAddr }> {
    return this.call(() => this.host.accept(fd));
  }

  connect(fd: number, address: string, port: number): Promise<0> {
    return this.call(() => this.host.connect(fd, address, port));
  }

  recv(fd: number, max?: number): Promise<Uint8Array> {
    return this.call(() => this.host.recv(fd, max));
  }

  sendAll(fd: number, data: Uint8Array): Promise<number> {
    let off = 0;
    return new Promise<number>((resolve, reject) => {
      // One attempt: as much as the send buffer takes; true when settled.
      const attempt = (): boolean => {
        if (this.isClosed) {
          reject(new ErrnoError('ENETDOWN'));
          return true;
        }
        while (off < data.length) {
          const r: Result<number> = this.call(() => this.host.sockets.send(fd, off === 0 ? data : data.subarray(off)));
          if (r === 'EAGAIN') return false;
          if (isErrno(r)) {
            reject(new ErrnoError(r as Errno));
            return true;
          }
          off += r;
        }
        resolve(data.length);
        return true;
      };
      if (!attempt()) this.writers.push(attempt);
    });
  }

  private retryWriters(): void {
    if (this.writers.length === 0) return;
    this.writers = this.writers.filter((w) => !w());
  }

  stats(): AttachStats {
    return { capture: this.capture.stats(), timerFires: this.timerFires, sendErrors: this.sendErrors };
  }

  close(): void {
    if (this.isClosed) return;
    this.clearTimer();
    this.isClosed = true;
    this.capture.close();
    const writers = this.writers;
    this.writers = [];
    for (const w of writers) w();
  }
}
