/**
 * A sweep worker process (forked by src/study/sweep.ts for `evsim sweep --jobs N`): it receives
 * the sweep folder once, then run indices one at a time over IPC, runs each with the run
 * command's runScenario (city cache in the sweep's cache folder) and answers with the run's record.
 * SIGINT/SIGTERM stop the current run (nothing of it is kept) and end the worker.
 */
import { executeRun } from '../study/execute.js';
import { readPlan, type Plan } from '../study/plan.js';
import type { FromWorker, ToWorker } from '../study/sweep.js';
import { packageRoot, type AbortFlag } from './main.js';
import { sweepRunner } from './sweepCommand.js';

const send = (m: FromWorker) => process.send?.(m);
const abort: AbortFlag = { signal: null };
process.on('SIGINT', (s) => (abort.signal = s));
process.on('SIGTERM', (s) => (abort.signal = s));

let dir = '';
let plan: Plan | null = null;
let rerunFailed = false;
let runner: ReturnType<typeof sweepRunner> | null = null;
const root = packageRoot();

process.on('message', (m: ToWorker) => {
  void (async () => {
    if (m.type === 'init') {
      dir = m.dir;
      plan = readPlan(dir);
      rerunFailed = m.rerunFailed;
      runner = sweepRunner(m.cacheDir, abort);
      send({ type: 'ready' });
    } else if (m.type === 'run') {
      try {
        const record = await executeRun(dir, plan!, m.index, runner!, root, { rerunFailed });
        send({ type: 'result', record });
      } catch (e) {
        if ((e as { exitCode?: number }).exitCode === 130) {
          send({ type: 'interrupted' });
          process.disconnect?.();
          return;
        }
        throw e;
      }
    } else if (m.type === 'stop') process.disconnect?.();
  })().catch((e) => {
    process.stderr.write(`evsim sweep worker: internal error: ${(e as Error).message}\n`);
    process.exit(1);
  });
});
