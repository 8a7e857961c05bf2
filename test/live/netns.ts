/**
 * Two network namespaces joined by a veth pair, for tests that need a real Linux kernel on the other
 * end of a wire. Needs root (CI runs as root), `ip` (iproute2) and `ethtool`.
 *
 * Names are unique per test file: the tag picks them (`sy-<tag>-a` and `sy-<tag>-b` are both the
 * namespaces and the veth end inside each), so files running in parallel never meet. Nothing is put in
 * the root namespace: deleting the two namespaces removes everything, and teardown works BY NAME, so it
 * also clears what a crashed run left (`createPair` runs it first; `useNsPair` runs it in afterAll, which
 * vitest runs even when a test failed).
 *
 * Addresses come from 198.18.0.0/15 (RFC 2544 benchmarking) and 2001:db8::/32 (RFC 3849
 * documentation) only, inside the namespaces; tests must never send a frame to any other address.
 * `spare` holds an address and a locally administered MAC that no interface owns: the ones a synack
 * host uses on the wire (an address the interface owned would make the kernel answer, e.g. with RST).
 *
 * IPv6 is disabled in both namespaces unless asked for (no router solicitations, MLD or DAD noise);
 * with `ipv6: true` the addresses skip DAD so they work at once. Offloads are off on both ends unless
 * asked for: with tx checksum offload the kernel sends partial checksums, and with rx checksum offload
 * a veth marks every received frame "checksum verified", so the peer kernel would accept a frame with
 * a wrong checksum; GRO/GSO/TSO would merge or split frames.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';

export interface NsEnd {
  /** The namespace, and the name of the veth end inside it. */
  ns: string;
  ifname: string;
  mac: string;
  /** The kernel's address on this end; null when the pair was made without one for this end. */
  ipv4: string | null;
  ipv6: string | null;
}

export interface NsPair {
  tag: string;
  a: NsEnd;
  b: NsEnd;
  /** Prefix lengths of the on-link subnets. */
  prefix4: 24;
  prefix6: 64;
  /** Addresses and a MAC that no interface owns: for synack's own host on the wire. */
  spare: { ipv4: string; ipv6: string; mac: string };
}

export interface NsPairOptions {
  /** Enable IPv6 and give both ends 2001:db8::1 / ::2 (default off). */
  ipv6?: boolean;
  /** Give end `a` the kernel addresses (default true). Without them, only synack answers on `a`. */
  addressA?: boolean;
  /** Leave checksum and segmentation offloads on (default off, see above). */
  offload?: boolean;
  /** MTU of both ends (default 1500). */
  mtu?: number;
}

const TAG = /^[a-z0-9]{1,10}$/;

export const ADDR = {
  a4: '198.18.0.1',
  b4: '198.18.0.2',
  spare4: '198.18.0.3',
  a6: '2001:db8::1',
  b6: '2001:db8::2',
  spare6: '2001:db8::3',
  macA: '02:5a:00:00:00:0a',
  macB: '02:5a:00:00:00:0b',
  spareMac: '02:00:00:00:00:03',
} as const;

/** Fails with a message that says what to do when the tests cannot make namespaces. */
export function requireRoot(): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error(
      'test/live needs root (network namespaces, veth pairs, packet sockets): run as root, e.g. sudo npx vitest run test/live (CI runs as root)',
    );
  }
  for (const tool of ['ip', 'ethtool']) {
    const r = spawnSync(tool, [tool === 'ip' ? '-V' : '--version'], { encoding: 'utf8' });
    if (r.error !== undefined) throw new Error(`test/live needs \`${tool}\` on PATH (apt-get install iproute2 ethtool)`);
  }
}

export function nsNames(tag: string): { a: string; b: string } {
  if (!TAG.test(tag)) throw new Error(`namespace tag ${JSON.stringify(tag)}: 1 to 10 of [a-z0-9] (interface names have 15 characters)`);
  return { a: `sy-${tag}-a`, b: `sy-${tag}-b` };
}

/** Runs a command; throws with its output when it fails. */
function sh(argv: string[], input?: string): string {
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', input, timeout: 20_000 });
  if (r.error !== undefined) throw new Error(`${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.trim()}${r.stdout.trim()}`);
  return r.stdout;
}

/** Runs `argv` inside namespace `ns` and returns stdout; throws when it fails. */
export function nsRun(ns: string, argv: string[], input?: string): string {
  return sh(['ip', 'netns', 'exec', ns, ...argv], input);
}

/** Runs `argv` inside `ns` without throwing. */
export function nsTry(ns: string, argv: string[], timeoutMs = 20_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Children started by nsSpawn, with their namespace. */
const children = new Map<ChildProcess, string>();

/**
 * Starts `argv` inside `ns` (ip netns exec replaces itself with the command, so the child's pid is the
 * command's). The child is remembered and killed by `destroyPair` if it is still running.
 */
export function nsSpawn(ns: string, argv: string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], options);
  children.set(child, ns);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Kills what this process started in the namespaces (by pid) and deletes both namespaces by name. */
export function destroyPair(tag: string): void {
  const { a, b } = nsNames(tag);
  for (const [child, ns] of children) {
    if ((ns === a || ns === b) && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const ns of [a, b]) {
    // Deleting a namespace destroys the veth end in it, and with it the pair. Absent is fine.
    spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8' });
  }
}

/** Tears down leftovers by name, then builds the pair. */
export function createPair(tag: string, options: NsPairOptions = {}): NsPair {
  requireRoot();
  const { a, b } = nsNames(tag);
  destroyPair(tag);
  const ipv6 = options.ipv6 ?? false;
  const addressA = options.addressA ?? true;
  try {
    for (const ns of [a, b]) {
      sh(['ip', 'netns', 'add', ns]);
      const sysctl = [
        // Interfaces created later take the "default" settings.
        `net.ipv6.conf.all.disable_ipv6=${ipv6 ? 0 : 1}`,
        `net.ipv6.conf.default.disable_ipv6=${ipv6 ? 0 : 1}`,
        'net.ipv6.conf.all.accept_dad=0',
        'net.ipv6.conf.default.accept_dad=0',
        'net.ipv6.conf.default.router_solicitations=0',
        // Unprivileged-style ICMP echo sockets (python3's SOCK_DGRAM/IPPROTO_ICMP) for every group: tests ping with them.
        'net.ipv4.ping_group_range=0 2147483647',
      ];
      nsRun(ns, ['sysctl', '-q', '-w', ...sysctl]);
      nsRun(ns, ['ip', 'link', 'set', 'lo', 'up']);
    }
    sh(['ip', 'link', 'add', a, 'netns', a, 'address', ADDR.macA, 'type', 'veth', 'peer', 'name', b, 'netns', b, 'address', ADDR.macB]);
    const mtu = String(options.mtu ?? 1500);
    for (const [ns, v4, v6, own] of [
      [a, ADDR.a4, ADDR.a6, addressA],
      [b, ADDR.b4, ADDR.b6, true],
    ] as const) {
      nsRun(ns, ['ip', 'link', 'set', ns, 'mtu', mtu]);
      if (!(options.offload ?? false)) nsRun(ns, ['ethtool', '-K', ns, 'rx', 'off', 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
      if (own) {
        nsRun(ns, ['ip', 'addr', 'add', `${v4}/24`, 'dev', ns]);
        if (ipv6) nsRun(ns, ['ip', 'addr', 'add', `${v6}/64`, 'dev', ns, 'nodad']);
      }
      nsRun(ns, ['ip', 'link', 'set', ns, 'up']);
    }
  } catch (err) {
    destroyPair(tag);
    throw err;
  }
  return {
    tag,
    a: { ns: a, ifname: a, mac: ADDR.macA, ipv4: addressA ? ADDR.a4 : null, ipv6: addressA && ipv6 ? ADDR.a6 : null },
    b: { ns: b, ifname: b, mac: ADDR.macB, ipv4: ADDR.b4, ipv6: ipv6 ? ADDR.b6 : null },
    prefix4: 24,
    prefix6: 64,
    spare: { ipv4: ADDR.spare4, ipv6: ADDR.spare6, mac: ADDR.spareMac },
  };
}

/**
 * Builds the pair in beforeAll and destroys it in afterAll (which runs even when tests fail). Call at
 * the top of a test file; the returned function gives the pair inside tests.
 */
export function useNsPair(tag: string, options: NsPairOptions = {}): () => NsPair {
  let pair: NsPair | null = null;
  beforeAll(() => {
    pair = createPair(tag, options);
  });
  afterAll(() => {
    destroyPair(tag);
  });
  return () => {
    if (pair === null) throw new Error(`namespace pair ${tag} was not created (see the beforeAll error)`);
    return pair;
  };
}
