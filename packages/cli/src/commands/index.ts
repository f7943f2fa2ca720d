import type { Command } from '../command';
import { demoCommand } from './demo';
import { searchCommand } from './search';
import { corpusPrepareCommand, finetuneCommand, pretrainCommand, tokenizerTrainCommand } from './train-commands';
import { evaluateCommand, generateCommand, predictCommand } from './use-commands';

export const allCommands: Command[] = [
  tokenizerTrainCommand,
  corpusPrepareCommand,
  pretrainCommand,
  finetuneCommand,
  evaluateCommand,
  predictCommand,
  generateCommand,
  searchCommand,
  demoCommand,
];
