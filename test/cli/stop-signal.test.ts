/** The live commands end cleanly (summary, --write file flushed) on each of the signals that end a session. */
import { expect, test } from 'vitest';
import { onStopSignal } from '../../src/cli/live-session.js';

test.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s calls stop once registered, and nothing after', (sig) => {
  let stops = 0;
  const off = onStopSignal(() => void stops++);
  process.emit(sig, sig);
  expect(stops).toBe(1);
  off();
  expect(process.listenerCount(sig)).toBe(0);
});
