#!/usr/bin/env python3
"""PyTorch reference for MarianMT decoding speed on the CPU (the PyTorch side of bench/marian.mjs).

transformers is not installable here, so this is MarianMTModel written by hand from
modeling_marian.py (v4.30): post-LN encoder-decoder, sinusoidal positions, shared scaled embedding,
final_logits_bias, swish FFN, a key/value cache for the decoder's self-attention and cross-attention
keys/values computed once. Generation follows generate(): greedy, or beam search with log_softmax,
top-2k candidates over beams x vocab, and the cache reordered by beam. As in bench/marian.mjs,
</s> is banned until the last step (min_length) and forced there, so every row generates exactly
max_new_tokens tokens whatever the random weights say. Prints one JSON line per mode:
  {"engine": "torch", "mode": "greedy"|"beam4", "tokens": ..., "seconds": ..., "tokens_per_s": ...}

usage: /usr/bin/python3 marian_torch.py [--d-model 512] [--layers 6] [--heads 8] [--ffn 2048]
          [--vocab 58101] [--batch 8] [--src-len 32] [--new-tokens 32] [--beams 4] [--threads 2] [--repeats 2]
Needs Debian's python3-torch; with libopenblas0-openmp installed it re-runs itself on OpenBLAS's
OpenMP build, as ../shared/bench/torch_reference.py does.
"""
import argparse, json, math, os, sys, time
OMP_BLAS = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
PINS = [k for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ]
needs_omp = os.path.isdir(OMP_BLAS) and OMP_BLAS not in os.environ.get("LD_LIBRARY_PATH", "")
if needs_omp or PINS:
    for k in PINS: del os.environ[k]
    if needs_omp: os.environ["LD_LIBRARY_PATH"] = OMP_BLAS + ":" + os.environ.get("LD_LIBRARY_PATH", "")
    os.execv(sys.executable, [sys.executable] + sys.argv)
import torch, torch.nn as nn, torch.nn.functional as F

ap = argparse.ArgumentParser()
for k, v in dict(d_model=512, layers=6, heads=8, ffn=2048, vocab=58101, batch=8, src_len=32, new_tokens=32,
                 beams=4, threads=2, repeats=2, max_pos=512).items():
    ap.add_argument("--" + k.replace("_", "-"), type=int, default=v)
a = ap.parse_args()
torch.manual_seed(0)
torch.set_num_threads(a.threads)
PAD, EOS = a.vocab - 1, 0


def sinusoidal(n, d):
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    inv = torch.pow(10000.0, torch.arange(0, d // 2, dtype=torch.float64) * 2 / d)
    return torch.cat([torch.sin(pos / inv), torch.cos(pos / inv)], 1).float()


class Attn(nn.Module):
    def __init__(s, d, h):
        super().__init__(); s.h, s.hd = h, d // h
        s.q, s.k, s.v, s.o = (nn.Linear(d, d) for _ in range(4))
    def split(s, t):  # [B, T, D] -> [B, A, T, hd]
        return t.view(t.shape[0], t.shape[1], s.h, s.hd).transpose(1, 2)
    def kv(s, x):
        return s.split(s.k(x)), s.split(s.v(x))
    def forward(s, x, k, v, mask=None):
        B, T, D = x.shape
        att = s.split(s.q(x) * s.hd ** -0.5) @ k.transpose(-1, -2)
        if mask is not None: att = att + mask
        return s.o((att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D))


class EncLayer(nn.Module):
    def __init__(s, d, h, f):
        super().__init__(); s.sa, s.ln1, s.fc1, s.fc2, s.ln2 = Attn(d, h), nn.LayerNorm(d), nn.Linear(d, f), nn.Linear(f, d), nn.LayerNorm(d)
    def forward(s, x, mask):
        x = s.ln1(x + s.sa(x, *s.sa.kv(x), mask))
        return s.ln2(x + s.fc2(F.silu(s.fc1(x))))


class DecLayer(nn.Module):
    def __init__(s, d, h, f):
        super().__init__()
        s.sa, s.ln1, s.ca, s.ln2 = Attn(d, h), nn.LayerNorm(d), Attn(d, h), nn.LayerNorm(d)
        s.fc1, s.fc2, s.ln3 = nn.Linear(d, f), nn.Linear(f, d), nn.LayerNorm(d)
    def forward(s, x, past, cross, mask):
        k, v = s.sa.kv(x)
        if past is not None: k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
        x = s.ln1(x + s.sa(x, k, v))
        x = s.ln2(x + s.ca(x, *cross, mask))
        return s.ln3(x + s.fc2(F.silu(s.fc1(x)))), (k, v)


class Marian(nn.Module):
    def __init__(s):
        super().__init__()
        s.shared = nn.Embedding(a.vocab, a.d_model)
        s.enc = nn.ModuleList([EncLayer(a.d_model, a.heads, a.ffn) for _ in range(a.layers)])
        s.dec = nn.ModuleList([DecLayer(a.d_model, a.heads, a.ffn) for _ in range(a.layers)])
        s.register_buffer("pos", sinusoidal(a.max_pos, a.d_model))
        s.register_buffer("bias", torch.zeros(1, a.vocab))
        s.scale = math.sqrt(a.d_model)
    def encode(s, ids, mask):
        x = s.shared(ids) * s.scale + s.pos[: ids.shape[1]]
        m = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for l in s.enc: x = l(x, m)
        return [l.ca.kv(x) for l in s.dec], m
    def step(s, tok, t, past, cross, m):
        x = s.shared(tok[:, None]) * s.scale + s.pos[t]
        present = []
        for i, l in enumerate(s.dec):
            x, kv = l(x, past[i] if past else None, cross[i], m)
            present.append(kv)
        return (x[:, 0] @ s.shared.weight.T + s.bias), present


def process(scores, cur_len, max_len):
    scores[:, PAD] = -math.inf
    if cur_len < max_len - 1: scores[:, EOS] = -math.inf  # min_length
    else:
        scores[:] = -math.inf; scores[:, EOS] = 0          # forced </s>
    return scores


@torch.no_grad()
def generate(model, ids, mask, beams):
    B, max_len = ids.shape[0], 1 + a.new_tokens
    if beams > 1: ids, mask = ids.repeat_interleave(beams, 0), mask.repeat_interleave(beams, 0)
    cross, m = model.encode(ids, mask)
    seqs = torch.full((ids.shape[0], 1), PAD, dtype=torch.long)
    scores = torch.zeros(B, beams); scores[:, 1:] = -1e9; scores = scores.view(-1)
    past = None
    for t in range(a.new_tokens):
        logits, past = model.step(seqs[:, -1], t, past, cross, m)
        if beams == 1:
            nxt = process(logits, seqs.shape[1], max_len).argmax(-1)
            seqs = torch.cat([seqs, nxt[:, None]], 1)
            continue
        logits[:, PAD] = -math.inf
        lp = process(F.log_softmax(logits, -1), seqs.shape[1], max_len) + scores[:, None]
        top, idx = lp.view(B, -1).topk(2 * beams, 1)
        src = (idx // a.vocab)[:, :beams] + torch.arange(B)[:, None] * beams
        tok = (idx % a.vocab)[:, :beams]
        scores, src = top[:, :beams].reshape(-1), src.reshape(-1)
        seqs = torch.cat([seqs[src], tok.reshape(-1, 1)], 1)
        past = [(k[src], v[src]) for k, v in past]
    return seqs


model = Marian().eval()
ids = torch.randint(1, a.vocab - 1, (a.batch, a.src_len)); ids[:, -1] = EOS
mask = torch.ones_like(ids)
for mode, beams in (("greedy", 1), (f"beam{a.beams}", a.beams)):
    generate(model, ids, mask, beams)  # warm-up
    best = math.inf
    for _ in range(a.repeats):
        t0 = time.perf_counter(); generate(model, ids, mask, beams); best = min(best, time.perf_counter() - t0)
    tokens = a.batch * a.new_tokens
    blas = "openblas-openmp" if OMP_BLAS in os.environ.get("LD_LIBRARY_PATH", "") else "default"
    print(json.dumps({"engine": "torch", "mode": mode, "tokens": tokens, "seconds": round(best, 4),
                      "tokens_per_s": round(tokens / best, 1), "threads": a.threads, "blas": blas, "torch": torch.__version__}), flush=True)
