/**
 * The packetdrill runner: a parsed script against synack's own stack, in-process, on a virtual clock.
 *
 * A Host plays the machine under test. Inbound lines become frames from the peer, injected at their
 * times; outbound lines are expectations matched against the frames the Host sends (packets.ts); system
 * calls run on the Host's socket table (syscalls.ts); the sysctl commands of a script change its
 * personality (env.ts). Nothing leaves the process and nothing waits for real time: the clock jumps from
 * one event, timer or deadline to the next, so a script that covers minutes of retransmissions runs in
 * milliseconds, and the same script gives the same run every time.
 *
 * Timing follows packetdrill (run.c): a relative time counts from when the previous event actually
 * happened, except between two inbound packets, where it counts from the previous one's script time; an
 * event must happen within max(--tolerance_usecs, tolerance_percent of the time since the previous
 * event) of its time; a blocking call `T...END` runs in the background from T and must return at END;
 * an outbound packet is looked for from the moment the previous event is done and must not come early
 * either; one that has not come 2 s after its time has "Timed out". packetdrill reads synack's output as
 * a queue: a segment nobody expected is seen by the next outbound line (and fails it unless it is what
 * that line wants); segments for other connections are skipped. With `strict`, any segment that no
 * outbound line matched fails the script (packetdrill does not check that).
 *
 * A failure (or something found unsupported only once the script runs) unwinds the run as an exception
 * private to the runner (outcome.ts ScriptFailure, RuntimeUnsupported); runScript returns it as a value.
 */
import { ERRNO } from '../socket/errno.js';
import { Host } from '../stack/host.js';
import type { TraceEvent } from '../stack/trace.js';
import type { Clock, Endpoint, Random } from '../tcp/env.js';
import { rfc6528Isn } from '../tcp/isn.js';
import type { Personality } from '../tcp/personality.js';
import { TcpFlags } from '../wire/tcp.js';
import type { Event, Loc, PacketEvent, Script, ShellCommand, SyscallEvent, TimeSpec, Unsupported } from './ast.js';
import { evaluate, runShellStep, runnerUnsupported, sameEndpoint, snapshot } from './commands.js';
import type { CodeSnapshot, CommandContext } from './commands.js';
import { eventsFor } from './events.js';
import { formatExpr } from './format.js';
import { LOCAL_MAC, REMOTE_MAC, familyOf, personalityByName, runRandom, scriptConfig } from './env.js';
import type { Knobs, MutablePersonality, PersonalityName, ScriptConfig } from './env.js';
import { RuntimeUnsupported, ScriptFailure } from './outcome.js';
import type { RunResult, RunStats } from './outcome.js';
import {
  ScriptSocket,
  aggregate,
  decodeSent,
  fragmentProblem,
  inboundFrame,
  inboundSegment,
  scriptPacketText,
  segmentText,
  verifyOutbound,
} from './packets.js';
import type { Sent } from './packets.js';
import { prepareCall, resultProblem, strerror } from './syscalls.js';
import type { CallContext, CallOutcome, PreparedCall } from './syscalls.js';
import { secs, timingProblem } from './timing.js';
import type { Timing } from './timing.js';

export interface RunOptions {
  /** The machine the script was written for (default 'linux'); a Personality object for a custom one. */
  personality?: PersonalityName | Personality;
  /** Also fail on any segment synack sends that no outbound line matches (packetdrill does not). */
  strict?: boolean;
  /** Names defined for `#ifdef` (besides the personality's OS name, `Linux` or `FreeBSD`), `NAME` or `NAME=VALUE`. */
  defines?: Iterable<string>;
  /** Seed of the run's random numbers (ISNs, timestamp offsets, ports). Default 1. */
  seed?: number;
}

/** packetdrill gives up on an outbound packet this long after its time (µs). */
const SNIFF_TIMEOUT_US = 2_000_000;
/** How long the script waits for a blocking call still running (run_system_call.c await_idle_thread: 1 s). */
const AWAIT_IDLE_US = 1_000_000;
/** A bound for the waits that have none (`*` packets, a blocking call without `...`). */
const NO_LIMIT_US = 24 * 3600 * 1_000_000;

/** A clock the runner sets: virtual time in µs. */
class VirtualClock implements Clock {
  private t = 0;
  now(): number {
    return this.t;
  }
  set(t: number): void {
    if (t > this.t) this.t = t;
  }
}

function isInbound(e: Event): boolean {
  return e.kind === 'packet' && e.direction === 'inbound';
}

interface Pending {
  ev: SyscallEvent;
  call: PreparedCall;
  start: number;
  end: number;
  kind: TimeSpec['kind'];
}

/** Runs a parsed script. Never throws for anything a script does; the result says pass, fail or unsupported. */
export function runScript(script: Script, options: RunOptions = {}): RunResult {
  return new Runner(script, options).run();
}

class Runner implements CallContext, CommandContext {
  readonly host: Host;
  readonly config: ScriptConfig;
  readonly knobs: Knobs;
  readonly family: 'linux' | 'freebsd';
  private readonly script: Script;
  private readonly strict: boolean;
  private readonly personalityName: string;
  private readonly clock = new VirtualClock();
  private readonly problems: Unsupported[] = [];
  private readonly events: Event[];
  /** Segments the Host sent that no outbound line has read yet, oldest first. */
  private queue: Sent[] = [];
  private framesOut = 0;
  private readonly log: string[] = [];
  private readonly stats: RunStats = { events: 0, outbound: 0, inbound: 0, syscalls: 0 };
  private readonly sockets: ScriptSocket[] = [];
  /** packetdrill's socket under test: the connection packets of the script belong to. */
  private sut: ScriptSocket | null = null;
  private pending: Pending | null = null;
  private last: { t: number; inbound: boolean } | null = null;
  private readonly codeChecks: CodeSnapshot[] = [];
  private readonly portRandom: Random;
  private cachedPort: number | null;
  private ipId = 1;

  constructor(script: Script, options: RunOptions) {
    this.script = script;
    this.strict = options.strict === true;
    const base = typeof options.personality === 'object' ? options.personality : personalityByName(options.personality ?? 'linux');
    this.personalityName = base.name;
    // A copy per run: sysctls change it, and every connection of the run shares it (a global sysctl).
    const personality: MutablePersonality = { ...base };
    this.family = familyOf(base);
    const { config, problems } = scriptConfig(script, base, options.defines ?? []);
    this.config = config;
    for (const p of problems) this.problems.push({ loc: p.option.loc, what: p.message });
    const seed = options.seed ?? 1;
    const rand = runRandom(seed);
    this.portRandom = runRandom(seed ^ 0x5bd1e995);
    this.cachedPort = this.randomPort();
    const v4 = config.ipVersion === 4;
    this.host = new Host({
      name: 'synack',
      mac: LOCAL_MAC,
      ...(v4 ? { ipv4: [config.localIp] } : { ipv6: [config.localIp] }),
      env: { clock: this.clock, rand, isn: rfc6528Isn(rand) },
      personality,
      neighbors: { [config.remoteIp]: REMOTE_MAC },
      sink: (frame, t) => this.sent(frame, t),
      onTrace: (e) => this.traceEvent(e),
    });
    // FreeBSD's net.inet.tcp.sendspace defaults to 32768 (tcp_usrreq.c); Linux sizes the send buffer itself.
    this.knobs = { personality, listen: this.host.sockets.settings, sendSpace: this.family === 'freebsd' ? 32768 : null };
    const defined = new Set(config.defines.keys());
    this.events = eventsFor(script, defined);
    this.problems.push(...runnerUnsupported(script, this.events, defined, this.family, this.personalityName));
  }

  // ---- CallContext ---------------------------------------------------------------------------------

  now(): number {
    return this.clock.now();
  }

  socketByScriptFd(fd: number): ScriptSocket | undefined {
    for (let i = this.sockets.length - 1; i >= 0; i--) {
      const s = this.sockets[i] as ScriptSocket;
      if (s.scriptFd === fd) return s;
    }
    return undefined;
  }

  addSocket(s: ScriptSocket): void {
    this.sockets.push(s);
    // run_system_call.c: "Any later packets in the test script are now mapped here."
    this.sut = s;
  }

  accepted(scriptFd: number, liveFd: number): void {
    const live = this.host.sockets.fds.get(liveFd);
    // The connection the script has been talking to is the one accepted (run_syscall_accept looks for it).
    const child = this.sockets.find((s) => s.scriptFd === null && live !== undefined && sameEndpoint(s.remote, live.tcb.remote) && sameEndpoint(s.local, live.tcb.local));
    if (child !== undefined) {
      child.scriptFd = scriptFd;
      child.liveFd = liveFd;
      return;
    }
    const s = new ScriptSocket('passive-synack-acked', scriptFd, liveFd);
    if (live !== undefined) {
      s.local = { ...live.tcb.local };
      s.remote = { ...live.tcb.remote };
    }
    this.sockets.push(s);
  }

  connecting(s: ScriptSocket): void {
    this.sut = s;
  }

  closed(s: ScriptSocket): void {
    // The descriptor is gone; the connection (and its packets) may live on, so the mapping stays.
    s.scriptFd = null;
    s.liveFd = null;
  }

  // ---- the run -------------------------------------------------------------------------------------

  run(): RunResult {
    const common = (): { file: string; personality: string; stats: RunStats; log: string[] } => ({
      file: this.script.file,
      personality: this.personalityName,
      stats: this.stats,
      log: this.log,
    });
    if (this.problems.length > 0) return { ...common(), status: 'unsupported', unsupported: this.problems };
    try {
      this.runAll();
      return { ...common(), status: 'pass' };
    } catch (e) {
      if (e instanceof ScriptFailure) {
        this.note(`FAIL ${e.message}`);
        return {
          ...common(),
          status: 'fail',
          failure: { loc: e.loc, message: e.message, expected: e.expected, actual: e.actual, trace: this.log.slice(0, -1) },
        };
      }
      if (e instanceof RuntimeUnsupported) return { ...common(), status: 'unsupported', unsupported: [{ loc: e.loc, what: e.what }] };
      throw e;
    }
  }

  private runAll(): void {
    if (this.script.init !== null) this.command(this.script.init);
    this.events.forEach((e, i) => {
      this.stats.events++;
      const timing = this.timing(e, i);
      switch (e.kind) {
        case 'packet':
          if (e.direction === 'outbound') this.outbound(e, timing);
          else this.inbound(e, timing);
          break;
        case 'syscall':
          this.syscall(e, timing);
          break;
        case 'shell':
          this.startEvent(e, timing, 'command');
          this.command(e.command);
          break;
        case 'code': {
          this.startEvent(e, timing, 'data collection for code');
          const c = snapshot(e, this.host, this.sut);
          this.codeChecks.push(c);
          this.note(`${secs(this.now())} TCP_INFO: tcpi_state ${c.state}, tcpi_advmss ${c.advmss}, tcpi_snd_mss ${c.sndMss}   (line ${e.loc.line})`);
          break;
        }
        case 'opaque':
          throw new RuntimeUnsupported(e.loc, e.what);
        default: {
          const never: never = e;
          return never;
        }
      }
      this.last = { t: timing.t, inbound: isInbound(e) };
    });
    const end = this.now();
    if (this.script.cleanup !== null) this.command(this.script.cleanup);
    for (const c of this.codeChecks) evaluate(c);
    if (this.pending !== null) {
      this.awaitIdle();
      const p = this.pending as Pending | null;
      if (p !== null) throw new ScriptFailure(p.ev.loc, 'runtime error: exiting while a blocking system call is in progress');
    }
    if (this.strict) this.strictCheck(null, end);
  }

  // ---- time ----------------------------------------------------------------------------------------

  /** packetdrill's get_next_event checks and adjust_relative_event_times. */
  private timing(e: Event, index: number): Timing {
    const ts = e.time;
    if (index === 0) {
      const raw = ts.kind === 'absolute' || ts.kind === 'relative' ? ts.usecs : 0;
      if (raw !== 0) throw new ScriptFailure(e.loc, 'first event should be at time 0');
    }
    const anchored = this.last !== null && this.last.inbound && isInbound(e);
    const offset = anchored && this.last !== null ? this.last.t : this.now();
    switch (ts.kind) {
      case 'absolute':
        if (this.last !== null && this.lastAbsolute !== null && ts.usecs < this.lastAbsolute) {
          throw new ScriptFailure(e.loc, `time goes backward in script from ${this.lastAbsolute} usec to ${ts.usecs} usec`);
        }
        this.lastAbsolute = ts.usecs;
        return { kind: ts.kind, t: ts.usecs, tEnd: ts.usecs, offset: 0 };
      case 'relative':
        this.lastAbsolute = null;
        return { kind: ts.kind, t: offset + ts.usecs, tEnd: offset + ts.usecs, offset };
      case 'any':
        this.lastAbsolute = null;
        return { kind: ts.kind, t: offset, tEnd: offset, offset };
      case 'absolute-range':
        this.lastAbsolute = null;
        return { kind: ts.kind, t: ts.startUsecs, tEnd: ts.endUsecs, offset: 0 };
      case 'relative-range':
        this.lastAbsolute = null;
        return { kind: ts.kind, t: offset + ts.startUsecs, tEnd: offset + ts.endUsecs, offset };
      default: {
        const never: never = ts;
        return never;
      }
    }
  }

  private lastAbsolute: number | null = null;

  /** The next time something happens by itself: a timer of the Host, or a blocked call's deadline. */
  private nextWake(): number | null {
    let w = this.host.pollAt();
    const p = this.pending?.call.wakeAt() ?? null;
    if (p !== null && (w === null || p < w)) w = p;
    return w;
  }

  /** Moves the clock to `t` (or keeps it, if later) and fires what is due. */
  private step(t: number): void {
    this.clock.set(t);
    const now = this.now();
    // A timer that stays due after it fired would make time stand still: report it, never hang.
    this.stepsAtNow = now === this.stepTime ? this.stepsAtNow + 1 : 0;
    this.stepTime = now;
    if (this.stepsAtNow > 10_000) {
      const loc = this.events[Math.min(this.stats.events, this.events.length) - 1]?.loc ?? { file: this.script.file, line: 1, column: 1 };
      throw new ScriptFailure(loc, `synack's timers do not advance at ${secs(now)} sec`);
    }
    const due = this.host.pollAt();
    if (due !== null && due <= now) this.host.poll(now);
    this.afterActivity();
  }

  private stepTime = -1;
  private stepsAtNow = 0;

  /** Lets time pass until `t`: timers fire, a blocking call may return. */
  private waitUntil(t: number): void {
    for (;;) {
      const w = this.nextWake();
      if (w === null || w > t) break;
      this.step(w);
    }
    this.clock.set(t);
    this.afterActivity();
  }

  /** run.c wait_for_event + check_event_time, for every event but outbound packets. */
  private startEvent(e: Event, timing: Timing, description: string): void {
    this.waitUntil(timing.t);
    if (this.stats.events > 1) {
      const tp = timingProblem(this.config, timing, this.now(), this.last?.t ?? null, description);
      if (tp !== null) throw new ScriptFailure(e.loc, tp);
    }
    if (this.strict) this.strictCheck(e, this.now());
  }

  // ---- output of the Host ------------------------------------------------------------------------

  private sent(frame: Uint8Array, time: number): void {
    this.framesOut++;
    const s = decodeSent(frame, time, this.framesOut);
    if (s === null) {
      this.note(`${secs(time)} out #${this.framesOut}: not TCP (ignored)`);
      return;
    }
    this.queue.push(s);
    this.note(`${secs(time)} out #${s.n}: ${s.src.addr}:${s.src.port} > ${s.dst.addr}:${s.dst.port} ${segmentText(s.seg)}`);
  }

  private traceEvent(e: TraceEvent): void {
    if (e.type === 'state') this.note(`${secs(e.time)} socket ${e.socket}${e.fd !== null ? ` (fd ${e.fd})` : ''}: ${e.from} -> ${e.to} (${e.cause})`);
    else if (e.type === 'drop') this.note(`${secs(e.time)} drop${e.socket !== null ? ` (socket ${e.socket})` : ''}: ${e.reason}`);
  }

  note(line: string): void {
    this.log.push(line);
  }

  /** packetdrill's find_socket_for_live_packet / find_connect_for_live_packet for the socket under test. */
  private isFor(sock: ScriptSocket, s: Sent): boolean {
    const f = s.seg.flags;
    if (sock.state === 'active-syn-sent' && (f & TcpFlags.SYN) !== 0 && (f & TcpFlags.ACK) === 0 && sameEndpoint(sock.remote, s.dst)) {
      sock.local = { ...s.src };
      sock.liveLocalIsn = s.seg.seq;
      return true;
    }
    return sameEndpoint(sock.local, s.src) && sameEndpoint(sock.remote, s.dst);
  }

  /** A segment no outbound line will read: fine for packetdrill, a failure with `strict`. */
  private unexpected(s: Sent, loc: Loc): void {
    if (this.strict) {
      throw new ScriptFailure(loc, `error handling packet: unexpected outbound packet (strict): sent at ${secs(s.time)} sec`, null, `${s.src.addr}:${s.src.port} > ${s.dst.addr}:${s.dst.port} ${segmentText(s.seg)}`);
    }
    this.note(`${secs(this.now())} skipped out #${s.n} (not for the socket under test)`);
  }

  /** With `strict`, no segment may wait unread when an event other than an outbound packet comes. */
  private strictCheck(e: Event | null, until: number): void {
    const s = this.queue.find((x) => x.time <= until);
    if (s === undefined) return;
    const loc = e?.loc ?? this.events[this.events.length - 1]?.loc ?? { file: this.script.file, line: 1, column: 1 };
    const where = e === null ? 'by the end of the script' : 'before this event';
    throw new ScriptFailure(
      loc,
      `error handling packet: unexpected outbound packet (strict): no outbound line matched the segment sent at ${secs(s.time)} sec ${where}`,
      null,
      `${s.src.addr}:${s.src.port} > ${s.dst.addr}:${s.dst.port} ${segmentText(s.seg)}`,
    );
  }

  // ---- packets -------------------------------------------------------------------------------------

  private randomPort(): number {
    // Linux's ephemeral range (ip_local_port_range 32768 60999), as packetdrill's port comes from bind(0).
    return 32768 + (this.portRandom.nextU32() % (60999 - 32768 + 1));
  }

  /** run_packet.c next_ephemeral_port: one port cached for the first passive connection, then fresh ones. */
  private nextEphemeralPort(): number {
    if (this.cachedPort !== null) {
      const p = this.cachedPort;
      this.cachedPort = null;
      return p;
    }
    return this.randomPort();
  }

  /** The live 4-tuple of a socket that has none yet (a bound or fresh socket getting a packet). */
  private ensureTuple(sock: ScriptSocket): void {
    const live = sock.liveFd !== null ? this.host.sockets.fds.get(sock.liveFd) : undefined;
    if (sock.local === null) {
      const port = live !== undefined && live.tcb.local.port !== 0 ? live.tcb.local.port : this.config.bindPort;
      sock.local = { addr: this.config.localIp, port };
    }
    if (sock.remote === null) sock.remote = { addr: this.config.remoteIp, port: this.nextEphemeralPort() };
  }

  private inbound(p: PacketEvent, timing: Timing): void {
    this.startEvent(p, timing, 'inbound packet');
    this.stats.inbound++;
    const flags = p.flags.bits;
    let sock = this.sut;
    // run_packet.c handle_listen_for_script_packet: any packet while the socket under test listens (or
    // before there is one) opens a child connection from a fresh remote port; later packets go to it.
    if (sock === null || sock.state === 'listening') {
      sock = new ScriptSocket('passive-packet-received', null, null);
      sock.local = { addr: this.config.localIp, port: this.config.bindPort };
      sock.remote = { addr: this.config.remoteIp, port: this.nextEphemeralPort() };
      sock.remoteIsn = p.seq.kind === 'range' ? p.seq.start >>> 0 : 0;
      this.sockets.push(sock);
      this.sut = sock;
    }
    this.ensureTuple(sock);
    // do_inbound_script_packet.
    if (sock.state === 'passive-synack-sent' && (flags & TcpFlags.ACK) !== 0) sock.state = 'passive-synack-acked';
    else if (sock.state === 'active-syn-sent' && (flags & TcpFlags.SYN) !== 0 && (flags & TcpFlags.ACK) !== 0) {
      sock.state = 'active-syn-acked';
      sock.remoteIsn = p.seq.kind === 'range' ? p.seq.start >>> 0 : 0;
    }
    const src = sock.remote as Endpoint;
    const dst = sock.local as Endpoint;
    // packetdrill writes an inbound packet to tun with gso_size = --mss; Linux takes it as one segment
    // that says the peer's MSS is gso_size (tcp_measure_rcv_mss). synack has no such hint: a longer
    // segment would be measured by its length, which is not what the script tests.
    const gso = this.config.gsoMss;
    if (gso !== null && p.seq.length > gso) throw new RuntimeUnsupported(p.loc, `an inbound segment of ${p.seq.length} octets with --mss=${gso} (a GSO packet)`);
    const seg = inboundSegment(p, sock, src, dst);
    if (typeof seg === 'string') throw new ScriptFailure(p.loc, `error handling packet: ${seg}`, `${secs(timing.t)} ${scriptPacketText(p)}`, null);
    this.note(`${secs(this.now())} in  ${scriptPacketText(p)}   (line ${p.loc.line}; live ${src.addr}:${src.port} > ${dst.addr}:${dst.port} ${segmentText(seg)})`);
    this.host.input(inboundFrame(seg, src, dst, this.ipId++), this.now());
    this.afterActivity();
  }

  private outbound(p: PacketEvent, timing: Timing): void {
    this.stats.outbound++;
    const flags = p.flags.bits;
    const syn = (flags & TcpFlags.SYN) !== 0;
    const ack = (flags & TcpFlags.ACK) !== 0;
    const sock = this.sut;
    if (sock === null) throw new ScriptFailure(p.loc, 'error handling packet: no matching socket for script packet', scriptPacketText(p), null);
    // handle_connect_for_script_packet: the SYN line of a connecting socket names our ISN.
    if (syn && !ack && sock.state === 'active-connecting') {
      sock.state = 'active-syn-sent';
      if (p.seq.kind === 'range') sock.scriptLocalIsn = p.seq.start >>> 0;
    }
    const synackLine = syn && ack && sock.state === 'passive-packet-received';
    if (synackLine && p.seq.kind === 'range') sock.scriptLocalIsn = p.seq.start >>> 0;
    const want = p.seq.length;
    const deadline = timing.kind === 'any' ? this.now() + NO_LIMIT_US : Math.max(timing.tEnd, timing.t) + SNIFF_TIMEOUT_US;
    const pieces: Sent[] = [];
    let total = 0;
    do {
      const s = this.sniff(sock, deadline, p, timing);
      if (synackLine && sock.state === 'passive-packet-received') {
        sock.state = 'passive-synack-sent';
        sock.liveLocalIsn = s.seg.seq;
      }
      const prev = pieces[pieces.length - 1];
      if (prev !== undefined) {
        const problem = fragmentProblem(prev, s, total + s.seg.payload.length >= want);
        if (problem !== null) throw new ScriptFailure(p.loc, `error handling packet: ${problem}`, scriptPacketText(p), segmentText(s.seg));
      }
      pieces.push(s);
      total += s.seg.payload.length;
    } while (total < want && !this.config.strictSegments);
    const agg = aggregate(pieces);
    if (total !== want) {
      throw new ScriptFailure(p.loc, `error handling packet: live packet payload: expected ${want} bytes vs actual ${total} bytes`, `${secs(timing.t)} ${scriptPacketText(p)}`, `${secs(agg.time)} ${verifyOutbound(p, agg, sock, this.config).actualText}`);
    }
    const v = verifyOutbound(p, agg, sock, this.config);
    const expected = `${secs(timing.t)} ${scriptPacketText(p)}`;
    const actual = `${secs(agg.time)} ${v.actualText}`;
    if (v.error !== null) throw new ScriptFailure(p.loc, `error handling packet: ${v.error}`, expected, actual);
    const tp = timingProblem(this.config, timing, agg.time, this.last?.t ?? null, 'outbound packet');
    if (tp !== null) throw new ScriptFailure(p.loc, `error handling packet: ${tp}`, expected, actual);
    this.note(`${secs(agg.time)} out ${v.actualText}   (line ${p.loc.line} matched${pieces.length > 1 ? `, ${pieces.length} segments` : ''})`);
  }

  /** The next segment of `sock`, waiting for it until `deadline`. */
  private sniff(sock: ScriptSocket, deadline: number, p: PacketEvent, timing: Timing): Sent {
    for (;;) {
      while (this.queue.length > 0) {
        const s = this.queue.shift() as Sent;
        if (this.isFor(sock, s)) return s;
        this.unexpected(s, p.loc);
      }
      const w = this.nextWake();
      if (w === null || w > deadline) {
        this.clock.set(deadline);
        throw new ScriptFailure(p.loc, 'error handling packet: Timed out waiting for packet', `${secs(timing.t)} ${scriptPacketText(p)}`, null);
      }
      this.step(w);
    }
  }

  // ---- system calls --------------------------------------------------------------------------------

  private prepare(ev: SyscallEvent): PreparedCall {
    return prepareCall(ev, this);
  }

  private syscall(ev: SyscallEvent, timing: Timing): void {
    this.stats.syscalls++;
    if (ev.blockingEnd !== null) {
      // The system-call thread: wait for the previous blocking call, start at T, return at END.
      if (this.pending !== null) {
        this.awaitIdle();
        if (this.pending !== null) throw new ScriptFailure(ev.loc, `runtime error in ${ev.name} call: blocking system call while another blocking system call is already in progress`);
      }
      this.startEvent(ev, timing, 'system call start');
      const end = timing.kind === 'relative' ? timing.offset + ev.blockingEnd.usecs : ev.blockingEnd.usecs;
      const call = this.prepare(ev);
      const o = call.attempt();
      if (o === 'block') {
        this.pending = { ev, call, start: timing.t, end, kind: timing.kind };
        this.note(`${secs(this.now())} ${this.callText(ev)} blocks   (line ${ev.loc.line})`);
        return;
      }
      this.finish(ev, call, o);
      this.checkReturn(ev, timing.kind, timing.t, end);
      return;
    }
    if (this.pending !== null) this.awaitIdle();
    this.startEvent(ev, timing, 'system call start');
    const call = this.prepare(ev);
    let o = call.attempt();
    // A call written without `...` on a blocking descriptor blocks the script itself (packetdrill's main
    // thread): only timers can make it return.
    const limit = this.now() + NO_LIMIT_US;
    while (o === 'block') {
      const w = this.nextWake();
      if (w === null || w > limit) {
        throw new ScriptFailure(ev.loc, `runtime error in ${ev.name} call: the call blocks and nothing but a later event could wake it (write it as a blocking call, T...END, or make the descriptor non-blocking)`);
      }
      this.step(w);
      o = call.attempt();
    }
    this.finish(ev, call, o);
    this.afterActivity();
  }

  private callText(ev: SyscallEvent): string {
    return `${ev.name}(${ev.args.map(formatExpr).join(', ')})`;
  }

  private outcomeText(o: CallOutcome): string {
    if (o.ret >= 0 || o.errno === null) return `= ${o.ret}`;
    return `= ${o.ret} ${o.errno} (${strerror(ERRNO[o.errno])})`;
  }

  /** Judges a call's outcome (packetdrill end_syscall); a mismatch fails the script. */
  private finish(ev: SyscallEvent, call: PreparedCall, o: CallOutcome): void {
    const problem = resultProblem(ev, call, o, this);
    this.note(`${secs(this.now())} ${this.callText(ev)} ${this.outcomeText(o)}   (line ${ev.loc.line}${problem === null ? '' : ', expected ' + this.expectedText(ev)})`);
    if (problem !== null) throw new ScriptFailure(ev.loc, `runtime error in ${ev.name} call: ${problem}`, this.expectedText(ev), this.outcomeText(o));
    o.commit?.();
  }

  private expectedText(ev: SyscallEvent): string {
    return `= ${formatExpr(ev.result)}${ev.errno !== null ? ` ${ev.errno.name}` : ''}`;
  }

  /** The return time of a blocking call (run_system_call.c system_call_thread). */
  private checkReturn(ev: SyscallEvent, kind: TimeSpec['kind'], start: number, end: number): void {
    const tp = timingProblem(this.config, { kind, t: end, tEnd: end, offset: 0 }, this.now(), start, 'system call return');
    if (tp !== null) throw new ScriptFailure(ev.loc, tp);
  }

  /** After anything that may have changed a socket: does the blocked call return now? */
  afterActivity(): void {
    const p = this.pending;
    if (p === null) return;
    const o = p.call.attempt();
    if (o === 'block') return;
    this.pending = null;
    this.finish(p.ev, p.call, o);
    this.checkReturn(p.ev, p.kind, p.start, p.end);
  }

  /** run_system_call.c await_idle_thread: wait up to 1 s for the blocking call to return. */
  private awaitIdle(): void {
    const limit = this.now() + AWAIT_IDLE_US;
    while (this.pending !== null) {
      const w = this.nextWake();
      if (w === null || w > limit) {
        this.clock.set(limit);
        this.afterActivity();
        return;
      }
      this.step(w);
    }
  }

  private command(cmd: ShellCommand): void {
    for (const step of cmd.steps) runShellStep(step, cmd, this);
  }
}
