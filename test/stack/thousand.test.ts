/**
 * Issue 3, "Done when" #1: two Hosts in one process, 1,000 connections from one client Host to two
 * listeners on a server Host — web on 0.0.0.0:80 (found by the listener-ANY step) and mail on
 * 198.18.0.1:25 (found by the listener-exact step) — 50 in flight at a time, so many accepted sockets
 * share each listener's port at once. Each connection carries a distinct request and a distinct reply
 * (some of them several segments long) and then closes, the client first or the server first.
 *
 * Asserted against a model kept by this test, not by the stack:
 * - descriptors: every socket() and accept() returns the lowest free descriptor (a set of open fds);
 * - accepted sockets: getsockname() is the listener's address and port, getpeername() is the client's
 *   getsockname(), and the 1,000 4-tuples are distinct;
 * - demux: EVERY TCP frame either Host receives gets the verdict (step, fd, action, listener) the model
 *   predicts from the frames themselves and the application's calls: a first SYN → the listener step
 *   + 'cloned'; the handshake ACK → 'syn-received'; everything later → 'established' (with the fd the
 *   application holds, or none once it closed); a segment to a host whose active close reached
 *   TIME-WAIT → 'time-wait';
 * - then ten more connections reuse the 4-tuples of connections the server closed first, while the
 *   server still holds them in TIME-WAIT: their SYNs take the 'time-wait' step and reopen the
 *   4-tuple through the listener ('time-wait-reopen');
 * - data: every byte of every request and reply;
 * - the end: only TIME-WAIT connections are left, and none after 60 s of virtual time (Linux
 *   TCP_TIMEWAIT_LEN), with the 4-tuple index and ports empty.
 */
import { expect, test } from 'vitest';
import { Network } from '../../src/testing/network.js';
import { isErrno } from '../../src/socket/errno.js';
import type { Host } from '../../src/stack/host.js';
import type { SegmentNote, TraceEvent } from '../../src/stack/trace.js';

const SERVER = '198.18.0.1';
const CLIENT = '198.18.0.2';
const CONNECTIONS = 1000;
const IN_FLIGHT = 50;
/** The application acts every millisecond of virtual time. */
const STEP_US = 1000;

interface Conn {
  i: number;
  port: 80 | 25;
  closer: 'client' | 'server';
  request: Uint8Array;
  reply: Uint8Array;
  clientFd: number;
  clientPort: number;
  clientPhase: 'connecting' | 'reading' | 'await-eof' | 'done';
  got: number[];
  serverFd: number | null;
  serverPhase: 'reading' | 'await-eof' | 'done';
  req: number[];
}

/** A distinct request and reply per connection; replies from 40 bytes to ~4.4 kB (up to 4 segments). */
function payloads(i: number, port: 80 | 25): { request: Uint8Array; reply: Uint8Array } {
  const enc = new TextEncoder();
  const request = port === 80 ? enc.encode(`GET /object/${i} HTTP/1.1\r\nHost: web.example\r\n\r\n`) : enc.encode(`HELO client-${i}.example\r\n`);
  const len = 40 + ((i * 733) % 4400);
  const reply = new Uint8Array(len);
  const head = enc.encode(`${port === 80 ? 'HTTP/1.1 200 OK' : '250 mail.example greets'} #${i}\r\n`);
  for (let k = 0; k < len; k++) reply[k] = k < head.length ? (head[k] as number) : (i * 31 + k * 7) & 0xff;
  return { request, reply };
}

/** The lowest-free descriptor model (POSIX: "the lowest numbered file descriptor not currently open"). */
class FdModel {
  private readonly open = new Set<number>();
  expectAlloc(fd: number, what: string, errors: string[]): void {
    let want = 3;
    while (this.open.has(want)) want++;
    if (fd !== want) errors.push(`${what}: got fd ${fd}, the lowest free is ${want}`);
    this.open.add(fd);
  }
  release(fd: number): void {
    this.open.delete(fd);
  }
}

/** What the model knows of one connection, seen from one host. */
interface EndModel {
  /** 'syn-received': a child not yet completed (server side only). */
  phase: 'syn-sent' | 'syn-received' | 'open' | 'time-wait' | 'gone';
  fd: number | null;
  /** This end sent its FIN before it saw the peer's (active close). */
  activeClose: boolean;
  finSeq: number | null;
  finAcked: boolean;
  peerFin: boolean;
}

const key = (local: string, remote: string): string => `${local}|${remote}`;
const seqGt = (a: number, b: number): boolean => ((a - b) | 0) > 0;

/**
 * Predicts every demux verdict of one host from its trace as it happens (onTrace), using only the
 * segments (flags, seq, ack) and the application's calls, and records every difference.
 */
class DemuxModel {
  readonly ends = new Map<string, EndModel>();
  readonly errors: string[] = [];
  checked = 0;
  private pending: { frame: number; predicted: { step: string; fd: number | null; action: string; listenerFd: number | null }; seg: SegmentNote } | null = null;

  constructor(
    readonly name: string,
    /** Listener fd by local port, for a host with listeners. */
    readonly listeners: ReadonlyMap<number, { fd: number; step: 'listener-exact' | 'listener-any' }>,
  ) {}

  connectCalled(local: string, remote: string, fd: number): void {
    this.ends.set(key(local, remote), { phase: 'syn-sent', fd, activeClose: false, finSeq: null, finAcked: false, peerFin: false });
  }
  accepted(local: string, remote: string, fd: number): void {
    const e = this.ends.get(key(local, remote));
    if (e === undefined) this.errors.push(`${this.name}: accepted ${local} ← ${remote}, which the model never saw`);
    else e.fd = fd;
  }
  closed(local: string, remote: string): void {
    const e = this.ends.get(key(local, remote));
    if (e !== undefined) {
      e.fd = null;
      if (!e.peerFin) e.activeClose = true;
    }
  }

  onTrace = (ev: TraceEvent): void => {
    if (ev.type === 'frame-in' && ev.segment !== null) {
      this.pending = { frame: ev.frame, predicted: this.predict(ev.segment), seg: ev.segment };
      return;
    }
    if (ev.type === 'frame-out' && ev.segment !== null && ev.kind === 'tcp') {
      const s = ev.segment;
      const e = this.ends.get(key(s.src, s.dst));
      if (e !== undefined && s.flags.includes('F') && e.finSeq === null) {
        e.finSeq = (s.seq + s.length) >>> 0;
        if (!e.peerFin) e.activeClose = true;
      }
      return;
    }
    if (ev.type === 'demux') {
      const p = this.pending;
      this.pending = null;
      if (p === null || p.frame !== ev.frame) {
        this.errors.push(`${this.name} frame ${ev.frame}: a demux verdict without its frame-in`);
        return;
      }
      this.checked++;
      const got = { step: ev.step, fd: ev.fd, action: ev.action, listenerFd: ev.listenerFd };
      const want = p.predicted;
      if (got.step !== want.step || got.fd !== want.fd || got.action !== want.action || got.listenerFd !== want.listenerFd) {
        const s = p.seg;
        this.errors.push(
          `${this.name} frame ${ev.frame} ${s.src} > ${s.dst} [${s.flags}] seq ${s.seq} ack ${s.ack} len ${s.length}: ` +
            `expected ${JSON.stringify(want)}, got ${JSON.stringify(got)} (state ${ev.state})`,
        );
      }
      this.after(p.seg);
    }
  };

  private predict(s: SegmentNote): { step: string; fd: number | null; action: string; listenerFd: number | null } {
    const e = this.ends.get(key(s.dst, s.src));
    const syn = s.flags.includes('S');
    if (e === undefined || e.phase === 'gone' || (e.phase === 'time-wait' && syn && !s.flags.includes('.'))) {
      const port = Number(s.dst.slice(s.dst.lastIndexOf('.') + 1));
      const l = this.listeners.get(port);
      if (syn && l !== undefined) {
        // A new SYN on a TIME-WAIT 4-tuple is found by the 4-tuple step and goes on to the listener.
        if (e?.phase === 'time-wait') return { step: 'time-wait', fd: null, action: 'time-wait-reopen', listenerFd: l.fd };
        return { step: l.step, fd: null, action: 'cloned', listenerFd: l.fd };
      }
      return { step: 'none', fd: null, action: s.flags.includes('R') ? 'dropped' : 'reset', listenerFd: null };
    }
    const listenerFd = e.phase === 'syn-received' ? (this.listeners.get(Number(s.dst.slice(s.dst.lastIndexOf('.') + 1)))?.fd ?? null) : null;
    const step = e.phase === 'syn-received' ? 'syn-received' : e.phase === 'time-wait' ? 'time-wait' : 'established';
    return { step, fd: e.fd, action: 'delivered', listenerFd: step === 'syn-received' ? listenerFd : null };
  }

  /** Moves the model on after a segment, from the segment alone (RFC 9293 §3.10.7 in outline). */
  private after(s: SegmentNote): void {
    const k = key(s.dst, s.src);
    let e = this.ends.get(k);
    const syn = s.flags.includes('S');
    const ack = s.flags.includes('.');
    if ((e === undefined || e.phase === 'gone' || e.phase === 'time-wait') && syn && !ack) {
      const port = Number(s.dst.slice(s.dst.lastIndexOf('.') + 1));
      if (this.listeners.has(port)) {
        e = { phase: 'syn-received', fd: null, activeClose: false, finSeq: null, finAcked: false, peerFin: false };
        this.ends.set(k, e);
      }
      return;
    }
    if (e === undefined || e.phase === 'gone' || e.phase === 'time-wait') return;
    if (e.phase === 'syn-sent' || e.phase === 'syn-received') {
      if (ack) e.phase = 'open';
      return;
    }
    if (e.finSeq !== null && ack && !seqGt(e.finSeq + 1, s.ack)) e.finAcked = true;
    if (s.flags.includes('F')) e.peerFin = true;
    if (e.finAcked && e.peerFin) e.phase = e.activeClose ? 'time-wait' : 'gone';
  }

  /** Linux TCP_TIMEWAIT_LEN has passed: TIME-WAIT connections are gone. */
  timeWaitOver(): void {
    for (const e of this.ends.values()) if (e.phase === 'time-wait') e.phase = 'gone';
  }
}

const NOT_CLOSED = (h: Host): string[] =>
  h.sockets
    .list()
    .filter((s) => s.role !== 'listener')
    .map((s) => `${s.tcb.local.addr}:${s.tcb.local.port}-${s.tcb.remote.addr}:${s.tcb.remote.port} ${s.tcb.state} fd ${s.fd}`);

test('1,000 connections to web (0.0.0.0:80) and mail (198.18.0.1:25), 50 at a time: fds, 4-tuples, every demux verdict, data, TIME-WAIT', () => {
  const net = new Network({ seed: 7 });
  const serverListeners = new Map<number, { fd: number; step: 'listener-exact' | 'listener-any' }>([
    [80, { fd: 3, step: 'listener-any' }],
    [25, { fd: 4, step: 'listener-exact' }],
  ]);
  const serverModel = new DemuxModel('server', serverListeners);
  const clientModel = new DemuxModel('client', new Map());
  const server = net.attach({ name: 'server', mac: '02:00:00:00:00:01', ipv4: [SERVER], onTrace: serverModel.onTrace });
  const client = net.attach({ name: 'client', mac: '02:00:00:00:00:02', ipv4: [CLIENT], onTrace: clientModel.onTrace });
  const s = server.sockets;
  const c = client.sockets;
  const errors: string[] = [];
  const serverFds = new FdModel();
  const clientFds = new FdModel();

  const web = s.socket('inet') as number;
  serverFds.expectAlloc(web, 'server socket()', errors);
  expect(s.bind(web, '0.0.0.0', 80)).toBe(0);
  expect(s.listen(web, 128)).toBe(0);
  const mail = s.socket('inet') as number;
  serverFds.expectAlloc(mail, 'server socket()', errors);
  expect(s.bind(mail, SERVER, 25)).toBe(0);
  expect(s.listen(mail, 128)).toBe(0);
  expect([web, mail]).toEqual([3, 4]);

  const conns: Conn[] = [];
  const byClientPort = new Map<string, Conn>();
  const serverConns = new Map<number, Conn>();
  const tuples = new Set<string>();
  let started = 0;
  let finished = 0;
  let maxShared = { 80: 0, 25: 0 };
  const who = (c: Conn): string => `client ${c.i} (${c.port}, ${c.closer} closes)`;

  /** Connections the client will open, in order; `bindPort` reuses a 4-tuple (see below). */
  interface Plan {
    i: number;
    port: 80 | 25;
    closer: 'client' | 'server';
    bindPort?: number;
  }
  const plans: Plan[] = [];
  for (let i = 0; i < CONNECTIONS; i++) plans.push({ i, port: i % 2 === 0 ? 80 : 25, closer: i % 3 === 0 ? 'server' : 'client' });

  const clientApp = (): void => {
    client.now();
    while (plans.length > 0 && started - finished < IN_FLIGHT) {
      const { i, port, closer, bindPort } = plans.shift() as Plan;
      started++;
      const fd = c.socket('inet');
      if (isErrno(fd)) throw new Error(`client socket(): ${fd}`);
      clientFds.expectAlloc(fd, `client socket() for connection ${i}`, errors);
      if (bindPort !== undefined) {
        expect(c.setsockopt(fd, 'SO_REUSEADDR', 1)).toBe(0);
        expect(c.bind(fd, CLIENT, bindPort)).toBe(0);
      }
      const r = c.connect(fd, SERVER, port);
      if (r !== 'EINPROGRESS') throw new Error(`connect ${i}: ${String(r)}`);
      const name = c.getsockname(fd);
      if (isErrno(name)) throw new Error(`getsockname: ${name}`);
      const { request, reply } = payloads(i, port);
      const conn: Conn = { i, port, closer, request, reply, clientFd: fd, clientPort: name.port, clientPhase: 'connecting', got: [], serverFd: null, serverPhase: 'reading', req: [] };
      // Linux shares an ephemeral port between connections to different destinations (only the
      // 4-tuple must be unique, __inet_hash_connect), so the key is the pair of ports.
      const pk = `${name.port}>${port}`;
      const before = byClientPort.get(pk);
      if (before !== undefined && !(bindPort !== undefined && before.clientPhase === 'done' && before.serverPhase === 'done')) {
        errors.push(`${who(conn)}: 4-tuple ${pk} already in use by connection ${before.i}`);
      }
      byClientPort.set(pk, conn);
      conns.push(conn);
      clientModel.connectCalled(`${CLIENT}.${name.port}`, `${SERVER}.${port}`, fd);
    }
    for (const conn of conns) {
      if (conn.clientPhase === 'done') continue;
      const fd = conn.clientFd;
      if (conn.clientPhase === 'connecting') {
        const r = c.readiness(fd);
        if (isErrno(r)) throw new Error(`readiness: ${r}`);
        if (!r.writable) continue;
        const n = c.send(fd, conn.request);
        if (n !== conn.request.length) errors.push(`${who(conn)}: send returned ${String(n)}`);
        conn.clientPhase = 'reading';
      }
      for (;;) {
        const d = c.recv(fd);
        if (d === 'EAGAIN') break;
        if (isErrno(d)) {
          errors.push(`${who(conn)}: recv ${d}`);
          conn.clientPhase = 'done';
          break;
        }
        if (d.length === 0) {
          if (conn.clientPhase !== 'await-eof') errors.push(`${who(conn)}: end of stream after ${conn.got.length} of ${conn.reply.length} bytes`);
          closeClient(conn);
          break;
        }
        for (const b of d) conn.got.push(b);
        if (conn.got.length >= conn.reply.length && conn.clientPhase === 'reading') {
          if (conn.closer === 'client') {
            closeClient(conn);
            break;
          }
          conn.clientPhase = 'await-eof';
        }
      }
    }
  };
  const closeClient = (conn: Conn): void => {
    expect(c.close(conn.clientFd)).toBe(0);
    clientFds.release(conn.clientFd);
    clientModel.closed(`${CLIENT}.${conn.clientPort}`, `${SERVER}.${conn.port}`);
    conn.clientPhase = 'done';
    finished++;
  };

  const serverApp = (): void => {
    server.now();
    for (const [lfd, lport] of [
      [web, 80],
      [mail, 25],
    ] as const) {
      for (;;) {
        const a = s.accept(lfd);
        if (a === 'EAGAIN') break;
        if (isErrno(a)) throw new Error(`accept: ${a}`);
        serverFds.expectAlloc(a.fd, `server accept() on port ${lport}`, errors);
        const conn = byClientPort.get(`${a.peer.port}>${lport}`);
        if (conn === undefined || a.peer.address !== CLIENT) {
          errors.push(`accepted an unknown peer ${a.peer.address}:${a.peer.port}`);
          continue;
        }
        const name = s.getsockname(a.fd);
        const peer = s.getpeername(a.fd);
        if (isErrno(name) || name.port !== lport || name.address !== SERVER) errors.push(`${who(conn)}: accepted socket's getsockname ${JSON.stringify(name)}, listener port ${lport}`);
        if (conn.port !== lport) errors.push(`${who(conn)}: accepted on listener port ${lport}`);
        if (isErrno(peer) || peer.address !== CLIENT || peer.port !== conn.clientPort) errors.push(`${who(conn)}: getpeername ${JSON.stringify(peer)}`);
        const t = `${SERVER}:${lport}-${CLIENT}:${a.peer.port}`;
        if (conn.i < CONNECTIONS) {
          if (tuples.has(t)) errors.push(`4-tuple ${t} accepted twice`);
          tuples.add(t);
        }
        conn.serverFd = a.fd;
        serverConns.set(a.fd, conn);
        serverModel.accepted(`${SERVER}.${lport}`, `${CLIENT}.${a.peer.port}`, a.fd);
      }
    }
    const open = { 80: 0, 25: 0 };
    for (const conn of serverConns.values()) open[conn.port]++;
    maxShared = { 80: Math.max(maxShared[80], open[80]), 25: Math.max(maxShared[25], open[25]) };
    for (const [fd, conn] of [...serverConns]) {
      for (;;) {
        const d = s.recv(fd);
        if (d === 'EAGAIN') break;
        if (isErrno(d)) {
          errors.push(`${who(conn)}: server recv ${d}`);
          closeServer(fd, conn);
          break;
        }
        if (d.length === 0) {
          if (conn.serverPhase !== 'await-eof') errors.push(`${who(conn)}: server saw end of stream after ${conn.req.length} bytes`);
          closeServer(fd, conn);
          break;
        }
        for (const b of d) conn.req.push(b);
        if (conn.req.length >= conn.request.length && conn.serverPhase === 'reading') {
          const n = s.send(fd, conn.reply);
          if (n !== conn.reply.length) errors.push(`${who(conn)}: server send returned ${String(n)} of ${conn.reply.length}`);
          if (conn.closer === 'server') {
            closeServer(fd, conn);
            break;
          }
          conn.serverPhase = 'await-eof';
        }
      }
    }
  };
  const closeServer = (fd: number, conn: Conn): void => {
    expect(s.close(fd)).toBe(0);
    serverFds.release(fd);
    serverConns.delete(fd);
    serverModel.closed(`${SERVER}.${conn.port}`, `${CLIENT}.${conn.clientPort}`);
    conn.serverPhase = 'done';
    conn.serverFd = null;
  };

  const runApps = (): void => {
    const deadline = net.clock.now() + 120_000_000;
    while (plans.length > 0 || finished < started || serverConns.size > 0) {
      clientApp();
      serverApp();
      net.run(net.clock.now() + STEP_US);
      if (net.clock.now() > deadline) throw new Error(`not done after 120 s: ${finished} of ${started} finished, ${serverConns.size} open on the server`);
      if (errors.length > 20) break;
    }
    // Let the last FINs and ACKs cross, well short of TIME-WAIT's end.
    net.run(net.clock.now() + 5_000_000);
  };
  runApps();

  expect(errors.slice(0, 20)).toEqual([]);
  expect(conns.length).toBe(CONNECTIONS);
  expect(tuples.size).toBe(CONNECTIONS);
  // Many accepted sockets shared each listener's port at once.
  expect(maxShared[80]).toBeGreaterThanOrEqual(10);
  expect(maxShared[25]).toBeGreaterThanOrEqual(10);
  expect(server.counters.demux['time-wait']).toBe(0);

  // 4-tuple reuse: while the server still holds TIME-WAIT for the connections it closed first, the
  // client binds the same port again (SO_REUSEADDR) and connects to the same server port. The SYN
  // matches the TIME-WAIT connection (the 'time-wait' step) and, its sequence number being beyond the
  // old RCV.NXT, reopens it through the listener (Linux tcp_timewait_state_process → TCP_TW_SYN).
  const reusable = conns.filter((x) => x.closer === 'server' && !c.ports.isInUse(x.clientPort)).slice(0, 10);
  expect(reusable.length).toBe(10);
  reusable.forEach((old, k) => plans.push({ i: CONNECTIONS + k, port: old.port, closer: k % 2 === 0 ? 'client' : 'server', bindPort: old.clientPort }));
  runApps();
  expect(errors.slice(0, 20)).toEqual([]);
  expect(conns.length).toBe(CONNECTIONS + reusable.length);
  expect(serverModel.errors.slice(0, 20)).toEqual([]);
  expect(clientModel.errors.slice(0, 20)).toEqual([]);
  expect(server.counters.demux['time-wait']).toBe(reusable.length);

  // Data, byte for byte.
  for (const conn of conns) {
    expect.soft(Uint8Array.from(conn.req), `request of connection ${conn.i}`).toEqual(conn.request);
    expect.soft(Uint8Array.from(conn.got), `reply of connection ${conn.i}`).toEqual(conn.reply);
  }

  // Every TCP frame was demultiplexed and checked, on both hosts.
  expect(serverModel.checked).toBe(server.counters.tcpIn);
  expect(clientModel.checked).toBe(client.counters.tcpIn);
  expect(server.counters.tcpIn).toBe(client.counters.tcpOut);
  expect(client.counters.tcpIn).toBe(server.counters.tcpOut);
  // Each connection: at least SYN, SYN-ACK, ACK, request, reply, 2 FINs, last ACK; no RST anywhere.
  expect(server.counters.tcpIn + client.counters.tcpIn).toBeGreaterThanOrEqual(8 * CONNECTIONS);
  expect(server.counters.resets + client.counters.resets).toBe(0);
  const reused = conns.length - CONNECTIONS;
  const to80 = conns.filter((x) => x.port === 80 && x.i < CONNECTIONS).length;
  expect(server.counters.demux['listener-any']).toBe(to80);
  expect(server.counters.demux['listener-exact']).toBe(CONNECTIONS - to80);
  expect(server.counters.demux['syn-received']).toBe(CONNECTIONS + reused);

  // Only TIME-WAIT is left, exactly where the model's active closes put it.
  const left = (h: Host): string[] => NOT_CLOSED(h).filter((x) => !x.includes(' TIME-WAIT '));
  expect(left(server)).toEqual([]);
  expect(left(client)).toEqual([]);
  const inTimeWait = (m: DemuxModel): number => [...m.ends.values()].filter((e) => e.phase === 'time-wait').length;
  expect(NOT_CLOSED(server).length).toBe(inTimeWait(serverModel));
  expect(NOT_CLOSED(client).length).toBe(inTimeWait(clientModel));
  expect(inTimeWait(serverModel) + inTimeWait(clientModel)).toBe(CONNECTIONS);
  expect(s.fds.size).toBe(2);
  expect(c.fds.size).toBe(0);

  // 60 s later (Linux TCP_TIMEWAIT_LEN) nothing is left but the two listeners.
  net.run(net.clock.now() + 60_000_000);
  serverModel.timeWaitOver();
  clientModel.timeWaitOver();
  expect(NOT_CLOSED(server)).toEqual([]);
  expect(NOT_CLOSED(client)).toEqual([]);
  expect(s.tuples.size).toBe(0);
  expect(c.tuples.size).toBe(0);
  expect(s.live.size).toBe(2);
  expect(c.live.size).toBe(0);
  for (const conn of conns) if (c.ports.isInUse(conn.clientPort)) throw new Error(`client port ${conn.clientPort} still in use`);
  expect(s.close(web)).toBe(0);
  expect(s.close(mail)).toBe(0);
  expect(s.list()).toEqual([]);
  expect(s.ports.isInUse(80) || s.ports.isInUse(25)).toBe(false);
}, 60_000);
