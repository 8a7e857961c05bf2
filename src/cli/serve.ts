/**
 * `synack serve -i IFACE --ip ADDR --listen PORT...`: synack is a host on the interface and serves the
 * ports with its own stack: a real kernel elsewhere on the link connects to it, and every frame's demux
 * verdict is there to see (--frames, --json, --write). Runs until SIGINT/SIGTERM, then prints a summary.
 *
 * Apps: echo (RFC 862: send back what arrives, close after the peer does), discard (RFC 863: read and
 * drop), http (a minimal HTTP/1.0 responder that tells the client which descriptor and 4-tuple served it:
 * the listener's port, the connection's own descriptor).
 */
import { formatEndpoint } from '../wire/address.js';
import { ErrnoError, isErrno } from '../socket/errno.js';
import type { Domain } from '../socket/socket.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { LIVE_HOST_NOTES, LIVE_HOST_OPTIONS, parseCount, parsePort, runSession, sessionArgs } from './live-session.js';
import type { Session } from './live-session.js';
import type { Output } from './output.js';

export const SERVE_OPTIONS: readonly OptionSpec[] = [
  ...LIVE_HOST_OPTIONS,
  { name: 'listen', short: 'l', kind: 'list', valueName: 'PORT...', help: 'ports to listen on (each on every address family given)' },
  { name: 'app', kind: 'string', valueName: 'echo|discard|http', help: 'what to do with each connection (default echo)' },
  { name: 'backlog', kind: 'string', valueName: 'N', help: 'listen(2) backlog (default 128)' },
  { name: 'accept-delay', kind: 'string', valueName: 'MS', help: 'wait MS milliseconds before each accept(2) (a slow application)' },
];

export const SERVE_USAGE = `usage: synack serve -i IFACE --ip ADDR [--ip6 ADDR] [--mac MAC] --listen PORT... [--app echo|discard|http]
                    [--backlog N] [--accept-delay MS] [--frames] [--json] [--write FILE.pcapng]

Be a host on IFACE with synack's own TCP stack: answer ARP/NDP for ADDR and serve the ports. A real
kernel on the link connects to it; each frame's demux verdict shows with --frames or in the --write file.
${LIVE_HOST_NOTES}`;

type App = 'echo' | 'discard' | 'http';

const HTTP_MAX_REQUEST = 8192;

export function runServe(args: ParsedArgs, out: Output, err: (s: string) => void): number {
  if (args.positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(args.positionals[0])}`);
  const sa = sessionArgs(args);
  const ports = (args.lists.get('listen') ?? []).map((p) => parsePort(p, '--listen'));
  if (ports.length === 0) throw new UsageError('--listen PORT missing');
  const appText = args.values.get('app') ?? 'echo';
  if (appText !== 'echo' && appText !== 'discard' && appText !== 'http') throw new UsageError(`--app ${JSON.stringify(appText)}: echo, discard or http`);
  const app: App = appText;
  const backlog = parseCount(args.values.get('backlog'), '--backlog', 128, 0);
  const acceptDelayMs = parseCount(args.values.get('accept-delay'), '--accept-delay', 0, 0);

  const tally = { accepted: 0, closed: 0, reset: 0, open: 0, bytesIn: 0, bytesOut: 0 };
  return runSession(
    sa,
    {
      command: 'serve',
      logToStderr: false,
      summary: () => ({
        json: { app, ports, connections: { accepted: tally.accepted, closed: tally.closed, reset: tally.reset, open: tally.open }, bytes: { received: tally.bytesIn, sent: tally.bytesOut } },
        text: `${tally.accepted} connections (${tally.closed} closed, ${tally.reset} reset, ${tally.open} open), ${tally.bytesIn} bytes received, ${tally.bytesOut} sent`,
      }),
      start: (s) => {
        const families: Array<[Domain, string]> = [];
        if (s.a.ipv4.length > 0) families.push(['inet', '0.0.0.0']);
        if (s.a.ipv6.length > 0) families.push(['inet6', '::']);
        for (const port of ports) {
          for (const [domain, any] of families) {
            const fd = listenOn(s, domain, any, port, backlog);
            if (typeof fd === 'string') {
              s.event({ event: 'error', message: fd }, `synack serve: ${fd}`);
              s.end(2);
              return;
            }
            s.event({ event: 'listening', fd, local: formatEndpoint(any, port), backlog }, `listening on ${formatEndpoint(any, port)} fd ${fd} (backlog ${backlog})`);
            void acceptLoop(s, fd, app, acceptDelayMs, tally);
          }
        }
        s.event(
          { event: 'ready', iface: sa.iface, mac: s.a.mac, ip: s.a.ipv4, ip6: s.a.ipv6, app },
          `synack serve: ${app} on ${[...s.a.ipv4, ...s.a.ipv6].join(', ')} (${s.a.mac}) via ${sa.iface}; Ctrl-C ends`,
        );
      },
    },
    out,
    err,
  );
}

function listenOn(s: Session, domain: Domain, any: string, port: number, backlog: number): number | string {
  const k = s.a.sockets;
  const fd = k.socket(domain);
  if (isErrno(fd)) return `socket: ${fd}`;
  if (domain === 'inet6') k.setsockopt(fd, 'IPV6_V6ONLY', 1);
  k.setsockopt(fd, 'SO_REUSEADDR', 1);
  const b = k.bind(fd, any, port);
  if (isErrno(b)) return `bind ${formatEndpoint(any, port)}: ${b}`;
  const l = k.listen(fd, backlog);
  if (isErrno(l)) return `listen ${formatEndpoint(any, port)}: ${l}`;
  return fd;
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

interface Tally {
  accepted: number;
  closed: number;
  reset: number;
  open: number;
  bytesIn: number;
  bytesOut: number;
}

async function acceptLoop(s: Session, lfd: number, app: App, delayMs: number, tally: Tally): Promise<void> {
  while (!s.ended) {
    if (delayMs > 0) await sleep(delayMs);
    let c: { fd: number; peer: { address: string; port: number } };
    try {
      c = await s.a.accept(lfd);
    } catch (e) {
      s.event({ event: 'error', message: `accept fd ${lfd}: ${(e as Error).message}` }, `accept fd ${lfd}: ${(e as Error).message}`);
      return;
    }
    if (s.ended) return;
    tally.accepted++;
    tally.open++;
    const local = s.a.sockets.getsockname(c.fd);
    const localText = isErrno(local) ? '?' : formatEndpoint(local.address, local.port);
    const peer = formatEndpoint(c.peer.address, c.peer.port);
    s.event({ event: 'accept', listenerFd: lfd, fd: c.fd, local: localText, peer }, `accept fd ${c.fd} ← ${peer} on ${localText} (listener fd ${lfd})`);
    void serveConnection(s, lfd, c.fd, peer, localText, app, tally);
  }
}

async function serveConnection(s: Session, lfd: number, fd: number, peer: string, local: string, app: App, tally: Tally): Promise<void> {
  let bytesIn = 0;
  let bytesOut = 0;
  let how = 'closed';
  try {
    if (app === 'http') {
      const r = await httpExchange(s, lfd, fd, peer, local);
      bytesIn = r.bytesIn;
      bytesOut = r.bytesOut;
      tally.bytesIn += bytesIn;
      tally.bytesOut += bytesOut;
    } else {
      for (;;) {
        const data = await s.a.recv(fd);
        if (data.length === 0) break;
        bytesIn += data.length;
        tally.bytesIn += data.length;
        if (app === 'echo') {
          bytesOut += await s.a.sendAll(fd, data);
          tally.bytesOut += data.length;
        }
      }
    }
  } catch (e) {
    how = e instanceof ErrnoError ? `error ${e.message}` : `error ${String(e)}`;
  }
  if (s.ended) return;
  if (how === 'closed') tally.closed++;
  else tally.reset++;
  tally.open--;
  s.a.sockets.close(fd);
  s.event({ event: 'close', fd, peer, bytesIn, bytesOut, how }, `close fd ${fd} (${peer}): ${bytesIn} bytes in, ${bytesOut} out, ${how}`);
}

const enc = new TextEncoder();

/** HTTP/1.0 (RFC 1945): one request, one response, then the server closes. */
async function httpExchange(s: Session, lfd: number, fd: number, peer: string, local: string): Promise<{ bytesIn: number; bytesOut: number }> {
  let req = '';
  let bytesIn = 0;
  while (!req.includes('\r\n\r\n') && !req.includes('\n\n') && req.length < HTTP_MAX_REQUEST) {
    const data = await s.a.recv(fd);
    if (data.length === 0) break;
    bytesIn += data.length;
    req += Buffer.from(data).toString('latin1');
  }
  const first = req.split(/\r?\n/, 1)[0] ?? '';
  const m = /^([A-Z]+) (\S+) HTTP\/\d\.\d$/.exec(first);
  let status = '200 OK';
  let body: string;
  if (m === null) {
    status = '400 Bad Request';
    body = 'synack: bad request\n';
  } else if (m[1] !== 'GET' && m[1] !== 'HEAD') {
    status = '501 Not Implemented';
    body = `synack: ${m[1] as string} is not implemented\n`;
  } else {
    body = `synack answered ${m[1] as string} ${m[2] as string}\nconnection fd ${fd}: ${local} <- ${peer}, accepted from listener fd ${lfd}\n`;
  }
  const bodyBytes = enc.encode(body);
  const head = `HTTP/1.0 ${status}\r\nServer: synack\r\nContent-Type: text/plain\r\nContent-Length: ${bodyBytes.length}\r\nConnection: close\r\n\r\n`;
  const headBytes = enc.encode(head);
  const withBody = m === null || m[1] !== 'HEAD';
  const reply = new Uint8Array(headBytes.length + (withBody ? bodyBytes.length : 0));
  reply.set(headBytes, 0);
  if (withBody) reply.set(bodyBytes, headBytes.length);
  const bytesOut = await s.a.sendAll(fd, reply);
  return { bytesIn, bytesOut };
}
