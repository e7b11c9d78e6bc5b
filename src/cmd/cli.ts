// Subcommands of the single executable. They are loaded lazily so that each one (the
// CNI plugin above all, exec'd on every pod) pays only for its own imports.
import { readFileSync } from 'node:fs';

interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const version = (): string =>
  (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const COMMANDS: Record<string, Command> = {
  version: {
    summary: 'Print the version and exit',
    run: () => {
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
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`Usage: eni-operator ${name} [options]\n\n${command.summary}.\n`);
    return 0;
  }
  return command.run(rest);
}
