// `node dist/e2e/bench/pause-kubelet.js <the simulated kubelet's flags>`
// The simulated kubelet (e2e/kubelet) whose containers are pause-like: a
// `sleep` that reports ready at once, as a runtime's pause container costs next
// to nothing. The stock kubelet starts a node echo server per container (tens
// of ms of CPU each), which would make the agent benchmark measure node
// start-ups rather than pod networking.
import * as k8s from '@kubernetes/client-node';
import { createLogger } from '../../src/log/logger.js';
import { USAGE, parseFlags } from '../kubelet/flags.js';
import { Kubelet } from '../kubelet/kubelet.js';

/** Prints the ready line the container runner waits for, then sleeps in place (exec: no shell left behind). */
const PAUSE_COMMAND = ['/bin/sh', '-c', 'echo \'{"ready":true}\'; exec sleep infinity'];

async function main(): Promise<number> {
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`pause-kubelet: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const logger = createLogger({ component: 'kubelet', level: flags.logLevel, stream: process.stderr });
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(flags.kubeconfig);
  const kubelet = new Kubelet({ ...flags.options, kubeConfig, logger, containerCommand: PAUSE_COMMAND });
  process.on('exit', () => kubelet.killAllNow());
  const stopped = new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void kubelet.stop().finally(resolve));
  });
  await kubelet.start();
  await stopped;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`pause-kubelet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
