// One run of an async job at a time, and none lost: a request that comes while
// the job runs gets a fresh run right after it (one, however many came), since
// the running one read its inputs before the change that asked.
export function serialRerun(job: (why: string) => Promise<void>): (why: string) => Promise<void> {
  let running: Promise<void> | undefined;
  let again: string | undefined;
  return (why) => {
    if (running) {
      again ??= why;
      return running;
    }
    running = (async () => {
      try {
        for (let next: string | undefined = why; next !== undefined; ) {
          await job(next);
          next = again;
          again = undefined;
        }
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
}
