#!/usr/bin/env python3
"""The NER fine-tune of bench/ner_f1.mjs, in PyTorch: a cross-check that whet's result is the model's.

Reads the sentences whet encoded (`node bench/ner_f1.mjs ... --dump-examples PREFIX` writes
PREFIX-<dataset>.json: tag names, input ids and sub-word labels, -100 where not scored), loads the
same BERT checkpoint (model.safetensors, read here without the safetensors package), puts a fresh
token-classification head on it and fine-tunes it the way transformers.Trainer does by default:
AdamW (weight decay 0.01, none on biases and LayerNorm weights), linear schedule with 10% warm-up,
gradient clipping at 1.0, dropout 0.1, batches drawn in a seeded random order. Then it prints entity
F1 as seqeval's default (conlleval) chunking counts it, on the scored (first sub-word) positions.
Tokenization and label alignment are whet's, deliberately: this checks the model, loss and
optimizer, which transformers would run the same way.

usage: /usr/bin/python3 bench/ner_torch.py --examples PREFIX-wnut17.json --model DIR
                                            [--lrs 5e-5,1e-3] [--epochs 3] [--batch 32] [--threads 1]
Needs Debian's python3-torch (apt-get install python3-torch).
"""
import argparse, json, math, os, struct, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--examples", required=True)
ap.add_argument("--model", required=True)
ap.add_argument("--lrs", default="5e-5,1e-3")
ap.add_argument("--epochs", type=int, default=3)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--seed", type=int, default=42)
a = ap.parse_args()
torch.set_num_threads(a.threads)


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    kinds = {"F32": np.float32, "I64": np.int64}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(raw[8 + n + s:8 + n + e], dtype=kinds[v["dtype"]]).reshape(v["shape"]).copy())
    return out


class Layer(nn.Module):
    """One post-LN encoder layer, named as BertLayer's children are."""
    def __init__(s, H, A, I, eps, p):
        super().__init__()
        s.A = A
        s.query, s.key, s.value, s.att_out = (nn.Linear(H, H) for _ in range(4))
        s.ln1, s.ln2 = nn.LayerNorm(H, eps=eps), nn.LayerNorm(H, eps=eps)
        s.inter, s.out, s.drop = nn.Linear(H, I), nn.Linear(I, H), nn.Dropout(p)

    def forward(s, x, mask):
        B, T, H = x.shape
        hd = H // s.A
        split = lambda t: t.view(B, T, s.A, hd).transpose(1, 2)  # [B, T, H] -> [B, A, T, hd]
        att = split(s.query(x)) @ split(s.key(x)).transpose(-1, -2) / math.sqrt(hd) + mask
        ctx = (s.drop(att.softmax(-1)) @ split(s.value(x))).transpose(1, 2).reshape(B, T, H)
        x = s.ln1(x + s.drop(s.att_out(ctx)))
        return s.ln2(x + s.drop(s.out(F.gelu(s.inter(x)))))


class Tagger(nn.Module):
    def __init__(s, c, num_labels):
        super().__init__()
        H, p = c["hidden_size"], c["hidden_dropout_prob"]
        s.word = nn.Embedding(c["vocab_size"], H)
        s.pos = nn.Embedding(c["max_position_embeddings"], H)
        s.typ = nn.Embedding(c["type_vocab_size"], H)
        s.ln, s.drop = nn.LayerNorm(H, eps=c["layer_norm_eps"]), nn.Dropout(p)
        s.layers = nn.ModuleList([Layer(H, c["num_attention_heads"], c["intermediate_size"], c["layer_norm_eps"], p)
                                  for _ in range(c["num_hidden_layers"])])
        s.classifier = nn.Linear(H, num_labels)
        # BertPreTrainedModel._init_weights for the fresh head: N(0, initializer_range), bias 0.
        nn.init.normal_(s.classifier.weight, std=c["initializer_range"])
        nn.init.zeros_(s.classifier.bias)

    def forward(s, ids, attn):
        T = ids.shape[1]
        x = s.drop(s.ln(s.word(ids) + s.pos.weight[:T] + s.typ.weight[0]))
        mask = (1.0 - attn[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in s.layers:
            x = layer(x, mask)
        return s.classifier(s.drop(x))

    def load(s, w):
        g = lambda k: w["bert." + k]
        with torch.no_grad():
            s.word.weight.copy_(g("embeddings.word_embeddings.weight"))
            s.pos.weight.copy_(g("embeddings.position_embeddings.weight"))
            s.typ.weight.copy_(g("embeddings.token_type_embeddings.weight"))
            s.ln.weight.copy_(g("embeddings.LayerNorm.weight")); s.ln.bias.copy_(g("embeddings.LayerNorm.bias"))
            names = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
                     "att_out": "attention.output.dense", "ln1": "attention.output.LayerNorm",
                     "inter": "intermediate.dense", "out": "output.dense", "ln2": "output.LayerNorm"}
            for i, layer in enumerate(s.layers):
                for mine, theirs in names.items():
                    m = getattr(layer, mine)
                    m.weight.copy_(g(f"encoder.layer.{i}.{theirs}.weight")); m.bias.copy_(g(f"encoder.layer.{i}.{theirs}.bias"))


def entities(tags):
    """seqeval's default (conlleval) chunks of one sentence: (type, start, end)."""
    out, prev_tag, prev_type, begin = [], "O", "", 0
    for i, t in enumerate(tags + ["O"]):
        tag, typ = t[0], (t[1:].split("-", 1)[-1] or "_")
        end = prev_tag in "ES" or (prev_tag in "BI" and tag in "BSO") or (prev_tag not in "O." and prev_type != typ)
        start = tag in "BS" or (prev_tag in "ESO" and tag in "EI") or (tag not in "O." and prev_type != typ)
        if end:
            out.append((prev_type, begin, i))
        if start:
            begin = i
        prev_tag, prev_type = tag, typ
    return out


def batches(rows, size, order):
    for i in range(0, len(order), size):
        chunk = [rows[j] for j in order[i:i + size]]
        T = max(len(r["input_ids"]) for r in chunk)
        ids = torch.zeros(len(chunk), T, dtype=torch.long)
        attn = torch.zeros(len(chunk), T, dtype=torch.long)
        lab = torch.full((len(chunk), T), -100, dtype=torch.long)
        for b, r in enumerate(chunk):
            n = len(r["input_ids"])
            ids[b, :n] = torch.tensor(r["input_ids"]); attn[b, :n] = 1; lab[b, :n] = torch.tensor(r["labels"])
        yield ids, attn, lab


def evaluate(model, rows, names):
    model.eval()
    refs, preds, loss_sum, count = [], [], 0.0, 0
    with torch.no_grad():
        for ids, attn, lab in batches(rows, 64, list(range(len(rows)))):
            logits = model(ids, attn)
            keep = lab != -100
            loss_sum += F.cross_entropy(logits[keep], lab[keep], reduction="sum").item(); count += int(keep.sum())
            for b in range(ids.shape[0]):
                k = keep[b]
                refs.append([names[y] for y in lab[b][k].tolist()])
                preds.append([names[y] for y in logits[b][k].argmax(-1).tolist()])
    model.train()
    ref_e = {(n,) + e for n, s in enumerate(refs) for e in entities(s)}
    pred_e = {(n,) + e for n, s in enumerate(preds) for e in entities(s)}
    hit = len(ref_e & pred_e)
    p = hit / len(pred_e) if pred_e else 0.0
    r = hit / len(ref_e) if ref_e else 0.0
    words = sum(len(s) for s in preds)
    return {"loss": loss_sum / count, "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "predicted_non_o": sum(t != "O" for s in preds for t in s) / words, "predicted_entities": len(pred_e)}


data = json.load(open(a.examples))
config = json.load(open(os.path.join(a.model, "config.json")))
weights = read_safetensors(os.path.join(a.model, "model.safetensors"))
names = data["labels"]
for lr in [float(x) for x in a.lrs.split(",")]:
    t0 = time.time()
    torch.manual_seed(a.seed)
    model = Tagger(config, len(names))
    model.load(weights)
    no_decay = lambda n, m: n.endswith("bias") or isinstance(m, nn.LayerNorm)
    decay, plain = [], []
    for mn, m in model.named_modules():
        for pn, prm in m.named_parameters(recurse=False):
            (plain if no_decay(pn, m) else decay).append(prm)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": plain, "weight_decay": 0.0}], lr=lr)
    per_epoch = math.ceil(len(data["train"]) / a.batch)
    total = per_epoch * a.epochs
    warm = math.ceil(0.1 * total)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: s / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm)))
    rng = np.random.default_rng(a.seed)
    curve, window, f1s = [], [], []
    for epoch in range(a.epochs):
        for ids, attn, lab in batches(data["train"], a.batch, rng.permutation(len(data["train"])).tolist()):
            logits = model(ids, attn)
            loss = F.cross_entropy(logits.view(-1, len(names)), lab.view(-1), ignore_index=-100)
            opt.zero_grad(); loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step(); sched.step()
            window.append(loss.item())
            if len(window) == 20:
                curve.append(round(sum(window) / 20, 3)); window = []
        f1s.append(round(evaluate(model, data["eval"], names)["f1"], 4))
    m = evaluate(model, data["eval"], names)
    print(json.dumps({"engine": "torch", "examples": os.path.basename(a.examples), "lr": lr, "epochs": a.epochs, "steps": total,
                      **{k: round(v, 4) if isinstance(v, float) else v for k, v in m.items()},
                      "f1_per_epoch": f1s, "loss_curve": curve, "minutes": round((time.time() - t0) / 60, 2)}), flush=True)
