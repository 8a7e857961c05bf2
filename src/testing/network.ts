/**
 * A virtual Ethernet segment for tests: Hosts attached to it exchange frames through a queue ordered by
 * delivery time, under one ManualClock. `run()` delivers frames and fires timers in time order until
 * nothing is left to do (or a time limit), so a whole conversation between two stacks runs in one call,
 * deterministically.
 */
import { Host } from '../stack/host.js';
import type { HostOptions } from '../stack/host.js';
import { rfc6528Isn } from '../tcp/isn.js';
import type { Env } from '../tcp/env.js';
import { ManualClock } from './clock.js';
import { seededRandom } from './random.js';

interface InFlight {
  at: number;
  seq: number;
  to: Host;
  frame: Uint8Array;
}

export interface NetworkOptions {
  /** One-way delay of every frame, µs. Default 100. */
  latencyUs?: number;
  /** Seed for every Host's random source (each Host gets its own stream). */
  seed?: number;
  startUs?: number;
}

export type AttachOptions = Omit<HostOptions, 'env' | 'sink'> & { env?: Partial<Env> };

export class Network {
  readonly clock: ManualClock;
  readonly hosts: Host[] = [];
  /** Every frame put on the wire, in order: [time, sender, bytes]. */
  readonly frames: Array<{ time: number; from: Host; frame: Uint8Array }> = [];
  private queue: InFlight[] = [];
  private seq = 0;
  private readonly latency: number;
  private readonly seed: number;

  constructor(opts: NetworkOptions = {}) {
    this.clock = new ManualClock(opts.startUs ?? 0);
    this.latency = opts.latencyUs ?? 100;
    this.seed = opts.seed ?? 1;
  }

  /** Adds a host; its frames reach every other host whose MAC they name (or all, for broadcast). */
  attach(opts: AttachOptions): Host {
    const rand = opts.env?.rand ?? seededRandom(this.seed + this.hosts.length * 7919);
    const env: Env = { clock: opts.env?.clock ?? this.clock, rand, isn: opts.env?.isn ?? rfc6528Isn(rand) };
    const host: Host = new Host({ ...opts, env, sink: (frame, time) => this.put(host, frame, time) });
    this.hosts.push(host);
    return host;
  }

  private put(from: Host, frame: Uint8Array, time: number): void {
    this.frames.push({ time, from, frame });
    for (const to of this.hosts) {
      if (to === from) continue;
      this.queue.push({ at: time + this.latency, seq: this.seq++, to, frame });
    }
  }

  /** The next time something happens: a frame arrives or a host's timer fires. */
  nextEvent(): number | null {
    let best: number | null = null;
    for (const f of this.queue) if (best === null || f.at < best) best = f.at;
    for (const h of this.hosts) {
      const t = h.pollAt();
      if (t !== null && (best === null || t < best)) best = t;
    }
    return best;
  }

  /**
   * Runs until nothing is pending, or until `untilUs` (frames and timers after it stay pending).
   * Returns the number of events processed.
   */
  run(untilUs = Infinity, maxEvents = 10_000_000): number {
    let events = 0;
    for (;;) {
      const t = this.nextEvent();
      if (t === null || t > untilUs) break;
      if (++events > maxEvents) throw new Error(`Network.run: more than ${maxEvents} events (a loop?)`);
      this.clock.set(Math.max(t, this.clock.now()));
      const now = this.clock.now();
      const due = this.queue.filter((f) => f.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
      this.queue = this.queue.filter((f) => f.at > now);
      for (const f of due) f.to.input(f.frame, now);
      for (const h of this.hosts) {
        const p = h.pollAt();
        if (p !== null && p <= now) h.poll(now);
      }
    }
    if (untilUs !== Infinity && this.clock.now() < untilUs) this.clock.set(untilUs);
    return events;
  }

  /** Advances time by `us`, processing everything that happens meanwhile. */
  advance(us: number): number {
    return this.run(this.clock.now() + us);
  }
}
