/**
 * The neighbour table: IP address → MAC, learnt from ARP and NDP, with the frames that wait for an
 * answer. Linux queues a few packets per unresolved neighbour (unres_qlen_bytes) and resends the
 * solicitation once a second up to 3 times (mcast_solicit) before giving up; so does this.
 */
export interface PendingFrame {
  /** The next hop the frame waits for. */
  dstIp: string;
  /** Builds and sends the frame once the destination MAC is known. */
  build(dstMac: string): void;
}

interface Entry {
  mac: string | null;
  pending: PendingFrame[];
  probes: number;
  nextProbeUs: number;
}

export const NEIGHBOR_PROBE_INTERVAL_US = 1_000_000;
export const NEIGHBOR_MAX_PROBES = 3;
/** Linux's unres_qlen default is 101 packets' worth of bytes; a count keeps it simple. */
export const NEIGHBOR_MAX_PENDING = 100;

export class NeighborTable {
  private readonly entries = new Map<string, Entry>();
  /**
   * The entries still soliciting, in the order they started (that of `entries`: an entry starts
   * soliciting when it is made and stops for good when answered or given up). The deadlines are read
   * on every event, and an emulated server learns one neighbour per client: only these are scanned.
   */
  private readonly waiting = new Map<string, Entry>();

  lookup(ip: string): string | null {
    return this.entries.get(ip)?.mac ?? null;
  }

  /** Learns or refreshes a mapping; returns the frames that waited for it. */
  learn(ip: string, mac: string): PendingFrame[] {
    const e = this.entries.get(ip);
    if (e === undefined) {
      this.entries.set(ip, { mac, pending: [], probes: 0, nextProbeUs: -1 });
      return [];
    }
    e.mac = mac;
    this.waiting.delete(ip);
    e.probes = 0;
    e.nextProbeUs = -1;
    const out = e.pending;
    e.pending = [];
    return out;
  }

  /**
   * Queues a frame for an unresolved address. Returns true when a solicitation should go out now (the
   * first frame for that address).
   */
  enqueue(ip: string, frame: PendingFrame, nowUs: number): boolean {
    let e = this.entries.get(ip);
    if (e === undefined) {
      e = { mac: null, pending: [], probes: 0, nextProbeUs: -1 };
      this.entries.set(ip, e);
    }
    if (e.pending.length < NEIGHBOR_MAX_PENDING) e.pending.push(frame);
    if (e.nextProbeUs >= 0) return false;
    e.probes = 1;
    e.nextProbeUs = nowUs + NEIGHBOR_PROBE_INTERVAL_US;
    this.waiting.set(ip, e);
    return true;
  }

  /** Addresses due for another solicitation; unanswered ones past the limit are given up (frames dropped). */
  due(nowUs: number): { resolve: string[]; failed: string[] } {
    const resolve: string[] = [];
    const failed: string[] = [];
    for (const [ip, e] of this.waiting) {
      if (e.mac !== null || e.nextProbeUs < 0 || e.nextProbeUs > nowUs) continue;
      if (e.probes >= NEIGHBOR_MAX_PROBES) {
        failed.push(ip);
        this.entries.delete(ip);
        this.waiting.delete(ip);
        continue;
      }
      e.probes++;
      e.nextProbeUs = nowUs + NEIGHBOR_PROBE_INTERVAL_US;
      resolve.push(ip);
    }
    return { resolve, failed };
  }

  nextDeadline(): number | null {
    let best: number | null = null;
    for (const e of this.waiting.values()) {
      if (e.mac === null && e.nextProbeUs >= 0 && (best === null || e.nextProbeUs < best)) best = e.nextProbeUs;
    }
    return best;
  }

  entriesList(): Array<{ ip: string; mac: string | null; pending: number }> {
    return [...this.entries].map(([ip, e]) => ({ ip, mac: e.mac, pending: e.pending.length }));
  }
}
