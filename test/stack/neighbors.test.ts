/**
 * The neighbour table's deadlines: only addresses still being solicited have one (Linux resends the
 * solicitation once a second, mcast_solicit = 3, then gives up); learnt addresses, however many, have
 * none, and the solicitations due at one instant come out in the order the addresses were first asked.
 */
import { describe, expect, test } from 'vitest';
import { NEIGHBOR_MAX_PROBES, NEIGHBOR_PROBE_INTERVAL_US, NeighborTable } from '../../src/stack/neighbors.js';

const frameFor = (ip: string): { dstIp: string; build(): void } => ({ dstIp: ip, build: () => undefined });

describe('NeighborTable deadlines', () => {
  test('learnt neighbours have no deadline; unresolved ones one a second until they are given up', () => {
    const t = new NeighborTable();
    for (let i = 0; i < 1000; i++) t.learn(`198.18.${i >> 8}.${i & 0xff}`, '02:00:00:00:00:01');
    expect(t.nextDeadline()).toBe(null);

    expect(t.enqueue('198.19.0.2', frameFor('198.19.0.2'), 100)).toBe(true);
    expect(t.enqueue('198.19.0.1', frameFor('198.19.0.1'), 200)).toBe(true);
    // A second frame for an address already asked for waits with the first: no new solicitation.
    expect(t.enqueue('198.19.0.2', frameFor('198.19.0.2'), 300)).toBe(false);
    expect(t.nextDeadline()).toBe(100 + NEIGHBOR_PROBE_INTERVAL_US);

    // Both due at once: in the order they were first asked for.
    expect(t.due(200 + NEIGHBOR_PROBE_INTERVAL_US)).toEqual({ resolve: ['198.19.0.2', '198.19.0.1'], failed: [] });
    expect(t.learn('198.19.0.2', '02:00:00:00:00:02')).toHaveLength(2);
    expect(t.nextDeadline()).toBe(200 + 2 * NEIGHBOR_PROBE_INTERVAL_US);

    let now = 200 + 2 * NEIGHBOR_PROBE_INTERVAL_US;
    for (let probe = 2; probe < NEIGHBOR_MAX_PROBES; probe++) {
      expect(t.due(now)).toEqual({ resolve: ['198.19.0.1'], failed: [] });
      now += NEIGHBOR_PROBE_INTERVAL_US;
    }
    expect(t.due(now)).toEqual({ resolve: [], failed: ['198.19.0.1'] });
    expect(t.nextDeadline()).toBe(null);
    expect(t.lookup('198.19.0.1')).toBe(null);
    expect(t.lookup('198.19.0.2')).toBe('02:00:00:00:00:02');
  });
});
