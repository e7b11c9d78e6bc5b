// Serialises work on one pod, and lets a node-wide repair run alone: pod work
// waits for a repair in progress, a repair waits for pod work in progress.
export class PodLocks {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly active = new Set<Promise<void>>();
  private barrier: Promise<void> = Promise.resolve();

  forPod<T>(podUID: string, fn: () => Promise<T>): Promise<T> {
    const before = Promise.all([this.tails.get(podUID), this.barrier]);
    const run = before.then(fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(podUID, settled);
    this.active.add(settled);
    void settled.then(() => {
      this.active.delete(settled);
      if (this.tails.get(podUID) === settled) this.tails.delete(podUID);
    });
    return run;
  }

  forNode<T>(fn: () => Promise<T>): Promise<T> {
    const run = Promise.all([this.barrier, ...this.active]).then(fn);
    this.barrier = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
