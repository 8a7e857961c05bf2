/**
 * The README's first example, run as written (imports from src/ instead of 'synack/testing'): a server
 * Host and a client Host in twenty lines, printing the server's socket table (fd, state, local, remote)
 * as the book's chapter draws it — two listeners, and accepted sockets that keep their listener's port
 * and are told apart only by the remote end.
 */
import { expect, test, vi } from 'vitest';
import { Network } from '../../src/testing/index.js';

test('README: a server Host and a client Host, and the server socket table', () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    // ---- README example, from here ----
    const net = new Network(); // a virtual Ethernet and its clock
    const server = net.attach({ mac: '02:00:00:00:00:01', ipv4: ['198.18.0.1'] });
    const client = net.attach({ mac: '02:00:00:00:00:02', ipv4: ['198.18.0.2'] });
    const s = server.sockets;
    const c = client.sockets;
    for (const [addr, port] of [['0.0.0.0', 80], ['198.18.0.1', 25]] as const) {
      const fd = s.socket('inet') as number; // web: fd 3, mail: fd 4
      s.bind(fd, addr, port);
      s.listen(fd, 16);
    }
    for (const port of [80, 80, 25]) c.connect(c.socket('inet') as number, '198.18.0.1', port);
    net.run(); // ARP, three handshakes
    for (const listener of [3, 3, 4]) s.accept(listener); // fds 5, 6, 7
    console.log('fd  state        local            remote');
    for (const x of s.list()) {
      const remote = x.role === 'listener' ? '*:*' : `${x.tcb.remote.addr}:${x.tcb.remote.port}`;
      console.log(`${String(x.fd).padEnd(3)} ${x.state.padEnd(12)} ${`${x.tcb.local.addr}:${x.tcb.local.port}`.padEnd(16)} ${remote}`);
    }
    // ---- to here ----
    const printed = log.mock.calls.map((args) => String(args[0])).join('\n');
    // The client's ephemeral ports come from Linux's RFC 6056 algorithm with the Network's seeded keys.
    const ports = c.list().map((x) => x.tcb.local.port);
    expect(ports).toHaveLength(3);
    expect(ports[0]).not.toBe(ports[1]);
    for (const p of ports) expect(p >= 32768 && p <= 60999, `ephemeral port ${p}`).toBe(true);
    expect(printed).toBe(
      [
        'fd  state        local            remote',
        '3   LISTEN       0.0.0.0:80       *:*',
        '4   LISTEN       198.18.0.1:25    *:*',
        `5   ESTABLISHED  198.18.0.1:80    198.18.0.2:${ports[0]}`,
        `6   ESTABLISHED  198.18.0.1:80    198.18.0.2:${ports[1]}`,
        `7   ESTABLISHED  198.18.0.1:25    198.18.0.2:${ports[2]}`,
      ].join('\n'),
    );
    // The same table from the accept() side: each accepted socket keeps its listener's port.
    expect([5, 6, 7].map((fd) => s.getsockname(fd))).toEqual([
      { address: '198.18.0.1', port: 80 },
      { address: '198.18.0.1', port: 80 },
      { address: '198.18.0.1', port: 25 },
    ]);
  } finally {
    log.mockRestore();
  }
});
