/**
 * `synack connect` against the real Linux kernel (issue 5): synack is a host on end `a` of a veth pair
 * (the CLI in namespace sy-connect-a, on an address and MAC no interface owns) and opens 100
 * connections at once to `python3 -m http.server` in namespace sy-connect-b, sending an HTTP/1.0 GET on
 * each. The server logs every request it answers; tcpdump on its end sees every frame; the replies
 * printed by synack are compared, byte for byte, with the file served. The --write file is read back:
 * every frame synack saw or sent, each with a comment naming its demux verdict.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { buildForChild, removeBuild } from './build.js';
import { useNsPair } from './netns.js';
import { resets, runSynack, startReady, startTcpdump, synsFrom } from './synack-cli.js';

const pair = useNsPair('connect');
let cli: { js: string; dir: string };
let www: string;
const COUNT = 100;
// 20000 octets: every reply takes many segments.
const FILE = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 31 + 7) & 255);

beforeAll(() => {
  cli = buildForChild('src/cli/main.ts');
  www = mkdtempSync(join(tmpdir(), 'synack-www-'));
  writeFileSync(join(www, 'file.bin'), FILE);
});

afterAll(() => {
  if (cli !== undefined) removeBuild(cli.dir);
  if (www !== undefined) rmSync(www, { recursive: true, force: true });
});

/** Splits synack's stdout into HTTP/1.0 replies (head and body, by Content-Length). */
function replies(out: Buffer): Array<{ status: string; body: Buffer }> {
  const list: Array<{ status: string; body: Buffer }> = [];
  let at = 0;
  while (at < out.length) {
    const end = out.indexOf('\r\n\r\n', at, 'latin1');
    if (end < 0) throw new Error(`a reply without the end of its head at ${at}`);
    const head = out.subarray(at, end).toString('latin1');
    const len = /\r\nContent-Length: (\d+)/i.exec(head);
    if (len === null) throw new Error(`no Content-Length in ${JSON.stringify(head)}`);
    const bodyAt = end + 4;
    list.push({ status: head.split('\r\n')[0] ?? '', body: out.subarray(bodyAt, bodyAt + Number(len[1])) });
    at = bodyAt + Number(len[1]);
  }
  return list;
}

test(`synack connect opens ${COUNT} connections to python3 -m http.server at once; the kernel accepts them all and every GET gets the whole file`, async () => {
  const p = pair();
  const server = await startReady(p.b.ns, ['python3', '-u', '-m', 'http.server', '--bind', p.b.ipv4!, '--directory', www, '8000'], 'Serving HTTP');
  const dump = await startTcpdump(p.b.ns, p.b.ifname);
  const pcapDir = mkdtempSync(join(tmpdir(), 'synack-connect-'));
  const pcap = join(pcapDir, 'connect.pcapng');
  try {
    const r = await runSynack(p.a.ns, cli.js, [
      'connect', '-i', p.a.ifname, '--ip', p.spare.ipv4, '--mac', p.spare.mac,
      '--to', `${p.b.ipv4!}:8000`, '--send', 'GET /file.bin HTTP/1.0\\r\\n\\r\\n', '--count', String(COUNT), '--write', pcap,
    ]);
    const wire = await dump();
    await server.stop();

    expect(r.stderr).toMatch(new RegExp(`${COUNT} of ${COUNT} connections to ${p.b.ipv4!.replace(/\./g, '\\.')}:8000 completed`));
    expect(r.code).toBe(0);
    // The kernel accepted and answered every one.
    expect(server.output().match(/"GET \/file\.bin HTTP\/1\.0" 200/g)).toHaveLength(COUNT);
    const got = replies(r.stdout);
    expect(got).toHaveLength(COUNT);
    for (const reply of got) {
      expect(reply.status).toBe('HTTP/1.0 200 OK');
      expect(Buffer.compare(reply.body, Buffer.from(FILE))).toBe(0);
    }
    // On the wire: every connection opened by synack, none reset by either side.
    expect(resets(wire)).toEqual([]);
    expect(synsFrom(wire, p.spare.ipv4).length).toBeGreaterThanOrEqual(COUNT);

    // The --write file: every frame in and out, each with its verdict, as many as the summary counted.
    const m = /frames (\d+) in, (\d+) out/.exec(r.stderr);
    expect(m).not.toBeNull();
    const reader = openCapture(pcap);
    const comments: string[] = [];
    for (let f = reader.next(); f !== null; f = reader.next()) comments.push(f.comment ?? '');
    reader.close();
    expect(reader.error).toBeNull();
    expect(comments).toHaveLength(Number(m![1]) + Number(m![2]));
    for (const c of comments) expect(c).toMatch(/^(in \d+: .+|out \d+: sent (tcp|arp|ndp))$/);
    // Every SYN-ACK from the kernel went to the connection that sent the SYN (the exact 4-tuple).
    expect(comments.filter((c) => / established fd \d+ delivered ESTABLISHED$/.test(c)).length).toBeGreaterThanOrEqual(COUNT);
  } finally {
    rmSync(pcapDir, { recursive: true, force: true });
  }
});

test('synack connect refuses an address an interface here owns, and says why', async () => {
  const p = pair();
  const r = await runSynack(p.a.ns, cli.js, ['connect', '-i', p.a.ifname, '--ip', p.a.ipv4!, '--to', `${p.b.ipv4!}:8000`]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`${p.a.ipv4!} belongs to interface ${p.a.ifname}`);
});

test('without CAP_NET_RAW, synack serve says exactly that and how to fix it', async () => {
  const p = pair();
  // setpriv drops CAP_NET_RAW from the bounding set: root without it, as an unprivileged user would be.
  const r = await runSynack(p.a.ns, '/usr/bin/setpriv', [
    '--bounding-set=-net_raw', process.execPath, cli.js, 'serve', '-i', p.a.ifname, '--ip', p.spare.ipv4, '--listen', '7',
  ]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('the process lacks CAP_NET_RAW');
  expect(r.stderr).toContain('setcap cap_net_raw,cap_net_admin=eip');
});
