import { serialRerun } from './rerun.js';

/** A job whose runs finish when the test says so. */
function gatedJob() {
  const runs: string[] = [];
  const gates: (() => void)[] = [];
  const job = (why: string) =>
    new Promise<void>((resolve) => {
      runs.push(why);
      gates.push(resolve);
    });
  const finishNext = async () => {
    gates.shift()!();
    // let the runner see the finished run and start the next one
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { runs, job, finishNext };
}

describe('serialRerun', () => {
  it('runs at once when idle, one run at a time', async () => {
    const { runs, job, finishNext } = gatedJob();
    const request = serialRerun(job);
    const first = request('start');
    expect(runs).toEqual(['start']);
    await finishNext();
    await first;
    const second = request('periodic');
    expect(runs).toEqual(['start', 'periodic']);
    await finishNext();
    await second;
  });

  it('gives requests made during a run one more run after it, with the first reason, and resolves them after that run', async () => {
    const { runs, job, finishNext } = gatedJob();
    const request = serialRerun(job);
    const first = request('start');
    let secondDone = false;
    const second = request('attachments left the plan').then(() => (secondDone = true));
    void request('periodic');
    expect(runs).toEqual(['start']);
    await finishNext();
    expect(runs).toEqual(['start', 'attachments left the plan']);
    expect(secondDone).toBe(false);
    await finishNext();
    await Promise.all([first, second]);
    expect(secondDone).toBe(true);
    expect(runs).toEqual(['start', 'attachments left the plan']);
  });

  it('is usable again after a run that failed', async () => {
    let fail = true;
    const runs: string[] = [];
    const request = serialRerun((why) => {
      runs.push(why);
      return fail ? Promise.reject(new Error('boom')) : Promise.resolve();
    });
    await expect(request('a')).rejects.toThrow('boom');
    fail = false;
    await request('b');
    expect(runs).toEqual(['a', 'b']);
  });
});
