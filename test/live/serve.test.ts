/**
 * `synack serve` against the real Linux kernel (issue 5): synack is a host on end `a` of a veth pair
 * (the CLI in namespace sy-serve-a, with an address and MAC that no interface owns), and python3
 * clients in namespace sy-serve-b connect to it with the kernel's own TCP. tcpdump on the kernel's end
 * sees every frame; a RST anywhere fails the test.
 *
 * The backlog test runs the same burst against a Linux listener with the same backlog and the same slow
 * application (py/slow_server.py, on end `a`'s kernel address) and asks the same of both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { buildForChild, removeBuild } from './build.js';
import { useNsPair } from './netns.js';
import { echoClients, resets, runIn, startReady, startTcpdump, SynackServe, synsFrom } from './synack-cli.js';
import type { ClientReport } from './synack-cli.js';

const pair = useNsPair('serve', { ipv6: true });
// The same, with the veths' checksum and segmentation offloads left on (as Linux makes a veth).
const offloaded = useNsPair('serveo', { offload: true });
let cli: { js: string; dir: string };

beforeAll(() => {
  cli = buildForChild('src/cli/main.ts');
});

afterAll(() => {
  if (cli !== undefined) removeBuild(cli.dir);
});

function serveArgs(extra: string[]): string[] {
  const p = pair();
  return ['-i', p.a.ifname, '--ip', p.spare.ipv4, '--ip6', p.spare.ipv6, '--mac', p.spare.mac, ...extra];
}

function expectAllEchoed(r: ClientReport, count: number): void {
  expect(r.errors).toEqual([]);
  expect(r.ok).toBe(count);
}

for (const family of ['IPv4', 'IPv6'] as const) {
  test(`${family}: 500 sequential and 100 concurrent kernel connect()s are accepted, echoed byte-exact and closed cleanly, no RST on the wire`, async () => {
    const p = pair();
    const addr = family === 'IPv4' ? p.spare.ipv4 : p.spare.ipv6;
    const dump = await startTcpdump(p.b.ns, p.b.ifname);
    const serve = await SynackServe.start(p.a.ns, cli.js, serveArgs(['--listen', '7', '--app', 'echo']));
    const sequential = await echoClients(p.b.ns, addr, 7, 500, 'sequential');
    const concurrent = await echoClients(p.b.ns, addr, 7, 100, 'concurrent');
    const { summary, exit } = await serve.stop();
    const wire = await dump();

    expectAllEchoed(sequential, 500);
    expectAllEchoed(concurrent, 100);
    expect(exit).toEqual({ code: 0, signal: null });
    const bytes = sequential.bytes + concurrent.bytes;
    expect(summary.connections).toEqual({ accepted: 600, closed: 600, reset: 0, open: 0 });
    expect(summary.bytes).toEqual({ received: bytes, sent: bytes });
    expect(summary.resetsSent).toBe(0);
    // Each accept event names the connection's own descriptor and the listener it came from.
    const accepts = serve.events.filter((e) => e.event === 'accept');
    expect(accepts).toHaveLength(600);
    expect(new Set(accepts.map((e) => e.listenerFd)).size).toBe(1);
    // The kernel's view: one SYN per connection (none retried: every one was answered at once), no RST.
    expect(resets(wire)).toEqual([]);
    expect(synsFrom(wire, family === 'IPv4' ? p.b.ipv4! : p.b.ipv6!)).toHaveLength(600);
  });
}

test('a burst larger than the backlog is queued, the kernel clients retry their SYNs, and nothing is lost — as with a Linux listener of the same backlog', async () => {
  const p = pair();
  const BURST = 20;
  // Backlog 2 holds three completed connections; the application accepts one every 100 ms. The clients
  // start 5 ms apart, so from the fifth on they find the accept queue full: Linux drops such a SYN
  // (tcp_conn_request: sk_acceptq_is_full → LISTENOVERFLOWS) and the client sends it again 1 s later.
  // Request/reply clients (py/echo_client.py "rr"): with SYN cookies on (Linux's default, and synack's),
  // a client that sends beyond its first segment before an overflowing listener accepted it is reset —
  // by Linux as by synack — because no cookie validates a later segment.
  const run = async (addr: string): Promise<{ report: ClientReport; wire: string[] }> => {
    const dump = await startTcpdump(p.b.ns, p.b.ifname);
    const report = await echoClients(p.b.ns, addr, 7, BURST, 'concurrent', 'rr', 1000, 5);
    return { report, wire: await dump() };
  };

  const linux = await startReady(p.a.ns, ['python3', '-u', `${__dirname}/py/slow_server.py`, p.a.ipv4!, '7', '2', '0.1'], 'ready');
  const kernel = await run(p.a.ipv4!);
  await linux.stop();

  const serve = await SynackServe.start(p.a.ns, cli.js, serveArgs(['--listen', '7', '--app', 'echo', '--backlog', '2', '--accept-delay', '100']));
  const synack = await run(p.spare.ipv4);
  const { summary } = await serve.stop();

  for (const [who, r] of [
    ['linux', kernel],
    ['synack', synack],
  ] as const) {
    expect(r.report.errors, who).toEqual([]);
    expect(r.report.ok, who).toBe(BURST);
    expect(resets(r.wire), who).toEqual([]);
    // More SYNs than connections: the listener let some go unanswered and the kernel clients retried.
    expect(synsFrom(r.wire, p.b.ipv4!).length, who).toBeGreaterThan(BURST);
  }
  expect(summary.connections).toEqual({ accepted: BURST, closed: BURST, reset: 0, open: 0 });
  expect(summary.resetsSent).toBe(0);
  expect(summary.drops as number).toBeGreaterThan(0);
});

test('a peer kernel with checksum offload and TSO: partial checksums and segments far above the MSS are taken, 4 MB echoed byte-exact', async () => {
  const p = offloaded();
  const dir = mkdtempSync(join(tmpdir(), 'synack-serveo-'));
  const file = join(dir, 'serve.pcapng');
  try {
    const dump = await startTcpdump(p.b.ns, p.b.ifname);
    const serve = await SynackServe.start(p.a.ns, cli.js, ['-i', p.a.ifname, '--ip', p.spare.ipv4, '--mac', p.spare.mac, '--listen', '7', '--write', file]);
    const r = await echoClients(p.b.ns, p.spare.ipv4, 7, 4, 'concurrent', 'shut', 1_000_000, 0, 'fixed');
    const { summary } = await serve.stop();
    const wire = await dump();
    expectAllEchoed(r, 4);
    expect(summary.bytes).toEqual({ received: 4_000_000, sent: 4_000_000 });
    expect(summary.drops).toBe(0);
    expect(summary.sendErrors).toBe(0);
    expect(resets(wire)).toEqual([]);
    // Every TCP segment from the kernel carried a partial checksum (tx offload), and was taken.
    expect(summary.partialChecksums).toBe((summary.frames as { tcpIn: number }).tcpIn);
    // TSO: frames far above the 1514 octets the MTU allows came in whole; synack sent none above it.
    const reader = openCapture(file);
    let biggestIn = 0;
    let biggestOut = 0;
    for (let f = reader.next(); f !== null; f = reader.next()) {
      if (f.comment?.startsWith('in ')) biggestIn = Math.max(biggestIn, f.capLen);
      else biggestOut = Math.max(biggestOut, f.capLen);
    }
    reader.close();
    expect(biggestIn).toBeGreaterThan(3 * 1514);
    expect(biggestOut).toBeLessThanOrEqual(1514);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--app http answers curl with the descriptor and 4-tuple that served it; --frames --json gives each frame its demux verdict', async () => {
  const p = pair();
  const serve = await SynackServe.start(p.a.ns, cli.js, serveArgs(['--listen', '80', '--app', 'http', '--frames']));
  const curl = await runIn(p.b.ns, ['curl', '-s', '-S', '-i', '--max-time', '5', `http://${p.spare.ipv4}/book?chapter=sockets`]);
  const { summary } = await serve.stop();
  expect(curl.code).toBe(0);
  const [head, body] = curl.stdout.split('\r\n\r\n');
  expect(head?.split('\r\n')[0]).toBe('HTTP/1.0 200 OK');
  const accept = serve.events.find((e) => e.event === 'accept')!;
  expect(body).toBe(`synack answered GET /book?chapter=sockets\nconnection fd ${String(accept.fd)}: ${p.spare.ipv4}:80 <- ${String(accept.peer)}, accepted from listener fd ${String(accept.listenerFd)}\n`);
  expect(summary.connections).toEqual({ accepted: 1, closed: 1, reset: 0, open: 0 });
  const frames = serve.events.filter((e) => e.event === 'frame');
  // The SYN went to the listener bound to ANY, which cloned itself; the request to the connection's own fd.
  expect(frames.find((e) => e.dir === 'in' && e.step === 'listener-any')).toMatchObject({ action: 'cloned', state: 'SYN-RECEIVED', fd: null });
  expect(frames.some((e) => e.dir === 'in' && e.step === 'established' && e.fd === accept.fd && e.action === 'delivered')).toBe(true);
  expect(frames.filter((e) => e.dir === 'out').length).toBe((summary.frames as { out: number }).out);
});
