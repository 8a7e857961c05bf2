/**
 * The README's replay test file, run as written (imports from src/ instead of 'synack' and
 * 'synack/testing'): the bundled kernel capture, checked the way a user checks their own.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { replay } from '../../src/index.js';
import { installMatchers } from '../../src/testing/index.js';
installMatchers(expect);

test('web and mail: one listener per port, accepted sockets told apart by 4-tuple', () => {
  const r = replay('fixtures/web-mail-v4.pcap', { frames: true, tablesAt: 52 });
  // The first SYN to :80 is cloned by listener fd 3 (port 80 on ANY); the ACK completes the handshake
  // and accept() hands the child the lowest free descriptor, 5 (fd 4 is the :25 listener).
  expect(r).toHaveDemuxed(3, { host: '198.18.0.1', step: 'listener-any', listenerFd: 3, fd: null, action: 'cloned', state: 'SYN-RECEIVED' });
  expect(r).toHaveDemuxed(5, { step: 'syn-received', fd: 5, listenerFd: 3, action: 'accepted', state: 'ESTABLISHED' });
  // A mail client's SYN goes to the other listener, fd 4.
  expect(r).toHaveDemuxed(34, { step: 'listener-any', listenerFd: 4, action: 'cloned' });
  // After frame 52, five accepted sockets are open on the server; fd 5 now serves mail (:25).
  expect(r).toHaveState(5, 'ESTABLISHED', '198.18.0.1');
  expect(r.connections.map((c) => c.state)).toEqual(Array(9).fill('SF'));
  expect(r.connections[0]).toMatchObject({ client: '198.18.0.11:40001', server: '198.18.0.1:80', listenerFd: 3, serverFd: 5, history: 'ShADadFf' });
  expect(() => expect(r).toHaveDemuxed(5, { fd: 6 })).toThrow(/frame 5: expected/);
});

test('the README shows this test as it is here', () => {
  const self = readFileSync('test/replay/readme-replay.test.ts', 'utf8');
  const body = self.slice(self.indexOf("test('web and mail"), self.indexOf("test('the README shows"));
  expect(readFileSync('README.md', 'utf8')).toContain(body.trimEnd());
});
