/** The README's matcher example, run as written (imports from src/ instead of 'synack/testing'). */
import { expect, test } from 'vitest';
import { Network, installMatchers } from '../../src/testing/index.js';
installMatchers(expect);

test('web and mail on one host, told apart by port and 4-tuple', () => {
  const net = new Network();
  const server = net.attach({ mac: '02:00:00:00:00:01', ipv4: ['198.18.0.1'], trace: true });
  const client = net.attach({ mac: '02:00:00:00:00:02', ipv4: ['198.18.0.2'], trace: true });
  const web = server.sockets.socket('inet') as number;          // fd 3
  server.sockets.bind(web, '0.0.0.0', 80);
  server.sockets.listen(web, 128);
  const c = client.sockets.socket('inet') as number;
  client.sockets.connect(c, '198.18.0.1', 80);
  net.run();                                                     // ARP, then the handshake
  // The SYN clones listener fd 3; the child has no descriptor until accept().
  expect(server).toHaveDemuxed(2, { step: 'listener-any', listenerFd: 3, fd: null, action: 'cloned', state: 'SYN-RECEIVED' });
  expect(server).toHaveDemuxed(3, { step: 'syn-received', action: 'delivered', state: 'ESTABLISHED' });
  expect(server).toHaveSent({ flags: 'S.', src: '198.18.0.1.80' });
  const a = server.sockets.accept(web);
  expect(a).toMatchObject({ fd: 4, peer: { address: '198.18.0.2' } });
  expect(server).toHaveState(4, 'ESTABLISHED');
  expect(() => expect(server).toHaveDemuxed(3, { step: 'established' })).toThrow(/frame 3: expected/);
});
