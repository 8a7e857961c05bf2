/**
 * Issue 3, "Done when" #2: on every kernel capture in fixtures/, a synack Host playing one side answers
 * with the segments the Linux 6.18 kernel sent there — one test per kernel segment (and one per segment
 * synack sent that the kernel did not), plus one for the application's own checks (data read, errno).
 *
 * The server side of every server scenario is played; so is the client side of every scenario, and
 * both ends of simultaneous-open (where the kernel under test is a client: syn-timeout,
 * simultaneous-open, rst-abort-reuse, and the clients of the others). The Host gets the played side's
 * addresses and MAC and the other side's frames at their capture times (replay.ts).
 *
 * Each scenario below spells out the application that ran on the played side (tools/fixture-apps/*.py,
 * fixtures/MANIFEST.md): what it listens on, what it reads and writes, when it closes. The moment of
 * each call is the moment the kernel's corresponding segment left (its reply at the kernel's reply,
 * its close() at the kernel's FIN), found in the capture by what the segment is, not by frame number;
 * a blocking reader reads as soon as data arrives.
 *
 * The Host is Linux 6.18 as captured: the `linux` personality with tcp_rmem[2] = 32 MiB (see
 * LINUX_6_18 below), so it offers wscale 10 as the kernel did. */
import { describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { isErrno } from '../../src/socket/errno.js';
import { linux } from '../../src/tcp/personality.js';
import type { Personality } from '../../src/tcp/personality.js';
import { TcpFlags } from '../../src/wire/tcp.js';
import type { TcpRepr } from '../../src/wire/tcp.js';
import { compare, explain, replay } from './replay.js';
import type { Action, App, ReplayResult, Scenario, SegmentComparison } from './replay.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

/**
 * Linux 6.18 defaults, as the `linux` personality has them: since Linux 6.16 ("tcp: increase
 * tcp_rmem[2] to 32 MB", tcp_init: max_rshare = min(32 MiB, limit)) tcp_rmem[2] is 33554432, so
 * tcp_select_initial_window offers wscale ilog2(32 MiB) - 15 = 10 (the captures: "WS=1024").
 */
const LINUX_6_18: Personality = linux;

const SRV_MAC = '02:00:00:00:00:01';
const CLI_MAC = '02:00:00:00:00:02';
const SRV4 = '198.18.0.1';
const CLI4 = ['198.18.0.11', '198.18.0.12', '198.18.0.13'] as const;
const SRV6 = '2001:db8::1';
const CLI6 = ['2001:db8::11', '2001:db8::12', '2001:db8::13'] as const;

const text = (u: Uint8Array): string => new TextDecoder().decode(u);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const hasData = (t: TcpRepr): boolean => t.payload.length > 0;
const hasFin = (t: TcpRepr): boolean => (t.flags & TcpFlags.FIN) !== 0;
const hasRst = (t: TcpRepr): boolean => (t.flags & TcpFlags.RST) !== 0;
const isSyn = (t: TcpRepr): boolean => (t.flags & TcpFlags.SYN) !== 0;

/** Everything readable now: data, end of stream, or an error. */
function drain(app: App, fd: number): { data: string; eof: boolean; error: string | null } {
  let data = '';
  for (;;) {
    const r = app.sockets.recv(fd);
    if (r === 'EAGAIN') return { data, eof: false, error: null };
    if (isErrno(r)) return { data, eof: false, error: r };
    if (r.length === 0) return { data, eof: true, error: null };
    data += text(r);
  }
}

function ok(app: App, what: string, r: unknown, want: unknown = 0): void {
  if (r !== want) app.fail(`${what}: ${String(r)}, expected ${String(want)}`);
}

function listenOn(app: App, addr: string, port: number, backlog: number): number {
  const s = app.sockets;
  const fd = s.socket(addr.includes(':') ? 'inet6' : 'inet');
  if (isErrno(fd)) throw new Error(`socket: ${fd}`);
  ok(app, 'setsockopt SO_REUSEADDR', s.setsockopt(fd, 'SO_REUSEADDR', 1));
  ok(app, `bind ${addr}:${port}`, s.bind(fd, addr, port));
  ok(app, `listen ${port}`, s.listen(fd, backlog));
  return fd;
}

function connectFrom(app: App, local: string, localPort: number, remote: string, remotePort: number, reuse: boolean): number {
  const s = app.sockets;
  const fd = s.socket(local.includes(':') ? 'inet6' : 'inet');
  if (isErrno(fd)) throw new Error(`socket: ${fd}`);
  if (reuse) ok(app, 'setsockopt SO_REUSEADDR', s.setsockopt(fd, 'SO_REUSEADDR', 1));
  ok(app, `bind ${local}:${localPort}`, s.bind(fd, local, localPort));
  ok(app, `connect ${remote}:${remotePort}`, s.connect(fd, remote, remotePort), 'EINPROGRESS');
  return fd;
}

function first(list: number[], what: string): number {
  const n = list[0];
  if (n === undefined) throw new Error(`the capture has no ${what}`);
  return n;
}

const at = (frame: number, why: string, run: (app: App) => void): Action => ({ frame, when: 'at', why, run });
const after = (frame: number, why: string, run: (app: App) => void): Action => ({ frame, when: 'after', why, run });

// ---- web-mail (v4 and v6): webmail.py -----------------------------------------------------------------

interface WebMailConn {
  n: number;
  client: number;
  port: 80 | 25;
  request: string;
  reply: string;
  closesFirst: 'client' | 'server';
}

/** fixtures/MANIFEST.md, web-mail-v4: the nine connections. */
const WEB_MAIL: readonly WebMailConn[] = [
  { n: 1, client: 0, port: 80, request: 'GET /index.html HTTP/1.1', reply: 'HTTP/1.1 200 OK', closesFirst: 'client' },
  { n: 2, client: 1, port: 80, request: 'GET /about.html HTTP/1.0', reply: 'HTTP/1.0 200 OK', closesFirst: 'server' },
  { n: 3, client: 2, port: 80, request: 'GET /news.html HTTP/1.1', reply: 'HTTP/1.1 200 OK', closesFirst: 'client' },
  { n: 4, client: 0, port: 25, request: 'QUIT', reply: '221 mail.example closing', closesFirst: 'server' },
  { n: 5, client: 1, port: 25, request: 'HELO client12.example', reply: '250 mail.example greets client12.example', closesFirst: 'client' },
  { n: 6, client: 2, port: 25, request: 'QUIT', reply: '221 mail.example closing', closesFirst: 'server' },
  { n: 7, client: 0, port: 80, request: 'GET /logo.png HTTP/1.0', reply: 'HTTP/1.0 200 OK', closesFirst: 'server' },
  { n: 8, client: 1, port: 80, request: 'GET /style.css HTTP/1.1', reply: 'HTTP/1.1 200 OK', closesFirst: 'client' },
  { n: 9, client: 2, port: 80, request: 'GET /feed.xml HTTP/1.0', reply: 'HTTP/1.0 200 OK', closesFirst: 'server' },
];

function webMail(v: 4 | 6): Scenario {
  const srv = v === 4 ? SRV4 : SRV6;
  const clients = v === 4 ? CLI4 : CLI6;
  let web = -1;
  let mail = -1;
  const accepted = new Map<string, number>();
  return {
    name: `web-mail-v${v}`,
    file: `web-mail-v${v}.pcap`,
    self: srv,
    mac: SRV_MAC,
    neighbors: {},
    personality: LINUX_6_18,
    // Both listeners bound to the server's own address, SO_REUSEADDR, listen(16).
    setup(app) {
      web = listenOn(app, srv, 80, 16);
      mail = listenOn(app, srv, 25, 16);
    },
    // A selector loop: accept as soon as a connection is ready.
    idle(app) {
      for (const l of [web, mail]) {
        for (let a = app.sockets.accept(l); !isErrno(a); a = app.sockets.accept(l)) accepted.set(`${a.peer.address}:${a.peer.port}`, a.fd);
      }
    },
    actions(app) {
      const out: Action[] = [];
      for (const c of WEB_MAIL) {
        const peer = clients[c.client] as string;
        const rport = 40000 + c.n;
        const fdOf = (): number => {
          const fd = accepted.get(`${peer}:${rport}`);
          if (fd === undefined) throw new Error(`#${c.n} was never accepted`);
          return fd;
        };
        // recv the request line, sendall the reply line.
        out.push(
          at(first(app.kernelFrames(c.port, peer, rport, hasData), `reply on #${c.n}`), `#${c.n} reply`, (a) => {
            const fd = fdOf();
            const r = drain(a, fd);
            if (r.data !== `${c.request}\r\n` || r.eof || r.error !== null) a.fail(`#${c.n} read ${JSON.stringify(r)}`);
            ok(a, `#${c.n} send`, a.sockets.send(fd, bytes(`${c.reply}\r\n`)), c.reply.length + 2);
          }),
        );
        out.push(
          at(first(app.kernelFrames(c.port, peer, rport, hasFin), `FIN on #${c.n}`), `#${c.n} close (${c.closesFirst} first)`, (a) => {
            const fd = fdOf();
            if (c.closesFirst === 'client') {
              const r = drain(a, fd);
              if (!r.eof || r.data !== '') a.fail(`#${c.n} expected end of stream, read ${JSON.stringify(r)}`);
            }
            ok(a, `#${c.n} close`, a.sockets.close(fd));
          }),
        );
      }
      return out;
    },
  };
}

// ---- refused-v4: nothing listens on :81 ------------------------------------------------------------------

const refused: Scenario = {
  name: 'refused-v4',
  file: 'refused-v4.pcap',
  self: SRV4,
  mac: SRV_MAC,
  neighbors: {},
  personality: LINUX_6_18,
  setup() {},
  actions: () => [],
};

// ---- backlog-overflow-v4: backlog.py -------------------------------------------------------------------

function backlogOverflow(): Scenario {
  let listener = -1;
  let accepting = false;
  const order: string[] = [];
  const fds = new Map<string, number>();
  return {
    name: 'backlog-overflow-v4',
    file: 'backlog-overflow-v4.pcap',
    self: SRV4,
    mac: SRV_MAC,
    neighbors: {},
    personality: LINUX_6_18,
    // The server namespace set net.ipv4.tcp_syncookies=0.
    listen: { syncookies: 'off' },
    setup(app) {
      listener = listenOn(app, SRV4, 80, 1);
    },
    // ACCEPT_AFTER = 3.5 s: then six blocking accept()s in a row, then the listener is closed.
    timed: [{ atUs: 3_500_000, why: 'start accepting', run: () => void (accepting = true) }],
    idle(app) {
      if (!accepting) return;
      for (let a = app.sockets.accept(listener); !isErrno(a); a = app.sockets.accept(listener)) {
        const peer = `${a.peer.address}:${a.peer.port}`;
        order.push(peer);
        fds.set(peer, a.fd);
      }
      if (order.length === 6) {
        accepting = false;
        ok(app, 'close listener', app.sockets.close(listener));
      }
    },
    actions(app) {
      const out: Action[] = [];
      for (let n = 1; n <= 6; n++) {
        const peer = CLI4[(n - 1) % 3] as string;
        const rport = 40000 + n;
        const key = `${peer}:${rport}`;
        // One connection at a time in accept order: sendall("hello N"), recv_line() -> "bye", close().
        out.push(
          at(first(app.kernelFrames(80, peer, rport, hasData), `hello on #${n}`), `#${n} hello`, (a) => {
            const fd = fds.get(key);
            if (fd === undefined) throw new Error(`${key} was never accepted`);
            const idx = order.indexOf(key) + 1;
            ok(a, `${key} send`, a.sockets.send(fd, bytes(`hello ${idx}\r\n`)), `hello ${idx}\r\n`.length);
          }),
          at(first(app.kernelFrames(80, peer, rport, hasFin), `FIN on #${n}`), `#${n} close`, (a) => {
            const fd = fds.get(key) as number;
            const r = drain(a, fd);
            if (r.data !== 'bye\r\n') a.fail(`${key} read ${JSON.stringify(r)}`);
            ok(a, `${key} close`, a.sockets.close(fd));
          }),
        );
      }
      return out;
    },
  };
}

// ---- listener-closed-v4: listener_closed.py -----------------------------------------------------------

function listenerClosed(): Scenario {
  let listener = -1;
  return {
    name: 'listener-closed-v4',
    file: 'listener-closed-v4.pcap',
    self: SRV4,
    mac: SRV_MAC,
    neighbors: {},
    personality: LINUX_6_18,
    setup(app) {
      listener = listenOn(app, SRV4, 80, 8);
    },
    // Never accept(); close the listener (the kernel's resets follow at once).
    actions(app) {
      const rst = first(
        app.frames.filter((f) => f.src === SRV4 && f.tcp !== null && hasRst(f.tcp)).map((f) => f.no),
        'RST',
      );
      return [at(rst, 'close the listener', (a) => ok(a, 'close listener', a.sockets.close(listener)))];
    },
  };
}

// ---- rst-abort-reuse-v4: rst_reuse.py, both sides ------------------------------------------------------

function rstAbortReuseServer(): Scenario {
  let listener = -1;
  const accepted: number[] = [];
  const peer = CLI4[0];
  return {
    name: 'rst-abort-reuse-v4 (server)',
    file: 'rst-abort-reuse-v4.pcap',
    self: SRV4,
    mac: SRV_MAC,
    neighbors: {},
    personality: LINUX_6_18,
    setup(app) {
      listener = listenOn(app, SRV4, 80, 8);
    },
    idle(app) {
      for (let a = app.sockets.accept(listener); !isErrno(a); a = app.sockets.accept(listener)) accepted.push(a.fd);
    },
    actions(app) {
      const data = app.kernelFrames(80, peer, 40001, hasData);
      const fin = first(app.kernelFrames(80, peer, 40001, hasFin), 'server FIN');
      const rst = first(
        app.frames.filter((f) => f.src === peer && f.tcp !== null && hasRst(f.tcp)).map((f) => f.no),
        'client RST',
      );
      return [
        at(first(data, 'reply #1'), '#1 reply', (a) => {
          const fd = accepted[0] as number;
          const r = drain(a, fd);
          if (r.data !== 'GET /first HTTP/1.1\r\n') a.fail(`#1 read ${JSON.stringify(r)}`);
          ok(a, '#1 send', a.sockets.send(fd, bytes('HTTP/1.1 200 OK\r\n')), 17);
        }),
        // recv() fails ECONNRESET, close(): no frame.
        after(rst, '#1 reset by the client', (a) => {
          const fd = accepted[0] as number;
          const r = drain(a, fd);
          if (r.error !== 'ECONNRESET') a.fail(`#1 after the RST: ${JSON.stringify(r)}, expected ECONNRESET`);
          ok(a, '#1 close', a.sockets.close(fd));
        }),
        at(first(data.slice(1), 'reply #2'), '#2 reply', (a) => {
          const fd = accepted[1];
          if (fd === undefined) throw new Error('#2 was never accepted');
          const r = drain(a, fd);
          if (r.data !== 'GET /second HTTP/1.0\r\n') a.fail(`#2 read ${JSON.stringify(r)}`);
          ok(a, '#2 send', a.sockets.send(fd, bytes('HTTP/1.0 200 OK\r\n')), 17);
        }),
        at(fin, '#2 close first, then the listener', (a) => {
          ok(a, '#2 close', a.sockets.close(accepted[1] as number));
          ok(a, 'close listener', a.sockets.close(listener));
        }),
      ];
    },
  };
}

/** An application that reads as soon as data arrives (blocking recv_line / expect_eof). */
interface Reader {
  idle(app: App): void;
  /** A new descriptor to read from. */
  open(fd: number): void;
  /** What arrived since the last take. */
  take(fd: number): { data: string; eof: boolean; error: string | null };
  /** Stop reading (before close()). */
  forget(fd: number): void;
}

function reader(): Reader {
  const got = new Map<number, { data: string; eof: boolean; error: string | null }>();
  return {
    idle(app) {
      for (const [fd, g] of got) {
        if (g.eof || g.error !== null) continue;
        const r = drain(app, fd);
        g.data += r.data;
        g.eof ||= r.eof;
        g.error ??= r.error;
      }
    },
    open(fd) {
      got.set(fd, { data: '', eof: false, error: null });
    },
    take(fd) {
      const g = got.get(fd) ?? { data: '', eof: false, error: 'not open' };
      got.set(fd, { data: '', eof: g.eof, error: g.error });
      return g;
    },
    forget(fd) {
      got.delete(fd);
    },
  };
}

function rstAbortReuseClient(): Scenario {
  const me = CLI4[0];
  const rd = reader();
  let fd1 = -1;
  let fd2 = -1;
  return {
    name: 'rst-abort-reuse-v4 (client)',
    file: 'rst-abort-reuse-v4.pcap',
    self: me,
    mac: CLI_MAC,
    neighbors: { [SRV4]: SRV_MAC },
    personality: LINUX_6_18,
    setup() {},
    idle: (app) => rd.idle(app),
    actions(app) {
      const syn = app.kernelFrames(40001, SRV4, 80, isSyn);
      const data = app.kernelFrames(40001, SRV4, 80, hasData);
      const rst = first(app.kernelFrames(40001, SRV4, 80, hasRst), 'client RST');
      const fin = first(app.kernelFrames(40001, SRV4, 80, hasFin), 'client FIN');
      return [
        at(first(syn, 'SYN #1'), '#1 SO_REUSEADDR, bind 198.18.0.11:40001, connect', (a) => {
          fd1 = connectFrom(a, me, 40001, SRV4, 80, true);
          rd.open(fd1);
        }),
        at(first(data, 'request #1'), '#1 sendall', (a) => ok(a, '#1 send', a.sockets.send(fd1, bytes('GET /first HTTP/1.1\r\n')), 21)),
        at(rst, '#1 SO_LINGER {1, 0}, close: RST', (a) => {
          const r = rd.take(fd1);
          if (r.data !== 'HTTP/1.1 200 OK\r\n') a.fail(`#1 read ${JSON.stringify(r)}`);
          ok(a, 'SO_LINGER', a.sockets.setsockopt(fd1, 'SO_LINGER', { onoff: true, seconds: 0 }));
          rd.forget(fd1);
          ok(a, '#1 close', a.sockets.close(fd1));
        }),
        at(first(syn.slice(1), 'SYN #2'), '#2 the same 4-tuple again', (a) => {
          fd2 = connectFrom(a, me, 40001, SRV4, 80, true);
          rd.open(fd2);
        }),
        at(first(data.slice(1), 'request #2'), '#2 sendall', (a) => ok(a, '#2 send', a.sockets.send(fd2, bytes('GET /second HTTP/1.0\r\n')), 22)),
        at(fin, '#2 reply, end of stream, close', (a) => {
          const r = rd.take(fd2);
          if (r.data !== 'HTTP/1.0 200 OK\r\n' || !r.eof) a.fail(`#2 read ${JSON.stringify(r)}, expected the reply and end of stream`);
          rd.forget(fd2);
          ok(a, '#2 close', a.sockets.close(fd2));
        }),
      ];
    },
  };
}

// ---- syn-timeout-v4: syn_timeout.py (the client) -------------------------------------------------------

function synTimeout(): Scenario {
  const me = CLI4[0];
  let fd = -1;
  return {
    name: 'syn-timeout-v4 (client)',
    file: 'syn-timeout-v4.pcap',
    self: me,
    mac: CLI_MAC,
    // The script's permanent neighbour entry for the silent address.
    neighbors: { '198.18.0.99': '02:00:00:00:00:63' },
    // The client namespace set net.ipv4.tcp_syn_retries=3.
    personality: { ...LINUX_6_18, synRetries: 3 },
    setup() {},
    actions(app) {
      return [at(first(app.kernelFrames(40001, '198.18.0.99', 80, isSyn), 'SYN'), 'bind 198.18.0.11:40001, blocking connect', (a) => (fd = connectFrom(a, me, 40001, '198.18.0.99', 80, false)))];
    },
    // "connect() fails with ETIMEDOUT about 19.6 s after it started, with no frame at that moment":
    // still trying at 18.9 s, failed by 19.9 s.
    timed: [
      {
        atUs: 18_900_000,
        why: 'still connecting',
        run: (a) => {
          const r = a.sockets.readiness(fd);
          if (isErrno(r) || r.error || r.writable) a.fail(`at 18.9 s the connect should still be in progress: ${JSON.stringify(r)}`);
        },
      },
      { atUs: 19_900_000, why: 'ETIMEDOUT', run: (a) => ok(a, 'SO_ERROR at 19.9 s', a.sockets.getsockopt(fd, 'SO_ERROR'), 110) },
    ],
    tailUs: 12_000_000,
  };
}

// ---- simultaneous-open-v4: simopen.py, each side ---------------------------------------------------------

/**
 * A = 198.18.0.1:5001, B = 198.18.0.11:5002. Each side's incoming SYN (and, at B, the SYN-ACK that
 * followed) was held in an NFQUEUE after the capture tap until both SYNs were out; A's queue was
 * released first (nfq_hold.py, make-fixtures.sh). So A processed B's SYN just before sending its
 * SYN-ACK, and B processed A's SYN just before sending its own SYN-ACK. A's SYN-ACK, released right
 * after A's SYN, reached B's TCP only after the exchange that release set off had run in the same
 * softirq (B's SYN-ACK → A's ACK → B): B's ACK (frame 8) carries no D-SACK, unlike A's (frame 7), so
 * it is the RFC 5961 challenge ACK of an ESTABLISHED socket to that SYN-ACK, not the ACK of a
 * SYN-RECEIVED one. A's SYN-ACK is delivered to B just before that ACK.
 */
function simultaneousOpen(side: 'A' | 'B'): Scenario {
  const me = side === 'A' ? SRV4 : CLI4[0];
  const peer = side === 'A' ? CLI4[0] : SRV4;
  const myPort = side === 'A' ? 5001 : 5002;
  const peerPort = side === 'A' ? 5002 : 5001;
  const rd = reader();
  let fd = -1;
  let held: Record<number, number> = {};
  return {
    name: `simultaneous-open-v4 (${side})`,
    file: 'simultaneous-open-v4.pcap',
    self: me,
    mac: side === 'A' ? SRV_MAC : CLI_MAC,
    neighbors: { [peer]: side === 'A' ? CLI_MAC : SRV_MAC },
    personality: LINUX_6_18,
    get deliverBefore(): Record<number, number> {
      return held;
    },
    setup() {},
    idle: (app) => rd.idle(app),
    actions(app) {
      const tcpFrom = (addr: string, pred: (t: TcpRepr) => boolean): number[] =>
        app.frames.filter((f) => f.src === addr && f.tcp !== null && pred(f.tcp)).map((f) => f.no);
      const synOnly = (t: TcpRepr): boolean => isSyn(t) && (t.flags & TcpFlags.ACK) === 0;
      const synAck = (t: TcpRepr): boolean => isSyn(t) && (t.flags & TcpFlags.ACK) !== 0;
      const mySynAck = first(tcpFrom(me, synAck), 'own SYN-ACK');
      // B's own segment after its SYN-ACK: the ACK that A's SYN-ACK, reinjected last, got.
      const myNext = first(tcpFrom(me, () => true).filter((n) => n > mySynAck), 'own segment after the SYN-ACK');
      held = side === 'A' ? { [first(tcpFrom(peer, synOnly), 'B SYN')]: mySynAck } : { [first(tcpFrom(peer, synOnly), 'A SYN')]: mySynAck, [first(tcpFrom(peer, synAck), 'A SYN-ACK')]: myNext };
      const mySyn = first(tcpFrom(me, synOnly), 'own SYN');
      const myData = first(tcpFrom(me, hasData), 'own data');
      const myFin = first(tcpFrom(me, hasFin), 'own FIN');
      const out: Action[] = [at(mySyn, `bind ${me}:${myPort}, connect ${peer}:${peerPort}`, (a) => {
        fd = connectFrom(a, me, myPort, peer, peerPort, true);
        rd.open(fd);
      })];
      if (side === 'A') {
        out.push(
          at(myData, 'sendall "hello from A"', (a) => ok(a, 'send', a.sockets.send(fd, bytes('hello from A\r\n')), 14)),
          at(myFin, 'got "hello from B", close first', (a) => {
            const r = rd.take(fd);
            if (r.data !== 'hello from B\r\n') a.fail(`A read ${JSON.stringify(r)}`);
            rd.forget(fd);
            ok(a, 'close', a.sockets.close(fd));
          }),
        );
      } else {
        out.push(
          at(myData, 'got "hello from A", sendall "hello from B"', (a) => {
            const r = rd.take(fd);
            if (r.data !== 'hello from A\r\n') a.fail(`B read ${JSON.stringify(r)}`);
            ok(a, 'send', a.sockets.send(fd, bytes('hello from B\r\n')), 14);
          }),
          at(myFin, 'end of stream, close', (a) => {
            const r = rd.take(fd);
            if (!r.eof || r.data !== '') a.fail(`B expected end of stream, read ${JSON.stringify(r)}`);
            rd.forget(fd);
            ok(a, 'close', a.sockets.close(fd));
          }),
        );
      }
      return out;
    },
  };
}

// ---- the client sides of the server scenarios -----------------------------------------------------------

/** web-mail, the client (webmail.py client): three addresses, nine blocking connections. */
function webMailClient(v: 4 | 6): Scenario {
  const srv = v === 4 ? SRV4 : SRV6;
  const clients = v === 4 ? CLI4 : CLI6;
  const rd = reader();
  const fds = new Map<number, number>();
  return {
    name: `web-mail-v${v} (client)`,
    file: `web-mail-v${v}.pcap`,
    self: clients[0],
    moreAddresses: [clients[1], clients[2]],
    mac: CLI_MAC,
    neighbors: { [srv]: SRV_MAC },
    personality: LINUX_6_18,
    setup() {},
    idle: (app) => rd.idle(app),
    actions(app) {
      const out: Action[] = [];
      for (const c of WEB_MAIL) {
        const me = clients[c.client] as string;
        const lport = 40000 + c.n;
        const fd = (): number => fds.get(c.n) as number;
        out.push(
          at(first(app.kernelFrames(lport, srv, c.port, isSyn), `SYN #${c.n}`), `#${c.n} bind ${me}:${lport}, connect`, (a) => {
            fds.set(c.n, connectFrom(a, me, lport, srv, c.port, false));
            rd.open(fd());
          }),
          at(first(app.kernelFrames(lport, srv, c.port, hasData), `request #${c.n}`), `#${c.n} sendall the request`, (a) =>
            ok(a, `#${c.n} send`, a.sockets.send(fd(), bytes(`${c.request}\r\n`)), c.request.length + 2),
          ),
          at(first(app.kernelFrames(lport, srv, c.port, hasFin), `FIN #${c.n}`), `#${c.n} close (${c.closesFirst} first)`, (a) => {
            const r = rd.take(fd());
            const eof = c.closesFirst === 'server';
            if (r.data !== `${c.reply}\r\n` || r.eof !== eof || r.error !== null) a.fail(`#${c.n} read ${JSON.stringify(r)}`);
            rd.forget(fd());
            ok(a, `#${c.n} close`, a.sockets.close(fd()));
          }),
        );
      }
      return out;
    },
  };
}

/** backlog-overflow, the client (backlog.py client): six non-blocking connects, SYNs dropped for 3.5 s. */
function backlogClient(): Scenario {
  const rd = reader();
  const fds = new Map<number, number>();
  return {
    name: 'backlog-overflow-v4 (client)',
    file: 'backlog-overflow-v4.pcap',
    self: CLI4[0],
    moreAddresses: [CLI4[1], CLI4[2]],
    mac: CLI_MAC,
    neighbors: { [SRV4]: SRV_MAC },
    personality: LINUX_6_18,
    setup() {},
    idle: (app) => rd.idle(app),
    actions(app) {
      const out: Action[] = [];
      for (let n = 1; n <= 6; n++) {
        const me = CLI4[(n - 1) % 3] as string;
        const lport = 40000 + n;
        const fd = (): number => fds.get(n) as number;
        out.push(
          at(first(app.kernelFrames(lport, SRV4, 80, isSyn), `SYN #${n}`), `#${n} non-blocking connect`, (a) => {
            fds.set(n, connectFrom(a, me, lport, SRV4, 80, false));
            rd.open(fd());
          }),
          at(first(app.kernelFrames(lport, SRV4, 80, hasData), `bye #${n}`), `#${n} got the greeting, sendall "bye"`, (a) => {
            const r = rd.take(fd());
            if (r.data !== `hello ${n}\r\n`) a.fail(`#${n} read ${JSON.stringify(r)}`);
            ok(a, `#${n} send`, a.sockets.send(fd(), bytes('bye\r\n')), 5);
          }),
          at(first(app.kernelFrames(lport, SRV4, 80, hasFin), `FIN #${n}`), `#${n} end of stream, close`, (a) => {
            const r = rd.take(fd());
            if (!r.eof || r.data !== '') a.fail(`#${n} expected end of stream, read ${JSON.stringify(r)}`);
            rd.forget(fd());
            ok(a, `#${n} close`, a.sockets.close(fd()));
          }),
        );
      }
      return out;
    },
  };
}

/** listener-closed, the client (listener_closed.py client): three connects, two requests, three resets. */
function listenerClosedClient(): Scenario {
  const rd = reader();
  const fds = new Map<number, number>();
  return {
    name: 'listener-closed-v4 (client)',
    file: 'listener-closed-v4.pcap',
    self: CLI4[0],
    moreAddresses: [CLI4[1], CLI4[2]],
    mac: CLI_MAC,
    neighbors: { [SRV4]: SRV_MAC },
    personality: LINUX_6_18,
    setup() {},
    idle: (app) => rd.idle(app),
    actions(app) {
      const out: Action[] = [];
      for (let n = 1; n <= 3; n++) {
        const me = CLI4[n - 1] as string;
        const lport = 40000 + n;
        const fd = (): number => fds.get(n) as number;
        out.push(
          at(first(app.kernelFrames(lport, SRV4, 80, isSyn), `SYN #${n}`), `#${n} connect`, (a) => {
            fds.set(n, connectFrom(a, me, lport, SRV4, 80, false));
            rd.open(fd());
          }),
        );
        if (n <= 2) {
          out.push(
            at(first(app.kernelFrames(lport, SRV4, 80, hasData), `request #${n}`), `#${n} sendall the request`, (a) =>
              ok(a, `#${n} send`, a.sockets.send(fd(), bytes('GET / HTTP/1.0\r\n')), 16),
            ),
          );
        }
        const rst = first(
          app.frames.filter((f) => f.src === SRV4 && f.dst === me && f.tcp !== null && f.tcp.dstPort === lport && hasRst(f.tcp)).map((f) => f.no),
          `RST #${n}`,
        );
        out.push(
          after(rst, `#${n} recv fails ECONNRESET, close`, (a) => {
            const r = rd.take(fd());
            if (r.error !== 'ECONNRESET' || r.data !== '') a.fail(`#${n} read ${JSON.stringify(r)}, expected ECONNRESET`);
            rd.forget(fd());
            ok(a, `#${n} close`, a.sockets.close(fd()));
          }),
        );
      }
      return out;
    },
  };
}

/** refused, the client (refused.py): connect() fails ECONNREFUSED. */
function refusedClient(): Scenario {
  let fd = -1;
  return {
    name: 'refused-v4 (client)',
    file: 'refused-v4.pcap',
    self: CLI4[0],
    mac: CLI_MAC,
    neighbors: { [SRV4]: SRV_MAC },
    personality: LINUX_6_18,
    setup() {},
    actions(app) {
      const rst = first(
        app.frames.filter((f) => f.src === SRV4 && f.tcp !== null && hasRst(f.tcp)).map((f) => f.no),
        'RST',
      );
      return [
        at(first(app.kernelFrames(40001, SRV4, 81, isSyn), 'SYN'), 'connect to :81', (a) => (fd = connectFrom(a, CLI4[0], 40001, SRV4, 81, false))),
        after(rst, 'connect fails ECONNREFUSED', (a) => {
          ok(a, 'SO_ERROR', a.sockets.getsockopt(fd, 'SO_ERROR'), 111);
          ok(a, 'close', a.sockets.close(fd));
        }),
      ];
    },
  };
}

// ---- the tests -----------------------------------------------------------------------------------------

const SCENARIOS: Scenario[] = [
  webMail(4),
  webMail(6),
  refused,
  backlogOverflow(),
  listenerClosed(),
  rstAbortReuseServer(),
  rstAbortReuseClient(),
  synTimeout(),
  simultaneousOpen('A'),
  simultaneousOpen('B'),
  webMailClient(4),
  webMailClient(6),
  backlogClient(),
  listenerClosedClient(),
  refusedClient(),
];

for (const sc of SCENARIOS) {
  describe(sc.name, () => {
    let result: ReplayResult | null = null;
    let comparisons: SegmentComparison[] = [];
    let crash: unknown = null;
    try {
      result = replay(sc, fixture(sc.file));
      comparisons = compare(result);
    } catch (e) {
      crash = e;
    }

    test('the application ran as the kernel side did', () => {
      if (crash !== null) throw crash;
      expect(result?.appErrors).toEqual([]);
      expect(result?.kernel.length).toBeGreaterThan(0);
    });

    for (const c of comparisons) {
      test(c.title, () => {
        expect(c.diffs, explain(c)).toEqual([]);
      });
    }

    if (sc.name.startsWith('syn-timeout')) {
      // The kernel's timer wheel (kernel/time/timer.c, calc_wheel_index) fires a timer late by up to
      // the granularity of its level, at most 1/8 of the timeout plus a jiffy; otherwise the gaps
      // between SYNs must be synack's: 1 s five times (tcp_syn_linear_timeouts), then 2 s and 4 s.
      test('SYN retransmission gaps', () => {
        const k = (result?.kernel ?? []).map((s) => s.timeUs);
        const s = (result?.synack ?? []).map((x) => x.timeUs);
        expect(s.length).toBe(k.length);
        const gaps = (t: number[]): number[] => t.slice(1).map((x, i) => x - (t[i] as number));
        const kg = gaps(k);
        const sg = gaps(s);
        expect(sg).toEqual([1e6, 1e6, 1e6, 1e6, 1e6, 2e6, 4e6]);
        kg.forEach((g, i) => {
          const want = sg[i] as number;
          expect(g, `gap ${i + 1}: kernel ${g} µs, synack ${want} µs`).toBeGreaterThanOrEqual(want);
          expect(g, `gap ${i + 1}: kernel ${g} µs, synack ${want} µs`).toBeLessThanOrEqual(want * 1.125 + 4000);
        });
      });
    }
  });
}

