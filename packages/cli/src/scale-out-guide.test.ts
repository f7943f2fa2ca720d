/**
 * docs/guides/scale-out.md is copy-paste material: every `pretrain` command in it parses with its
 * flags, every flag passed to the scripts and launchers exists, and the files it names are in the repo.
 * The HF flag lists are transformers v4.36.2's run_mlm.py / run_clm.py / TrainingArguments fields
 * and the launchers' documented options (the guide pins that version).
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseCommandArgs } from './command';
import { allCommands } from './commands';
import { findCommand } from './main';
import { REPO_ROOT } from './test-utils/run-bin';

const GUIDE_DIR = path.join(REPO_ROOT, 'docs', 'guides');
const guide = fs.readFileSync(path.join(GUIDE_DIR, 'scale-out.md'), 'utf8');

/** Shell command lines of the ```sh blocks, backslash continuations joined. */
function shellCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.flatMap((block) => block.replace(/\\\n\s*/g, '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
}

/** `--name` flags of a command line (values and positionals dropped); env assignments stripped. */
function flags(words: string[]): string[] {
  return words.filter((w) => w.startsWith('--')).map((w) => w.slice(2).split('=')[0]);
}

const words = (line: string) => line.split(/\s+/).filter((w) => !/^[A-Z_]+=/.test(w));

const TRAINING_ARGUMENTS = ['output_dir', 'do_train', 'do_eval', 'per_device_train_batch_size', 'per_device_eval_batch_size', 'gradient_accumulation_steps', 'learning_rate', 'warmup_steps', 'max_steps', 'weight_decay', 'bf16', 'fp16', 'save_steps', 'save_safetensors', 'logging_steps', 'seed', 'deepspeed', 'resume_from_checkpoint', 'overwrite_output_dir'];
const RUN_MLM = ['model_name_or_path', 'train_file', 'validation_file', 'validation_split_percentage', 'max_seq_length', 'line_by_line', 'mlm_probability', 'preprocessing_num_workers', 'pad_to_max_length', 'tokenizer_name', 'config_overrides'];
const RUN_CLM = ['model_name_or_path', 'train_file', 'validation_file', 'validation_split_percentage', 'block_size', 'preprocessing_num_workers', 'keep_linebreaks', 'tokenizer_name', 'config_overrides'];
const LAUNCHERS: Record<string, string[]> = {
  torchrun: ['nproc_per_node', 'nnodes', 'node_rank', 'master_addr', 'master_port'],
  accelerate: ['multi_gpu', 'num_machines', 'num_processes', 'machine_rank', 'main_process_ip', 'main_process_port'],
  deepspeed: ['num_gpus', 'num_nodes', 'hostfile'],
};

/** Fields of the script's ExportArguments dataclass: its own flags. */
function scriptFields(): string[] {
  const script = fs.readFileSync(path.join(GUIDE_DIR, 'scale-out', 'pretokenized_lm.py'), 'utf8');
  const body = /class ExportArguments:\n([\s\S]*?)\n\n/.exec(script)![1];
  return [...body.matchAll(/^\s+(\w+): \w+ = field\(/gm)].map((m) => m[1]);
}

describe('docs/guides/scale-out.md', () => {
  const lines = shellCommands(guide);

  it('every pretrain command parses: the command exists and takes every flag given', () => {
    const pretrain = lines.filter((l) => l.startsWith('pretrain '));
    expect(pretrain.length).toBeGreaterThanOrEqual(8);
    const used = new Set<string>();
    for (const line of pretrain) {
      const argv = words(line).slice(1);
      const { command, rest } = findCommand(allCommands, argv);
      expect({ line, command: command?.path.join(' ') }).toEqual({ line, command: expect.any(String) });
      expect(() => parseCommandArgs(command!, rest)).not.toThrow();
      used.add(command!.path.join(' '));
    }
    expect([...used].sort()).toEqual(['corpus export', 'corpus prepare', 'evaluate', 'export', 'finetune', 'pretrain', 'tokenizer train']);
  });

  it('every launcher and script flag exists (script fields, TrainingArguments, run_mlm.py / run_clm.py of v4.36.2)', () => {
    const own = scriptFields();
    expect(own).toEqual(['model_dir', 'data_dir', 'mlm_probability']);
    const launches = lines.filter((l) => /^(torchrun|accelerate launch|deepspeed) /.test(l));
    expect(launches.length).toBeGreaterThanOrEqual(5);
    for (const line of launches) {
      const all = words(line);
      const scriptAt = all.findIndex((w) => w.endsWith('.py'));
      const script = all[scriptAt];
      const launcher = all[0];
      for (const flag of flags(all.slice(0, scriptAt))) expect({ launcher, flag, known: LAUNCHERS[launcher].includes(flag) }).toEqual({ launcher, flag, known: true });
      const allowed = [...TRAINING_ARGUMENTS, ...(script === 'pretokenized_lm.py' ? own : script === 'run_mlm.py' ? RUN_MLM : script === 'run_clm.py' ? RUN_CLM : [])];
      for (const flag of flags(all.slice(scriptAt + 1))) expect({ script, flag, known: allowed.includes(flag) }).toEqual({ script, flag, known: true });
    }
  });

  it('the files it tells you to copy exist, and the DeepSpeed config is ZeRO with "auto" batch sizes', () => {
    for (const file of ['scale-out/pretokenized_lm.py', 'scale-out/ds_zero2.json']) {
      expect(guide).toContain(file);
      expect(fs.existsSync(path.join(GUIDE_DIR, file))).toBe(true);
    }
    const ds = JSON.parse(fs.readFileSync(path.join(GUIDE_DIR, 'scale-out', 'ds_zero2.json'), 'utf8'));
    expect(ds.zero_optimization.stage).toBe(2);
    expect(ds.train_micro_batch_size_per_gpu).toBe('auto');
    expect(ds.gradient_accumulation_steps).toBe('auto');
    for (const line of lines.filter((l) => l.includes('--deepspeed'))) expect(line).toContain('--deepspeed ds_zero2.json');
  });

  it('the script reads the files the exports write (export.json, pretrain_export.json, the jsonl split files)', () => {
    const script = fs.readFileSync(path.join(GUIDE_DIR, 'scale-out', 'pretokenized_lm.py'), 'utf8');
    expect(script).toContain('"export.json"');
    expect(script).toContain('"pretrain_export.json"');
    expect(script).toContain('entry["file"]');
    expect(script).toContain('["tokenizerHash"]');
  });
});
