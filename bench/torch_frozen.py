#!/usr/bin/env python3
"""PyTorch side of bench/strategies.mjs: a BERT sequence-classification training step on the CPU with
part of the model frozen (requires_grad=False, left out of AdamW as Trainer.create_optimizer leaves it).

Same architecture and settings as ../shared/bench/torch_reference.py (post-LN encoder, GELU-erf FFN,
tanh pooler, random weights, AdamW with Trainer's decay groups, clipping at 1.0); --trainable picks
what trains: all, no-emb (embeddings frozen) or top2 (the top 2 layers + pooler + classifier).
Prints one JSON line. Run it with /usr/bin/python3 (Debian's python3-torch); like the reference it
re-runs itself on OpenBLAS's OpenMP build when installed and drops OPENBLAS_CORETYPE/L2_SIZE pins.
"""
import argparse, json, math, os, resource, sys, time
OMP_BLAS = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
PINS = [k for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ]
needs_omp = os.path.isdir(OMP_BLAS) and OMP_BLAS not in os.environ.get("LD_LIBRARY_PATH", "")
if needs_omp or PINS:
    for k in PINS: del os.environ[k]
    if needs_omp: os.environ["LD_LIBRARY_PATH"] = OMP_BLAS + ":" + os.environ.get("LD_LIBRARY_PATH", "")
    os.execv(sys.executable, [sys.executable] + sys.argv)
import torch, torch.nn as nn, torch.nn.functional as F

ap = argparse.ArgumentParser()
for k, v in dict(layers=12, hidden=768, heads=12, vocab=30522, batch=8, seq=128, steps=3, warmup=1, threads=2).items():
    ap.add_argument("--" + k, type=int, default=v)
ap.add_argument("--dropout", type=float, default=0.1)
ap.add_argument("--trainable", choices=["all", "no-emb", "top2"], default="all")
a = ap.parse_args()
torch.manual_seed(0)
torch.set_num_threads(a.threads)

class Layer(nn.Module):
    def __init__(s, H, A, I, p):
        super().__init__(); s.A = A
        s.q, s.k, s.v, s.o = (nn.Linear(H, H) for _ in range(4))
        s.ln1, s.ln2 = nn.LayerNorm(H, eps=1e-12), nn.LayerNorm(H, eps=1e-12)
        s.i, s.out, s.d = nn.Linear(H, I), nn.Linear(I, H), nn.Dropout(p)
    def forward(s, x, mask):
        B, T, H = x.shape; hd = H // s.A
        split = lambda t: t.view(B, T, s.A, hd).transpose(1, 2)          # [B, T, H] -> [B, A, T, hd]
        att = split(s.q(x)) @ split(s.k(x)).transpose(-1, -2) / math.sqrt(hd) + mask
        ctx = (s.d(att.softmax(-1)) @ split(s.v(x))).transpose(1, 2).reshape(B, T, H)
        x = s.ln1(x + s.d(s.o(ctx)))
        return s.ln2(x + s.d(s.out(F.gelu(s.i(x)))))

class Bert(nn.Module):
    def __init__(s, L, H, A, V, p):
        super().__init__()
        s.word, s.pos, s.typ = nn.Embedding(V, H), nn.Embedding(512, H), nn.Embedding(2, H)
        s.ln, s.d = nn.LayerNorm(H, eps=1e-12), nn.Dropout(p)
        s.layers = nn.ModuleList([Layer(H, A, 4 * H, p) for _ in range(L)])
        s.pool, s.cls = nn.Linear(H, H), nn.Linear(H, 2)
    def forward(s, ids, mask):
        T = ids.shape[1]
        x = s.d(s.ln(s.word(ids) + s.pos.weight[:T] + s.typ.weight[0]))
        m = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for l in s.layers: x = l(x, m)
        return s.cls(s.d(torch.tanh(s.pool(x[:, 0]))))

m = Bert(a.layers, a.hidden, a.heads, a.vocab, a.dropout)
emb = ("word.", "pos.", "typ.", "ln.")
def trains(n):
    if a.trainable == "all": return True
    if n.startswith(emb): return False
    if a.trainable == "top2" and n.startswith("layers.") and int(n.split(".")[1]) < a.layers - 2: return False
    return True
for n, p in m.named_parameters(): p.requires_grad_(trains(n))
live = [(n, p) for n, p in m.named_parameters() if p.requires_grad]
no_decay = [p for n, p in live if n.endswith("bias") or ".ln" in n or n.startswith("ln")]
decay = [p for n, p in live if not any(p is q for q in no_decay)]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=2e-5)
ids = torch.randint(0, a.vocab, (a.batch, a.seq)); mask = torch.ones(a.batch, a.seq, dtype=torch.long)
y = torch.randint(0, 2, (a.batch,))

def step():
    m.train(); opt.zero_grad(set_to_none=True)
    F.cross_entropy(m(ids, mask), y).backward()
    torch.nn.utils.clip_grad_norm_([p for _, p in live], 1.0); opt.step()

for _ in range(a.warmup): step()
times = []
for _ in range(a.steps):
    t = time.perf_counter(); step(); times.append(time.perf_counter() - t)
times.sort(); med = times[len(times) // 2]
blas = "openblas-openmp" if OMP_BLAS in os.environ.get("LD_LIBRARY_PATH", "") else "default blas"
print(json.dumps({"engine": "torch " + torch.__version__ + " " + blas, "trainable_set": a.trainable, "layers": a.layers,
                  "hidden": a.hidden, "batch": a.batch, "seq": a.seq, "threads": a.threads,
                  "params": sum(p.numel() for p in m.parameters()), "trainable": sum(p.numel() for _, p in live),
                  "ms_per_step": round(med * 1000, 1), "step_ms": [round(t * 1000) for t in times],
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
