/**
 * `synack live` on a real wire (issue 5): it observes end `a` of a veth pair (namespace sy-observe-a,
 * both directions) while the kernels make TCP traffic across it — python3 echo servers on `a`'s
 * address (ports 7 and 8), python3 clients in sy-observe-b: five echo connections over the two ports,
 * one to a port nothing listens on (refused), one the client resets, then a pause with no frame at
 * all (live's own clock must report the seven connections that are over), then one still open when
 * synack is stopped with SIGINT. Offloads are off on both veths (netns.ts), so every checksum is real.
 *
 * What it must show: the connections the clients made (their own ports, as they report them), in the
 * states they were left in; and the same connections, states and verdicts as `synack replay` of its own
 * --write file afterwards. Exactly the same with `--infer-listeners lazy` (what live must do: it cannot
 * read the stream twice); with replay's default pre-pass, the same except what lazy inference changes —
 * descriptor numbers, and the first SYN to each listening port, which live saw before that listener
 * showed itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import type { ConnectionRecord, DemuxRecord, HostTable } from '../../src/replay/index.js';
import { buildForChild, removeBuild } from './build.js';
import { useNsPair } from './netns.js';
import { PY, runSynack, sleep, startReady, SynackServe } from './synack-cli.js';

const pair = useNsPair('observe');
/** Seconds the clients stay silent before the last connection: more than the 2 s linger. */
const PAUSE_S = 3.5;
let cli: { js: string; dir: string };
let tmp: string;

beforeAll(() => {
  cli = buildForChild('src/cli/main.ts');
  tmp = mkdtempSync(join(tmpdir(), 'synack-observe-'));
});

afterAll(() => {
  if (cli !== undefined) removeBuild(cli.dir);
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

type Line = { type: string } & Record<string, unknown>;

function ndjson(text: string): Line[] {
  return text
    .trimEnd()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

function without<T extends { type: string }>(o: T): Omit<T, 'type'> {
  const { type: _t, ...rest } = o;
  return rest;
}

const byId = (a: ConnectionRecord, b: ConnectionRecord): number => a.id - b.id;
const byHost = (a: HostTable, b: HostTable): number => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);

async function replayJson(ns: string, file: string, extra: string[]): Promise<{ connections: ConnectionRecord[]; hosts: HostTable[]; frames: Record<string, number> }> {
  const r = await runSynack(ns, cli.js, ['replay', file, '--json', ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.toString('utf8')) as { connections: ConnectionRecord[]; hosts: HostTable[]; frames: Record<string, number> };
}

async function replayVerdicts(ns: string, file: string, extra: string[]): Promise<DemuxRecord[]> {
  const r = await runSynack(ns, cli.js, ['replay', file, '--ndjson', '--frames', ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return ndjson(r.stdout.toString('utf8'))
    .filter((o) => o.type === 'demux')
    .map((o) => without(o) as unknown as DemuxRecord);
}

test('synack live reports the connections the kernels made, and the same connections, states and verdicts as replaying its own --write file', async () => {
  const p = pair();
  const server = p.a.ipv4!;
  const file = join(tmp, 'live.pcapng');
  const live = await SynackServe.startCommand(p.a.ns, cli.js, 'live', ['-i', p.a.ifname, '--write', file, '--frames'], (s) => s.stderr.includes('observing'));
  const servers = await startReady(p.a.ns, ['python3', '-u', join(PY, 'observe_traffic.py'), 'servers', server, '7', '8'], 'ready');
  const clients = await startReady(p.b.ns, ['python3', '-u', join(PY, 'observe_traffic.py'), 'clients', server, '7', '8', '9', String(PAUSE_S)], 'paused', 30_000);
  // No frame during the pause: live's own clock reports each connection that is over once it has been
  // quiet for the linger (2 s), as the table updates on a quiet link — all seven before the last one opens.
  const t0 = Date.now();
  const reported = (): number => live.events.filter((e) => e.type === 'connection').length;
  while (reported() < 7 && Date.now() - t0 < PAUSE_S * 1000) await sleep(50);
  expect(reported()).toBe(7);
  while (!clients.output().includes('holding') && Date.now() - t0 < 20_000) await sleep(20);
  expect(clients.output()).toContain('holding');
  expect(reported()).toBe(7);
  // The last ACKs reach the capture; then Ctrl-C while one connection is still open.
  await sleep(300);
  const exit = await live.interrupt();
  await clients.stop('SIGKILL');
  await servers.stop('SIGKILL');
  expect(exit, live.stderr).toEqual({ code: 0, signal: null });
  expect(live.stderr).toMatch(new RegExp(`^synack live: observing ${p.a.ifname} \\(both directions\\); Ctrl-C ends\\n`));
  expect(live.stderr).toMatch(new RegExp(`synack live: \\d+ frames, \\d+ TCP, 8 connections in [\\d.]+ s; wrote ${file}\\n$`));

  const made = JSON.parse(clients.output().split('\n').find((l) => l.startsWith('['))!) as Array<{ kind: 'echo' | 'refused' | 'reset' | 'open'; port: number; local: string }>;
  expect(made.map((c) => c.kind)).toEqual(['echo', 'echo', 'echo', 'echo', 'echo', 'refused', 'reset', 'open']);

  const lines = live.events as Line[];
  const verdicts = lines.filter((o) => o.type === 'demux').map((o) => without(o) as unknown as DemuxRecord);
  const conns = lines
    .filter((o) => o.type === 'connection')
    .map((o) => without(o) as unknown as ConnectionRecord)
    .sort(byId);
  const summary = lines.find((o) => o.type === 'summary') as Line & { frames: Record<string, number>; hosts: HostTable[]; format: string; file: string; listenerInference: string };
  expect(summary).toMatchObject({ format: 'live', file: p.a.ifname, listenerInference: 'lazy', iface: p.a.ifname });
  expect(lines[lines.length - 1]).toBe(summary);

  // The connections the clients made, in the states they left them (Zeek conn_state), in order.
  const expected: Record<string, string> = { echo: 'SF', refused: 'REJ', reset: 'RSTO', open: 'S1' };
  expect(conns.map((c) => [c.id, c.client, c.server, c.state])).toEqual(made.map((m, i) => [i + 1, m.local, `${server}:${m.port}`, expected[m.kind]]));
  const listenerFd = new Map<number, number | null>();
  for (const [i, c] of conns.entries()) {
    const m = made[i]!;
    if (m.kind === 'refused') {
      expect(c).toMatchObject({ history: 'Sr', listenerFd: null, serverFd: null, frames: 2, handshake: false });
      continue;
    }
    // Accepted: a descriptor of its own, from the listener of its port (one per port, never the same).
    expect(c.handshake).toBe(true);
    expect(c.history).toMatch(/^ShAD/);
    expect(c.serverFd).not.toBeNull();
    expect(c.listenerFd).not.toBeNull();
    if (!listenerFd.has(m.port)) listenerFd.set(m.port, c.listenerFd);
    expect(c.listenerFd).toBe(listenerFd.get(m.port));
    expect(c.badChecksum).toBe(0);
    if (m.kind === 'reset') expect(c.rst).toEqual({ client: 1, server: 0 });
    if (m.kind === 'open') expect([c.clientState, c.serverState]).toEqual(['ESTABLISHED', 'ESTABLISHED']);
  }
  expect(listenerFd.get(7)).not.toBe(listenerFd.get(8));
  // Every TCP frame got its verdict, and every frame went to the file.
  expect(verdicts).toHaveLength(summary.frames.tcp!);
  const reader = openCapture(file);
  let written = 0;
  while (reader.next() !== null) written++;
  expect(reader.error).toBeNull();
  expect(written).toBe(summary.frames.total);
  expect(summary.frames.badChecksum).toBe(0);

  // Replaying the file as live observed it: exactly the same.
  const lazy = await replayJson(p.a.ns, file, ['--infer-listeners', 'lazy']);
  expect([...lazy.connections].sort(byId)).toEqual(conns);
  expect(lazy.frames).toEqual(summary.frames);
  // (The tables' order of hosts can differ: live's clock moved on after the last frame and let go of
  // a host whose connections were all over; the file's replay stops at its last frame.)
  expect([...lazy.hosts].sort(byHost)).toEqual([...summary.hosts].sort(byHost));
  expect(await replayVerdicts(p.a.ns, file, ['--infer-listeners', 'lazy'])).toEqual(verdicts);

  // And with replay's default pre-pass: the same connections and states; what differs is only what lazy
  // inference changes — descriptor numbers, and the verdict of the first SYN to each listening port.
  const pre = await replayJson(p.a.ns, file, []);
  const noFds = (c: ConnectionRecord): Omit<ConnectionRecord, 'serverFd' | 'listenerFd' | 'clientFd'> => {
    const { serverFd: _s, listenerFd: _l, clientFd: _c, ...rest } = c;
    return rest;
  };
  expect([...pre.connections].sort(byId).map(noFds)).toEqual(conns.map(noFds));
  // The pre-pass gives the two listeners the lowest descriptors, 3 and 4.
  expect(new Set(pre.connections.map((c) => c.listenerFd).filter((fd) => fd !== null))).toEqual(new Set([3, 4]));
  const preVerdicts = await replayVerdicts(p.a.ns, file, []);
  expect(preVerdicts.map((v) => v.frame)).toEqual(verdicts.map((v) => v.frame));
  const firstSyn = new Set([7, 8].map((port) => verdicts.find((v) => v.flags === 'S' && v.socket.startsWith(`${server}:${port} <- `))!.frame));
  const essence = (v: DemuxRecord): Omit<DemuxRecord, 'fd' | 'listenerFd'> => {
    const { fd: _f, listenerFd: _l, ...rest } = v;
    return rest;
  };
  for (const [i, v] of verdicts.entries()) {
    const w = preVerdicts[i]!;
    if (firstSyn.has(v.frame)) {
      expect([v.step, v.action, v.state]).toEqual(['none', 'reset', 'CLOSED']);
      expect([w.step, w.action, w.state]).toEqual(['listener-any', 'cloned', 'SYN-RECEIVED']);
    } else {
      expect(essence(v)).toEqual(essence(w));
    }
  }
});

test('text mode with --filter: only the frames the filter takes, verdict lines, each connection as it ends, the tables at Ctrl-C', async () => {
  const p = pair();
  const server = p.a.ipv4!;
  const live = await SynackServe.startCommand(p.a.ns, cli.js, 'live', ['-i', p.a.ifname, '--filter', 'tcp port 7', '--frames'], (s) => s.stderr.includes('observing'), 15_000, false);
  const servers = await startReady(p.a.ns, ['python3', '-u', join(PY, 'observe_traffic.py'), 'servers', server, '7', '8'], 'ready');
  const clients = await startReady(p.b.ns, ['python3', '-u', join(PY, 'observe_traffic.py'), 'clients', server, '7', '8', '9', '0'], 'holding', 30_000);
  await sleep(300);
  const exit = await live.interrupt();
  await clients.stop('SIGKILL');
  await servers.stop('SIGKILL');
  expect(exit, live.stderr).toEqual({ code: 0, signal: null });
  const made = (JSON.parse(clients.output().split('\n').find((l) => l.startsWith('['))!) as Array<{ kind: string; port: number; local: string }>).filter((c) => c.port === 7);
  expect(made.map((c) => c.kind)).toEqual(['echo', 'echo', 'echo', 'reset']);

  const out = live.stdoutText();
  const lines = out.split('\n');
  expect(lines[0]).toMatch(/^ frame {2}flags receiving socket \(local <- remote\) +step +fd lfd conn {2}action +state \(sender\)$/);
  // The verdict lines: from the header to the first line that is not one (connection lines come between them).
  const frameLines: string[] = [];
  for (const l of lines.slice(1)) {
    if (l.startsWith('conn ')) continue;
    if (!/^ +\d+ {2}\S/.test(l)) break;
    frameLines.push(l);
  }
  // Nothing but port 7: the filter held back ARP and the connections to ports 8 and 9.
  expect(frameLines.length).toBeGreaterThan(4 * 5);
  for (const l of frameLines) expect(l).toMatch(new RegExp(` (${server.replace(/\./g, '\\.')}:7 <- \\S+|\\S+ <- ${server.replace(/\./g, '\\.')}:7) `));
  // Each connection once as it ended (or at Ctrl-C), with its Zeek state.
  const ended = lines.filter((l) => l.startsWith('conn '));
  expect(ended.map((l) => /^conn (\d+) {2}(\S+) > (\S+) {2}(\S+) /.exec(l)!.slice(1, 5))).toEqual(
    made.map((m, i) => [String(i + 1), m.local, `${server}:7`, m.kind === 'reset' ? 'RSTO' : 'SF']),
  );
  // Then replay's summary: the same connections in a table, and the socket tables.
  expect(out).toMatch(new RegExp(`\\n${p.a.ifname}: live, link type 1 ETHERNET; \\d+ frames, \\d+ TCP; 4 connections\\n`));
  expect(out).toContain('\nsockets at the end of the capture:\n');
  expect(out).toMatch(new RegExp(`\\nhost ${server.replace(/\./g, '\\.')}\\n +fd +state +local +remote +queue\\n +\\d+ +LISTEN +\\*:7 `));
  expect(live.stderr).toMatch(/synack live: \d+ frames, \d+ TCP, 4 connections in [\d.]+ s\n$/);
});

test('a missing interface, a bad filter, no CAP_NET_RAW: exit 2 with the reason', async () => {
  const p = pair();
  const none = await runSynack(p.a.ns, cli.js, ['live', '-i', 'sy-nosuch']);
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/^synack live: no interface "sy-nosuch"; interfaces here: /);
  const filter = await runSynack(p.a.ns, cli.js, ['live', '-i', p.a.ifname, '--filter', 'tcp port sevenish']);
  expect(filter.code).toBe(2);
  expect(filter.stderr).toMatch(/^synack live: bad BPF filter "tcp port sevenish": /);
  // setpriv drops CAP_NET_RAW from the bounding set: root without it, as an unprivileged user would be.
  const noRaw = await runSynack(p.a.ns, '/usr/bin/setpriv', ['--bounding-set=-net_raw', process.execPath, cli.js, 'live', '-i', p.a.ifname]);
  expect(noRaw.code).toBe(2);
  expect(noRaw.stderr).toContain('the process lacks CAP_NET_RAW');
  expect(noRaw.stderr).toContain('setcap cap_net_raw,cap_net_admin=eip');
  const usage = await runSynack(p.a.ns, cli.js, ['live']);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/^synack live: -i IFACE missing\n/);
});
