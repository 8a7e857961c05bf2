/**
 * The text report of a replay with a very large connection table (the 1M-connection benchmark capture
 * replayed without -q): column widths over every row must not pass the rows to one call as arguments,
 * which V8 refuses past about a hundred thousand.
 */
import { describe, expect, test } from 'vitest';
import { formatResult } from '../../src/cli/replay.js';
import type { ConnectionRecord, ReplayResult } from '../../src/replay/index.js';

function record(id: number): ConnectionRecord {
  return {
    id,
    client: `198.18.${(id >> 8) & 255}.${id & 255}:${32768 + (id % 28000)}`,
    server: '198.18.0.1:80',
    firstFrame: 11 * id,
    lastFrame: 11 * id + 10,
    state: 'SF',
    history: id === 250_000 ? 'ShADadFfRRRRRRRRRRRR' : 'ShADadFf',
    serverFd: 3 + (id % 1000),
    listenerFd: 3,
    clientFd: 3,
    frames: 11,
    duration: 0.25,
    clientState: 'TIME-WAIT',
    serverState: 'CLOSED',
    handshake: true,
    rst: { client: 0, server: 0 },
    fin: { client: 1, server: 1 },
    badChecksum: 0,
    midstream: false,
    anomalies: [],
    anomalyCount: 0,
  };
}

describe('replay text report', () => {
  test('a table of 300,000 connections: every row, columns as wide as the widest cell', () => {
    const n = 300_000;
    const result: ReplayResult = {
      file: 'big.pcap',
      format: 'pcap',
      linkTypes: [1],
      frames: { total: 11 * n, tcp: 11 * n, malformed: 0, badChecksum: 0, badIpChecksum: 0, truncated: 0, fragments: 0, late: 0, anomalies: 0 },
      connections: Array.from({ length: n }, (_, i) => record(i + 1)),
      hosts: [],
      hostsAt: null,
      listenerInference: 'prepass',
      error: null,
    };
    const lines = formatResult(result);
    // Summary, blank, header, a line per connection, blank, the tables' heading.
    expect(lines.length).toBe(n + 5);
    const header = lines[2] as string;
    const row = lines[3] as string;
    expect(header.trimStart().startsWith('id  client')).toBe(true);
    // The history column is as wide as its widest cell (20 letters, in one row only).
    const at = header.indexOf('history');
    expect(header.indexOf('listener fd') - at).toBe(20 + 2);
    expect(row.slice(at, at + 8)).toBe('ShADadFf');
  });
});
