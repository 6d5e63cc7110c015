/**
 * Train the learned station-choice policy from a config file:
 *   npm run build && node dist/scripts/train-choice.js training/station-choice-regression.yaml
 * (the regression method; `evsim train station-choice CONFIG` runs it too, and `method: es` configs).
 */
import { trainStationChoice } from '../src/ai/trainChoice.js';
import { UserError } from '../src/core/errors.js';
import { runEpisode } from '../src/simulation/episodes.js';

const config = process.argv[2];
if (!config) {
  process.stderr.write('usage: node dist/scripts/train-choice.js CONFIG.yaml\n');
  process.exit(2);
}
try {
  const r = await trainStationChoice(config, runEpisode, { log: (s) => process.stderr.write(s + '\n') });
  process.stdout.write(
    `${r.dir}\n  sha256 ${r.sha256}\n  backend ${r.runtime.backend}; ${r.trainRows} training rows, ${r.validationRows} validation rows\n` +
      `  validation MAE (min): model ${r.maeModel.toFixed(2)}, fluid estimate ${r.maeFluid.toFixed(2)}, reserved estimate ${r.maeReserved.toFixed(2)}, training mean ${r.maeMean.toFixed(2)}\n` +
      `  wall ${r.wallSeconds.toFixed(1)} s\n`,
  );
} catch (e) {
  if (e instanceof UserError) {
    process.stderr.write(e.message + '\n');
    process.exit(2);
  }
  throw e;
}
