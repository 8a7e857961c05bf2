/** The status line of long-running commands: only on a terminal, never under CI or into a pipe. */
import { expect, test } from 'vitest';
import { StatusLine } from '../../src/cli/status.js';

test('shown only when stderr is a TTY and CI is not set', () => {
  expect(new StatusLine({ isTTY: true }, {}).enabled).toBe(true);
  expect(new StatusLine({ isTTY: true }, { CI: '' }).enabled).toBe(true);
  expect(new StatusLine({ isTTY: true }, { CI: 'true' }).enabled).toBe(false);
  expect(new StatusLine({ isTTY: false }, {}).enabled).toBe(false);
  expect(new StatusLine({}, {}).enabled).toBe(false);
  // Disabled: show and clear are no-ops.
  const off = new StatusLine({ isTTY: false }, {});
  off.show('x');
  off.clear();
});
