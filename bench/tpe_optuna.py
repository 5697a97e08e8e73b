"""Optuna's TPE on the functions of bench/tpe.mjs; prints one JSON line {function: [regret per seed]}.
Run with Debian's python3-optuna: /usr/bin/python3 bench/tpe_optuna.py TRIALS SEEDS"""
import json
import math
import pathlib
import sys

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
F = json.loads((pathlib.Path(__file__).parent / "tpe_functions.json").read_text())


def branin(t):
    x, y = t.suggest_float("x", -5, 10), t.suggest_float("y", 0, 15)
    b, c, s, r, tt = 5.1 / (4 * math.pi**2), 5 / math.pi, 10, 6, 1 / (8 * math.pi)
    return (y - b * x * x + c * x - r) ** 2 + s * (1 - tt) * math.cos(x) + s


def hartmann6(t):
    x = [t.suggest_float(f"x{i}", 0, 1) for i in range(6)]
    h = F["hartmann6"]
    total = 0.0
    for i in range(4):
        inner = sum(h["A"][i][j] * (x[j] - h["P"][i][j] * 1e-4) ** 2 for j in range(6))
        total += h["alpha"][i] * math.exp(-inner)
    return -total


def mixed(t):
    lr = t.suggest_float("lr", 1e-5, 1e-1, log=True)
    layers = t.suggest_int("layers", 1, 8)
    act = t.suggest_categorical("act", ["relu", "gelu", "tanh", "sigmoid"])
    drop = t.suggest_float("dropout", 0, 0.5, step=0.05)
    width = t.suggest_int("width", 8, 512, log=True)
    return ((math.log10(lr) + 3) ** 2 + (layers - 3) ** 2 / 4 + F["mixed_act"][act]
            + 10 * (drop - 0.15) ** 2 + math.log2(width / 64) ** 2 / 8)


OPTIMA = {"branin": (branin, 0.397887), "hartmann6": (hartmann6, -3.32237), "mixed": (mixed, 0.0)}
trials, seeds = int(sys.argv[1]), int(sys.argv[2])
out = {}
for name, (fn, opt) in OPTIMA.items():
    out[name] = []
    for seed in range(seeds):
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
        study.optimize(fn, n_trials=trials)
        out[name].append(study.best_value - opt)
print(json.dumps(out))
