#!/usr/bin/env python3
"""Optuna's samplers on the protocol of Tracker.StrategyBench, for a side-by-side comparison.

Branin (2-D, x1 in [-5, 10], x2 in [0, 15]) and Hartmann-6 (6-D, [0, 1]^6); 50 trials, seeds 0..19, minimised;
prints the median simple regret (best found - optimum) after 10, 20, 30 and 50 trials for random search, TPE and
multivariate TPE, each with its defaults apart from the seed (and multivariate=True).

    python3 bench/optuna_baseline.py [--trials 50] [--seeds 20] [--json results.json]
"""
import argparse
import json
import math
import os
import platform
import statistics
import time
import warnings

import optuna

BRANIN_MIN = 0.397887
HARTMANN6_MIN = -3.32237

HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
HARTMANN_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
HARTMANN_P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]


def branin(x1, x2):
    a, b, c, r, s, t = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


def hartmann6(x):
    total = 0.0
    for i in range(4):
        inner = sum(HARTMANN_A[i][j] * (x[j] - HARTMANN_P[i][j] * 1e-4) ** 2 for j in range(6))
        total += HARTMANN_ALPHA[i] * math.exp(-inner)
    return -total


def branin_objective(trial):
    return branin(trial.suggest_float("x1", -5, 10), trial.suggest_float("x2", 0, 15))


def hartmann6_objective(trial):
    return hartmann6([trial.suggest_float(f"x{j}", 0, 1) for j in range(6)])


PROBLEMS = [("Branin", branin_objective, BRANIN_MIN), ("Hartmann-6", hartmann6_objective, HARTMANN6_MIN)]
SAMPLERS = [
    ("optuna random", lambda seed: optuna.samplers.RandomSampler(seed=seed)),
    ("optuna tpe", lambda seed: optuna.samplers.TPESampler(seed=seed)),
    ("optuna tpe multivariate", lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True)),
]
CHECKPOINTS = [10, 20, 30, 50]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    checkpoints = [c for c in CHECKPOINTS if c <= args.trials]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

    print(f"Optuna {optuna.__version__}; {os.cpu_count()} cores, {cpu_model()}; {args.trials} trials x {args.seeds} seeds")
    results = []
    for problem, objective, optimum in PROBLEMS:
        print(f"\n{problem}: median simple regret after n trials")
        print(f"{'strategy':<26}" + "".join(f"{'n=' + str(c):>10}" for c in checkpoints) + f"{'wall s':>10}")
        for name, make in SAMPLERS:
            start = time.perf_counter()
            regrets = {c: [] for c in checkpoints}
            for seed in range(args.seeds):
                study = optuna.create_study(direction="minimize", sampler=make(seed))
                study.optimize(objective, n_trials=args.trials)
                best = math.inf
                for trial in study.trials:
                    best = min(best, trial.value)
                    if trial.number + 1 in regrets:
                        regrets[trial.number + 1].append(best - optimum)
            wall = time.perf_counter() - start
            medians = {c: statistics.median(regrets[c]) for c in checkpoints}
            print(f"{name:<26}" + "".join(f"{medians[c]:>10.4f}" for c in checkpoints) + f"{wall:>10.1f}")
            results.append({"problem": problem, "strategy": name, "median_regret": medians, "wall_s": wall})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"optuna": optuna.__version__, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
