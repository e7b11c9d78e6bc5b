// `eni-operator cloudsim --listen 127.0.0.1:PORT --world FILE [--fabric PREFIX]`: the cloud emulator as a process.
import { parseArgs } from 'node:util';
import { parseHostPort } from '../cmd/host-port.js';
import type { Fabric } from './fabric/fabric.js';
import { validatePrefix } from './fabric/names.js';
import { createEmulator, startFabric } from './index.js';
import { loadWorldSpec } from './world-spec.js';

export const USAGE = `Usage: eni-operator cloudsim [--listen HOST:PORT] [--world FILE] [--fabric PREFIX]

Runs the Alibaba + Tencent cloud emulator. The official SDKs reach it by
endpoint override; /_admin/ serves the world, faults, rate limits and stats.

  --listen HOST:PORT  address to listen on (default 127.0.0.1:0, a free port)
  --world FILE        world file (default config/cloudsim/world.yaml)
  --fabric PREFIX     also build the VPC fabric (root only): a router network
                      namespace PREFIX-r with a bridge per subnet, a namespace
                      PREFIX-n-<instance> per instance, a NIC per attached ENI.
                      Leftovers of a crashed run with the same PREFIX are swept
                      at start; everything is removed at stop. GET
                      /_admin/fabric shows the layout. PREFIX: 1-12 lowercase
                      letters or digits, starting with a letter.
`;

export async function runCloudsim(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { listen: { type: 'string', default: '127.0.0.1:0' }, world: { type: 'string', default: 'config/cloudsim/world.yaml' }, fabric: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
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
  if (values.fabric !== undefined) {
    try {
      validatePrefix(values.fabric);
    } catch (err) {
      process.stderr.write(`cloudsim: --fabric: ${(err as Error).message}\n`);
      return 2;
    }
    if (process.getuid?.() !== 0) {
      process.stderr.write('cloudsim: --fabric needs root: it creates network namespaces, links and nftables rules\n');
      return 2;
    }
  }
  let emulator;
  try {
    emulator = createEmulator(loadWorldSpec(values.world), { onError: (err) => process.stderr.write(`cloudsim: internal error: ${String((err as Error).stack ?? err)}\n`) });
  } catch (err) {
    process.stderr.write(`cloudsim: ${(err as Error).message}\n`);
    return 1;
  }
  let fabric: Fabric | undefined;
  if (values.fabric !== undefined) {
    try {
      fabric = await startFabric(emulator, { prefix: values.fabric, onError: (err) => process.stderr.write(`cloudsim: fabric: ${err.message}\n`) });
    } catch (err) {
      process.stderr.write(`cloudsim: ${(err as Error).message}\n`);
      return 1;
    }
  }
  let addr;
  try {
    addr = await emulator.listen(listen.port, listen.host);
  } catch (err) {
    await fabric?.stop();
    process.stderr.write(`cloudsim: listening on ${values.listen}: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`cloudsim listening on http://${addr.address}:${addr.port}\n`);
  if (fabric) {
    const info = fabric.info();
    process.stdout.write(`cloudsim fabric ${info.prefix}: router ${info.routerNs}, ${Object.keys(info.nodes).length} node namespaces, built in ${info.startMs} ms\n`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await emulator.close();
  await fabric?.stop();
  return 0;
}
