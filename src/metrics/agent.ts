// The node agent's own metrics, next to the CNI server's (src/metrics/cni.ts).
import { Counter, Histogram, type Registry } from 'prom-client';

export class AgentMetrics {
  readonly planWait: Histogram<'found'>;
  readonly repairs: Counter<'kind'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.planWait = new Histogram({
      name: 'eni_operator_agent_plan_wait_seconds',
      help: "How long an ADD waited for the controller's plan to name the pod (found=false: it gave up and answered try-again-later).",
      labelNames: ['found'],
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.repairs = new Counter({
      name: 'eni_operator_agent_repairs_total',
      help: 'Kernel objects the agent put back (kind="repair") or removed because no plan references them (kind="remove"), and pods found broken beyond a node-side repair (kind="pod").',
      labelNames: ['kind'],
      registers,
    });
  }
}
