/**
 * Carries out an inferred application (infer-app.ts) against the emulated Host, as an event-driven
 * program would: listeners opened first, a loop that accepts every ready connection and reads
 * whatever arrived (closing a descriptor whose connection failed: ECONNRESET, ECONNREFUSED), and the
 * planned calls at their frames. A call it cannot make (no descriptor for the connection) is reported,
 * never thrown.
 */
import { isErrno } from '../socket/errno.js';
import { endpointText } from './segments.js';
import type { AppAction, AppContext, EmulationApp } from './emulator.js';
import type { AppPlan, ListenPlan } from './infer-app.js';

interface Held {
  fd: number;
  /** The end of the stream was read. */
  eof: boolean;
}

export function appFromPlan(plan: AppPlan): EmulationApp {
  const listenFds = new Map<ListenPlan, number>();
  /** Descriptors the application holds, by "local remote". */
  const held = new Map<string, Held>();

  const listen = (app: AppContext, l: ListenPlan): void => {
    const s = app.sockets;
    app.now();
    const fd = s.socket(l.addr.includes(':') ? 'inet6' : 'inet');
    if (isErrno(fd)) return app.fail(`socket for ${endpointText(l.addr, l.port)}: ${fd}`);
    const steps: Array<[string, number | string]> = [
      ['SO_REUSEADDR', s.setsockopt(fd, 'SO_REUSEADDR', 1)],
      ['bind', s.bind(fd, l.addr, l.port)],
      ['listen', s.listen(fd, l.backlog)],
    ];
    for (const [what, r] of steps) if (r !== 0) app.fail(`${what} ${endpointText(l.addr, l.port)}: ${String(r)}`);
    listenFds.set(l, fd);
  };

  const fdOf = (app: AppContext, tuple: string, what: string): Held | null => {
    const h = held.get(tuple);
    if (h === undefined) app.fail(`${what} ${tuple.replace(' ', ' > ')}: the application holds no descriptor for it`);
    return h ?? null;
  };

  const actions: AppAction[] = [];
  for (const l of plan.listeners) {
    if (l.listenAfter !== null) actions.push({ frame: l.listenAfter, when: 'after', why: `listen ${endpointText(l.addr, l.port)}`, run: (app) => listen(app, l) });
    if (l.closeAt !== null) {
      actions.push({
        frame: l.closeAt,
        when: 'at',
        why: `close the listener ${endpointText(l.addr, l.port)}`,
        run(app) {
          const fd = listenFds.get(l);
          if (fd === undefined) return app.fail(`close the listener ${endpointText(l.addr, l.port)}: not listening`);
          app.now();
          app.sockets.close(fd);
          listenFds.delete(l);
        },
      });
    }
  }
  for (const c of plan.calls) {
    switch (c.call) {
      case 'connect': {
        const tuple = `${endpointText(c.local.addr, c.local.port)} ${endpointText(c.remote.addr, c.remote.port)}`;
        actions.push({
          frame: c.frame,
          when: 'at',
          why: `connect ${tuple.replace(' ', ' > ')}`,
          run(app) {
            const s = app.sockets;
            app.now();
            const fd = s.socket(c.local.addr.includes(':') ? 'inet6' : 'inet');
            if (isErrno(fd)) return app.fail(`socket: ${fd}`);
            // SO_REUSEADDR: the port may be the one of a connection that just ended (Linux allows the
            // bind then; the 4-tuple's TIME-WAIT is the stack's business).
            s.setsockopt(fd, 'SO_REUSEADDR', 1);
            const b = s.bind(fd, c.local.addr, c.local.port);
            if (b !== 0) app.fail(`bind ${endpointText(c.local.addr, c.local.port)}: ${b}`);
            const r = s.connect(fd, c.remote.addr, c.remote.port);
            if (r !== 'EINPROGRESS') app.fail(`connect ${tuple.replace(' ', ' > ')}: ${r}`);
            held.set(tuple, { fd, eof: false });
          },
        });
        break;
      }
      case 'send':
        actions.push({
          frame: c.frame,
          when: 'at',
          why: `send ${c.bytes.length} bytes on ${c.tuple.replace(' ', ' > ')}`,
          run(app) {
            const h = fdOf(app, c.tuple, 'send');
            if (h === null) return;
            app.now();
            const n = app.sockets.send(h.fd, c.bytes);
            if (n !== c.bytes.length) app.fail(`send ${c.bytes.length} bytes on ${c.tuple.replace(' ', ' > ')}: ${String(n)}`);
          },
        });
        break;
      case 'close':
      case 'shutdown':
        actions.push({
          frame: c.frame,
          when: 'at',
          why: `${c.call} ${c.tuple.replace(' ', ' > ')}`,
          run(app) {
            const h = fdOf(app, c.tuple, c.call);
            if (h === null) return;
            app.now();
            if (c.call === 'shutdown') {
              const r = app.sockets.shutdown(h.fd, 'SHUT_WR');
              if (r !== 0) app.fail(`shutdown ${c.tuple.replace(' ', ' > ')}: ${r}`);
              return;
            }
            drain(app, h);
            app.sockets.close(h.fd);
            held.delete(c.tuple);
          },
        });
        break;
      case 'abort':
        actions.push({
          frame: c.frame,
          when: 'at',
          why: `abort ${c.tuple.replace(' ', ' > ')}`,
          run(app) {
            // Only a connection the application still holds open: a RST the stack sent in reply (or
            // after the connection failed) needs no call.
            const h = held.get(c.tuple);
            if (h === undefined) return;
            const state = app.sockets.fds.get(h.fd)?.tcb.state;
            if (state === undefined || state === 'CLOSED') return;
            app.now();
            app.sockets.setsockopt(h.fd, 'SO_LINGER', { onoff: true, seconds: 0 });
            app.sockets.close(h.fd);
            held.delete(c.tuple);
          },
        });
        break;
      default: {
        const never: never = c;
        return never;
      }
    }
  }

  return {
    setup(app) {
      for (const l of plan.listeners) if (l.listenAfter === null) listen(app, l);
    },
    actions,
    idle(app) {
      // This application's own calls bring nothing to read or accept (a close reads first, itself).
      if (app.cause === 'call') return;
      app.now();
      // A timer brings no data and completes no handshake: only a connection it ended (ETIMEDOUT) has news.
      if (app.cause === 'timers') {
        for (const [tuple, h] of held) {
          if (app.sockets.fds.get(h.fd)?.tcb.state !== 'CLOSED') continue;
          if (drain(app, h) === 'failed') {
            app.sockets.close(h.fd);
            held.delete(tuple);
          }
        }
        return;
      }
      for (const [l, fd] of listenFds) {
        if (l.acceptFrom !== null && app.position < l.acceptFrom) continue;
        if (l.acceptUntil !== null && app.position >= l.acceptUntil) continue;
        for (let a = app.sockets.accept(fd); !isErrno(a); a = app.sockets.accept(fd)) {
          const local = app.sockets.getsockname(a.fd);
          if (isErrno(local)) continue;
          const tuple = `${endpointText(local.address, local.port)} ${endpointText(a.peer.address, a.peer.port)}`;
          const h: Held = { fd: a.fd, eof: false };
          held.set(tuple, h);
          // What arrived while it waited to be accepted.
          if (tuple !== app.touched && drain(app, h) === 'failed') {
            app.sockets.close(h.fd);
            held.delete(tuple);
          }
        }
      }
      // After a delivery only its connection has news.
      const only = app.touched;
      if (only === null) return;
      const h = held.get(only);
      if (h !== undefined && drain(app, h) === 'failed') {
        app.sockets.close(h.fd);
        held.delete(only);
      }
    },
  };
}

/** Reads everything that has arrived; 'failed' when the connection reported an error. */
function drain(app: AppContext, h: Held): 'ok' | 'failed' {
  if (h.eof) return 'ok';
  for (;;) {
    const ready = app.sockets.readiness(h.fd);
    if (isErrno(ready) || !ready.readable) return 'ok';
    const r = app.sockets.recv(h.fd);
    if (r === 'EAGAIN') return 'ok';
    if (isErrno(r)) return 'failed';
    if (r.length === 0) {
      h.eof = true;
      return 'ok';
    }
  }
}
