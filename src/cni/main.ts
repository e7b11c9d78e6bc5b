// The plugin process: real stdin, stdout, stderr, environment and agent socket.
import { postToAgent } from './client.js';
import { runPlugin } from './plugin.js';

// getBuiltinModule rather than `import`: no ES module facade to build (~1 ms for node:fs).
const { readFileSync, writeSync } = process.getBuiltinModule('node:fs');

export async function main(): Promise<never> {
  const outcome = await runPlugin({
    env: process.env,
    readStdin: () => readFileSync(0, 'utf8'),
    call: postToAgent,
    warn: (msg) => writeSync(2, `${msg}\n`),
  });
  if (outcome.stdout !== '') writeSync(1, `${outcome.stdout}\n`);
  // Exit at once: nothing else is pending, and every millisecond is on the pod's start path.
  process.exit(outcome.exitCode);
}
