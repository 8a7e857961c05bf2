/**
 * The parent side of agent.ts: starts the agent inside a namespace and turns its IPC messages into
 * promises (replies) and a per-capture list of frames (events).
 */
import type { ChildProcess } from 'node:child_process';
import type { LiveError, LiveOptions } from '../../src/capture/live.js';
import type { FrameEvent, Order, Reply } from './agent.js';
import { nsSpawn } from './netns.js';

type OrderBody = Order extends infer O ? (O extends Order ? Omit<O, 'id'> : never) : never;

export class Agent {
  readonly frames = new Map<string, FrameEvent[]>();
  stderr = '';
  private nextId = 1;
  private readonly pending = new Map<number, (r: Reply) => void>();
  private readonly watchers = new Set<() => void>();
  private readonly listeners = new Map<string, (f: FrameEvent) => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>;

  private constructor(readonly child: ChildProcess) {
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      this.stderr += d;
    });
    child.on('message', (m: Reply | FrameEvent) => {
      if ((m as FrameEvent).ev === 'frame') {
        const f = m as FrameEvent;
        let list = this.frames.get(f.name);
        if (list === undefined) this.frames.set(f.name, (list = []));
        list.push(f);
        this.listeners.get(f.name)?.(f);
        for (const w of this.watchers) w();
        return;
      }
      const r = m as Reply;
      const done = this.pending.get(r.id);
      this.pending.delete(r.id);
      done?.(r);
    });
    this.exited = new Promise((res) => {
      child.on('exit', (code, signal) => {
        for (const [, done] of this.pending) done({ id: -1, ok: false, error: `agent exited (${code ?? signal}): ${this.stderr}` });
        this.pending.clear();
        res({ code, signal, atMs: performance.now() });
      });
    });
  }

  /** Starts the agent (the transpiled agent.js at `js`) inside `ns` and waits until it is ready. */
  static async start(ns: string, js: string): Promise<Agent> {
    const child = nsSpawn(ns, [process.execPath, '--expose-gc', js], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const agent = new Agent(child);
    await new Promise<void>((res, rej) => {
      agent.pending.set(0, (r) => (r.ok ? res() : rej(new Error(`agent did not start: ${String(r.error)}`))));
      child.on('error', rej);
    });
    return agent;
  }

  request(order: OrderBody, timeoutMs = 5000): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        rej(new Error(`agent: no reply to ${JSON.stringify(order)} in ${timeoutMs} ms; stderr: ${this.stderr}`));
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        res(r);
      });
      this.child.send({ ...order, id });
    });
  }

  /** Opens a capture named `name`; throws with the LiveError when it fails. */
  async open(name: string, iface: string, options: LiveOptions, extra: { probeReuse?: boolean; closeAfter?: number } = {}): Promise<Reply> {
    const r = await this.request({ op: 'open', name, iface, options, ...extra });
    if (!r.ok) throw new Error(`open ${iface}: ${(r.error as LiveError).message}`);
    this.frames.set(name, []);
    return r;
  }

  /** What `open` answered, error included (for tests of the errors). */
  tryOpen(name: string, iface: string, options: LiveOptions): Promise<Reply> {
    return this.request({ op: 'open', name, iface, options });
  }

  send(name: string, frame: Uint8Array): Promise<Reply> {
    return this.request({ op: 'send', name, hex: Buffer.from(frame).toString('hex') });
  }

  /** Calls `cb` for every frame of `name` from now on. */
  listen(name: string, cb: (f: FrameEvent) => void): void {
    this.listeners.set(name, cb);
  }

  list(name: string): FrameEvent[] {
    return this.frames.get(name) ?? [];
  }

  /** Resolves when `done()` holds (checked at every frame), rejects after `timeoutMs`. */
  until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((res, rej) => {
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.watchers.delete(check);
        res();
      };
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        rej(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${this.stderr}`));
      }, timeoutMs);
      this.watchers.add(check);
    });
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}
