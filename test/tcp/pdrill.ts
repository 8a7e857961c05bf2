/**
 * A small packetdrill-script runner for tcp/ tests: it drives TCBs directly (no socket table yet) through
 * the subset of the dialect the curated handshake scripts use, and checks every outbound line: flags,
 * relative seq/ack, window when written, option kinds in order and their values (TS values only with
 * --tcp_ts_tick_usecs, TS ecr never, as packetdrill does), and timing within the tolerance.
 *
 * Semantics follow /work/shared/conformance/packetdrill/NOTES.md §1–2: the remote side's sequence
 * numbers are used as written, ours are relative to our ISN; one "socket under test".
 */
import { readFileSync } from 'node:fs';
import type { Endpoint } from '../../src/tcp/env.js';
import { acceptSyn } from '../../src/tcp/listen.js';
import { linux, type Personality } from '../../src/tcp/personality.js';
import { resetFor } from '../../src/tcp/rst.js';
import { segmentArrives } from '../../src/tcp/segment-arrives.js';
import { Tcb } from '../../src/tcp/tcb.js';
import { poll, pollAt } from '../../src/tcp/timers.js';
import { abort, close, connect, listen, receive, send, shutdownWrite, status } from '../../src/tcp/user-calls.js';
import { classifyForListener } from '../../src/tcp/segment-arrives.js';
import { ManualClock } from '../../src/testing/clock.js';
import { fixedIsn } from '../../src/testing/isn.js';
import { seededRandom } from '../../src/testing/random.js';
import type { TcpOption, TcpRepr } from '../../src/wire/tcp.js';
import { flagString, flags as parseFlags, optionsText } from './helpers.js';

const ISS = 3_000_000_000;
const LOCAL4: Endpoint = { addr: '192.168.0.1', port: 8080 };
const REMOTE4: Endpoint = { addr: '192.0.2.1', port: 44444 };

/** The Linux that packetdrill's defaults.sh configures (tcp_rmem 4096 540000 15728640, syn_retries 5). */
export const linuxPacketdrill: Personality = { ...linux, rcvSpace: 270000, rcvSpaceMax: 15728640, synRetries: 5 };
/** Linux 3.11 defaults as the 2013 scripts expect them: wscale 6. */
export const linux311: Personality = { ...linux, rcvSpaceMax: 2097152 };

interface Sent {
  at: number;
  seg: TcpRepr;
}

export class ScriptError extends Error {}

export interface RunResult {
  checkedOutbound: number;
  log: string[];
}

const TCPI: Record<string, string> = {
  TCPI_CLOSED: 'CLOSED', TCPI_LISTEN: 'LISTEN', TCPI_SYN_SENT: 'SYN-SENT', TCPI_SYN_RECEIVED: 'SYN-RECEIVED',
  TCPI_ESTABLISHED: 'ESTABLISHED', TCPI_FIN_WAIT_1: 'FIN-WAIT-1', TCPI_FIN_WAIT_2: 'FIN-WAIT-2',
  TCPI_CLOSE_WAIT: 'CLOSE-WAIT', TCPI_CLOSING: 'CLOSING', TCPI_LAST_ACK: 'LAST-ACK', TCPI_TIME_WAIT: 'TIME-WAIT',
};

function parseOptions(text: string): TcpOption[] {
  return text.split(',').map((raw) => {
    const t = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = t.match(/^mss (\d+)$/))) return { kind: 'mss', value: Number(m[1]) };
    if ((m = t.match(/^wscale (\d+)$/))) return { kind: 'wscale', shift: Number(m[1]) };
    if (t === 'sackOK') return { kind: 'sack-permitted' };
    if ((m = t.match(/^TS val\s+(\d+)\s+ecr\s+(\d+)$/))) return { kind: 'timestamps', tsVal: Number(m[1]), tsEcr: Number(m[2]) };
    if (t === 'nop') return { kind: 'nop' };
    if (t === 'eol') return { kind: 'eol' };
    throw new ScriptError(`option ${t}`);
  });
}

/** Our option list as packetdrill prints it: the EOL padding shows as more EOLs. */
function padded(options: readonly TcpOption[]): string {
  let len = 0;
  for (const o of options) {
    if (o.kind === 'nop' || o.kind === 'eol') len += 1;
    else if (o.kind === 'mss') len += 4;
    else if (o.kind === 'wscale') len += 3;
    else if (o.kind === 'sack-permitted') len += 2;
    else if (o.kind === 'timestamps') len += 10;
    else if (o.kind === 'sack') len += 2 + 8 * o.blocks.length;
  }
  let text = optionsText(options);
  if (options.length > 0 && options[options.length - 1]?.kind === 'eol') {
    while (len % 4 !== 0) { text += ',eol'; len += 1; }
  }
  return text;
}

/** FreeBSD sysctls set before the socket is made, mapped onto the personality. */
function applySysctls(raw: string, p: Personality): Personality {
  let out = { ...p };
  for (const m of raw.matchAll(/sysctl -w ([\w.]+)=(\d+)/g)) {
    const v = Number(m[2]);
    switch (m[1]) {
      case 'net.inet.tcp.rfc1323': out = { ...out, timestamps: v !== 0, windowScaling: v !== 0 }; break;
      case 'net.inet.tcp.sack.enable': out = { ...out, sack: v !== 0 }; break;
      case 'kern.ipc.maxsockbuf': out = { ...out, rcvSpaceMax: v }; break;
      case 'net.inet.tcp.recvspace': out = { ...out, rcvSpace: v }; break;
      case 'net.inet.tcp.rexmit_initial': out = { ...out, rtoInitialUs: v * 1000 }; break;
      case 'net.inet.tcp.rexmit_slop': out = { ...out, rtoSlopUs: v * 1000 }; break;
      default: break;
    }
  }
  return out;
}

export function runScript(path: string, personality0: Personality): RunResult {
  let raw = readFileSync(path, 'utf8');
  // nplab dialect: #ifdef FreeBSD / STANDARD blocks.
  raw = raw.replace(/#ifdef (\w+)\n([\s\S]*?)#endif/g, (_all, name: string, block: string) =>
    name === (personality0.name === 'freebsd' ? 'FreeBSD' : 'STANDARD') ? block : '');
  const firstSocket = raw.indexOf('socket(');
  const personality = personality0.name === 'freebsd' ? applySysctls(raw.slice(0, firstSocket), personality0) : personality0;
  const ipv6 = /--ip_version=ipv6/.test(raw);
  const LOCAL: Endpoint = ipv6 ? { addr: 'fd3d:a0b:17d6::1', port: 8080 } : LOCAL4;
  const REMOTE: Endpoint = ipv6 ? { addr: 'fd3d:fa7b:d17d::1', port: 44444 } : REMOTE4;
  // Backquoted shell commands (possibly multi-line) and comments go; personality is chosen by the caller.
  const text = raw.replace(/`[^`]*`/g, '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  let tolerance = 4000;
  let tsTick = 0;
  const m1 = text.match(/--tolerance_usecs=(\d+)/);
  if (m1) tolerance = Number(m1[1]);
  const m2 = text.match(/--tcp_ts_tick_usecs=(\d+)/);
  if (m2) tsTick = Number(m2[1]);

  const clock = new ManualClock();
  const env = { clock, rand: seededRandom(7), isn: fixedIsn(ISS) };
  const sent: Sent[] = [];
  const hooks = { output: (seg: TcpRepr) => sent.push({ at: clock.now(), seg }) };
  const fds = new Map<number, Tcb>();
  const linger0 = new Set<number>();
  const shutRd = new Set<number>();
  let listener = null as Tcb | null;
  let current = null as Tcb | null; // the socket under test
  let prev = 0;
  let firstTs: { script: number; live: number } | null = null;
  let lastTsVal = 0;
  const log: string[] = [];
  let checked = 0;

  const allTcbs = (): Tcb[] => {
    const s = new Set<Tcb>(fds.values());
    if (current !== null) s.add(current);
    return [...s];
  };
  /** Runs every timer due up to `t`, in deadline order. */
  const advance = (t: number): void => {
    for (;;) {
      let next = -1;
      let who: Tcb | null = null;
      for (const tcb of allTcbs()) {
        const d = pollAt(tcb);
        if (d !== null && d <= t && (next < 0 || d < next)) { next = d; who = tcb; }
      }
      if (who === null) break;
      clock.set(Math.max(clock.now(), next));
      poll(who, clock.now());
    }
    clock.set(Math.max(clock.now(), t));
  };

  /** Blocking calls ("T...END") complete at END. */
  const deferred: Array<{ at: number; run: () => void }> = [];
  const flushDeferred = (t: number, inclusive: boolean): void => {
    for (;;) {
      const i = deferred.findIndex((d) => d.at < t || (inclusive && d.at === t));
      if (i < 0) return;
      const d = deferred.splice(i, 1)[0] as { at: number; run: () => void };
      advance(d.at);
      d.run();
    }
  };

  // A line left with only a time held a shell command (FreeBSD's timed sysctls).
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('--') && !/^\+?\s*[\d.]+$/.test(l));
  for (const line of lines) {
    const m = line.match(/^(\*|\+?\s*(?:\d+\.?\d*|\.\d+))(?:~(\+?(?:\d+\.?\d*|\.\d+)))?(?:\.\.\.(\d+\.?\d*|\.\d+))?\s+(.*)$/);
    if (!m) throw new ScriptError(`cannot parse: ${line}`);
    const [, tRaw, tMax, tEnd, rest] = m as unknown as [string, string, string | undefined, string | undefined, string];
    const star = tRaw === '*';
    const rel = tRaw.startsWith('+');
    const tNum = star ? 0 : Number(tRaw.replace(/[+\s]/g, ''));
    const at = star ? -1 : Math.round((rel ? prev / 1e6 + tNum : tNum) * 1e6);
    let atMax = at;
    if (tMax !== undefined) atMax = Math.round(((tMax.startsWith('+') ? prev / 1e6 : 0) + Number(tMax.replace('+', ''))) * 1e6);
    const body = rest.trim();

    if (body.startsWith('>')) {
      if (!star) flushDeferred(at, false);
      // Outbound: find the next segment we sent.
      const deadline = star ? Number.MAX_SAFE_INTEGER : atMax + tolerance;
      while (sent.length === 0) {
        let next = Number.POSITIVE_INFINITY;
        for (const tcb of allTcbs()) {
          const d = pollAt(tcb);
          if (d !== null && d < next) next = d;
        }
        if (next > deadline || next === Number.POSITIVE_INFINITY) throw new ScriptError(`${line}: nothing sent (now ${clock.now()} µs)`);
        advance(next);
      }
      const first = sent.shift() as Sent;
      checkOutbound(body, first, sent, line);
      if (!star && (first.at < at - tolerance || first.at > atMax + tolerance)) {
        throw new ScriptError(`${line}: sent at ${first.at} µs, expected ${at}..${atMax} ± ${tolerance}`);
      }
      checked++;
      // Relative times count from when the previous event actually happened.
      prev = first.at;
      continue;
    }

    flushDeferred(at, false);
    advance(at);
    prev = at;
    // packetdrill looks at our output only where the script expects some: anything else is noted, not checked.
    if (sent.length > 0) log.push(`unchecked before ${line}: ${sent.splice(0).map((x) => describeSeg(x.seg)).join(' | ')}`);

    if (body.startsWith('<')) {
      inbound(body, line);
      flushDeferred(at, true);
      continue;
    }
    if (body.startsWith('%{')) {
      const a = body.match(/tcpi_state == (TCPI_\w+)/);
      if (a) {
        const want = TCPI[a[1] as string];
        const tcb = (current ?? listener) as Tcb | null;
        const got = tcb === null ? 'CLOSED' : tcb.state;
        if (got !== want) throw new ScriptError(`${line}: state ${got}`);
      }
      continue;
    }
    if (tEnd !== undefined && !body.startsWith('connect')) {
      const end = Math.round(((rel ? (at - Math.round(tNum * 1e6)) / 1e6 : 0) + Number(tEnd)) * 1e6);
      deferred.push({ at: end, run: () => syscall(body, line) });
      continue;
    }
    syscall(body, line);
  }
  flushDeferred(Number.MAX_SAFE_INTEGER, true);
  if (sent.length > 0) log.push(`trailing output: ${sent.map((x) => describeSeg(x.seg)).join(' | ')}`);
  return { checkedOutbound: checked, log };

  function describeSeg(s: TcpRepr): string {
    const seq = (s.seq - ISS) >>> 0;
    return `${flagString(s.flags)} ${seq}:${seq + s.payload.length}(${s.payload.length}) ack ${s.ack} win ${s.window} <${padded(s.options)}>`;
  }

  function checkOutbound(body: string, first: Sent, queue: Sent[], line: string): void {
    const m = body.match(/^>\s*(\S+)\s+(\d+):(\d+)\((\d+)\)(?:\s+ack\s+(\d+))?(?:\s+win\s+(\d+))?\s*(?:<(.*)>)?\s*$/);
    if (!m) throw new ScriptError(`cannot parse packet: ${line}`);
    const [, fl, start, , len, ack, win, opts] = m;
    const got = first.seg;
    const want = parseFlags(fl as string);
    // A reset answering a segment without ACK has SEQ=0 whatever our ISN (packetdrill then takes ours as 0).
    const seq = got.flags & 0x04 && got.seq === 0 ? 0 : (got.seq - ISS) >>> 0;
    let total = got.payload.length;
    let gotFlags = got.flags;
    // Segment aggregation: later segments of the same burst make up the expected length.
    while (total < Number(len) && queue.length > 0) {
      const n = queue.shift() as Sent;
      total += n.seg.payload.length;
      gotFlags |= n.seg.flags;
    }
    const what = `${line}\n  got: ${describeSeg(got)}${total !== got.payload.length ? ` (+${total - got.payload.length} octets)` : ''}`;
    if (flagString(gotFlags) !== flagString(want)) throw new ScriptError(`flags differ: ${what}`);
    if (seq !== Number(start)) throw new ScriptError(`seq differs: ${what}`);
    if (total !== Number(len)) throw new ScriptError(`length differs: ${what}`);
    if (want & 0x10 && got.ack !== Number(ack)) throw new ScriptError(`ack differs: ${what}`);
    if (!(want & 0x10) && got.ack !== 0) throw new ScriptError(`ack field not zero: ${what}`);
    if (win !== undefined && got.window !== Number(win)) throw new ScriptError(`window differs: ${what}`);
    const ts = got.options.find((o) => o.kind === 'timestamps');
    if (ts !== undefined && ts.kind === 'timestamps') lastTsVal = ts.tsVal;
    if (opts === '...') return;
    const wantOpts = opts === undefined ? [] : parseOptions(opts);
    const strip = (s: string): string => s.replace(/TS val \d+ ecr \d+/g, 'TS');
    if (strip(padded(got.options)) !== strip(padded(wantOpts))) throw new ScriptError(`options differ: ${what}`);
    const wts = wantOpts.find((o) => o.kind === 'timestamps');
    if (tsTick > 0 && wts !== undefined && wts.kind === 'timestamps' && ts !== undefined && ts.kind === 'timestamps') {
      if (firstTs === null) firstTs = { script: wts.tsVal, live: ts.tsVal };
      const wantDelta = wts.tsVal - firstTs.script;
      const gotDelta = ((ts.tsVal - firstTs.live) | 0) * (1000 / tsTick);
      if (Math.abs(gotDelta - wantDelta) > tolerance / tsTick) throw new ScriptError(`TS val differs: ${what}`);
    }
  }

  function inbound(body: string, line: string): void {
    const m = body.match(/^<\s*(\S+)\s+(\d+):(\d+)\((\d+)\)(?:\s+ack\s+(\d+))?\s+win\s+(\d+)\s*(?:<(.*)>)?\s*$/);
    if (!m) throw new ScriptError(`cannot parse packet: ${line}`);
    const [, fl, start, , len, ack, win, opts] = m;
    const f = parseFlags(fl as string);
    const options = opts === undefined ? [] : parseOptions(opts).map((o) =>
      o.kind === 'timestamps' && o.tsEcr !== 0 ? { ...o, tsEcr: lastTsVal } : o,
    );
    const seg: TcpRepr = {
      srcPort: REMOTE.port, dstPort: LOCAL.port, seq: Number(start) >>> 0,
      ack: f & 0x10 ? (Number(ack ?? 0) + ISS) >>> 0 : 0,
      flags: f, window: Number(win), urgent: 0, options, payload: new Uint8Array(Number(len)),
    };
    const target: Tcb | null = current ?? listener ?? [...fds.values()][0] ?? null;
    if (target === null) throw new ScriptError(`${line}: no socket`);
    if (target.state === 'LISTEN') {
      const action = classifyForListener(seg);
      if (action === 'syn') {
        current = acceptSyn(target, seg, LOCAL, REMOTE, clock.now());
      } else if (action === 'reset') {
        const r = resetFor(seg);
        if (r !== null) sent.push({ at: clock.now(), seg: r });
      }
      return;
    }
    if (target.state === 'CLOSED') {
      // No socket for this 4-tuple any more: the socket layer answers (demux step 'none').
      const r = resetFor(seg);
      if (r !== null) sent.push({ at: clock.now(), seg: r });
      return;
    }
    const v = segmentArrives(target, seg, clock.now());
    log.push(`${line} -> ${v} ${target.state}`);
  }

  function syscall(body: string, line: string): void {
    const m = body.match(/^(\w+)\((.*)\)\s*=\s*(.*)$/);
    if (!m) throw new ScriptError(`cannot parse syscall: ${line}`);
    const [, name, argText, resText] = m as unknown as [string, string, string, string];
    const args = argText.split(',').map((a) => a.trim());
    const fd = Number(args[0]);
    const result = resText.trim();
    const tcbOf = (n: number): Tcb => {
      const t = fds.get(n);
      if (t === undefined) throw new ScriptError(`${line}: no fd ${n}`);
      return t;
    };
    switch (name) {
      case 'socket': {
        const tcb = new Tcb({ env, local: LOCAL, config: { personality, mss: ipv6 ? 1440 : 1460 }, hooks });
        fds.set(Number(result), tcb);
        return;
      }
      case 'setsockopt':
        if (argText.includes('TCP_MAXSEG')) tcbOf(fd).config.userMss = Number(argText.match(/\[(\d+)\]/)?.[1]);
        if (argText.includes('SO_LINGER') && argText.includes('linger=0')) linger0.add(fd);
        if (argText.includes('TCP_NODELAY')) tcbOf(fd).config.nodelay = true;
        if (argText.includes('TCP_KEEPINIT')) tcbOf(fd).config.connectTimeoutUs = Number(argText.match(/\[(\d+)\]/)?.[1]) * 1_000_000;
        return;
      case 'bind':
      case 'fcntl':
        return;
      case 'listen':
        listener = tcbOf(fd);
        listen(listener, clock.now());
        return;
      case 'accept': {
        if (current === null || current === listener) throw new ScriptError(`${line}: nothing to accept`);
        fds.set(Number(result), current);
        return;
      }
      case 'connect':
        current = tcbOf(fd);
        connect(current, REMOTE, clock.now());
        return;
      case 'write':
      case 'send': {
        const r = send(tcbOf(fd), new Uint8Array(Number(args[2])), clock.now());
        const want = result.startsWith('-1') ? result.split(/\s+/)[1] : Number(result);
        if (r !== want) throw new ScriptError(`${line}: returned ${r}`);
        return;
      }
      case 'read':
      case 'recv': {
        const r = shutRd.has(fd) ? 'EOF' : receive(tcbOf(fd), Number(args[2]), clock.now());
        const got = r instanceof Uint8Array ? r.length : r === 'EOF' ? 0 : r;
        if (String(got) !== result.split(/\s+/)[0]) throw new ScriptError(`${line}: returned ${got}`);
        return;
      }
      case 'close': {
        const tcb = tcbOf(fd);
        if (linger0.has(fd)) abort(tcb, clock.now());
        else close(tcb, clock.now());
        if (tcb === listener) listener = null;
        return;
      }
      case 'shutdown':
        if (argText.includes('SHUT_WR')) shutdownWrite(tcbOf(fd), clock.now());
        if (argText.includes('SHUT_RD')) shutRd.add(fd);
        return;
      case 'getsockopt': {
        const tcb = tcbOf(fd);
        if (argText.includes('TCP_MAXSEG')) {
          const want = Number(argText.match(/\[(\d+)\]/)?.[1]);
          const got = tcb.state === 'LISTEN' ? tcb.config.userMss || tcb.config.mss : status(tcb).mss;
          if (got !== want) throw new ScriptError(`${line}: TCP_MAXSEG ${got}`);
        }
        if (argText.includes('SO_ERROR')) {
          const want = argText.match(/\[(\w+)\]/)?.[1];
          const got = tcb.error ?? '0';
          if (got !== want) throw new ScriptError(`${line}: SO_ERROR ${got}`);
        }
        return;
      }
      case 'ioctl': {
        const want = Number(argText.match(/\[(\d+)\]/)?.[1]);
        if (tcbOf(fd).readable !== want) throw new ScriptError(`${line}: SIOCINQ ${tcbOf(fd).readable}`);
        return;
      }
      default:
        throw new ScriptError(`unsupported syscall ${name}: ${line}`);
    }
  }
}
