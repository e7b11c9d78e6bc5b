// Subcommands of the single executable. They are loaded lazily so that each one (the
// CNI plugin above all, exec'd on every pod) pays only for its own imports.
import { readFileSync } from 'node:fs';

interface Command {
  summary: string;
  /** Runs with the arguments after the command name; handles its own --help. */
  run(args: string[]): Promise<number>;
}

const version = (): string =>
  (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const COMMANDS: Record<string, Command> = {
  controller: {
    summary: 'Run the controller-manager (NetworkModes, warm ENI/IP pools, per-pod plans)',
    run: async (args) => (await import('../controller/main.js')).runController(args),
  },
  agent: {
    summary: 'Run the node agent (serves the eni-cni plugin, applies the node\'s NodeNetwork plan)',
    run: async (args) => (await import('../agent/main.js')).runAgent(args),
  },
  cloudsim: {
    summary: 'Run the Alibaba + Tencent cloud emulator (--listen HOST:PORT --world FILE [--fabric PREFIX])',
    run: async (args) => (await import('../cloudsim/main.js')).runCloudsim(args),
  },
  version: {
    summary: 'Print the version and exit',
    run: (args) => {
      if (args.includes('--help')) {
        process.stdout.write('Usage: eni-operator version\n\nPrints the version and exits.\n');
        return Promise.resolve(0);
      }
      process.stdout.write(`eni-operator ${version()} (node ${process.version}, ${process.platform}/${process.arch})\n`);
      return Promise.resolve(0);
    },
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'eni-operator: native VPC addresses for pods from cloud elastic network interfaces.',
    '',
    'Usage: eni-operator <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "eni-operator <command> --help" for the options of one command.',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') return COMMANDS.version!.run([]);
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`eni-operator: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}
