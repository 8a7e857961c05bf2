#!/usr/bin/env node
/**
 * Makes the README's ladder diagram: synack's own stack plays both ends of one web connection on a
 * virtual Ethernet (synack/testing's Network: a server Host 198.18.0.1 listening on :80, a client Host
 * 198.18.0.11 connecting from port 40001, a request, an answer, a close started by the client), and the
 * frames on the wire plus both Hosts' traced state changes are drawn with src/report/ladder.ts and
 * ladder-svg.ts. Deterministic: the Network's seeded random source picks the ISNs.
 *
 *   npm run build && node tools/make-doc-images.mjs
 *
 * Writes docs/ladder-example.txt, docs/ladder-example.svg and (with headless Chromium on PATH)
 * docs/ladder-example.png, a screenshot of the SVG at its own size.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Network } from '../dist/testing/index.js';
import { FrameDecoder } from '../dist/wire/frame-decoder.js';
import { TcpPacket, formatTcpOptions, parseTcpOptions } from '../dist/wire/tcp.js';
import { LinkType } from '../dist/wire/linktype.js';
import { tcpChecksumStatus } from '../dist/report/frames.js';
import { ladderText } from '../dist/report/ladder.js';
import { ladderSvg } from '../dist/report/ladder-svg.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = join(ROOT, 'docs');
const SERVER = '198.18.0.1';
const CLIENT = '198.18.0.11';
const CLIENT_PORT = 40001;

/** A socket call's result, or a thrown error naming the call and its errno (connect's EINPROGRESS is fine). */
function ok(what, r) {
  if (typeof r === 'string' && r !== 'EINPROGRESS') throw new Error(`${what}: ${r}`);
  return r;
}

// ---- the conversation ----------------------------------------------------------------------------
const net = new Network({ seed: 4 });
const server = net.attach({ name: 'server', mac: '02:00:00:00:00:01', ipv4: [SERVER], trace: true });
const client = net.attach({ name: 'client', mac: '02:00:00:00:00:02', ipv4: [CLIENT], trace: true });
const s = server.sockets;
const c = client.sockets;
const listener = ok('socket', s.socket('inet'));
ok('bind', s.bind(listener, '0.0.0.0', 80));
ok('listen', s.listen(listener, 16));
const fd = ok('socket', c.socket('inet'));
ok('bind', c.bind(fd, CLIENT, CLIENT_PORT));
const serverFrom = server.trace.length;
const clientFrom = client.trace.length;

ok('connect', c.connect(fd, SERVER, 80));
net.advance(1_000);
const accepted = ok('accept', s.accept(listener)).fd;
net.advance(100_000);
ok('send', c.send(fd, new TextEncoder().encode('GET /index.html HTTP/1.0\r\n\r\n')));
net.advance(1_000);
ok('recv', s.recv(accepted));
ok('send', s.send(accepted, new TextEncoder().encode('HTTP/1.0 200 OK\r\n\r\nhello\n')));
net.advance(100_000);
ok('recv', c.recv(fd));
ok('close', c.close(fd));
net.advance(100_000);
ok('close', s.close(accepted));
net.advance(100_000);

// ---- the wire, as a capture would show it ----------------------------------------------------------
const decoder = new FrameDecoder();
const segments = [];
net.frames.forEach(({ time, from, frame }, i) => {
  const n = i + 1;
  const bytes = { u8: frame, dv: new DataView(frame.buffer, frame.byteOffset, frame.byteLength) };
  const { info } = decoder.decode(LinkType.ETHERNET, bytes, 0, frame.length, n, time);
  if (!info.tcp || info.error !== null) return;
  const pkt = TcpPacket.check(info.bytes, info.l4Offset, info.l4Captured, info.l4Length);
  if (typeof pkt === 'string') return;
  const opts = parseTcpOptions(info.bytes, pkt.optionsOffset, pkt.optionsLength);
  segments.push({
    frame: n,
    timeUs: time,
    fromClient: from === client,
    flags: pkt.flags,
    seq: pkt.seq,
    ack: pkt.ack,
    window: pkt.window,
    payloadLength: info.tcpPayloadLength,
    options: typeof opts === 'string' ? '' : formatTcpOptions(opts),
    badChecksum: tcpChecksumStatus(info) === 'bad',
  });
});

// ---- state changes: a Host numbers the frames it receives; map them back to the wire's numbers ------
function notes(host, from, side) {
  const received = [];
  net.frames.forEach((f, i) => {
    if (f.from !== host) received.push(i + 1);
  });
  return host.trace
    .slice(from)
    .filter((e) => e.type === 'state')
    // A call or a timer has no frame: 0 puts it before the segment it makes at the same instant.
    .map((e) => ({ frame: e.frame === null ? 0 : received[e.frame - 1], timeUs: e.time, side, from: e.from, to: e.to }));
}
const states = [...notes(client, clientFrom, 'client'), ...notes(server, serverFrom, 'server')];
const label = { client: `${CLIENT}:${CLIENT_PORT}`, server: `${SERVER}:80`, clientFd: fd, serverFd: accepted, listenerFd: listener };

// ---- write ---------------------------------------------------------------------------------------
mkdirSync(DOCS, { recursive: true });
const text = ladderText(label, segments, states);
const svg = ladderSvg(label, segments, states);
writeFileSync(join(DOCS, 'ladder-example.txt'), `${text}\n`);
writeFileSync(join(DOCS, 'ladder-example.svg'), `${svg}\n`);
console.log(text);

function findChromium() {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      const p = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (p !== '') return p;
    } catch {
      // not this one
    }
  }
  return null;
}

const chromium = findChromium();
if (chromium === null) {
  console.error('make-doc-images: no chromium on PATH (apt-get install -y chromium); docs/ladder-example.png not made');
  process.exit(1);
}
const [, width, height] = /width="(\d+)" height="(\d+)"/.exec(svg);
const profile = mkdtempSync(join(tmpdir(), 'synack-chromium-'));
try {
  execFileSync(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      `--screenshot=${join(DOCS, 'ladder-example.png')}`,
      `--window-size=${width},${height}`,
      pathToFileURL(join(DOCS, 'ladder-example.svg')).href,
    ],
    { stdio: 'ignore', timeout: 60_000 },
  );
} finally {
  rmSync(profile, { recursive: true, force: true });
}
console.error(`make-doc-images: wrote docs/ladder-example.{txt,svg,png} (${width}x${height})`);
