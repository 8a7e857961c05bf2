/**
 * Emulate mode on the shared captures (../shared/pcaps: other machines, other operating systems, cut,
 * reordered and offloaded captures): it never throws, and every segment of the chosen host is an
 * expectation that ends up matched, different, or missing, accounted for once. Whether synack matches
 * these hosts is not asked (they are not Linux 6.18 with its defaults); the fixtures test that.
 */
import { describe, expect, test } from 'vitest';
import { emulate, hostSegments } from '../../src/replay/index.js';
import { CAPTURE_FILES, corpusPath } from '../corpus.js';

describe.each(CAPTURE_FILES)('%s', (name) => {
  const file = corpusPath(name);
  // The first two addresses that send TCP (the two ends of the first connection, mostly).
  const senders = [...new Set(hostSegments(file, []).addresses)].slice(0, 2);

  test.each(senders)('--host %s: every segment of the host accounted for', (host) => {
    const own = hostSegments(file, [host]).segments.filter((s) => s.fromHost && s.src !== s.dst).length;
    const r = emulate(file, { host });
    if (own === 0 && r.error !== null) {
      expect(r.error).toMatch(/no TCP segment to or from it|loopback/);
      return;
    }
    expect(r.expected).toBe(own);
    const byKind = (k: string): number => r.diffs.filter((d) => d.kind === k).length;
    expect(r.matched + byKind('differs') + byKind('missing')).toBe(r.expected);
    expect(r.connections.reduce((n, c) => n + c.expected, 0)).toBe(r.expected);
    expect(r.connections.reduce((n, c) => n + c.matched, 0)).toBe(r.matched);
    expect(r.connections.reduce((n, c) => n + c.extra, 0)).toBe(byKind('extra'));
  });
});
