// Cloud API metrics, recorded by the provider layer's caller.
import { Counter, Histogram, Registry } from 'prom-client';

export class CloudMetrics {
  readonly requests: Counter<'provider' | 'api' | 'code'>;
  readonly duration: Histogram<'provider' | 'api'>;
  readonly rateLimitWait: Histogram<'provider' | 'api'>;
  readonly retries: Counter<'provider' | 'api' | 'kind'>;

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'eni_operator_cloud_requests_total',
      help: 'Cloud API requests by provider, API and result code (OK or the provider error code).',
      labelNames: ['provider', 'api', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'eni_operator_cloud_request_duration_seconds',
      help: 'Latency of single cloud API requests (one attempt).',
      labelNames: ['provider', 'api'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.rateLimitWait = new Histogram({
      name: 'eni_operator_cloud_ratelimit_wait_seconds',
      help: 'Time a cloud API call waited for the client-side token bucket.',
      labelNames: ['provider', 'api'],
      buckets: [0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.retries = new Counter({
      name: 'eni_operator_cloud_retries_total',
      help: 'Retried cloud API attempts by the kind of error that caused them.',
      labelNames: ['provider', 'api', 'kind'],
      registers,
    });
  }
}
