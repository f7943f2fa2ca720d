#!/usr/bin/env python3
"""
Plain-PyTorch peer of `node tools/bench/run.js train`: the same three workloads with the same shapes,
dropout and optimizer as ours, written with stock torch modules (nn.Linear, nn.LayerNorm, F.gelu,
softmax attention, F.cross_entropy, torch.optim.AdamW) the way HF transformers' eager BERT / GPT-2
compute them.

  bert-mini  BERT (V8000, H128, 2 layers, 2 heads, FFN 512, dropout 0.1), batch 16 x 128, MLM head
             (dense, GELU, LayerNorm, tied decoder + bias) at the 15% masked positions only + NSP
  gpt-mini   GPT-2 (same sizes, dropout 0.1), CLM on every position with a next token, tied LM head
  nanogpt    GPT-2 shape of nanoGPT's CPU recipe: 4 layers, 4 heads, width 128, block 64, batch 12,
             vocabulary 65, dropout 0 (GPT-2 biases kept, as in ours)

Driven over stdin/stdout by tools/bench/src/train.ts so that our steps and these alternate in one run:
  python3 train_peer.py --config bert-mini --threads 2 [--warmup 2]
prints {"ready": ...} after the warm-up steps, then for each input line "steps N" runs N steps and
prints {"times": [wall ms ...], "cpu": [process CPU ms ...], "loss": last loss}; "quit" exits.
Usage alone (no driver): add --steps N to time N steps and print one JSON line.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    "bert-mini": dict(kind="bert", vocab=8000, hidden=128, layers=2, heads=2, ffn=512, seq=128, batch=16, dropout=0.1),
    "gpt-mini": dict(kind="gpt", vocab=8000, hidden=128, layers=2, heads=2, ffn=512, seq=128, batch=16, dropout=0.1),
    "nanogpt": dict(kind="gpt", vocab=65, hidden=128, layers=4, heads=4, ffn=512, seq=64, batch=12, dropout=0.0),
}


class SelfAttention(nn.Module):
    def __init__(self, hidden, heads, dropout, causal, seq):
        super().__init__()
        self.heads, self.head_size, self.causal = heads, hidden // heads, causal
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.attn_drop = nn.Dropout(dropout)
        if causal:
            self.register_buffer("mask", torch.tril(torch.ones(seq, seq, dtype=torch.bool)).view(1, 1, seq, seq))

    def forward(self, x):
        b, s, h = x.shape
        q, k, v = self.qkv(x).split(h, dim=2)
        q = q.view(b, s, self.heads, self.head_size).transpose(1, 2)
        k = k.view(b, s, self.heads, self.head_size).transpose(1, 2)
        v = v.view(b, s, self.heads, self.head_size).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_size)
        if self.causal:
            scores = scores.masked_fill(~self.mask[:, :, :s, :s], torch.finfo(scores.dtype).min)
        probs = self.attn_drop(F.softmax(scores, dim=-1))
        context = (probs @ v).transpose(1, 2).reshape(b, s, h)
        return self.out(context)


class BertLayer(nn.Module):
    """Post-LayerNorm encoder layer (BERT)."""

    def __init__(self, c):
        super().__init__()
        self.attn = SelfAttention(c["hidden"], c["heads"], c["dropout"], False, c["seq"])
        self.ln1 = nn.LayerNorm(c["hidden"], eps=1e-12)
        self.fc1 = nn.Linear(c["hidden"], c["ffn"])
        self.fc2 = nn.Linear(c["ffn"], c["hidden"])
        self.ln2 = nn.LayerNorm(c["hidden"], eps=1e-12)
        self.drop = nn.Dropout(c["dropout"])

    def forward(self, x):
        x = self.ln1(x + self.drop(self.attn(x)))
        return self.ln2(x + self.drop(self.fc2(F.gelu(self.fc1(x)))))


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden"]
        self.word = nn.Embedding(c["vocab"], h)
        self.pos = nn.Embedding(512, h)
        self.token_type = nn.Embedding(2, h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(c["dropout"])
        self.layers = nn.ModuleList([BertLayer(c) for _ in range(c["layers"])])
        self.pooler = nn.Linear(h, h)
        self.nsp = nn.Linear(h, 2)
        self.transform = nn.Linear(h, h)
        self.transform_ln = nn.LayerNorm(h, eps=1e-12)
        self.decoder_bias = nn.Parameter(torch.zeros(c["vocab"]))

    def forward(self, ids, types, masked_positions, mlm_labels, nsp_labels):
        b, s = ids.shape
        x = self.word(ids) + self.pos.weight[:s] + self.token_type(types)
        x = self.drop(self.ln(x))
        for layer in self.layers:
            x = layer(x)
        # MLM head at the masked positions only (as ours): [masked, hidden] → [masked, vocab]
        selected = x.reshape(b * s, -1).index_select(0, masked_positions)
        t = self.transform_ln(F.gelu(self.transform(selected)))
        logits = t @ self.word.weight.t() + self.decoder_bias
        mlm = F.cross_entropy(logits, mlm_labels)
        nsp = F.cross_entropy(self.nsp(torch.tanh(self.pooler(x[:, 0]))), nsp_labels)
        return mlm + nsp


class GptBlock(nn.Module):
    """Pre-LayerNorm block (GPT-2), tanh GELU."""

    def __init__(self, c):
        super().__init__()
        self.ln1 = nn.LayerNorm(c["hidden"], eps=1e-5)
        self.attn = SelfAttention(c["hidden"], c["heads"], c["dropout"], True, c["seq"])
        self.ln2 = nn.LayerNorm(c["hidden"], eps=1e-5)
        self.fc1 = nn.Linear(c["hidden"], c["ffn"])
        self.fc2 = nn.Linear(c["ffn"], c["hidden"])
        self.drop = nn.Dropout(c["dropout"])

    def forward(self, x):
        x = x + self.drop(self.attn(self.ln1(x)))
        return x + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh")))


class Gpt(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden"]
        self.wte = nn.Embedding(c["vocab"], h)
        self.wpe = nn.Embedding(max(c["seq"], 64), h)
        self.drop = nn.Dropout(c["dropout"])
        self.blocks = nn.ModuleList([GptBlock(c) for _ in range(c["layers"])])
        self.ln_f = nn.LayerNorm(h, eps=1e-5)

    def forward(self, ids):
        b, s = ids.shape
        x = self.drop(self.wte(ids) + self.wpe.weight[:s])
        for block in self.blocks:
            x = block(x)
        x = self.ln_f(x)
        # Every position with a next token, tied LM head (as ours)
        hidden = x[:, :-1].reshape(-1, x.shape[-1])
        logits = hidden @ self.wte.weight.t()
        return F.cross_entropy(logits, ids[:, 1:].reshape(-1))


def make(config):
    c = CONFIGS[config]
    torch.manual_seed(1)
    model = Bert(c) if c["kind"] == "bert" else Gpt(c)
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
    model.train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    generator = torch.Generator().manual_seed(1)

    def batch():
        b, s, v = c["batch"], c["seq"], c["vocab"]
        if c["kind"] == "gpt":
            return (torch.randint(0, v, (b, s), generator=generator),)
        ids = torch.randint(5, v, (b, s), generator=generator)
        ids[:, 0] = 2
        ids[:, s // 2 - 1] = 3
        ids[:, s - 1] = 3
        types = (torch.arange(s) >= s // 2).long().expand(b, s)
        special = torch.zeros(b, s, dtype=torch.bool)
        special[:, [0, s // 2 - 1, s - 1]] = True
        # 15% of the non-special positions, 80/10/10 mask/random/keep (as the MLM objective)
        chosen = (torch.rand(b, s, generator=generator) < 0.15) & ~special
        labels = ids[chosen]
        replace = torch.rand(labels.shape, generator=generator)
        inputs = ids.clone()
        masked_values = torch.where(replace < 0.8, torch.full_like(labels, 4), torch.where(replace < 0.9, torch.randint(5, v, labels.shape, generator=generator), labels))
        inputs[chosen] = masked_values
        positions = chosen.reshape(-1).nonzero().squeeze(1)
        nsp = torch.randint(0, 2, (b,), generator=generator)
        return (inputs, types, positions, labels, nsp)

    def step():
        loss = model(*batch())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def run_steps(step, n):
    times, cpu, loss = [], [], float("nan")
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = step()
        cpu.append((time.process_time() - c0) * 1000)
        times.append((time.perf_counter() - t0) * 1000)
    return {"times": times, "cpu": cpu, "loss": loss}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True, choices=sorted(CONFIGS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=0, help="time N steps and exit (no driver)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    step = make(args.config)
    for _ in range(args.warmup):
        step()
    ready = {"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "capability": torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else ""}
    if args.steps:
        print(json.dumps({**ready, **run_steps(step, args.steps)}), flush=True)
        return
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        if command[0] == "steps":
            print(json.dumps(run_steps(step, int(command[1]))), flush=True)
    

if __name__ == "__main__":
    main()
