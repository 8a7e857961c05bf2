#!/usr/bin/env node
/**
 * `npm run bench:live`: handshake latency of a real Linux client against `synack serve`, and against a
 * Linux server on the same veth pair, in the same run (issue 5).
 *
 * Two network namespaces joined by a veth pair (sy-bench-a, sy-bench-b; 198.18.0.0/24, IPv6 off, the
 * veth's default offloads), torn down by name before and after. In sy-bench-a: `synack serve` on
 * 198.18.0.3 (an address no interface owns, MAC 02:00:00:00:00:03) and a python3 server on the
 * kernel's own 198.18.0.1 (accept, close). In sy-bench-b: one python3 client that times connect() —
 * SYN out to SYN-ACK in, as the kernel's connect() returns — with time.perf_counter_ns, alternating
 * between the two servers so that both see the same machine load, then closes (both servers then see
 * a FIN and close too). Warm-up connections are not counted.
 *
 *   npm run bench:live -- [--count N] [--warmup N]     (default 1000 and 100; needs root)
 *
 * Prints p50, p90, p99, mean and min for both and synack's ratio to the kernel, and writes the samples
 * to .cache/bench/live-<date>.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const CACHE = path.join(ROOT, '.cache', 'bench');
const A = 'sy-bench-a';
const B = 'sy-bench-b';
const KERNEL = '198.18.0.1';
const CLIENT = '198.18.0.2';
const SYNACK = '198.18.0.3';
const SYNACK_MAC = '02:00:00:00:00:03';

function option(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a whole number`);
  return n;
}
const COUNT = option('count', 1000);
const WARMUP = option('warmup', 100);

function sh(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}
const inNs = (ns, argv) => sh(['ip', 'netns', 'exec', ns, ...argv]);

function teardown() {
  for (const ns of [A, B]) spawnSync('ip', ['netns', 'del', ns]);
}

function setup() {
  teardown();
  for (const ns of [A, B]) {
    sh(['ip', 'netns', 'add', ns]);
    inNs(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
  }
  sh(['ip', 'link', 'add', A, 'netns', A, 'address', '02:5a:00:00:00:0a', 'type', 'veth', 'peer', 'name', B, 'netns', B, 'address', '02:5a:00:00:00:0b']);
  inNs(A, ['ip', 'addr', 'add', `${KERNEL}/24`, 'dev', A]);
  inNs(B, ['ip', 'addr', 'add', `${CLIENT}/24`, 'dev', B]);
  for (const ns of [A, B]) inNs(ns, ['ip', 'link', 'set', ns, 'up']);
}

/** Starts argv in ns; resolves once its output contains `marker`. */
function startReady(ns, argv, marker) {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${argv.join(' ')}: not ready after 15 s: ${text}`)), 15_000);
    const onData = (d) => {
      text += d;
      if (text.includes(marker)) {
        clearTimeout(timer);
        resolve({ child, output: () => text });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('exit', (code) => reject(new Error(`${argv.join(' ')} exited ${code}: ${text}`)));
  });
}

const KERNEL_SERVER = `
import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('${KERNEL}', 7)); l.listen(4096); print('ready', flush=True)
while True:
    c, _ = l.accept(); c.close()
`;

const CLIENT_SCRIPT = `
import json, socket, sys, time
count, warmup = int(sys.argv[1]), int(sys.argv[2])
targets = {'synack': ('${SYNACK}', 7), 'kernel': ('${KERNEL}', 7)}
out = {k: [] for k in targets}
for i in range(warmup + count):
    for name in (('synack', 'kernel') if i % 2 == 0 else ('kernel', 'synack')):
        s = socket.socket()
        s.settimeout(5)
        t0 = time.perf_counter_ns()
        s.connect(targets[name])
        dt = time.perf_counter_ns() - t0
        s.close()
        if i >= warmup:
            out[name].append(dt / 1000)
print(json.dumps(out))
`;

function runClient() {
  const child = spawn('ip', ['netns', 'exec', B, 'python3', '-c', CLIENT_SCRIPT, String(COUNT), String(WARMUP)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (status) => resolve({ status, stdout, stderr })));
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length, min: s[0] };
}

async function main() {
  if (process.getuid?.() !== 0) {
    console.error('bench:live needs root (network namespaces, a veth pair, a packet socket): sudo npm run bench:live');
    process.exit(2);
  }
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: npm run build first`);
  setup();
  const children = [];
  try {
    const synack = await startReady(A, [process.execPath, CLI, 'serve', '-i', A, '--ip', SYNACK, '--mac', SYNACK_MAC, '--listen', '7', '--app', 'discard', '--json'], '"event":"ready"');
    children.push(synack.child);
    const kernel = await startReady(A, ['python3', '-u', '-c', KERNEL_SERVER], 'ready');
    children.push(kernel.child);
    const t0 = Date.now();
    // Not spawnSync: this process must keep reading synack's output, or a full pipe would stall it.
    const r = await runClient();
    if (r.status !== 0) throw new Error(`client exited ${r.status}: ${r.stderr}`);
    const seconds = (Date.now() - t0) / 1000;
    const samples = JSON.parse(r.stdout);
    const s = stats(samples.synack);
    const k = stats(samples.kernel);
    const fmt = (x) => `${x.toFixed(1).padStart(8)} µs`;
    const rows = [
      ['', 'p50', 'p90', 'p99', 'mean', 'min'],
      ['synack serve', fmt(s.p50), fmt(s.p90), fmt(s.p99), fmt(s.mean), fmt(s.min)],
      ['linux (same veth)', fmt(k.p50), fmt(k.p90), fmt(k.p99), fmt(k.mean), fmt(k.min)],
      ['synack / linux', ...['p50', 'p90', 'p99', 'mean', 'min'].map((f) => `${(s[f] / k[f]).toFixed(2).padStart(9)} ×`)],
    ];
    console.log(`handshake latency, Linux ${sh(['uname', '-r']).trim()} client connect() on a veth pair: ${COUNT} connections to each (after ${WARMUP} warm-up), alternating, ${seconds.toFixed(1)} s`);
    for (const row of rows) console.log(row.map((c, i) => (i === 0 ? c.padEnd(18) : c.padStart(12))).join(''));
    fs.mkdirSync(CACHE, { recursive: true });
    const file = path.join(CACHE, `live-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify({ count: COUNT, warmup: WARMUP, kernelRelease: sh(['uname', '-r']).trim(), synack: s, kernel: k, samples }, null, 1));
    console.log(`samples: ${path.relative(ROOT, file)}`);
    synack.child.kill('SIGINT');
    await new Promise((res) => synack.child.on('exit', res));
    const summary = synack.output().split('\n').find((l) => l.includes('"event":"summary"'));
    if (summary !== undefined) {
      const j = JSON.parse(summary);
      console.log(`synack: ${j.connections.accepted} connections accepted, ${j.resetsSent} RST sent, ${j.drops} dropped, ${j.frames.in} frames in, ${j.frames.out} out`);
    }
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    teardown();
  }
}

main().catch((e) => {
  teardown();
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
