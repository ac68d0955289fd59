// Placeholder until the matrix suite lands (issue: the compatibility matrix as a Playwright suite).
import type { Command } from '../command.ts';

const matrix: Command = {
  name: 'matrix',
  usage: 'migcompat matrix',
  summary: 'run the default compatibility matrix on the simulated device (not available yet)',
  run() {
    process.stderr.write('migcompat: the compatibility matrix is not implemented yet; nothing was run\n');
    return 1;
  },
};
export default matrix;
