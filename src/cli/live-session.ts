/**
 * What `synack serve` and `synack connect` share: the options that attach a host to an interface, the
 * per-frame lines (--frames), NDJSON (--json), the pcapng file (--write, one comment per frame naming
 * its demux verdict) and the end of a session (SIGINT/SIGTERM, or the command finishing): a summary,
 * the file flushed, the capture closed so the process exits.
 *
 * These commands run for as long as the session lasts: `run` returns at once (0, or 2 when the
 * interface cannot be attached) and the session sets process.exitCode when it ends.
 */
import { writeSync } from 'node:fs';
import { attach } from '../capture/live-host.js';
import type { AttachedHost, WireFrame } from '../capture/live-host.js';
import type { LiveError } from '../capture/live.js';
import type { PcapngWriter } from '../capture/writer.js';
import type { TraceEvent } from '../stack/trace.js';
import { LinkType } from '../wire/linktype.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { createPcapng, QueuedOutput } from './output.js';
import type { Output } from './output.js';

export const LIVE_HOST_OPTIONS: readonly OptionSpec[] = [
  { name: 'iface', short: 'i', kind: 'string', valueName: 'IFACE', help: 'the interface to be a host on' },
  { name: 'ip', kind: 'list', valueName: 'ADDR', help: "synack's IPv4 address: one that no interface of this machine owns" },
  { name: 'ip6', kind: 'list', valueName: 'ADDR', help: "synack's IPv6 address: one that no interface of this machine owns" },
  { name: 'mac', kind: 'string', valueName: 'MAC', help: 'its MAC (default: a random locally administered one, 02:...)' },
  { name: 'frames', kind: 'flag', help: 'a line for every frame in and out, with its demux verdict' },
  { name: 'json', kind: 'flag', help: 'one JSON object per line (events, frames, the summary) instead of text' },
  { name: 'write', short: 'w', kind: 'string', valueName: 'FILE.pcapng', help: 'write every frame in and out, each with a comment naming its verdict' },
];

export const LIVE_HOST_NOTES = `Needs CAP_NET_RAW (run as root, or: sudo setcap cap_net_raw,cap_net_admin=eip $(which node))
and the \`cap\` package built (apt-get install libpcap-dev; npm rebuild cap). Peers must be on the
interface's link. Ctrl-C prints the summary and flushes the --write file.`;

export interface SessionArgs {
  iface: string;
  ip: string[];
  ip6: string[];
  mac: string | undefined;
  frames: boolean;
  json: boolean;
  write: string | undefined;
}

export function sessionArgs(args: ParsedArgs): SessionArgs {
  const iface = args.values.get('iface');
  if (iface === undefined) throw new UsageError('-i IFACE missing');
  const ip = args.lists.get('ip') ?? [];
  const ip6 = args.lists.get('ip6') ?? [];
  if (ip.length === 0 && ip6.length === 0) throw new UsageError('--ip ADDR (or --ip6 ADDR) missing: the address synack answers on');
  const write = args.values.get('write');
  return { iface, ip, ip6, mac: args.values.get('mac'), frames: args.flags.has('frames'), json: args.flags.has('json'), write };
}

/** Splits HOST:PORT or [V6]:PORT. */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (m === null) throw new UsageError(`--to needs HOST:PORT (or [IPV6]:PORT), got ${JSON.stringify(text)}`);
  return { host: m[1] as string, port: parsePort(m[2] as string, '--to') };
}

export function parsePort(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new UsageError(`${what}: port ${JSON.stringify(text)} is not 1..65535`);
  return n;
}

export function parseCount(text: string | undefined, what: string, dflt: number, min = 1): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${what} needs a whole number >= ${min}, got ${JSON.stringify(text)}`);
  return n;
}

// ---------------------------------------------------------------------------------------------------
// Lines for frames

const ETHER_NAMES: Record<number, string> = { 0x0800: 'ipv4', 0x86dd: 'ipv6', 0x0806: 'arp', 0x8100: 'vlan' };

function etherName(frame: Uint8Array): string {
  if (frame.length < 14) return 'runt';
  const t = ((frame[12] as number) << 8) | (frame[13] as number);
  if (t === 0x86dd && frame.length > 54 && frame[20] === 58) return (frame[54] as number) >= 133 && (frame[54] as number) <= 137 ? 'ndp' : 'icmpv6';
  return ETHER_NAMES[t] ?? `ethertype 0x${t.toString(16).padStart(4, '0')}`;
}

/** What happened to a frame, in a few words: the demux verdict, or the drop reason. */
export function verdictText(w: WireFrame): string {
  if (w.dir === 'out') {
    const e = w.events[0];
    return e !== undefined && e.type === 'frame-out' ? `sent ${e.kind}` : 'sent';
  }
  let drop: string | null = null;
  for (const e of w.events) {
    if (e.type === 'demux') {
      const fd = e.fd !== null ? ` fd ${e.fd}` : e.listenerFd !== null ? ` listener fd ${e.listenerFd}` : '';
      return `${e.step}${fd} ${e.action}${e.state !== null ? ` ${e.state}` : ''}${e.drop !== null ? ` (${e.drop})` : ''}`;
    }
    if (e.type === 'drop' && drop === null) drop = e.reason;
  }
  return drop !== null ? `dropped (${drop})` : etherName(w.frame);
}

function segmentOf(w: WireFrame): string | null {
  for (const e of w.events) {
    if ((e.type === 'frame-in' || e.type === 'frame-out') && e.segment !== null) {
      const s = e.segment;
      return `${s.src} > ${s.dst} [${s.flags}] seq ${s.seq} ack ${s.ack} win ${s.window} len ${s.length}${s.options !== '' ? ` <${s.options}>` : ''}`;
    }
  }
  return null;
}

/**
 * Calls `stop` on SIGINT (Ctrl-C), SIGTERM or SIGHUP (the terminal closed: the --write file must still
 * be flushed) instead of dying; returns the function that stops listening.
 */
export function onStopSignal(stop: () => void): () => void {
  const onSignal = (): void => stop();
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  return () => {
    for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
  };
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

// ---------------------------------------------------------------------------------------------------
// The session

export interface Session {
  readonly a: AttachedHost;
  readonly args: SessionArgs;
  /** An event: NDJSON with --json, else `text` on the log stream (omitted when text is null). */
  event(obj: Record<string, unknown>, text: string | null): void;
  /** Raw bytes on stdout (connect's received data, text mode only). */
  data(bytes: Uint8Array): void;
  /** Prints the summary, flushes and closes the file, detaches; sets process.exitCode. */
  end(code: number): void;
  readonly ended: boolean;
}

export interface SessionSpec {
  command: string;
  /** Text-mode events go to stderr (connect: stdout carries the data) or stdout (serve). */
  logToStderr: boolean;
  /** The command's own part of the summary, taken when the session ends. */
  summary(): { json: Record<string, unknown>; text: string };
  /** Called once the host is attached. */
  start(s: Session): void;
  /** The exit code when SIGINT/SIGTERM ends the session (default 0). */
  interruptedCode?: () => number;
}

/**
 * Attaches and starts the session; returns 2 (after saying why) when attaching fails, else 0 at once.
 * The session ends on SIGINT/SIGTERM or when the command calls `end`.
 */
export function runSession(sa: SessionArgs, spec: SessionSpec, out: Output, err: (s: string) => void): number {
  let pcap: PcapngWriter | null = null;
  const q = new QueuedOutput(out);
  const flush = (): void => q.flush();
  const line = (text: string): void => q.line(text);
  const log = (text: string): void => (spec.logToStderr && !sa.json ? err(text) : line(text));
  let t0: number | null = null;

  const onWire = (w: WireFrame): void => {
    t0 ??= w.timeUs;
    const verdict = verdictText(w);
    if (pcap !== null) {
      const sec = Math.floor(w.timeUs / 1e6);
      pcap.writePacket(0, sec, (w.timeUs - sec * 1e6) * 1000, w.frame, 0, w.frame.length, w.frame.length, `${w.dir} ${w.number}: ${verdict}`);
    }
    if (!sa.frames) return;
    const seg = segmentOf(w);
    if (sa.json) {
      const demux = w.events.find((e): e is Extract<TraceEvent, { type: 'demux' }> => e.type === 'demux');
      line(
        JSON.stringify({
          event: 'frame',
          dir: w.dir,
          frame: w.number,
          time: w.timeUs,
          length: w.frame.length,
          segment: seg,
          verdict,
          ...(demux !== undefined ? { step: demux.step, fd: demux.fd, action: demux.action, state: demux.state, drop: demux.drop } : {}),
        }),
      );
    } else {
      const rel = ((w.timeUs - t0) / 1e6).toFixed(6);
      log(`${w.dir === 'in' ? 'in ' : 'out'} ${String(w.number).padStart(5)} ${rel} ${seg ?? etherName(w.frame)}  ${w.dir === 'in' ? '→ ' : ''}${verdict}`);
    }
  };

  if (sa.write !== undefined) {
    pcap = createPcapng(sa.write, spec.command, err);
    if (pcap === null) return 2;
    pcap.addInterface({ linkType: LinkType.ETHERNET, snaplen: 65535, name: sa.iface, description: `synack ${spec.command}` });
  }
  const wanted = pcap !== null || sa.frames;
  const pending = attach(sa.iface, {
    ...(sa.ip.length > 0 ? { ip: sa.ip } : {}),
    ...(sa.ip6.length > 0 ? { ip6: sa.ip6 } : {}),
    ...(sa.mac !== undefined ? { mac: sa.mac } : {}),
    ...(wanted ? { onWire } : {}),
    onSendError: (e: LiveError) => log(sa.json ? JSON.stringify({ event: 'send-error', code: e.code, message: e.message }) : `send failed: ${e.message}`),
  });
  if ('code' in pending) {
    pcap?.close();
    err(`synack ${spec.command}: ${pending.message}`);
    return 2;
  }

  void pending.then((a) => {
    let ended = false;
    const startedUs = Date.now() * 1000;
    const session: Session = {
      a,
      args: sa,
      get ended() {
        return ended;
      },
      event(obj, text) {
        if (sa.json) line(JSON.stringify(obj));
        else if (text !== null) log(text);
      },
      data(bytes) {
        if (!q.open || sa.json) return;
        flush();
        // Raw bytes, exactly as received (not lines).
        let off = 0;
        while (q.open && off < bytes.length) {
          try {
            off += writeSync(1, bytes, off, bytes.length - off);
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code === 'EAGAIN') continue;
            if (code !== 'EPIPE') throw e;
            q.close();
          }
        }
      },
      end(code) {
        if (ended) return;
        ended = true;
        stopSignals();
        const own = spec.summary();
        const h = a.host;
        const st = a.stats();
        const common = {
          iface: sa.iface,
          mac: a.mac,
          ip: a.ipv4,
          ip6: a.ipv6,
          seconds: Math.round((Date.now() * 1000 - startedUs) / 1000) / 1000,
          frames: { in: h.counters.framesIn, out: h.counters.framesOut, tcpIn: h.counters.tcpIn, tcpOut: h.counters.tcpOut },
          resetsSent: h.counters.resets,
          drops: h.counters.drops,
          partialChecksums: h.partialChecksums,
          demux: h.counters.demux,
          sendErrors: st.sendErrors,
          timerFires: st.timerFires,
        };
        a.close();
        if (sa.json) {
          line(JSON.stringify({ event: 'summary', command: spec.command, ...own.json, ...common }));
        } else {
          err(
            `synack ${spec.command}: ${own.text}; frames ${common.frames.in} in, ${common.frames.out} out; ` +
              `${common.resetsSent} RST sent, ${common.drops} dropped${pcap !== null ? `; wrote ${sa.write}` : ''}`,
          );
        }
        pcap?.close();
        flush();
        process.exitCode = code;
      },
    };
    const stopSignals = onStopSignal(() => session.end(spec.interruptedCode?.() ?? 0));
    spec.start(session);
  });
  return 0;
}
