/**
 * System call lines, run on the Host's socket table. Arguments written `...` are filled in as packetdrill
 * fills them (the socket domain from --ip_version, bind and connect addresses, zero-filled buffers);
 * symbolic constants take Linux's values; script descriptors are labels mapped to the live ones.
 *
 * A call is prepared once and then attempted: it returns its outcome, or 'block' when it would block on a
 * blocking descriptor. The runner decides what blocking means: a `T...END` call waits in the background
 * (packetdrill's system-call thread) while the script goes on; a call written without `...` blocks the
 * script itself until a timer makes it ready.
 *
 * Results are judged as packetdrill's end_syscall does, with its messages: descriptors returned by
 * socket() and accept() need only be non-negative; everything else must be exact; an errno is compared by
 * number (EWOULDBLOCK is EAGAIN).
 */
import { ERRNO, errnoName, isErrno } from '../socket/errno.js';
import type { Errno } from '../socket/errno.js';
import type { Socket } from '../socket/socket.js';
import type { SockOpt, SockOptValue } from '../socket/table.js';
import type { Host } from '../stack/host.js';
import type { Expr, Loc, SyscallEvent } from './ast.js';
import { formatExpr } from './format.js';
import type { Knobs, ScriptConfig } from './env.js';
import { linkMss } from './env.js';
import { ScriptSocket } from './packets.js';
import { RuntimeUnsupported, ScriptFailure } from './outcome.js';

/** Linux's values for the symbolic constants the runner evaluates (include/uapi headers). */
const SYMBOL_VALUES: Readonly<Record<string, number>> = {
  AF_UNSPEC: 0, AF_INET: 2, AF_INET6: 10, PF_UNSPEC: 0, PF_INET: 2, PF_INET6: 10,
  SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_NONBLOCK: 0o4000, SOCK_CLOEXEC: 0o2000000,
  IPPROTO_IP: 0, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_IPV6: 41,
  SOL_SOCKET: 1, SOL_IP: 0, SOL_TCP: 6, SOL_IPV6: 41,
  SO_DEBUG: 1, SO_REUSEADDR: 2, SO_TYPE: 3, SO_ERROR: 4, SO_DONTROUTE: 5, SO_BROADCAST: 6, SO_SNDBUF: 7,
  SO_RCVBUF: 8, SO_KEEPALIVE: 9, SO_OOBINLINE: 10, SO_LINGER: 13, SO_REUSEPORT: 15, SO_RCVLOWAT: 18,
  SO_SNDLOWAT: 19, SO_ACCEPTCONN: 30,
  TCP_NODELAY: 1, TCP_MAXSEG: 2, TCP_CORK: 3, TCP_KEEPIDLE: 4, TCP_KEEPINTVL: 5, TCP_KEEPCNT: 6, TCP_SYNCNT: 7,
  TCP_LINGER2: 8,
  O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_NONBLOCK: 0o4000, O_NDELAY: 0o4000,
  F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4, FD_CLOEXEC: 1,
  SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2,
  MSG_OOB: 1, MSG_PEEK: 2, MSG_TRUNC: 0x20, MSG_DONTWAIT: 0x40, MSG_WAITALL: 0x100, MSG_NOSIGNAL: 0x4000,
  SIOCINQ: 0x541b, FIONREAD: 0x541b, SIOCOUTQ: 0x5411, FIONBIO: 0x5421,
  POLLIN: 0x1, POLLPRI: 0x2, POLLOUT: 0x4, POLLERR: 0x8, POLLHUP: 0x10, POLLNVAL: 0x20, POLLRDNORM: 0x40,
  POLLRDBAND: 0x80, POLLWRNORM: 0x100, POLLWRBAND: 0x200, POLLRDHUP: 0x2000,
};

/** errno names Linux defines as another name's number (EWOULDBLOCK is EAGAIN). */
const ERRNO_ALIASES: Readonly<Record<string, Errno>> = { EWOULDBLOCK: 'EAGAIN', ENOTSUP: 'EOPNOTSUPP' };

/** The Linux number of an errno name, or undefined for a name Linux does not have. */
export function errnoValue(name: string): number | undefined {
  const canonical = ERRNO_ALIASES[name] ?? name;
  return Object.prototype.hasOwnProperty.call(ERRNO, canonical) ? ERRNO[canonical as Errno] : undefined;
}

/** glibc's strerror texts for the errnos a socket call gives. */
const STRERROR: Readonly<Partial<Record<Errno, string>>> = {
  EPERM: 'Operation not permitted', EINTR: 'Interrupted system call', EIO: 'Input/output error',
  EBADF: 'Bad file descriptor', EAGAIN: 'Resource temporarily unavailable', ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied', EFAULT: 'Bad address', EINVAL: 'Invalid argument', ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files', EPIPE: 'Broken pipe', ENOTSOCK: 'Socket operation on non-socket',
  EDESTADDRREQ: 'Destination address required', EMSGSIZE: 'Message too long',
  EPROTOTYPE: 'Protocol wrong type for socket', ENOPROTOOPT: 'Protocol not available',
  EPROTONOSUPPORT: 'Protocol not supported', ESOCKTNOSUPPORT: 'Socket type not supported',
  EOPNOTSUPP: 'Operation not supported', EAFNOSUPPORT: 'Address family not supported by protocol',
  EADDRINUSE: 'Address already in use', EADDRNOTAVAIL: 'Cannot assign requested address',
  ENETDOWN: 'Network is down', ENETUNREACH: 'Network is unreachable', ECONNABORTED: 'Software caused connection abort',
  ECONNRESET: 'Connection reset by peer', ENOBUFS: 'No buffer space available',
  EISCONN: 'Transport endpoint is already connected', ENOTCONN: 'Transport endpoint is not connected',
  ETIMEDOUT: 'Connection timed out', ECONNREFUSED: 'Connection refused', EHOSTUNREACH: 'No route to host',
  EALREADY: 'Operation already in progress', EINPROGRESS: 'Operation now in progress',
};

export function strerror(n: number): string {
  const name = errnoName(n);
  return (name !== undefined ? STRERROR[name] : undefined) ?? `Unknown error ${n}`;
}

/** What the runner gives the calls. */
export interface CallContext {
  readonly host: Host;
  readonly config: ScriptConfig;
  readonly knobs: Knobs;
  readonly family: 'linux' | 'freebsd';
  now(): number;
  socketByScriptFd(fd: number): ScriptSocket | undefined;
  /** socket() made this one: it becomes the socket under test. */
  addSocket(s: ScriptSocket): void;
  /** accept() gave live descriptor `liveFd`, which the script calls `scriptFd`. */
  accepted(scriptFd: number, liveFd: number): void;
  /** connect() is starting on `s`: it becomes the socket under test, connecting. */
  connecting(s: ScriptSocket): void;
  /** close() released the script descriptor of `s`. */
  closed(s: ScriptSocket): void;
}

export interface CallOutcome {
  readonly ret: number;
  readonly errno: Errno | null;
  /** Checks of out-parameters (getsockopt's value...), run after the result and errno checks. */
  readonly check?: () => string | null;
  /** What follows from a call the script accepted (descriptor mappings). */
  readonly commit?: () => void;
}

export interface PreparedCall {
  readonly name: string;
  /** socket() and accept() return descriptors: any non-negative value passes for an expected one. */
  readonly returnsFd: boolean;
  /** The call now: its outcome, or 'block' when it would block. */
  attempt(): CallOutcome | 'block';
  /** A time (µs) at which a blocked call gives up by itself (poll's timeout), or null. */
  wakeAt(): number | null;
}

function fail(loc: Loc, message: string): never {
  throw new ScriptFailure(loc, message);
}

function unsupported(loc: Loc, what: string): never {
  throw new RuntimeUnsupported(loc, what);
}

/** A pure-number view of an expression, with Linux's constant values; `[v]` is v. */
export function intOf(e: Expr | undefined, ctx: CallContext, what: string, loc: Loc): number {
  if (e === undefined) return fail(loc, `missing ${what}`);
  switch (e.kind) {
    case 'int':
      return e.value;
    case 'word': {
      const defined = ctx.config.defines.get(e.name);
      if (defined !== undefined && defined !== null && /^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(defined)) return Number(defined);
      const v = SYMBOL_VALUES[e.name] ?? errnoValue(e.name);
      if (v === undefined) return unsupported(e.loc, `symbol ${e.name} in ${what}`);
      return v;
    }
    case 'or': {
      let v = 0;
      for (const t of e.terms) v |= intOf(t, ctx, what, loc);
      return v;
    }
    case 'list':
      if (e.items.length === 1) return intOf(e.items[0], ctx, what, loc);
      return fail(e.loc, `expected one value in ${what}, got ${formatExpr(e)}`);
    case 'ellipsis':
    case 'string':
    case 'struct':
    case 'field':
    case 'call':
      return fail(e.loc, `bad ${what}: ${formatExpr(e)}`);
    default: {
      const never: never = e;
      return never;
    }
  }
}

function wordOf(e: Expr | undefined, what: string, loc: Loc): string {
  if (e === undefined) return fail(loc, `missing ${what}`);
  if (e.kind !== 'word') return unsupported(e.loc, `${what} ${formatExpr(e)}`);
  return e.name;
}

function structField(e: Expr | undefined, name: string): Expr | undefined {
  if (e === undefined || e.kind !== 'struct') return undefined;
  for (const f of e.items) if (f.kind === 'field' && f.name === name) return f.value;
  return undefined;
}

/** The judgement of an outcome against the line (packetdrill end_syscall), or null when it matches. */
export function resultProblem(ev: SyscallEvent, call: PreparedCall, o: CallOutcome, ctx: CallContext): string | null {
  const expected = intOf(ev.result, ctx, 'return value', ev.loc);
  const errnoNum = o.errno === null ? 0 : ERRNO[o.errno];
  const withErrno = o.ret < 0 ? ` with errno ${errnoNum} (${strerror(errnoNum)})` : '';
  if (call.returnsFd) {
    if (expected >= 0 && o.ret < 0) return `Expected non-negative result but got ${o.ret}${withErrno}`;
    if (expected < 0 && o.ret !== expected) return `Expected result ${expected} but got ${o.ret}${withErrno}`;
  } else if (o.ret !== expected) {
    return `Expected result ${expected} but got ${o.ret}${withErrno}`;
  }
  if (o.ret < 0 && ev.errno !== null) {
    const want = errnoValue(ev.errno.name);
    if (want !== errnoNum) {
      const wantText = want === undefined ? `${ev.errno.name} (not a Linux errno)` : `${want} (${strerror(want)})`;
      return `Expected errno ${wantText} but got ${errnoNum} (${strerror(errnoNum)})`;
    }
  }
  return o.check?.() ?? null;
}

/** The live socket behind a script descriptor. */
function liveSocket(ctx: CallContext, liveFd: number): Socket | undefined {
  return ctx.host.sockets.fds.get(liveFd);
}

/** A call that never blocks. */
function now(name: string, run: () => CallOutcome, returnsFd = false): PreparedCall {
  return { name, returnsFd, attempt: run, wakeAt: () => null };
}

function errnoOutcome(r: Errno): CallOutcome {
  return { ret: -1, errno: r };
}

const SOCKOPTS: Readonly<Record<string, { level: 'socket' | 'tcp'; opt: SockOpt | 'TCP_KEEPINIT' }>> = {
  SO_REUSEADDR: { level: 'socket', opt: 'SO_REUSEADDR' },
  SO_LINGER: { level: 'socket', opt: 'SO_LINGER' },
  SO_ERROR: { level: 'socket', opt: 'SO_ERROR' },
  SO_RCVBUF: { level: 'socket', opt: 'SO_RCVBUF' },
  SO_SNDBUF: { level: 'socket', opt: 'SO_SNDBUF' },
  TCP_MAXSEG: { level: 'tcp', opt: 'TCP_MAXSEG' },
  TCP_NODELAY: { level: 'tcp', opt: 'TCP_NODELAY' },
  TCP_KEEPINIT: { level: 'tcp', opt: 'TCP_KEEPINIT' },
};

/**
 * Prepares a call (arguments evaluated, descriptors mapped). Throws ScriptFailure for a call that cannot
 * be made as written and RuntimeUnsupported for one synack does not model.
 */
export function prepareCall(ev: SyscallEvent, ctx: CallContext): PreparedCall {
  const call = prepare(ev, ctx);
  // The socket table takes the time of a call from the Host, which reads the clock when asked.
  return {
    name: call.name,
    returnsFd: call.returnsFd,
    wakeAt: () => call.wakeAt(),
    attempt: () => {
      ctx.host.now();
      return call.attempt();
    },
  };
}

function prepare(ev: SyscallEvent, ctx: CallContext): PreparedCall {
  const a = ev.args;
  const loc = ev.loc;
  const t = ctx.host.sockets;
  const sockOf = (i: number): { sock: ScriptSocket; fd: number } => {
    const scriptFd = intOf(a[i], ctx, 'file descriptor', loc);
    const sock = ctx.socketByScriptFd(scriptFd);
    if (sock === undefined || sock.liveFd === null) return fail(loc, `bad file descriptor ${scriptFd} (no socket() or accept() gave it)`);
    return { sock, fd: sock.liveFd };
  };
  const blockingFd = (fd: number, flags = 0): boolean => (flags & (SYMBOL_VALUES['MSG_DONTWAIT'] as number)) === 0 && liveSocket(ctx, fd)?.options.nonBlocking !== true;
  const msgFlags = (e: Expr | undefined): number => {
    const f = intOf(e, ctx, 'flags', loc);
    const allowed = (SYMBOL_VALUES['MSG_DONTWAIT'] as number) | (SYMBOL_VALUES['MSG_NOSIGNAL'] as number);
    if ((f & ~allowed) !== 0) return unsupported(e?.loc ?? loc, `message flags ${e === undefined ? f : formatExpr(e)}`);
    return f;
  };

  switch (ev.name) {
    case 'socket': {
      const d = a[0];
      let domain: 'inet' | 'inet6' = ctx.config.ipVersion === 4 ? 'inet' : 'inet6';
      if (d !== undefined && d.kind !== 'ellipsis') {
        const v = intOf(d, ctx, 'domain', loc);
        if (v === 2) domain = 'inet';
        else if (v === 10) domain = 'inet6';
        else return unsupported(d.loc, `socket domain ${formatExpr(d)}`);
        if ((domain === 'inet') !== (ctx.config.ipVersion === 4)) return unsupported(d.loc, `${formatExpr(d)} socket in an IPv${ctx.config.ipVersion} run`);
      }
      const type = intOf(a[1], ctx, 'socket type', loc);
      const base = type & 0xf;
      if (base !== SYMBOL_VALUES['SOCK_STREAM']) return unsupported(a[1]?.loc ?? loc, `socket type ${a[1] === undefined ? type : formatExpr(a[1])} (synack has TCP only)`);
      const protocol = a[2] === undefined || a[2].kind === 'ellipsis' ? 0 : intOf(a[2], ctx, 'protocol', loc);
      const expected = ev.result.kind === 'int' ? ev.result.value : -1;
      return now(
        'socket',
        () => {
          // Linux inet_create: a SOCK_STREAM socket takes protocol 0 or IPPROTO_TCP; anything else is
          // EPROTONOSUPPORT.
          if (protocol !== 0 && protocol !== 6) return errnoOutcome('EPROTONOSUPPORT');
          const fd = t.socket(domain);
          if (isErrno(fd)) return errnoOutcome(fd);
          applySocketDefaults(ctx, fd);
          if ((type & (SYMBOL_VALUES['SOCK_NONBLOCK'] as number)) !== 0) t.fcntl(fd, 'F_SETFL', SYMBOL_VALUES['O_NONBLOCK'] as number);
          return { ret: fd, errno: null, commit: () => ctx.addSocket(new ScriptSocket('new', expected, fd)) };
        },
        true,
      );
    }
    case 'bind': {
      const { sock, fd } = sockOf(0);
      // google packetdrill binds the local address (config.c live_bind_ip = live_local_ip); the nplab
      // fork the FreeBSD suite runs on binds INADDR_ANY.
      const any = ctx.config.ipVersion === 4 ? '0.0.0.0' : '::';
      const address = ctx.family === 'freebsd' ? any : ctx.config.localIp;
      return now('bind', () => {
        const r = t.bind(fd, address, ctx.config.bindPort);
        if (isErrno(r)) return errnoOutcome(r);
        sock.local = { addr: ctx.config.localIp, port: ctx.config.bindPort };
        return { ret: 0, errno: null };
      });
    }
    case 'listen': {
      const { sock, fd } = sockOf(0);
      const backlog = intOf(a[1], ctx, 'backlog', loc);
      return now('listen', () => {
        const r = t.listen(fd, backlog);
        if (isErrno(r)) return errnoOutcome(r);
        sock.state = 'listening';
        const s = liveSocket(ctx, fd);
        if (s !== undefined) sock.local = { addr: ctx.config.localIp, port: s.tcb.local.port };
        return { ret: 0, errno: null };
      });
    }
    case 'accept': {
      const { fd } = sockOf(0);
      const expected = ev.result.kind === 'int' ? ev.result.value : -1;
      return {
        name: 'accept',
        returnsFd: true,
        wakeAt: () => null,
        attempt: () => {
          const r = t.accept(fd);
          if (r === 'EAGAIN' && blockingFd(fd)) return 'block';
          if (isErrno(r)) return errnoOutcome(r);
          return { ret: r.fd, errno: null, commit: () => ctx.accepted(expected, r.fd) };
        },
      };
    }
    case 'connect': {
      const { sock, fd } = sockOf(0);
      let started = false;
      return {
        name: 'connect',
        returnsFd: false,
        wakeAt: () => null,
        attempt: () => {
          if (!started) {
            started = true;
            // packetdrill marks the socket connecting before the call, so the SYN it sends is matched.
            sock.remote = { addr: ctx.config.remoteIp, port: ctx.config.connectPort };
            sock.state = 'active-connecting';
            ctx.connecting(sock);
            const r = t.connect(fd, ctx.config.remoteIp, ctx.config.connectPort);
            if (r !== 'EINPROGRESS') return errnoOutcome(r);
            const s = liveSocket(ctx, fd);
            if (s !== undefined) sock.local = { ...s.tcb.local };
            if (!blockingFd(fd)) return errnoOutcome('EINPROGRESS');
          }
          // A blocking connect returns when the handshake completes or fails (Linux inet_wait_for_connect).
          const rd = t.readiness(fd);
          if (isErrno(rd)) return errnoOutcome(rd);
          if (rd.error) {
            const e = t.getsockopt(fd, 'SO_ERROR');
            const name = typeof e === 'number' ? errnoName(e) : undefined;
            return errnoOutcome(name ?? 'EIO');
          }
          if (rd.writable) return { ret: 0, errno: null };
          if (liveSocket(ctx, fd)?.tcb.state === 'CLOSED') return errnoOutcome('ECONNABORTED');
          return 'block';
        },
      };
    }
    case 'read':
    case 'recv':
    case 'recvfrom': {
      const { fd } = sockOf(0);
      const count = intOf(a[2], ctx, 'count', loc);
      const flags = ev.name === 'read' ? 0 : msgFlags(a[3]);
      return {
        name: ev.name,
        returnsFd: false,
        wakeAt: () => null,
        attempt: () => {
          const r = t.recv(fd, count);
          if (r === 'EAGAIN' && blockingFd(fd, flags)) return 'block';
          if (isErrno(r)) return errnoOutcome(r);
          return { ret: r.length, errno: null };
        },
      };
    }
    case 'write':
    case 'send':
    case 'sendto': {
      const { fd } = sockOf(0);
      const count = intOf(a[2], ctx, 'count', loc);
      const flags = ev.name === 'write' ? 0 : msgFlags(a[3]);
      let sent = 0;
      return {
        name: ev.name,
        returnsFd: false,
        wakeAt: () => null,
        attempt: () => {
          // A blocking send returns once everything is queued (Linux tcp_sendmsg waits for room).
          while (sent < count) {
            const r = t.send(fd, new Uint8Array(count - sent));
            if (isErrno(r)) {
              if (sent > 0 && r === 'EAGAIN' && !blockingFd(fd, flags)) return { ret: sent, errno: null };
              if (r === 'EAGAIN' && blockingFd(fd, flags)) return 'block';
              return sent > 0 ? { ret: sent, errno: null } : errnoOutcome(r);
            }
            sent += r;
            if (sent < count && !blockingFd(fd, flags)) return { ret: sent, errno: null };
            if (sent < count) return 'block';
          }
          return { ret: sent, errno: null };
        },
      };
    }
    case 'close': {
      const { sock, fd } = sockOf(0);
      return now('close', () => {
        const r = t.close(fd);
        if (isErrno(r)) return errnoOutcome(r);
        return { ret: 0, errno: null, commit: () => ctx.closed(sock) };
      });
    }
    case 'shutdown': {
      const { fd } = sockOf(0);
      const how = intOf(a[1], ctx, 'how', loc);
      const names = ['SHUT_RD', 'SHUT_WR', 'SHUT_RDWR'] as const;
      const h = names[how];
      return now('shutdown', () => {
        if (h === undefined) return errnoOutcome('EINVAL');
        const r = t.shutdown(fd, h);
        return isErrno(r) ? errnoOutcome(r) : { ret: 0, errno: null };
      });
    }
    case 'getsockopt':
    case 'setsockopt':
      return sockopt(ev, ctx, sockOf(0).fd);
    case 'fcntl': {
      const { fd } = sockOf(0);
      const cmd = wordOf(a[1], 'fcntl command', loc);
      if (cmd === 'F_GETFL') return now('fcntl', () => { const r = t.fcntl(fd, 'F_GETFL'); return isErrno(r) ? errnoOutcome(r) : { ret: r, errno: null }; });
      if (cmd === 'F_SETFL') {
        const flags = intOf(a[2], ctx, 'fcntl flags', loc);
        return now('fcntl', () => { const r = t.fcntl(fd, 'F_SETFL', flags); return isErrno(r) ? errnoOutcome(r) : { ret: r, errno: null }; });
      }
      return unsupported(a[1]?.loc ?? loc, `fcntl command ${cmd}`);
    }
    case 'ioctl': {
      const { fd } = sockOf(0);
      const req = wordOf(a[1], 'ioctl request', loc);
      if (req !== 'SIOCINQ' && req !== 'FIONREAD' && req !== 'SIOCOUTQ') return unsupported(a[1]?.loc ?? loc, `ioctl ${req}`);
      const want = a[2] === undefined || a[2].kind === 'ellipsis' ? null : intOf(a[2], ctx, `${req} value`, loc);
      return now('ioctl', () => {
        const s = liveSocket(ctx, fd);
        if (s === undefined) return errnoOutcome('EBADF');
        // Linux tcp_ioctl: EINVAL on a listener; SIOCINQ counts the bytes ready to read, SIOCOUTQ the
        // bytes sent or queued and not yet acknowledged.
        if (s.role === 'listener') return errnoOutcome('EINVAL');
        const st = s.tcb;
        const got = req === 'SIOCOUTQ' ? st.sendBuf.length : st.readable;
        return { ret: 0, errno: null, check: () => (want !== null && got !== want ? `Bad ioctl ${req} value: expected: ${want} actual: ${got}` : null) };
      });
    }
    case 'getsockname':
    case 'getpeername': {
      const { fd } = sockOf(0);
      return now(ev.name, () => {
        const r = ev.name === 'getsockname' ? t.getsockname(fd) : t.getpeername(fd);
        return isErrno(r) ? errnoOutcome(r) : { ret: 0, errno: null };
      });
    }
    case 'poll':
      return poll(ev, ctx);
    default:
      return unsupported(loc, `system call ${ev.name}`);
  }
}

/** What synack's socket table cannot set by itself: the link MTU's MSS and FreeBSD's sendspace. */
function applySocketDefaults(ctx: CallContext, fd: number): void {
  const s = liveSocket(ctx, fd);
  if (s === undefined) return;
  if (ctx.config.mtu !== 1500) s.tcb.config.mss = linkMss(ctx.config);
  if (ctx.knobs.sendSpace !== null) {
    s.tcb.config.sndBuf = ctx.knobs.sendSpace;
    s.tcb.sendBuf.capacity = ctx.knobs.sendSpace;
  }
}

function sockopt(ev: SyscallEvent, ctx: CallContext, fd: number): PreparedCall {
  const a = ev.args;
  const loc = ev.loc;
  const t = ctx.host.sockets;
  const name = wordOf(a[2], 'socket option', loc);
  const info = SOCKOPTS[name];
  if (info === undefined) return unsupported(a[2]?.loc ?? loc, `socket option ${name}`);
  const level = intOf(a[1], ctx, 'level', loc);
  const levelOk = info.level === 'socket' ? level === SYMBOL_VALUES['SOL_SOCKET'] : level === SYMBOL_VALUES['SOL_TCP'];
  if (info.opt === 'TCP_KEEPINIT' && ctx.family !== 'freebsd') return unsupported(a[2]?.loc ?? loc, 'socket option TCP_KEEPINIT (FreeBSD only)');
  const value = a[3];
  if (ev.name === 'setsockopt') {
    let v: SockOptValue;
    if (info.opt === 'SO_LINGER') {
      const onoff = structField(value, 'onoff');
      const linger = structField(value, 'linger');
      if (onoff === undefined || linger === undefined) return fail(loc, `SO_LINGER needs {onoff=..., linger=...}, got ${value === undefined ? 'nothing' : formatExpr(value)}`);
      v = { onoff: intOf(onoff, ctx, 'onoff', loc) !== 0, seconds: intOf(linger, ctx, 'linger', loc) };
    } else {
      v = intOf(value, ctx, `${name} value`, loc);
    }
    return now('setsockopt', () => {
      if (!levelOk) return errnoOutcome('ENOPROTOOPT');
      if (info.opt === 'TCP_KEEPINIT') {
        // FreeBSD tcp_ctloutput TCP_KEEPINIT: seconds, the limit on the connection attempt (tcp_timer_keep).
        const s = liveSocket(ctx, fd);
        if (s === undefined) return errnoOutcome('EBADF');
        s.tcb.config.connectTimeoutUs = (v as number) * 1_000_000;
        return { ret: 0, errno: null };
      }
      const r = t.setsockopt(fd, info.opt, v);
      return isErrno(r) ? errnoOutcome(r) : { ret: 0, errno: null };
    });
  }
  // getsockopt: the value written in the script is compared with what the call gives.
  let want: number | { onoff: number; linger: number } | null = null;
  if (value !== undefined && value.kind !== 'ellipsis') {
    if (info.opt === 'SO_LINGER') {
      const onoff = structField(value, 'onoff');
      const linger = structField(value, 'linger');
      if (onoff === undefined || linger === undefined) return fail(loc, `SO_LINGER needs {onoff=..., linger=...}`);
      want = { onoff: intOf(onoff, ctx, 'onoff', loc), linger: intOf(linger, ctx, 'linger', loc) };
    } else {
      want = intOf(value, ctx, `${name} value`, loc);
    }
  }
  const lenExpr = a[4];
  const wantLen = lenExpr === undefined || lenExpr.kind === 'ellipsis' ? null : intOf(lenExpr, ctx, 'option length', loc);
  return now('getsockopt', () => {
    if (!levelOk || info.opt === 'TCP_KEEPINIT') return errnoOutcome('ENOPROTOOPT');
    const r = t.getsockopt(fd, info.opt);
    if (isErrno(r)) return errnoOutcome(r);
    const gotLen = info.opt === 'SO_LINGER' ? 8 : 4;
    return {
      ret: 0,
      errno: null,
      check: () => {
        if (want !== null) {
          if (typeof want === 'number') {
            const got = typeof r === 'number' ? r : typeof r === 'boolean' ? (r ? 1 : 0) : NaN;
            if (got !== want) return `Bad getsockopt optval: expected: ${want} actual: ${got}`;
          } else if (typeof r === 'object') {
            const got = { onoff: r.onoff ? 1 : 0, linger: r.seconds };
            if (got.onoff !== want.onoff || got.linger !== want.linger) {
              return `Bad getsockopt SO_LINGER: expected: {onoff=${want.onoff}, linger=${want.linger}} actual: {onoff=${got.onoff}, linger=${got.linger}}`;
            }
          }
        }
        if (wantLen !== null && wantLen !== gotLen) return `Bad getsockopt optlen: expected: ${wantLen} actual: ${gotLen}`;
        return null;
      },
    };
  });
}

/** Linux tcp_poll's mask, from the socket table's readiness. */
function pollMask(ctx: CallContext, fd: number): number {
  const V = SYMBOL_VALUES as Record<string, number>;
  const r = ctx.host.sockets.readiness(fd);
  if (isErrno(r)) return V['POLLNVAL'] as number;
  const s = liveSocket(ctx, fd);
  let m = 0;
  if (r.readable) m |= (V['POLLIN'] as number) | (V['POLLRDNORM'] as number);
  if (r.writable) m |= (V['POLLOUT'] as number) | (V['POLLWRNORM'] as number);
  if (r.error) m |= V['POLLERR'] as number;
  if (r.hangup) m |= V['POLLHUP'] as number;
  if (s?.tcb.finReceived === true) m |= V['POLLRDHUP'] as number;
  return m;
}

function poll(ev: SyscallEvent, ctx: CallContext): PreparedCall {
  const loc = ev.loc;
  const list = ev.args[0];
  if (list === undefined || list.kind !== 'list') return fail(loc, 'poll needs a list of {fd=..., events=..., revents=...}');
  const V = SYMBOL_VALUES as Record<string, number>;
  const entries = list.items.map((item) => {
    const scriptFd = intOf(structField(item, 'fd'), ctx, 'poll fd', loc);
    const sock = ctx.socketByScriptFd(scriptFd);
    if (sock === undefined || sock.liveFd === null) return fail(loc, `bad file descriptor ${scriptFd} in poll`);
    const events = intOf(structField(item, 'events'), ctx, 'poll events', loc);
    const re = structField(item, 'revents');
    return { fd: sock.liveFd, scriptFd, events, revents: re === undefined ? null : intOf(re, ctx, 'poll revents', loc) };
  });
  const timeoutMs = intOf(ev.args[2], ctx, 'poll timeout', loc);
  const start = ctx.now();
  const always = (V['POLLERR'] as number) | (V['POLLHUP'] as number) | (V['POLLNVAL'] as number);
  return {
    name: 'poll',
    returnsFd: false,
    wakeAt: () => (timeoutMs > 0 ? start + timeoutMs * 1000 : null),
    attempt: () => {
      const got = entries.map((e) => pollMask(ctx, e.fd) & (e.events | always));
      const ready = got.filter((g) => g !== 0).length;
      const expired = timeoutMs === 0 || (timeoutMs > 0 && ctx.now() >= start + timeoutMs * 1000);
      if (ready === 0 && !expired) return 'block';
      return {
        ret: ready,
        errno: null,
        check: () => {
          for (let i = 0; i < entries.length; i++) {
            const e = entries[i] as (typeof entries)[number];
            const g = got[i] as number;
            if (e.revents !== null && e.revents !== g) return `poll fd ${e.scriptFd}: expected revents 0x${e.revents.toString(16)} but got 0x${g.toString(16)}`;
          }
          return null;
        },
      };
    },
  };
}
