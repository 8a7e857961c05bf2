#!/usr/bin/env node
/**
 * Writes the issue-7 benchmark capture: a busy Linux server seen from its own interface, with synack's
 * own emit (frame templates built by emitFrameInto from records, then patched per frame through the
 * Ipv4Packet/TcpPacket views and finished with their fillChecksum) and synack's PcapWriter.
 *
 *   npx tsc -p tsconfig.json && node tools/gen-workload.mjs --out F.pcap [--connections 10000]
 *       [--concurrency 1000] [--refused 0.02] [--retransmit 0.01] [--seed 1] [--json]
 *
 * The workload (issue 7):
 * - `--connections N` completed connections, 11 frames each, as Linux client and server exchange them:
 *     SYN, SYN-ACK, ACK, request (100 B, PSH/ACK), ACK, reply (200 B, PSH/ACK), ACK,
 *     client FIN/ACK, server ACK, server FIN/ACK, client ACK.
 *   Linux acknowledges a FIN at once (tcp_fin() schedules an ACK and the server's close comes later),
 *   which is why the close takes four frames, not three.
 * - `--refused F`: F·N further attempts to a closed port (8080), answered as Linux does
 *   (tcp_v4_send_reset): RST/ACK, seq 0, ack ISN+1, window 0, no options.
 * - `--retransmit F`: F·N of the completed connections lose their first SYN at the server (a full
 *   accept queue drops it silently) and the client repeats it after 1 s (TCP_TIMEOUT_INIT), same ISN.
 * So a file has 11·N + 2·refused + retransmitted frames: 11.05 per completed connection with the
 * defaults, and 1,000,000 connections give the issue's 11.05 M frames and 1.22 GB. (Counting the refused
 * attempts among N instead would give 10.83.)
 *
 * Realism: one server (198.18.0.1, ports 80/443/25 weighted 60/30/10), clients drawn without repeat
 * from the rest of 198.18.0.0/15 (RFC 2544's benchmarking range) as long as it lasts, then reused with
 * fresh ephemeral ports (32768-60999), so no 4-tuple ever repeats; all client frames through one
 * gateway MAC. SYN and SYN-ACK carry `mss 1460,sackOK,TS,nop,wscale 7` (Linux's order), every other
 * segment but the RST `nop,nop,TS`; windows 64240/65160 in the handshake, then 502/509 (scaled by 7);
 * IP ID 0 on SYN-ACK and RST (ip_build_and_send_pkt with DF), a random per-socket counter otherwise;
 * TSval a 1 kHz clock with a random per-connection offset (Linux ≥ 4.10), TSecr the peer's last TSval.
 * Each client has its own RTT (2-128 ms); the server's stack answers in tens of microseconds, its
 * application in 0.1-3 ms; at most `--concurrency` connections are open at once (a closed loop:
 * each slot starts its next connection a few milliseconds after its last one ended).
 *
 * Streaming and allocation-free per frame: connection state lives in typed arrays (one slot per
 * concurrent connection), a binary heap orders the slots by their next frame's time, and each frame is
 * patched into a preallocated template and copied into the writer's buffer. Same seed, same bytes.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDist } from './lib/dist.mjs';

const wire = await loadDist('gen-workload', 'wire/index.js');
const capture = await loadDist('gen-workload', 'capture/index.js');
const { allocBytes, emitFrameInto, frameLen, Ipv4Packet, TcpPacket, tcpReprHeaderLen, EtherType, LinkType, IpProtocol, TcpFlags } = wire;

// ---- parameters -------------------------------------------------------------------------------------

export const DEFAULTS = Object.freeze({ connections: 10000, concurrency: 1000, refused: 0.02, retransmit: 0.01, seed: 1 });

const SERVER = 0xc6120001; // 198.18.0.1
/** Clients: 198.18.0.2 .. 198.19.255.254 (the rest of the /15 but its last address). */
const CLIENT_BASE = 0xc6120002;
const CLIENT_COUNT = 0x20000 - 3;
const SERVER_PORTS = [80, 443, 25];
/** Cumulative weights of SERVER_PORTS. */
const PORT_WEIGHTS = [0.6, 0.9, 1];
const CLOSED_PORT = 8080;
/** Linux's default ip_local_port_range. */
const EPHEMERAL_LOW = 32768;
const EPHEMERAL_COUNT = 61000 - 32768;
const SERVER_MAC = '02:00:5e:10:00:01';
const GATEWAY_MAC = '02:00:5e:10:00:fe';
/** 2025-01-01T00:00:00Z, in microseconds. */
const EPOCH_US = 1735689600 * 1e6;
const SYN_RTO_US = 1_000_000;
const REQUEST_LEN = 100;
const REPLY_LEN = 200;

// ---- a small seeded PRNG (sfc32, seeded through splitmix32) ----------------------------------------

function splitmix32(state) {
  let z = (state.s = (state.s + 0x9e3779b9) | 0);
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

class Rng {
  constructor(seed) {
    const st = { s: seed | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32() {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float() {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  below(n) {
    return Math.floor(this.float() * n);
  }
}

/** A 32-bit avalanche hash (murmur3's finalizer), for per-client properties that must not depend on order. */
function mix32(x) {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function gcd(a, b) {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

// ---- frame templates --------------------------------------------------------------------------------

const OPT_NOP = { kind: 'nop' };
const SYN_OPTIONS = [{ kind: 'mss', value: 1460 }, { kind: 'sack-permitted' }, { kind: 'timestamps', tsVal: 0, tsEcr: 0 }, OPT_NOP, { kind: 'wscale', shift: 7 }];
const ACK_OPTIONS = [OPT_NOP, OPT_NOP, { kind: 'timestamps', tsVal: 0, tsEcr: 0 }];

/**
 * One frame shape built once with emitFrameInto, then patched in place for every frame of that shape:
 * its own buffer, with an IPv4 and a TCP view fixed over it.
 */
function makeTemplate(options, payload) {
  const tcp = { srcPort: 1, dstPort: 1, seq: 0, ack: 0, flags: 0, window: 0, urgent: 0, options, payload };
  const tcpLen = tcpReprHeaderLen(tcp) + payload.length;
  const ip = {
    dscp: 0, ecn: 0, identification: 0, dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64,
    protocol: IpProtocol.TCP, src: '198.18.0.1', dst: '198.18.0.2', options: [], payloadLength: tcpLen,
  };
  const repr = {
    linkType: LinkType.ETHERNET,
    link: { kind: 'ethernet', header: { dst: GATEWAY_MAC, src: SERVER_MAC, etherType: EtherType.IPV4 } },
    vlans: [],
    etherType: EtherType.IPV4,
    net: { kind: 'ipv4', header: ip, payload: { kind: 'tcp', tcp } },
  };
  const len = frameLen(repr);
  const b = allocBytes(len);
  if (emitFrameInto(repr, b, 0) !== len) throw new Error('gen-workload: template length mismatch');
  const ipv = Ipv4Packet.check(b, 14, len - 14);
  if (typeof ipv === 'string') throw new Error(`gen-workload: template IPv4 ${ipv}`);
  const tcpv = TcpPacket.check(b, ipv.payloadOffset, tcpLen);
  if (typeof tcpv === 'string') throw new Error(`gen-workload: template TCP ${tcpv}`);
  const ts = tcpv.timestampsOffset;
  return { b, u8: b.u8, dv: b.dv, len, ip: ipv, tcp: tcpv, tcpLen, addrOff: ipv.addressOffset, tsOff: ts >= 0 ? ts : -1 };
}

const enc = new TextEncoder();

/** ASCII `head`, padded with `fill` before `tail` to exactly `len` bytes. */
function textPayload(head, tail, len, fill) {
  const room = len - head.length - tail.length;
  if (room < 0) throw new Error('gen-workload: payload text too long');
  return enc.encode(head + fill.repeat(room) + tail);
}

/** Request and reply bytes per server port: HTTP on 80, TLS application data on 443, SMTP on 25. */
function payloads(rng) {
  // Content-Length tells the truth: the body is what follows the blank line (3 digits, then CRLF CRLF).
  const head = 'HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: text/plain\r\nContent-Length: ';
  const bodyLen = REPLY_LEN - head.length - 3 - 4;
  const http = {
    req: textPayload('GET /a', ' HTTP/1.1\r\nHost: 198.18.0.1\r\nUser-Agent: synack-bench\r\nAccept: */*\r\n\r\n', REQUEST_LEN, 'a'),
    rep: enc.encode(`${head}${String(bodyLen).padStart(3, '0')}\r\n\r\n${'b'.repeat(bodyLen)}`),
  };
  const tls = (len) => {
    const u = new Uint8Array(len);
    u[0] = 0x17; // application data
    u[1] = 3;
    u[2] = 3;
    u[3] = (len - 5) >> 8;
    u[4] = (len - 5) & 0xff;
    for (let i = 5; i < len; i++) u[i] = rng.below(256);
    return u;
  };
  const smtp = {
    req: textPayload('EHLO client', '.example.net\r\n', REQUEST_LEN, 'x'),
    rep: textPayload('250-mail.example.net Hello\r\n250-SIZE 52428800\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 ', '\r\n', REPLY_LEN, 'Z'),
  };
  return { 80: http, 443: { req: tls(REQUEST_LEN), rep: tls(REPLY_LEN) }, 25: smtp };
}

// ---- the connection plans ---------------------------------------------------------------------------

const S = {
  SYN: 0, SYN_AGAIN: 1, SYN_ACK: 2, ACK_HS: 3, REQUEST: 4, ACK_REQUEST: 5, REPLY: 6, ACK_REPLY: 7,
  FIN_CLIENT: 8, ACK_FIN: 9, FIN_SERVER: 10, ACK_LAST: 11, RST: 12,
};
const PLAN_NORMAL = 0;
const PLAN_RETRANSMIT = 1;
const PLAN_REFUSED = 2;
const PLANS = [
  [S.SYN, S.SYN_ACK, S.ACK_HS, S.REQUEST, S.ACK_REQUEST, S.REPLY, S.ACK_REPLY, S.FIN_CLIENT, S.ACK_FIN, S.FIN_SERVER, S.ACK_LAST],
  [S.SYN, S.SYN_AGAIN, S.SYN_ACK, S.ACK_HS, S.REQUEST, S.ACK_REQUEST, S.REPLY, S.ACK_REPLY, S.FIN_CLIENT, S.ACK_FIN, S.FIN_SERVER, S.ACK_LAST],
  [S.SYN, S.RST],
].map((p) => Uint8Array.from(p));

// ---- the generator ----------------------------------------------------------------------------------

/**
 * Writes the workload to `opts.out` ('-' for stdout) and returns what it wrote. Throws RangeError for
 * parameters out of range.
 */
export function generateWorkload(options) {
  const o = { ...DEFAULTS, ...options };
  const N = o.connections;
  const C = o.concurrency;
  if (!Number.isSafeInteger(N) || N < 0) throw new RangeError(`--connections must be a whole number ≥ 0: ${N}`);
  if (!Number.isSafeInteger(C) || C < 1 || C > 1 << 22) throw new RangeError(`--concurrency must be 1..${1 << 22}: ${C}`);
  for (const k of ['refused', 'retransmit']) {
    if (!(o[k] >= 0 && o[k] <= 1)) throw new RangeError(`--${k} must be a fraction in 0..1: ${o[k]}`);
  }
  if (!Number.isSafeInteger(o.seed)) throw new RangeError(`--seed must be an integer: ${o.seed}`);
  if (typeof o.out !== 'string' || o.out === '') throw new RangeError('--out FILE is required');

  const refusedTotal = Math.round(o.refused * N);
  const retransmitTotal = Math.round(o.retransmit * N);
  const attempts = N + refusedTotal;
  if (Math.ceil(attempts / CLIENT_COUNT) > EPHEMERAL_COUNT) throw new RangeError(`too many connections for unique 4-tuples: ${N}`);

  const rng = new Rng(o.seed);
  const seedMix = mix32(o.seed ^ 0x5bd1e995);
  // Client address of attempt k: an affine permutation of the pool, so consecutive attempts come from
  // scattered addresses and none repeats before the pool is used up.
  let addrMul = 1 + rng.below(CLIENT_COUNT - 1);
  while (gcd(addrMul, CLIENT_COUNT) !== 1) addrMul = 1 + rng.below(CLIENT_COUNT - 1);
  const addrAdd = rng.below(CLIENT_COUNT);

  const pay = payloads(rng);
  const T_SYN = makeTemplate(SYN_OPTIONS, new Uint8Array(0));
  const T_ACK = makeTemplate(ACK_OPTIONS, new Uint8Array(0));
  const T_RST = makeTemplate([], new Uint8Array(0));
  // Request and reply templates by port index (0..2), so a frame needs no lookup by port number.
  const reqT = SERVER_PORTS.map((port) => makeTemplate(ACK_OPTIONS, pay[port].req));
  const repT = SERVER_PORTS.map((port) => makeTemplate(ACK_OPTIONS, pay[port].rep));

  // MACs as numbers: client frames arrive from the gateway, server frames leave towards it.
  const macHi = (m) => parseInt(m.replace(/:/g, '').slice(0, 8), 16) >>> 0;
  const macLo = (m) => parseInt(m.replace(/:/g, '').slice(8), 16);
  const SRV_HI = macHi(SERVER_MAC);
  const SRV_LO = macLo(SERVER_MAC);
  const GW_HI = macHi(GATEWAY_MAC);
  const GW_LO = macLo(GATEWAY_MAC);

  const writer = o.out === '-'
    ? capture.PcapWriter.toFd(1, { linkType: LinkType.ETHERNET, bufferSize: 8 << 20 })
    : capture.PcapWriter.toFile(o.out, { linkType: LinkType.ETHERNET, bufferSize: 8 << 20 });

  // Per-slot connection state (struct of arrays: nothing allocated per connection or frame).
  const plan = new Uint8Array(C);
  const step = new Uint8Array(C);
  const portIx = new Uint8Array(C);
  const cAddr = new Uint32Array(C);
  const cPort = new Uint16Array(C);
  const sPort = new Uint16Array(C);
  const cIsn = new Uint32Array(C);
  const sIsn = new Uint32Array(C);
  const cTsOff = new Uint32Array(C);
  const sTsOff = new Uint32Array(C);
  const cTsLast = new Uint32Array(C);
  const sTsLast = new Uint32Array(C);
  const cIpId = new Uint16Array(C);
  const sIpId = new Uint16Array(C);
  const cTtl = new Uint8Array(C);
  const rtt = new Float64Array(C);

  // Min-heap of slots by the time (µs after EPOCH_US) of their next frame; ties go to the lower slot.
  const hTime = new Float64Array(C);
  const hSlot = new Int32Array(C);
  let hSize = 0;
  const less = (i, j) => hTime[i] < hTime[j] || (hTime[i] === hTime[j] && hSlot[i] < hSlot[j]);
  const swap = (i, j) => {
    const t = hTime[i];
    hTime[i] = hTime[j];
    hTime[j] = t;
    const s = hSlot[i];
    hSlot[i] = hSlot[j];
    hSlot[j] = s;
  };
  const siftUp = (i) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(i, p)) break;
      swap(i, p);
      i = p;
    }
  };
  const siftDown = (i) => {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= hSize) break;
      let m = l;
      if (l + 1 < hSize && less(l + 1, l)) m = l + 1;
      if (!less(m, i)) break;
      swap(i, m);
      i = m;
    }
  };

  let started = 0;
  let refusedLeft = refusedTotal;
  let retransmitLeft = retransmitTotal;
  let open = 0;
  let maxOpen = 0;
  let frames = 0;
  let bytes = 24;

  /** Sets up slot `s` for the next attempt; its SYN goes out at `t`. */
  function startConnection(s, t) {
    const k = started++;
    const attemptsLeft = attempts - k;
    // Selection sampling: exactly refusedTotal refused and retransmitTotal retransmitting connections,
    // spread at random over the run.
    let p = PLAN_NORMAL;
    if (rng.float() * attemptsLeft < refusedLeft) {
      p = PLAN_REFUSED;
      refusedLeft--;
    } else if (rng.float() * (attemptsLeft - refusedLeft) < retransmitLeft) {
      p = PLAN_RETRANSMIT;
      retransmitLeft--;
    }
    plan[s] = p;
    step[s] = 0;
    const ai = (addrMul * (k % CLIENT_COUNT) + addrAdd) % CLIENT_COUNT;
    const use = Math.floor(k / CLIENT_COUNT);
    const h = mix32(ai ^ seedMix);
    cAddr[s] = CLIENT_BASE + ai;
    // 7919 is prime and does not divide the range, so each reuse of an address gets a new port.
    cPort[s] = EPHEMERAL_LOW + ((h + use * 7919) % EPHEMERAL_COUNT);
    cTtl[s] = 64 - (3 + (h % 20));
    rtt[s] = Math.round(2000 * 2 ** (6 * (mix32(h) / 4294967296)));
    if (p === PLAN_REFUSED) {
      portIx[s] = 0;
      sPort[s] = CLOSED_PORT;
    } else {
      const r = rng.float();
      let i = 0;
      while (r >= PORT_WEIGHTS[i]) i++;
      portIx[s] = i;
      sPort[s] = SERVER_PORTS[i];
    }
    cIsn[s] = rng.u32();
    sIsn[s] = rng.u32();
    cTsOff[s] = rng.u32();
    sTsOff[s] = rng.u32();
    cTsLast[s] = 0;
    sTsLast[s] = 0;
    cIpId[s] = rng.below(65536);
    sIpId[s] = rng.below(65536);
    return t;
  }

  /** Microseconds from the previous frame of slot `s` to the one at step `st`. */
  function delayBefore(s, st) {
    const r = rtt[s];
    switch (st) {
      case S.SYN_AGAIN:
        return SYN_RTO_US;
      case S.SYN_ACK:
      case S.ACK_REQUEST:
      case S.ACK_FIN:
      case S.RST:
        return 15 + rng.below(45); // the server's softirq answering
      case S.ACK_HS:
      case S.ACK_REPLY:
      case S.ACK_LAST:
        return r + rng.below(1 + (r >> 4)); // a round trip to the client and back
      case S.REQUEST:
        return 10 + rng.below(90);
      case S.REPLY:
        return 100 + rng.below(2900); // the application
      case S.FIN_CLIENT:
        return 20 + rng.below(280);
      case S.FIN_SERVER:
        return 30 + rng.below(370);
      default:
        throw new Error(`gen-workload: no delay for step ${st}`);
    }
  }

  /** Patches template `T` for one segment and writes it at `t` (µs after EPOCH_US). */
  function put(T, fromClient, s, t, seq, ack, flags, window, ipId, ts) {
    const dv = T.dv;
    if (fromClient) {
      dv.setUint32(0, SRV_HI);
      dv.setUint16(4, SRV_LO);
      dv.setUint32(6, GW_HI);
      dv.setUint16(10, GW_LO);
    } else {
      dv.setUint32(0, GW_HI);
      dv.setUint16(4, GW_LO);
      dv.setUint32(6, SRV_HI);
      dv.setUint16(10, SRV_LO);
    }
    const ip = T.ip;
    ip.identification = ipId;
    ip.ttl = fromClient ? cTtl[s] : 64;
    dv.setUint32(T.addrOff, fromClient ? cAddr[s] : SERVER);
    dv.setUint32(T.addrOff + 4, fromClient ? SERVER : cAddr[s]);
    ip.fillChecksum();
    const tcp = T.tcp;
    tcp.srcPort = fromClient ? cPort[s] : sPort[s];
    tcp.dstPort = fromClient ? sPort[s] : cPort[s];
    tcp.seq = seq;
    tcp.ack = ack;
    tcp.flags = flags;
    tcp.window = window;
    if (ts && T.tsOff >= 0) {
      // TSval on a 1 kHz clock; the client stamped it half a round trip before the server saw it.
      const ms = Math.floor((fromClient ? t - rtt[s] / 2 : t) / 1000);
      const val = ((fromClient ? cTsOff[s] : sTsOff[s]) + ms) >>> 0;
      dv.setUint32(T.tsOff, val);
      dv.setUint32(T.tsOff + 4, fromClient ? sTsLast[s] : cTsLast[s]);
      if (fromClient) cTsLast[s] = val;
      else sTsLast[s] = val;
    }
    tcp.fillChecksum(ip.pseudoHeaderSum(T.tcpLen));
    const abs = EPOCH_US + t;
    const sec = Math.floor(abs / 1e6);
    writer.writePacket(sec, (abs - sec * 1e6) * 1000, T.u8, 0, T.len);
    frames++;
    bytes += 16 + T.len;
  }

  const A = TcpFlags.ACK;
  /** Emits step `st` of slot `s` at time `t`. */
  function emit(s, st, t) {
    const c = cIsn[s];
    const v = sIsn[s];
    switch (st) {
      case S.SYN:
      case S.SYN_AGAIN:
        put(T_SYN, true, s, t, c, 0, TcpFlags.SYN, 64240, cIpId[s]++, true);
        break;
      case S.SYN_ACK:
        put(T_SYN, false, s, t, v, c + 1, TcpFlags.SYN | A, 65160, 0, true);
        break;
      case S.ACK_HS:
        put(T_ACK, true, s, t, c + 1, v + 1, A, 502, cIpId[s]++, true);
        break;
      case S.REQUEST:
        put(reqT[portIx[s]], true, s, t, c + 1, v + 1, TcpFlags.PSH | A, 502, cIpId[s]++, true);
        break;
      case S.ACK_REQUEST:
        put(T_ACK, false, s, t, v + 1, c + 1 + REQUEST_LEN, A, 509, sIpId[s]++, true);
        break;
      case S.REPLY:
        put(repT[portIx[s]], false, s, t, v + 1, c + 1 + REQUEST_LEN, TcpFlags.PSH | A, 509, sIpId[s]++, true);
        break;
      case S.ACK_REPLY:
        put(T_ACK, true, s, t, c + 1 + REQUEST_LEN, v + 1 + REPLY_LEN, A, 502, cIpId[s]++, true);
        break;
      case S.FIN_CLIENT:
        put(T_ACK, true, s, t, c + 1 + REQUEST_LEN, v + 1 + REPLY_LEN, TcpFlags.FIN | A, 502, cIpId[s]++, true);
        break;
      case S.ACK_FIN:
        put(T_ACK, false, s, t, v + 1 + REPLY_LEN, c + 2 + REQUEST_LEN, A, 509, sIpId[s]++, true);
        break;
      case S.FIN_SERVER:
        put(T_ACK, false, s, t, v + 1 + REPLY_LEN, c + 2 + REQUEST_LEN, TcpFlags.FIN | A, 509, sIpId[s]++, true);
        break;
      case S.ACK_LAST:
        put(T_ACK, true, s, t, c + 2 + REQUEST_LEN, v + 2 + REPLY_LEN, A, 502, cIpId[s]++, true);
        break;
      case S.RST:
        put(T_RST, false, s, t, 0, c + 1, TcpFlags.RST | A, 0, 0, false);
        break;
      default:
        throw new Error(`gen-workload: unknown step ${st}`);
    }
  }

  const t0 = performance.now();
  // Stagger the first connections over 200 ms, as if the capture began on a server already busy.
  for (let s = 0; s < C && started < attempts; s++) {
    hTime[hSize] = startConnection(s, rng.below(200_000));
    hSlot[hSize] = s;
    hSize++;
    siftUp(hSize - 1);
  }
  let lastT = 0;
  while (hSize > 0) {
    const s = hSlot[0];
    const t = hTime[0];
    const p = PLANS[plan[s]];
    const i = step[s];
    if (i === 0) {
      open++;
      if (open > maxOpen) maxOpen = open;
    }
    emit(s, p[i], t);
    lastT = t;
    if (i + 1 < p.length) {
      step[s] = i + 1;
      hTime[0] = t + delayBefore(s, p[i + 1]);
      siftDown(0);
    } else {
      open--;
      if (started < attempts) {
        // The slot's next client comes along 0-10 ms later.
        hTime[0] = startConnection(s, t + 1 + rng.below(10_000));
        siftDown(0);
      } else {
        hSize--;
        if (hSize > 0) {
          hTime[0] = hTime[hSize];
          hSlot[0] = hSlot[hSize];
          siftDown(0);
        }
      }
    }
  }
  writer.close();
  const ms = performance.now() - t0;
  return {
    file: o.out,
    seed: o.seed,
    connections: N,
    refused: refusedTotal,
    retransmitted: retransmitTotal,
    conversations: attempts,
    frames,
    bytes,
    framesPerConnection: N > 0 ? frames / N : 0,
    maxOpen,
    durationSec: lastT / 1e6,
    ms,
    framesPerSec: frames / (ms / 1000),
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

// ---- command line -----------------------------------------------------------------------------------

const USAGE = `usage: node tools/gen-workload.mjs --out FILE [--connections N] [--concurrency N]
       [--refused F] [--retransmit F] [--seed N] [--json]

Writes the issue-7 workload as a pcap (Ethernet, microsecond timestamps) with synack's own emit.
Defaults: --connections ${DEFAULTS.connections} --concurrency ${DEFAULTS.concurrency} --refused ${DEFAULTS.refused} --retransmit ${DEFAULTS.retransmit} --seed ${DEFAULTS.seed}.
--out - writes to stdout. --json prints the summary as one JSON object on stdout.`;

function parseCli(argv) {
  const o = { json: false };
  const num = (name, v) => {
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(n)) throw new RangeError(`${name} needs a number, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--connections': o.connections = num(a, argv[++i]); break;
      case '--concurrency': o.concurrency = num(a, argv[++i]); break;
      case '--refused': o.refused = num(a, argv[++i]); break;
      case '--retransmit': o.retransmit = num(a, argv[++i]); break;
      case '--seed': o.seed = num(a, argv[++i]); break;
      case '--out': o.out = argv[++i]; break;
      case '--json': o.json = true; break;
      case '-h':
      case '--help':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new RangeError(`unknown argument ${JSON.stringify(a)}`);
    }
  }
  return o;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let o;
  try {
    o = parseCli(process.argv.slice(2));
    if (o.out === undefined) throw new RangeError('--out FILE is required');
  } catch (e) {
    console.error(`gen-workload: ${e.message}\n\n${USAGE}`);
    process.exit(2);
  }
  let r;
  try {
    r = generateWorkload(o);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    console.error(`gen-workload: ${e.message}`);
    process.exit(2);
  }
  if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
  const log = o.out === '-' || o.json ? (s) => process.stderr.write(s + '\n') : (s) => process.stdout.write(s + '\n');
  log(
    `${r.file}: ${r.connections} connections + ${r.refused} refused = ${r.conversations} conversations, ` +
      `${r.retransmitted} retransmitted SYNs, at most ${r.maxOpen} open, ${r.durationSec.toFixed(1)} s of traffic`,
  );
  log(
    `${r.frames} frames (${r.framesPerConnection.toFixed(4)} per connection, ${(r.frames / Math.max(1, r.conversations)).toFixed(4)} per conversation), ` +
      `${(r.bytes / 1e6).toFixed(1)} MB in ${(r.ms / 1000).toFixed(2)} s: ${(r.framesPerSec / 1e6).toFixed(2)} M frames/s, peak RSS ${r.maxRssMB.toFixed(0)} MB`,
  );
}
