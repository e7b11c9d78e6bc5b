// `node dist/e2e/kubelet/main.js --kubeconfig K --node NAME --node-netns NS --node-ip IP --netns-prefix P ...`
// The simulated kubelet as a process (run as root: it creates network namespaces).
import * as k8s from '@kubernetes/client-node';
import { createLogger } from '../../src/log/logger.js';
import { USAGE, parseFlags } from './flags.js';
import { Kubelet } from './kubelet.js';

async function main(): Promise<number> {
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`kubelet: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const logger = createLogger({ component: 'kubelet', level: flags.logLevel, stream: process.stderr });
  const kubeConfig = new k8s.KubeConfig();
  try {
    kubeConfig.loadFromFile(flags.kubeconfig);
  } catch (err) {
    process.stderr.write(`kubelet: --kubeconfig ${flags.kubeconfig}: ${(err as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  const kubelet = new Kubelet({ ...flags.options, kubeConfig, logger });
  process.on('exit', () => kubelet.killAllNow());
  const stopped = new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        logger.info('stopping', { signal: sig });
        void kubelet.stop().finally(resolve);
      });
    }
  });
  await kubelet.start();
  await stopped;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`kubelet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
