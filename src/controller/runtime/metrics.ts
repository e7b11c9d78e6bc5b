// Runtime metrics. Several queues (and electors) share one registry, and a
// registry refuses a second metric of the same name, so each registry gets
// one set, created on first use.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface WorkQueueMetrics {
  depth: Gauge<'name'>;
  adds: Counter<'name'>;
  retries: Counter<'name'>;
  workDuration: Histogram<'name'>;
  longestRunning: Gauge<'name'>;
  /** Called at scrape time, so gauges that depend on "now" are fresh. */
  onCollect: Set<() => void>;
}

const queueMetrics = new WeakMap<Registry, WorkQueueMetrics>();
const leaderGauges = new WeakMap<Registry, Gauge<'identity'>>();

export function workQueueMetrics(registry: Registry): WorkQueueMetrics {
  let m = queueMetrics.get(registry);
  if (!m) {
    const registers = [registry];
    const onCollect = new Set<() => void>();
    m = {
      onCollect,
      depth: new Gauge({ name: 'eni_operator_workqueue_depth', help: 'Keys waiting in the work queue.', labelNames: ['name'], registers }),
      adds: new Counter({ name: 'eni_operator_workqueue_adds_total', help: 'Keys added to the work queue (immediate, delayed and rate-limited adds).', labelNames: ['name'], registers }),
      retries: new Counter({ name: 'eni_operator_workqueue_retries_total', help: 'Rate-limited re-adds after a failed reconcile.', labelNames: ['name'], registers }),
      workDuration: new Histogram({
        name: 'eni_operator_workqueue_work_duration_seconds',
        help: 'Time a handler took for one key.',
        labelNames: ['name'],
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers,
      }),
      longestRunning: new Gauge({
        name: 'eni_operator_workqueue_longest_running_seconds',
        help: 'How long the longest-running handler of the queue has been running.',
        labelNames: ['name'],
        registers,
        collect() {
          for (const f of onCollect) f();
        },
      }),
    };
    queueMetrics.set(registry, m);
  }
  return m;
}

export function leaderGauge(registry: Registry): Gauge<'identity'> {
  let g = leaderGauges.get(registry);
  if (!g) {
    g = new Gauge({ name: 'eni_operator_leader', help: '1 while this identity holds the leader lease, else 0.', labelNames: ['identity'], registers: [registry] });
    leaderGauges.set(registry, g);
  }
  return g;
}
