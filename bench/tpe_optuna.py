"""Optuna's TPE on the functions of bench/tpe_problems.mjs; prints one JSON line {function: [regret per seed]}.
Run with Debian's python3-optuna: /usr/bin/python3 bench/tpe_optuna.py TRIALS SEEDS [function ...]"""
import itertools
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


def camel(t):
    x, y = t.suggest_float("x", -3, 3), t.suggest_float("y", -2, 2)
    return (4 - 2.1 * x * x + x**4 / 3) * x * x + x * y + (-4 + 4 * y * y) * y * y


def rosenbrock4log(t):
    x = [t.suggest_float(f"x{i}", 1e-2, 10, log=True) for i in range(4)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


def categorical(t):
    costs = F["categorical_costs"]
    idx = [int(t.suggest_categorical(f"c{i}", [f"v{j}" for j in range(len(c))])[1:]) for i, c in enumerate(costs)]
    x = t.suggest_float("x", 0, 1)
    return sum(costs[i][j] for i, j in enumerate(idx)) + F["categorical_pair"][idx[0]][idx[1]] + 4 * (x - 0.3) ** 2


def categorical_optimum():
    c0, c1, *rest = F["categorical_costs"]
    pair = min(c0[i] + c1[j] + F["categorical_pair"][i][j] for i, j in itertools.product(range(len(c0)), range(len(c1))))
    return pair + sum(min(c) for c in rest)


OPTIMA = {"branin": (branin, 0.397887), "hartmann6": (hartmann6, -3.32237), "mixed": (mixed, 0.0),
          "camel": (camel, -1.0316285), "rosenbrock4log": (rosenbrock4log, 0.0),
          "categorical": (categorical, categorical_optimum())}
trials, seeds = int(sys.argv[1]), int(sys.argv[2])
names = sys.argv[3:] or list(OPTIMA)
out = {}
for name in names:
    fn, opt = OPTIMA[name]
    out[name] = []
    for seed in range(seeds):
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
        study.optimize(fn, n_trials=trials)
        out[name].append(study.best_value - opt)
print(json.dumps(out))
