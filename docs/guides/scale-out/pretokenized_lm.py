#!/usr/bin/env python3
# Continue pre-training a `pretrain export` model on the examples of `pretrain corpus export --format jsonl`
# with the HF Trainer: token-exact (our tokenizer's ids, our packing), on any number of GPUs through
# torchrun / accelerate launch (DDP) or DeepSpeed (--deepspeed ds_zero2.json). Every TrainingArguments
# flag works (--output_dir, --per_device_train_batch_size, --max_steps, --bf16, --save_safetensors, ...).
#
# Written for transformers 4.36 and datasets 2.x; not run in the pretrain repository (no PyTorch there).
import json
import os
import sys
from dataclasses import dataclass, field

import datasets
import torch
import transformers
from transformers import AutoConfig, AutoTokenizer, DataCollatorForLanguageModeling, HfArgumentParser, Trainer, TrainingArguments


@dataclass
class ExportArguments:
    model_dir: str = field(metadata={"help": "folder written by `pretrain export` (config.json, model.safetensors, tokenizer files)"})
    data_dir: str = field(metadata={"help": "folder written by `pretrain corpus export --format jsonl`"})
    mlm_probability: float = field(default=0.15, metadata={"help": "share of tokens masked (MLM models); pretrain's default is 0.15"})


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def check_same_tokenizer(args):
    """The examples must come from the tokenizer the model was trained with: both folders record its hash."""
    data = read_json(os.path.join(args.data_dir, "export.json"))
    model = read_json(os.path.join(args.model_dir, "pretrain_export.json"))
    if data["tokenizerHash"] != model["tokenizerHash"]:
        sys.exit(f"{args.data_dir}/export.json: examples made with tokenizer {data['tokenizerHash']}, "
                 f"but {args.model_dir} was trained with {model['tokenizerHash']}; export both with the same tokenizer")
    return data


class CausalCollator:
    """Pads blocks with eos and ignores only the padding in the loss (HF's LM collator would also ignore real eos tokens when pad == eos)."""

    def __init__(self, pad_id):
        self.pad_id = pad_id

    def __call__(self, examples):
        width = max(len(e["input_ids"]) for e in examples)
        input_ids = torch.full((len(examples), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(examples), width), dtype=torch.long)
        labels = torch.full((len(examples), width), -100, dtype=torch.long)
        for row, example in enumerate(examples):
            ids = torch.tensor(example["input_ids"], dtype=torch.long)
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
            labels[row, : len(ids)] = ids
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def main():
    args, training_args = HfArgumentParser((ExportArguments, TrainingArguments)).parse_args_into_dataclasses()
    header = check_same_tokenizer(args)
    config = AutoConfig.from_pretrained(args.model_dir)
    # The exact class the export names (BertForPreTraining, BertForMaskedLM, GPT2LMHeadModel), so no head is dropped or re-initialised.
    model = getattr(transformers, config.architectures[0]).from_pretrained(args.model_dir)
    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    files = {split: os.path.join(args.data_dir, entry["file"]) for split, entry in header["splits"].items()}
    data = datasets.load_dataset("json", data_files=files)
    if config.is_decoder or config.model_type == "gpt2":
        collator = CausalCollator(tokenizer.eos_token_id)
        # GPT-2 adds wte(token_type_ids) to its inputs: keep only the ids; the collator builds the rest.
        data = data.remove_columns([c for c in data["train"].column_names if c != "input_ids"])
    else:
        # Masks 15% dynamically, 80% [MASK] / 10% random / 10% unchanged, never special tokens: as pretrain's MLM does.
        collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=args.mlm_probability)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=data["train"],
        eval_dataset=data["validation"] if "validation" in data else None,
        data_collator=collator,
    )
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model()
    tokenizer.save_pretrained(training_args.output_dir)
    if training_args.do_eval and "validation" in data:
        print(trainer.evaluate())


if __name__ == "__main__":
    main()
