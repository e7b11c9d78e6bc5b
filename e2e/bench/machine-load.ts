// How busy the machine is while a benchmark runs: the load average and the
// heavy processes that are not the benchmark's own (other test runs, other
// benchmarks), read from /proc.
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

const round2 = (v: number) => Math.round(v * 100) / 100;

export interface MachineLoad {
  loadavg1m: number;
  loadavg5m: number;
  /** Heavy processes on the machine that are not this benchmark's (other test runs, other helpers). */
  foreign: { apiservers: number; controllers: number; agents: number; kubelets: number; jest: number };
}

export function machineLoad(ownPids: ReadonlySet<number>): MachineLoad {
  const foreign = { apiservers: 0, controllers: 0, agents: 0, kubelets: 0, jest: 0 };
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || ownPids.has(pid)) continue;
    let cmd: string[];
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (cmd[0]?.endsWith('/kube-apiserver')) foreign.apiservers++;
    const operator = cmd.some((a) => a.endsWith('eni-operator.js'));
    if (operator && cmd.includes('controller')) foreign.controllers++;
    if (operator && cmd.includes('agent')) foreign.agents++;
    if (cmd.some((a) => a.endsWith('/kubelet/main.js') || a.endsWith('/pause-kubelet.js'))) foreign.kubelets++;
    if (cmd.some((a) => a.endsWith('jest/bin/jest.js') || a.includes('jest-worker'))) foreign.jest++;
  }
  const [one, five] = loadavg();
  return { loadavg1m: round2(one!), loadavg5m: round2(five!), foreign };
}
