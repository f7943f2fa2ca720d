import type { Command } from '../command';
import { demoCommand } from './demo';
import { corpusExportCommand, exportCommand } from './export-commands';
import { searchCommand } from './search';
import { corpusPrepareCommand, finetuneCommand, pretrainCommand, tokenizerTrainCommand } from './train-commands';
import { evaluateCommand, generateCommand, predictCommand } from './use-commands';

export const allCommands: Command[] = [
  tokenizerTrainCommand,
  corpusPrepareCommand,
  corpusExportCommand,
  pretrainCommand,
  finetuneCommand,
  evaluateCommand,
  predictCommand,
  generateCommand,
  exportCommand,
  searchCommand,
  demoCommand,
];
