/** `forge doctor` (being wired up). */
import { ForgeError } from '../errors.js';
import type { CommandSpec } from './command.js';

export const spec: CommandSpec = {
  name: 'doctor',
  summary: '',
  args: '',
  description: '',
  options: {},
  minPositionals: 0,
  maxPositionals: 1,
  examples: [],
  async run() {
    throw new ForgeError('dependency', 'forge doctor: not supported yet in this build');
  },
};
