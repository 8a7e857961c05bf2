/**
 * Helpers for the tests of `synack serve` and `synack connect` on a veth pair (netns.ts): the CLI runs
 * as a child inside a namespace, `ip netns exec NS node main.js ...`, from sources transpiled by
 * build.ts (so nothing runs in the root namespace, and the vitest worker holds no capture); kernel
 * clients and servers are python3 scripts (py/) in the other namespace; tcpdump on the kernel's end is
 * the oracle for what went over the wire (RSTs, retried SYNs).
 */
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { nsSpawn } from './netns.js';

export const PY = resolve(__dirname, 'py');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function exited(child: ChildProcess): Promise<Exit> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) res({ code: child.exitCode, signal: child.signalCode });
    else child.on('exit', (code, signal) => res({ code, signal }));
  });
}

/**
 * A long-running `synack serve ... --json` (or `synack live ... --json`) in a namespace: its NDJSON
 * events, and a SIGINT to end it.
 */
export class SynackServe {
  readonly events: Array<Record<string, unknown>> = [];
  stderr = '';
  private buf = '';
  private text = '';
  private readonly done: Promise<Exit>;
  /** stdout and stderr have ended ('exit' may come before the last of them is read). */
  private readonly drained: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    json = true,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (!json) {
        this.text += d;
        return;
      }
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (line.trim() !== '') this.events.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.done = exited(child);
    this.drained = new Promise((res) => child.on('close', () => res()));
  }

  /** Starts `node js serve ARGS --json` in `ns` and waits for its "ready" event (or its exit). */
  static async start(ns: string, js: string, args: string[], timeoutMs = 15_000): Promise<SynackServe> {
    return SynackServe.startCommand(ns, js, 'serve', args, (s) => s.events.some((e) => e.event === 'ready'), timeoutMs);
  }

  /** Starts `node js COMMAND ARGS --json` (text mode: without --json) in `ns` and waits until `ready` says so (or it exits). */
  static async startCommand(ns: string, js: string, command: string, args: string[], ready: (s: SynackServe) => boolean, timeoutMs = 15_000, json = true): Promise<SynackServe> {
    const s = new SynackServe(nsSpawn(ns, [process.execPath, js, command, ...args, ...(json ? ['--json'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] }), json);
    const t0 = Date.now();
    while (!ready(s)) {
      if (s.child.exitCode !== null || s.child.signalCode !== null) throw new Error(`synack ${command} exited (${s.child.exitCode ?? s.child.signalCode}): ${s.stderr}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`synack ${command} not ready after ${timeoutMs} ms: ${s.stderr}`);
      await sleep(20);
    }
    return s;
  }

  /** Everything on stdout, in text mode. */
  stdoutText(): string {
    return this.text;
  }

  /** SIGINT, as Ctrl-C: resolves with the exit (the events are all in by then). */
  async interrupt(): Promise<Exit> {
    this.child.kill('SIGINT');
    const exit = await withTimeout(this.done, 10_000, 'synack to exit after SIGINT');
    await withTimeout(this.drained, 10_000, "synack's output to end");
    return exit;
  }

  /** SIGINT, as Ctrl-C: resolves with the summary event and the exit. */
  async stop(): Promise<{ summary: Record<string, unknown>; exit: Exit }> {
    const exit = await this.interrupt();
    const summary = this.events.find((e) => e.event === 'summary');
    if (summary === undefined) throw new Error(`no summary from synack serve: ${this.stderr}`);
    return { summary, exit };
  }
}

/**
 * Runs `node js ARGS` in `ns` to its end: exit, stdout bytes, stderr text. A `js` that is not a .js
 * file is run as the program itself (a wrapper such as setpriv, with node and the script in ARGS).
 */
export async function runSynack(ns: string, js: string, args: string[], timeoutMs = 50_000): Promise<Exit & { stdout: Buffer; stderr: string }> {
  const argv = js.endsWith('.js') ? [process.execPath, js, ...args] : [js, ...args];
  const child = nsSpawn(ns, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = await withTimeout(exited(child), timeoutMs, `synack ${args[0] ?? ''}`);
  return { ...exit, stdout: Buffer.concat(out), stderr };
}

/** Any program in `ns`, to its end. */
export async function runIn(ns: string, argv: string[], timeoutMs = 30_000): Promise<Exit & { stdout: string; stderr: string }> {
  const child = nsSpawn(ns, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = await withTimeout(exited(child), timeoutMs, argv[0] ?? 'a program');
  return { ...exit, stdout, stderr };
}

/** A python3 script from py/ in `ns`; resolves with its exit, stdout and stderr. */
export function py(ns: string, script: string, args: string[], timeoutMs = 50_000): Promise<Exit & { stdout: string; stderr: string }> {
  return runIn(ns, ['python3', join(PY, script), ...args], timeoutMs);
}

/** echo_client.py's report. */
export interface ClientReport {
  ok: number;
  count: number;
  bytes: number;
  errors: string[];
  seconds: number;
}

export async function echoClients(
  ns: string,
  addr: string,
  port: number,
  count: number,
  mode: 'sequential' | 'concurrent',
  style: 'shut' | 'rr' = 'shut',
  maxSize = 3000,
  staggerMs = 0,
  sizes: 'varied' | 'fixed' = 'varied',
): Promise<ClientReport> {
  const r = await py(ns, 'echo_client.py', [addr, String(port), String(count), mode, style, String(maxSize), String(staggerMs), sizes]);
  if (r.code !== 0) throw new Error(`echo_client.py exited ${r.code ?? r.signal}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ClientReport;
}

/** A process started in a namespace that prints `ready` (or another marker) once it serves. */
export async function startReady(ns: string, argv: string[], marker: string, timeoutMs = 10_000): Promise<{ child: ChildProcess; output: () => string; stop: (signal?: NodeJS.Signals) => Promise<Exit> }> {
  const child = nsSpawn(ns, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (text += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (text += d));
  const done = exited(child);
  const t0 = Date.now();
  while (!text.includes(marker)) {
    if (child.exitCode !== null) throw new Error(`${argv.join(' ')} exited ${child.exitCode}: ${text}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`${argv.join(' ')}: no "${marker}" after ${timeoutMs} ms: ${text}`);
    await sleep(20);
  }
  return {
    child,
    output: () => text,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      child.kill(signal);
      return withTimeout(done, 5000, `${argv[0] ?? ''} to exit`);
    },
  };
}

/**
 * tcpdump on `ifname` in `ns`, TCP only, headers only, to a file; `stop()` ends it and returns the
 * text lines `tcpdump -n -r` prints (one per frame: "IP a.p > b.q: Flags [S], ..."). It throws when
 * tcpdump reports frames dropped by the kernel: an oracle that missed frames proves nothing.
 */
export async function startTcpdump(ns: string, ifname: string): Promise<() => Promise<string[]>> {
  const dir = mkdtempSync(join(tmpdir(), 'synack-dump-'));
  const file = join(dir, 'kernel-side.pcap');
  const td = await startReady(ns, ['tcpdump', '-i', ifname, '-n', '--immediate-mode', '-U', '-B', '16384', '-s', '128', '-w', file, 'tcp'], 'listening on');
  return async () => {
    // Let the last frames (final ACKs) reach the file before stopping. --immediate-mode above: without it
    // libpcap hands frames over a ring block at a time, and the frames of the last block are lost at exit
    // without being counted as dropped.
    await sleep(200);
    await td.stop('SIGINT');
    const dropped = /(\d+) packets? dropped by kernel/.exec(td.output());
    if (dropped === null) throw new Error(`tcpdump did not report its counts: ${td.output()}`);
    if (dropped[1] !== '0') throw new Error(`tcpdump lost ${dropped[1]} frames: ${td.output()}`);
    const r = spawnSync('tcpdump', ['-n', '-r', file], { encoding: 'utf8', maxBuffer: 256 << 20 });
    rmSync(dir, { recursive: true, force: true });
    if (r.status !== 0) throw new Error(`tcpdump -r: ${r.stderr}`);
    return r.stdout.split('\n').filter((l) => l !== '');
  };
}

/** tcpdump lines with the RST flag. */
export const resets = (lines: string[]): string[] => lines.filter((l) => /Flags \[R/.test(l));
/** tcpdump lines of SYNs (not SYN-ACKs) sent from `addr`. */
export const synsFrom = (lines: string[], addr: string): string[] => lines.filter((l) => l.includes(` ${addr}.`) && l.indexOf(` ${addr}.`) < l.indexOf(' > ') && /Flags \[S\]/.test(l));

export function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        res(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        rej(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
