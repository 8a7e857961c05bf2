/**
 * Live capture and injection on a network interface, through the `cap` npm package (libpcap). This is
 * the real-time shell of synack (DESIGN.md, "Data flow"): the only module that reads the real clock.
 * Everything below it gets frames and microsecond times from here and stays deterministic.
 *
 * What cap really does, and how this module deals with it (each point is shown on veth pairs by
 * test/live/live.test.ts):
 *
 * - **One buffer for every frame.** cap copies each packet into the buffer given at open and emits only
 *   its length. The frame handed to `onFrame` is a view of that buffer, and the frame object itself is
 *   reused: both are valid only during the callback. Keep a frame with `copyFrame(frame)`.
 * - **No timestamps.** cap drops libpcap's timestamp; we read the clock when the event reaches
 *   JavaScript (`process.hrtime.bigint()`, anchored once to the epoch at open), so `timeUs` is the time
 *   synack saw the frame, microseconds since the UNIX epoch.
 * - **Buffer of 1 MiB or more.** The libpcap ring (`bufferSize`) must be at least 1 MiB: smaller rings
 *   silently drop frames under a burst (a handshake storm fills them). Smaller values are refused.
 * - **No reopen.** After `Cap#close()` the same Cap object never delivers again (its "closing" flag is
 *   never reset): `openLive` always makes a new Cap, and a closed LiveCapture stays closed.
 * - **Keeps the process alive** (a libuv poll handle) until closed. `close()` is idempotent and safe
 *   inside the frame callback; a CLI closes on SIGINT.
 * - **A failed open must never be garbage-collected.** When `Cap#open` throws after libpcap created its
 *   handle (bad filter, no such device, no permission), the half-open object's destructor later calls
 *   `uv_poll_stop` on a poll handle that was never initialised and aborts the process. We keep such
 *   objects referenced for the life of the process (`HALF_OPEN`); a bad filter therefore leaves one
 *   packet socket open until exit. The common failures (no interface, no CAP_NET_RAW) are detected
 *   before cap is touched, so they leak nothing.
 * - **Send after close crashes** (libpcap is handed a NULL handle): `send` checks first.
 * - **Outgoing frames are delivered too.** libpcap captures both directions. Direction `'in'` (the
 *   default) removes the frames the local kernel sends. It does NOT use BPF `inbound`: libpcap 1.10
 *   filters the first ring slot after installing a filter in userland, where `inbound` (the kernel's
 *   packet-type field) cannot be read and rejects the frame, so the first inbound frame after open is
 *   lost (a Host would miss the first SYN). On an Ethernet interface `'in'` is `not ether src <the
 *   interface's MAC>` instead, which userland evaluates like the kernel: every frame the local kernel
 *   sends carries that MAC. (Frames another local sender puts on the wire with a different source MAC,
 *   such as a bridge forwarding out of this port, do count as 'in'.) On other link types (loopback,
 *   tun) `'in'` falls back to `inbound`, with that first-frame loss.
 * - cap prints `Warning: <if>: no IPv4 address assigned - This may not actually work` on stderr when
 *   the interface has no IPv4 address (libpcap wants a netmask for `ip broadcast` filters). Harmless.
 * - cap asks libpcap for immediate delivery through `dlopen("libpcap.so")`, a name that only
 *   libpcap-dev installs: without it frames arrive in batches up to a second late. Install libpcap-dev
 *   at run time too.
 *
 * Sending: the frame goes out as given (link header included). It must carry correct checksums (the
 * NIC will not fill them: a packet socket bypasses offload) and fit the MTU; `send` refuses a frame
 * longer than MTU + link header (one 802.1Q tag allowed on top, as Linux's packet socket does), with
 * the MTU read from /sys/class/net/IF/mtu at open.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bytesOf } from '../wire/bytes.js';
import type { Bytes } from '../wire/bytes.js';
import { EtherType, LinkType } from '../wire/linktype.js';
import { newFrame } from './frame.js';
import type { CaptureFrame } from './frame.js';

/** The smallest (and default) libpcap ring: smaller rings drop frames under bursts. */
export const LIVE_MIN_BUFFER_SIZE = 1 << 20;
/** cap always asks libpcap for a 65535-byte snaplen; a larger frame buffer would never fill. */
export const LIVE_MAX_SNAPLEN = 65535;

export type LiveDirection = 'in' | 'inout';

export interface LiveOptions {
  /** A BPF filter (pcap-filter(7)); combined with the direction clause. Default: everything. */
  filter?: string;
  /**
   * 'in' (default): leave out the frames the local kernel sends (on Ethernet, those carrying the
   * interface's own source MAC; see the file comment for why not BPF `inbound`). 'inout': both.
   */
  direction?: LiveDirection;
  /** libpcap ring size in bytes; default and minimum 1 MiB (LIVE_MIN_BUFFER_SIZE): smaller rings drop frames. */
  bufferSize?: number;
  /** Bytes kept per frame, 1..65535 (default 65535); longer frames arrive with `truncated` set. */
  snaplen?: number;
  /**
   * Loads the `cap` module (default: `require('cap')`, resolved from this file). Tests inject one that
   * fails, to see the message a user without cap gets.
   */
  loader?: () => unknown;
}

/**
 * The frame being delivered: a CaptureFrame (so decoders and writers take it as they take a file's
 * frame) plus the live-only fields. ONE object, over cap's ONE buffer, reused for every frame: valid
 * only during the callback. `copyFrame` keeps one.
 */
export interface LiveFrame extends CaptureFrame {
  /** When synack saw the frame: microseconds since the UNIX epoch (also in tsSec/tsNsec). */
  timeUs: number;
  /**
   * The frame was longer than `snaplen` and was cut. cap does not report the wire length, so
   * `origLen` equals `capLen` even then.
   */
  truncated: boolean;
}

export type LiveFrameHandler = (frame: LiveFrame, timeUs: number) => void;

export type LiveErrorCode =
  | 'cap-not-installed'
  | 'cap-not-built'
  | 'libpcap-missing'
  | 'no-permission'
  | 'no-such-interface'
  | 'bad-filter'
  | 'bad-option'
  | 'open-failed'
  | 'closed'
  | 'too-big'
  | 'too-short'
  | 'send-failed';

/** What went wrong, for a person: `message` says what and how to fix it; `cause` is the underlying text. */
export interface LiveError {
  readonly code: LiveErrorCode;
  readonly message: string;
  readonly cause?: string;
}

/** Counted here: cap does not expose pcap_stats, so frames the kernel dropped are not known. */
export interface LiveStats {
  /** Frames delivered to the callback. */
  frames: number;
  /** Their captured bytes. */
  bytes: number;
  /** Frames cut at `snaplen`. */
  truncated: number;
  /** Frames that arrived while no callback was set (not delivered). */
  unhandled: number;
  /** Frames sent, their bytes, and sends refused or failed. */
  sent: number;
  sentBytes: number;
  sendErrors: number;
}

export interface LiveCapture {
  readonly iface: string;
  /** LINKTYPE_* of the interface (1 for Ethernet). */
  readonly linkType: number;
  /** The BPF program text installed (the direction clause and the user's filter). */
  readonly filter: string;
  /** MTU from /sys/class/net/IF/mtu at open; null when unknown (then `send` does not check size). */
  readonly mtu: number | null;
  /** The interface's own MAC (the kernel's), null when it has none or it is unknown. */
  readonly mac: string | null;
  readonly closed: boolean;
  /**
   * Sets (or with null clears) the one callback; frames arriving without one are counted, not kept.
   * Frames start arriving on a later event-loop turn, so setting it right after open misses none. The
   * callback's exceptions are not caught here.
   */
  onFrame(cb: LiveFrameHandler | null): void;
  /** Injects one frame, link header included. undefined when handed to the kernel, else why not. */
  send(frame: Uint8Array): LiveError | undefined;
  /**
   * The clock frames are stamped with, now (µs since the epoch): a time read from it is never later
   * than the `timeUs` of a frame delivered after it (for a caller that moves its own clock between frames).
   */
  now(): number;
  stats(): LiveStats;
  /** Stops capturing and releases the process. Idempotent; allowed inside the frame callback. */
  close(): void;
}

export function isLiveError(x: LiveCapture | LiveError | undefined): x is LiveError {
  return x !== undefined && 'code' in x;
}

/** A copy of a delivered frame that outlives the callback (its own bytes, offset 0). */
export function copyFrame(frame: LiveFrame): LiveFrame {
  const u8 = new Uint8Array(frame.capLen);
  u8.set(frame.bytes.u8.subarray(frame.offset, frame.offset + frame.capLen));
  return { ...frame, bytes: bytesOf(u8), offset: 0 };
}

// ---------------------------------------------------------------------------------------------------
// The cap module as we use it

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Uint8Array): string;
  close(): boolean;
  send(buffer: Uint8Array, nBytes?: number): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): unknown;
}

interface CapModule {
  Cap: new () => CapHandle;
}

/** Half-open Cap objects (see the file comment): their destructor would abort the process. */
const HALF_OPEN: CapHandle[] = [];

const FIX_BUILD =
  'npm install-scripts approve cap && npm rebuild cap (building needs libpcap-dev: apt-get install libpcap-dev, ' +
  'and python3, make, g++)';
const FIX_PERMISSION =
  'run as root (sudo), or give node the capabilities: sudo setcap cap_net_raw,cap_net_admin=eip $(which node)';

function liveError(code: LiveErrorCode, message: string, cause?: string): LiveError {
  return cause === undefined ? { code, message } : { code, message, cause };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Why `require('cap')` failed, and what to run. */
export function capLoadError(err: unknown): LiveError {
  const text = errorText(err);
  const first = text.split('\n')[0] ?? text;
  const code = (err as { code?: unknown } | null)?.code;
  if (/cap\.node/.test(text)) {
    return liveError(
      'cap-not-built',
      `cannot capture: the native addon of the \`cap\` package is not built (build/Release/cap.node is missing; ` +
        `its install script was not allowed to run, or failed). Fix: ${FIX_BUILD}.`,
      first,
    );
  }
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
    return liveError(
      'cap-not-installed',
      'cannot capture: the optional dependency `cap` is not installed (npm skips it when its native build fails). ' +
        `Fix: apt-get install libpcap-dev, then npm install cap; if npm held back its install script: ${FIX_BUILD}.`,
      first,
    );
  }
  if (/libpcap/.test(text)) {
    return liveError(
      'libpcap-missing',
      'cannot capture: libpcap is not installed (the `cap` addon links against it). ' +
        'Fix: apt-get install libpcap-dev, then npm rebuild cap.',
      first,
    );
  }
  if (/NODE_MODULE_VERSION|different Node\.js version/.test(text)) {
    return liveError(
      'cap-not-built',
      `cannot capture: the \`cap\` addon was built for another Node.js version. Fix: ${FIX_BUILD}.`,
      first,
    );
  }
  return liveError('cap-not-built', `cannot capture: the \`cap\` package failed to load (${first}). Fix: ${FIX_BUILD}.`, first);
}

function defaultLoader(): unknown {
  return createRequire(import.meta.url)('cap');
}

function loadCap(loader: () => unknown): CapModule | LiveError {
  let mod: unknown;
  try {
    mod = loader();
  } catch (err) {
    return capLoadError(err);
  }
  if (typeof mod !== 'object' || mod === null || typeof (mod as { Cap?: unknown }).Cap !== 'function') {
    return liveError('cap-not-built', `cannot capture: the \`cap\` module does not export a Cap class. Fix: ${FIX_BUILD}.`);
  }
  return mod as CapModule;
}

// ---------------------------------------------------------------------------------------------------
// What the system says about the interface and the process

const SYS_NET = '/sys/class/net';

function readSys(iface: string, file: string): string | null {
  try {
    return readFileSync(`${SYS_NET}/${iface}/${file}`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** ARPHRD_ETHER in /sys/class/net/IF/type (linux/if_arp.h). */
const ARPHRD_ETHER = 1;
/** CAP_NET_RAW's bit in the capability sets of /proc/self/status (linux/capability.h). */
const CAP_NET_RAW_BIT = 13n;

/** true/false from /proc/self/status CapEff; null when it cannot be read (not Linux). */
function hasNetRaw(): boolean | null {
  let status: string;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return null;
  }
  const m = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(status);
  if (m === null) return null;
  return ((BigInt(`0x${m[1] as string}`) >> CAP_NET_RAW_BIT) & 1n) === 1n;
}

function interfaceNames(): string {
  try {
    return readdirSync(SYS_NET).sort().join(', ');
  } catch {
    return '(unknown)';
  }
}

/** cap's link-type strings (binding.cc) as LINKTYPE_* numbers; "Unknown linktype N" carries the DLT. */
function linkTypeOf(capName: string): number {
  switch (capName) {
    case 'ETHERNET':
      return LinkType.ETHERNET;
    case 'NULL':
      return LinkType.NULL;
    case 'LINKTYPE_LINUX_SLL':
      return LinkType.LINUX_SLL;
    // DLT_RAW is 12 on Linux; capture files say LINKTYPE_RAW.
    case 'RAW':
      return LinkType.RAW;
    case 'IEEE802_11_RADIO':
      return 127;
    default: {
      const m = /(\d+)$/.exec(capName);
      return m === null ? -1 : Number(m[1]);
    }
  }
}

/** Bytes of link header in front of the network packet, for the MTU check. */
function linkHeaderLen(linkType: number, frame: Uint8Array): number {
  switch (linkType) {
    case LinkType.ETHERNET: {
      // Linux's packet_snd allows one VLAN header's worth over MTU + hard_header_len for a tagged frame.
      const tpid = frame.length >= 14 ? ((frame[12] as number) << 8) | (frame[13] as number) : 0;
      return tpid === EtherType.VLAN || tpid === 0x88a8 ? 18 : 14;
    }
    case LinkType.NULL:
      return 4;
    default:
      return 0;
  }
}

function minFrameLen(linkType: number): number {
  return linkType === LinkType.ETHERNET ? 14 : linkType === LinkType.NULL ? 4 : 1;
}

function checkOptions(iface: string, o: LiveOptions): LiveError | null {
  if (iface === '' || iface.length > 15 || iface.includes('/')) {
    return liveError('bad-option', `bad interface name ${JSON.stringify(iface)} (1 to 15 characters, no '/')`);
  }
  const buf = o.bufferSize ?? LIVE_MIN_BUFFER_SIZE;
  if (!Number.isInteger(buf) || buf < LIVE_MIN_BUFFER_SIZE || buf > 0x7fffffff) {
    return liveError(
      'bad-option',
      `bufferSize ${buf} refused: the libpcap ring must be at least ${LIVE_MIN_BUFFER_SIZE} bytes (1 MiB); ` +
        'smaller rings drop frames under bursts',
    );
  }
  const snap = o.snaplen ?? LIVE_MAX_SNAPLEN;
  if (!Number.isInteger(snap) || snap < 1 || snap > LIVE_MAX_SNAPLEN) {
    return liveError('bad-option', `snaplen ${snap} refused: 1 to ${LIVE_MAX_SNAPLEN} bytes`);
  }
  if (o.direction !== undefined && o.direction !== 'in' && o.direction !== 'inout') {
    return liveError('bad-option', `direction ${JSON.stringify(o.direction)} refused: 'in' or 'inout'`);
  }
  return null;
}

/** The BPF text for the direction and the user's filter. */
function composeFilter(direction: LiveDirection, userFilter: string, ethernetMac: string | null): string {
  const user = userFilter.trim();
  if (direction === 'inout') return user;
  const dir = ethernetMac !== null ? `not ether src ${ethernetMac}` : 'inbound';
  return user === '' ? dir : `(${dir}) and (${user})`;
}

function classifyOpenError(iface: string, filter: string, text: string): LiveError {
  if (/No such device/i.test(text)) {
    return liveError('no-such-interface', `no interface ${JSON.stringify(iface)}; interfaces here: ${interfaceNames()}`, text);
  }
  if (/permission|not permitted|CAP_NET_RAW/i.test(text)) {
    return liveError('no-permission', `no permission to capture on ${iface}: ${text}. Fix: ${FIX_PERMISSION}`, text);
  }
  // libpcap's compile errors: "syntax error", "unknown port 'x'", "unknown host 'x'", "illegal token: ...".
  if (/filter|syntax|parse|unknown (host|port|protocol|proto|network|net|ether)|illegal|not supported on/i.test(text)) {
    return liveError('bad-filter', `bad BPF filter ${JSON.stringify(filter)}: ${text}`, text);
  }
  return liveError('open-failed', `cannot open ${iface}: ${text}`, text);
}

// ---------------------------------------------------------------------------------------------------
// Opening

/**
 * Opens `iface` for capture and injection. Every call makes a new Cap (cap cannot reopen). Returns a
 * LiveError instead of throwing when cap is missing or unbuilt, the process lacks CAP_NET_RAW, the
 * interface does not exist, an option is out of range, or the filter does not compile.
 */
export function openLive(iface: string, options: LiveOptions = {}): LiveCapture | LiveError {
  const bad = checkOptions(iface, options);
  if (bad !== null) return bad;
  const mod = loadCap(options.loader ?? defaultLoader);
  if ('code' in mod) return mod;

  // Known failures are found here rather than by cap, whose failed opens leak (see HALF_OPEN).
  const sysKnown = existsSync(SYS_NET);
  if (iface !== 'any' && sysKnown && !existsSync(`${SYS_NET}/${iface}`)) {
    return liveError('no-such-interface', `no interface ${JSON.stringify(iface)}; interfaces here: ${interfaceNames()}`);
  }
  if (hasNetRaw() === false) {
    return liveError(
      'no-permission',
      `no permission to capture on ${iface}: the process lacks CAP_NET_RAW. Fix: ${FIX_PERMISSION}`,
    );
  }

  const mtuText = readSys(iface, 'mtu');
  const mtu = mtuText !== null && /^\d+$/.test(mtuText) ? Number(mtuText) : null;
  const isEther = readSys(iface, 'type') === String(ARPHRD_ETHER);
  const macText = isEther ? readSys(iface, 'address') : null;
  const mac = macText !== null && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(macText) && macText !== '00:00:00:00:00:00' ? macText : null;

  const direction = options.direction ?? 'in';
  const filter = composeFilter(direction, options.filter ?? '', mac);
  const buffer = new Uint8Array(options.snaplen ?? LIVE_MAX_SNAPLEN);
  const cap = new mod.Cap();
  let capLinkType: string;
  try {
    capLinkType = cap.open(iface, filter, options.bufferSize ?? LIVE_MIN_BUFFER_SIZE, buffer);
  } catch (err) {
    HALF_OPEN.push(cap);
    return classifyOpenError(iface, filter, errorText(err));
  }
  return new Live(iface, cap, buffer, linkTypeOf(capLinkType), filter, mtu, mac);
}

class Live implements LiveCapture {
  private cb: LiveFrameHandler | null = null;
  private isClosed = false;
  private readonly frame: LiveFrame;
  private readonly st: LiveStats = { frames: 0, bytes: 0, truncated: 0, unhandled: 0, sent: 0, sentBytes: 0, sendErrors: 0 };
  // The epoch anchor of the monotonic clock: one Date read at open, hrtime differences after.
  private readonly hr0: bigint;
  private readonly epoch0Us: number;

  constructor(
    readonly iface: string,
    private readonly cap: CapHandle,
    buffer: Uint8Array,
    readonly linkType: number,
    readonly filter: string,
    readonly mtu: number | null,
    readonly mac: string | null,
  ) {
    this.hr0 = process.hrtime.bigint();
    this.epoch0Us = Date.now() * 1000;
    const bytes: Bytes = bytesOf(buffer);
    this.frame = { ...newFrame(bytes), linkType, timeUs: 0, truncated: false };
    // One listener for the life of the capture (no per-frame closure).
    cap.on('packet', (nbytes, truncated) => this.deliver(nbytes, truncated));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  onFrame(cb: LiveFrameHandler | null): void {
    this.cb = cb;
  }

  private deliver(nbytes: number, truncated: boolean): void {
    if (this.isClosed) return;
    const cb = this.cb;
    if (cb === null) {
      this.st.unhandled++;
      return;
    }
    const timeUs = this.now();
    const f = this.frame;
    f.index++;
    f.capLen = nbytes;
    f.origLen = nbytes;
    f.truncated = truncated;
    f.timeUs = timeUs;
    f.tsSec = Math.floor(timeUs / 1e6);
    f.tsNsec = (timeUs - f.tsSec * 1e6) * 1000;
    this.st.frames++;
    this.st.bytes += nbytes;
    if (truncated) this.st.truncated++;
    cb(f, timeUs);
  }

  now(): number {
    return this.epoch0Us + Math.floor(Number(process.hrtime.bigint() - this.hr0) / 1000);
  }

  send(frame: Uint8Array): LiveError | undefined {
    if (this.isClosed) return this.refuse(liveError('closed', `cannot send on ${this.iface}: the capture is closed`));
    const min = minFrameLen(this.linkType);
    if (frame.length < min) {
      return this.refuse(
        liveError('too-short', `cannot send a ${frame.length}-byte frame on ${this.iface}: the link header alone is ${min} bytes`),
      );
    }
    if (this.mtu !== null) {
      const max = this.mtu + linkHeaderLen(this.linkType, frame);
      if (frame.length > max) {
        return this.refuse(
          liveError(
            'too-big',
            `cannot send a ${frame.length}-byte frame on ${this.iface}: the MTU is ${this.mtu} ` +
              `(/sys/class/net/${this.iface}/mtu), so a frame holds at most ${max} bytes with its link header`,
          ),
        );
      }
    }
    try {
      this.cap.send(frame, frame.length);
    } catch (err) {
      const text = errorText(err);
      return this.refuse(liveError('send-failed', `cannot send on ${this.iface}: ${text}`, text));
    }
    this.st.sent++;
    this.st.sentBytes += frame.length;
    return undefined;
  }

  private refuse(e: LiveError): LiveError {
    this.st.sendErrors++;
    return e;
  }

  stats(): LiveStats {
    return { ...this.st };
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.cb = null;
    this.cap.close();
  }
}
