"""Both examples over several seeds, on the real FSDD.

Runs ``plot_classif_torch.py`` and ``plot_classif_noise.py`` themselves, in
a fresh process each per seed, through the shared runner, so the numbers are
those of the examples and cannot drift from them. The seed draws the initial
weights, the mini-batches, the noise and the copies; the 300 test takes stay
FSDD's official split. For each seed it prints:

- the classification example: its test accuracy, the test takes that order
  1 alone and orders 1 and 2 get wrong, and the mean accuracy over the six
  speakers, each held out in turn;
- the noise example: the accuracy at 20 and 10 dB of white noise of the
  classifier trained on clean takes (the classification example's), and of
  the final pipeline on the clean test takes, at 20 and 10 dB and, trained
  as the example trains it on the other five speakers, on a voice it has
  never heard.

Then the mean, minimum and maximum of each column, and the table of
five-seed means that README.md quotes. Needs ``KYMATIO_DATASETS`` to hold
FSDD; about 3 minutes a seed on a 2-core CPU.

    python bench/accuracy.py                # seeds 0-4
    python bench/accuracy.py --seeds 0 1
    python bench/accuracy.py --device cpu   # even where there is a GPU
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from runner import CLASSIFY, NOISE, run_in_fresh_process

COLUMNS = {
    "test": "classification: test",
    "errors order 1": "errors, order 1",
    "errors orders 1 and 2": "errors, orders 1 and 2",
    "new voice": "new voice",
    "voices' range": "best - worst voice",
    "clean 20 dB": "20 dB",
    "clean 10 dB": "10 dB",
    "noise test": "noise example: test",
    "copies 10 dB": "copies alone, 10 dB",
    "noise 20 dB": "20 dB",
    "noise 10 dB": "10 dB",
    "noise new voice": "new voice",
}
README_ROWS = {  # row: (the classification example's, the noise example's)
    "FSDD's test takes, clean (official split)": ("test", "noise test"),
    "a voice never heard, clean (mean of six)": (
        "new voice",
        "noise new voice",
    ),
    "the test takes in white noise, 20 dB": ("clean 20 dB", "noise 20 dB"),
    "the test takes in white noise, 10 dB": ("clean 10 dB", "noise 10 dB"),
}


def classification_scores(r):
    """What the classification example measured, from its namespace."""
    y, in_test = r["y_all"], r["in_test"]
    wrong = {}
    for name, X in r["feature_sets"].items():
        *_, predicted = r["evaluate"](
            r["classifiers"][name], X[in_test], y[in_test]
        )
        wrong[f"errors {name}"] = int((predicted != y[in_test]).sum())
    _, test, _ = r["evaluate"](r["model"], r["features"][in_test], y[in_test])
    voices = list(r["new_voice"].values())
    return {
        "test": test,
        **wrong,
        "new voice": statistics.mean(voices),
        "voices' range": max(voices) - min(voices),
    }


def noise_new_voice(r):
    """Each speaker held out in turn: the final pipeline trained on every
    take of the other five and the altered copies of their training takes,
    tested on the 500 recordings of the sixth."""
    fit, evaluate, two_floors = r["fit"], r["evaluate"], r["two_floors"]
    y, speaker = r["y_all"], r["speaker"]
    X_all, X_copies = two_floors(r["S_all"]), two_floors(r["S_copies"])
    copied = r["train_rows"]  # the recording each copy alters
    accuracies = []
    for s in np.unique(speaker):
        voice, kept = speaker == s, speaker[copied] != s
        X = torch.cat([X_all[~voice], X_copies[kept]])
        labels = torch.cat([y[~voice], y[copied][kept]])
        accuracies.append(evaluate(fit(X, labels), X_all[voice], y[voice])[1])
    return statistics.mean(accuracies)


def noise_scores(r):
    """What the noise example measured, and its final pipeline's new voice."""
    y, in_test = r["y_all"], r["in_test"]
    features = r["two_floors"](r["S_all"][in_test])
    clean, final = (
        r["scores"]["clean training"],
        r["scores"]["+ a second floor"],
    )
    return {
        "clean 20 dB": clean["20 dB"],
        "clean 10 dB": clean["10 dB"],
        "noise test": r["evaluate"](r["final"], features, y[in_test])[1],
        "copies 10 dB": r["scores"]["+ altered copies"]["10 dB"],
        "noise 20 dB": final["20 dB"],
        "noise 10 dB": final["10 dB"],
        "noise new voice": noise_new_voice(r),
    }


def cell(value):
    """An error count as it is, an accuracy to three decimals."""
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def accuracy_table(seeds, device=None, threads=None):
    """Print the table for ``seeds``; return {seed: {column: value}}."""
    parameters = {} if device is None else {"device": device}
    rows, started = {}, time.perf_counter()
    print("| seed | " + " | ".join(COLUMNS.values()) + " |")
    print("|---:|" + "---:|" * len(COLUMNS))
    for seed in seeds:
        found = {}
        for path, measure in (
            (CLASSIFY, "accuracy:classification_scores"),
            (NOISE, "accuracy:noise_scores"),
        ):
            child = run_in_fresh_process(
                path, measure, threads, seed=seed, **parameters
            )
            found |= child["measured"]
        rows[seed] = found
        cells = " | ".join(cell(found[c]) for c in COLUMNS)
        print(f"| {seed} | {cells} |", flush=True)
    for name, summary in (
        ("mean", statistics.mean),
        ("min", min),
        ("max", max),
    ):
        values = [summary(r[c] for r in rows.values()) for c in COLUMNS]
        cells = " | ".join(f"{v:.4f}" for v in values)
        print(f"| {name} | {cells} |")
    print(f"\nMeans over seeds {list(seeds)}, as README.md quotes them:")
    print("| test recordings | classification example | noise example |")
    print("|---|---:|---:|")
    for label, pair in README_ROWS.items():
        means = [statistics.mean(r[c] for r in rows.values()) for c in pair]
        print(f"| {label} | {means[0]:.3f} | {means[1]:.3f} |")
    print(f"took {time.perf_counter() - started:.0f} s")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4]
    )
    parser.add_argument("--device", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, help="torch's CPU threads")
    parser.add_argument(
        "--save", metavar="PATH", help="write the rows as JSON"
    )
    args = parser.parse_args()
    rows = accuracy_table(args.seeds, args.device, args.threads)
    if args.save:
        Path(args.save).write_text(json.dumps(rows, indent=1))
