/**
 * `synack connect -i IFACE --ip ADDR --to HOST:PORT`: synack is a host on the interface and opens
 * connections to a real kernel's server with its own stack, sends --send, reads until the server closes,
 * and closes. With --count N the N connections run at once. The bytes received go to stdout as they are
 * (one connection's bytes together, in the order the connections finish); events and the summary go to
 * stderr, or everything to stdout as NDJSON with --json (the data then only as a length and SHA-256).
 *
 * Exit code 0 when every connection completed (connected, and the server closed after its reply), 1
 * when one did not (refused, timed out, reset), 2 for bad usage or an interface that cannot be attached.
 */
import { createHash } from 'node:crypto';
import { formatEndpoint, isIpv4, isIpv6 } from '../wire/address.js';
import { ErrnoError, isErrno } from '../socket/errno.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { LIVE_HOST_NOTES, LIVE_HOST_OPTIONS, parseCount, parseHostPort, runSession, sessionArgs } from './live-session.js';
import type { Session } from './live-session.js';
import type { Output } from './output.js';

export const CONNECT_OPTIONS: readonly OptionSpec[] = [
  ...LIVE_HOST_OPTIONS,
  { name: 'to', short: 't', kind: 'string', valueName: 'HOST:PORT', help: 'the server to connect to ([IPV6]:PORT for IPv6)' },
  { name: 'send', short: 's', kind: 'string', valueName: 'TEXT', help: 'send TEXT after connecting (escapes: \\r \\n \\t \\\\ \\xHH)' },
  { name: 'count', short: 'c', kind: 'string', valueName: 'N', help: 'open N connections at once (default 1)' },
  { name: 'half-close', kind: 'flag', help: 'shutdown(SHUT_WR) after sending: the server sees end of stream' },
  { name: 'timeout', kind: 'string', valueName: 'SEC', help: 'give up on connections still open after SEC seconds (default 30)' },
];

export const CONNECT_USAGE = `usage: synack connect -i IFACE --ip ADDR --to HOST:PORT [--send TEXT] [--count N] [--half-close]
                      [--timeout SEC] [--frames] [--json] [--write FILE.pcapng]

Be a host on IFACE with synack's own TCP stack and connect to a server on the link: send TEXT, print
what comes back until the server closes. Example (HTTP/1.0):
  synack connect -i eth1 --ip 192.0.2.50 --to 192.0.2.1:80 --send 'GET / HTTP/1.0\\r\\n\\r\\n'
${LIVE_HOST_NOTES}`;

/** Backslash escapes of --send, so a shell argument can carry CR LF. */
export function unescapeText(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch !== '\\' || i + 1 >= text.length) {
      for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
      continue;
    }
    const n = text[++i] as string;
    if (n === 'r') bytes.push(13);
    else if (n === 'n') bytes.push(10);
    else if (n === 't') bytes.push(9);
    else if (n === '0') bytes.push(0);
    else if (n === '\\') bytes.push(92);
    else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new UsageError(`--send: unknown escape \\${n}`);
  }
  return new Uint8Array(bytes);
}

interface ConnResult {
  n: number;
  local: string | null;
  ok: boolean;
  error: string | null;
  handshakeMs: number | null;
  sent: number;
  received: number;
  sha256: string | null;
  ms: number;
}

const DRAIN_MS = 2000;

export function runConnect(args: ParsedArgs, out: Output, err: (s: string) => void): number {
  if (args.positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(args.positionals[0])}`);
  const sa = sessionArgs(args);
  const toText = args.values.get('to');
  if (toText === undefined) throw new UsageError('--to HOST:PORT missing');
  const to = parseHostPort(toText);
  const v4 = isIpv4(to.host);
  if (!v4 && !isIpv6(to.host)) throw new UsageError(`--to: ${JSON.stringify(to.host)} is not an IP address (no name lookups)`);
  if (v4 ? sa.ip.length === 0 : sa.ip6.length === 0) throw new UsageError(`--to ${toText} needs synack to have an ${v4 ? 'IPv4 address (--ip)' : 'IPv6 address (--ip6)'}`);
  const sendText = args.values.get('send');
  const payload = sendText === undefined ? null : unescapeText(sendText);
  const count = parseCount(args.values.get('count'), '--count', 1);
  const timeoutS = parseCount(args.values.get('timeout'), '--timeout', 30);
  const halfClose = args.flags.has('half-close');
  const remote = formatEndpoint(to.host, to.port);

  const results: ConnResult[] = [];
  return runSession(
    sa,
    {
      command: 'connect',
      logToStderr: true,
      summary: () => {
        const ok = results.filter((r) => r.ok).length;
        const received = results.reduce((s, r) => s + r.received, 0);
        const sent = results.reduce((s, r) => s + r.sent, 0);
        const hs = results.map((r) => r.handshakeMs).filter((x): x is number => x !== null);
        return {
          json: { to: remote, count, completed: ok, failed: count - ok, bytes: { sent, received }, connections: results },
          text: `${ok} of ${count} connections to ${remote} completed, ${sent} bytes sent, ${received} received` + (hs.length > 0 ? `, handshake ${median(hs).toFixed(3)} ms median` : ''),
        };
      },
      // Interrupted before every connection completed: an expectation not met.
      interruptedCode: () => (results.length === count && results.every((x) => x.ok) ? 0 : 1),
      start: (s) => {
        const timer = setTimeout(() => {
          s.event({ event: 'timeout', seconds: timeoutS, done: results.length, count }, `synack connect: ${count - results.length} connections still open after ${timeoutS} s`);
          s.end(1);
        }, timeoutS * 1000);
        // The capture keeps the process alive while connections run; this timer must not once they end.
        timer.unref();
        let done = 0;
        for (let n = 1; n <= count; n++) {
          void oneConnection(s, n, v4, to.host, to.port, payload, halfClose).then((r) => {
            results.push(r);
            s.event(
              { event: 'connection', ...r, remote },
              r.ok
                ? `connection ${r.n}: ${r.local ?? '?'} → ${remote}: handshake ${r.handshakeMs?.toFixed(3)} ms, ${r.sent} bytes sent, ${r.received} received`
                : `connection ${r.n}: ${r.local ?? '?'} → ${remote}: ${r.error ?? 'failed'}`,
            );
            if (++done < count || s.ended) return;
            clearTimeout(timer);
            void drained(s).then(() => s.end(results.every((x) => x.ok) ? 0 : 1));
          });
        }
      },
    },
    out,
    err,
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] as number;
}

/** Waits (at most DRAIN_MS) until no connection is still closing, so the last FIN is answered. */
function drained(s: Session): Promise<void> {
  const until = performance.now() + DRAIN_MS;
  return new Promise((res) => {
    const check = (): void => {
      let busy = false;
      for (const sock of s.a.host.sockets.live) {
        const st = sock.tcb.state;
        if (st !== 'CLOSED' && st !== 'TIME-WAIT' && st !== 'LISTEN') busy = true;
      }
      if (!busy || performance.now() >= until || s.ended) res();
      else setTimeout(check, 5);
    };
    check();
  });
}

async function oneConnection(s: Session, n: number, v4: boolean, host: string, port: number, payload: Uint8Array | null, halfClose: boolean): Promise<ConnResult> {
  const k = s.a.sockets;
  const start = performance.now();
  const r: ConnResult = { n, local: null, ok: false, error: null, handshakeMs: null, sent: 0, received: 0, sha256: null, ms: 0 };
  const fd = k.socket(v4 ? 'inet' : 'inet6');
  if (isErrno(fd)) {
    r.error = `socket: ${fd}`;
    return r;
  }
  const chunks: Uint8Array[] = [];
  try {
    const connected = s.a.connect(fd, host, port);
    // connect(2) has bound the local port already: name it even if the handshake fails.
    const me = k.getsockname(fd);
    if (!isErrno(me)) r.local = formatEndpoint(me.address, me.port);
    await connected;
    r.handshakeMs = Math.round((performance.now() - start) * 1000) / 1000;
    if (payload !== null && payload.length > 0) r.sent = await s.a.sendAll(fd, payload);
    if (halfClose) k.shutdown(fd, 'SHUT_WR');
    for (;;) {
      const data = await s.a.recv(fd);
      if (data.length === 0) break;
      chunks.push(data);
      r.received += data.length;
    }
    r.ok = true;
  } catch (e) {
    r.error = e instanceof ErrnoError ? e.message : String(e);
  }
  k.close(fd);
  const all = new Uint8Array(r.received);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  r.sha256 = createHash('sha256').update(all).digest('hex');
  r.ms = Math.round((performance.now() - start) * 1000) / 1000;
  if (!s.ended) s.data(all);
  return r;
}
