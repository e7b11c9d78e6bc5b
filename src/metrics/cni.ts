// The agent's CNI server metrics (src/agent/cni-server.ts). The plugin itself
// records nothing: it lives for one call; its exec time is benchmarked instead.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class CniMetrics {
  readonly requests: Counter<'command' | 'result' | 'code'>;
  readonly duration: Histogram<'command' | 'result'>;
  readonly inFlight: Gauge;
  readonly queued: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'eni_operator_cni_requests_total',
      help: 'CNI requests the agent answered, by command (ADD, DEL, CHECK, STATUS, GC), result (ok, error) and CNI error code (0 when ok).',
      labelNames: ['command', 'result', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'eni_operator_cni_request_duration_seconds',
      help: 'From the agent receiving a CNI request to its answer, queueing included (command="ADD" is the ADD latency).',
      labelNames: ['command', 'result'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.inFlight = new Gauge({ name: 'eni_operator_cni_requests_in_flight', help: 'CNI requests whose handler is running.', registers });
    this.queued = new Gauge({ name: 'eni_operator_cni_requests_queued', help: 'CNI requests waiting for their container\'s previous request or a free slot.', registers });
  }
}
