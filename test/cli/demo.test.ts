/** `synack` with no arguments, and replay's --diagram / --svg. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { corpusPath } from '../corpus.js';
import { synack } from './run.js';

describe('synack with no arguments', () => {
  const r = synack([]);
  test('replays the bundled kernel capture and exits 0', () => {
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('web-mail-v4.pcap: pcap, link type 1 ETHERNET; 96 frames, 90 TCP; 9 connections');
  });
  test('shows both listeners and the accepted sockets sharing port 80 after frame 52', () => {
    const server = r.stdout.slice(r.stdout.indexOf('host 198.18.0.1\n'), r.stdout.indexOf('host 198.18.0.11\n'));
    expect(server).toMatch(/^ +3 +LISTEN +\*:80 /m);
    expect(server).toMatch(/^ +4 +LISTEN +\*:25 /m);
    const on80 = server.split('\n').filter((l) => /ESTABLISHED +198\.18\.0\.1:80 /.test(l));
    expect(on80.length).toBe(4);
    const remotes = on80.map((l) => l.trim().split(/ +/)[3]);
    expect(new Set(remotes).size).toBe(4);
  });
  test('draws the ladder of connection 1: handshake, data, close', () => {
    const ladder = r.stdout.slice(r.stdout.indexOf('connection 1:'));
    expect(ladder).toMatch(/198\.18\.0\.11:40001 fd 3 +198\.18\.0\.1:80 fd 5 \(listener fd 3\)/);
    for (const s of ['SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'TIME-WAIT', 'LAST-ACK']) expect(ladder).toContain(s);
    expect(ladder).toMatch(/\|-- S seq 0 win 64240/);
    expect(ladder).toMatch(/S\. seq 0 ack 1 win 65160/);
  });
});

describe('synack replay --diagram / --svg', () => {
  test('--svg writes a self-contained SVG of the chosen connection', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'synack-svg-')), 'c.svg');
    const r = synack(['replay', corpusPath('zeek-tcp-options.pcap'), '--diagram', '1', '--svg', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('connection 1:');
    const svg = readFileSync(file, 'utf8');
    expect(svg.startsWith('<svg') || svg.startsWith('<?xml')).toBe(true);
    expect(svg).toContain('192.168.1.102:36861');
    expect(svg).not.toMatch(/<script|href="http/);
  });
  test('usage errors', () => {
    expect(synack(['replay', corpusPath('zeek-tcp-options.pcap'), '--diagram', 'x']).code).toBe(2);
    expect(synack(['replay', corpusPath('zeek-tcp-options.pcap'), '--svg', '/tmp/x.svg']).stderr).toMatch(/--svg FILE needs --diagram CONN/);
    expect(synack(['replay', corpusPath('zeek-tcp-options.pcap'), '--diagram', '99']).stderr).toMatch(/no such connection/);
  });
});
