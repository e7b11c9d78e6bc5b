// `eni-operator cloudsim --listen 127.0.0.1:PORT --world FILE`: the cloud emulator as a process.
import { parseArgs } from 'node:util';
import { parseHostPort } from '../cmd/host-port.js';
import { createEmulator } from './index.js';
import { loadWorldSpec } from './world-spec.js';

export const USAGE = `Usage: eni-operator cloudsim [--listen HOST:PORT] [--world FILE]

Runs the Alibaba + Tencent cloud emulator. The official SDKs reach it by
endpoint override; /_admin/ serves the world, faults, rate limits and stats.

  --listen HOST:PORT  address to listen on (default 127.0.0.1:0, a free port)
  --world FILE        world file (default config/cloudsim/world.yaml)
`;

export async function runCloudsim(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { listen: { type: 'string', default: '127.0.0.1:0' }, world: { type: 'string', default: 'config/cloudsim/world.yaml' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    process.stderr.write(`cloudsim: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let listen;
  try {
    listen = parseHostPort(values.listen);
  } catch (err) {
    process.stderr.write(`cloudsim: ${(err as Error).message}\n`);
    return 2;
  }
  let emulator;
  try {
    emulator = createEmulator(loadWorldSpec(values.world), { onError: (err) => process.stderr.write(`cloudsim: internal error: ${String((err as Error).stack ?? err)}\n`) });
  } catch (err) {
    process.stderr.write(`cloudsim: ${(err as Error).message}\n`);
    return 1;
  }
  const addr = await emulator.listen(listen.port, listen.host);
  process.stdout.write(`cloudsim listening on http://${addr.address}:${addr.port}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await emulator.close();
  return 0;
}
