// Waiting for an asynchronous cloud operation to settle: poll with backoff
// until the probe returns a value, or fail with a Timeout after the deadline.
import type { ProviderType } from '../api/common.js';
import { CloudError } from './errors.js';

export interface PollPolicy {
  initialMs: number;
  maxMs: number;
  deadlineMs: number;
}

export const DEFAULT_POLL: PollPolicy = { initialMs: 200, maxMs: 2000, deadlineMs: 120_000 };

export async function pollUntil<T>(
  provider: ProviderType,
  api: string,
  what: string,
  probe: () => Promise<T | undefined>,
  policy: PollPolicy = DEFAULT_POLL,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<T> {
  const deadline = Date.now() + policy.deadlineMs;
  let delay = policy.initialMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() + delay > deadline) throw new CloudError('Timeout', provider, api, 'Timeout', `${what} did not settle within ${policy.deadlineMs} ms`);
    await sleep(delay);
    delay = Math.min(policy.maxMs, Math.ceil(delay * 1.6));
  }
}
