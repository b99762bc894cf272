"""Both examples over several seeds, on the real FSDD.

Runs ``plot_classif_torch.py`` and ``plot_own_recording.py`` themselves, in
a fresh process each per seed, through the shared runner, so the numbers
are those of the examples and cannot drift from them. The seed draws the
initial weights, the mini-batches and the room tone; the test takes stay
FSDD's official split (takes 0-4). For each seed it prints:

- the classification example: its test accuracy, the test takes that order
  1 alone and orders 1 and 2 get wrong, their accuracy on voices never
  heard (each speaker held out in turn, all 500 of its recordings), and its
  three largest confusions there;
- the "Your own recording" example: the mean accuracy over the six voices
  never heard (each tested on its 50 test takes) of each version and remedy,
  as recorded, raised by 20 % and in a laptop's second, by the plain
  classifier, with the voice's own statistics, and with the warp too; the
  lowest voice after both remedies; the accuracy when fewer recordings give
  the voice's statistics; and its test accuracy on the official split.

Then the mean, minimum and maximum of each column, and the table of
five-seed means that README.md quotes. Needs ``KYMATIO_DATASETS`` to hold
FSDD; about 4 minutes a seed on a 2-core CPU.

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

from runner import CLASSIFY, OWN, run_in_fresh_process

VERSIONS = ("as recorded", "raised by 20 %", "in a laptop's second")
REMEDIES = ("plain", "own statistics", "own statistics + warp")
COLUMNS = {  # column: its heading
    "test": "classification: test",
    "errors order 1": "errors, order 1",
    "errors orders 1 and 2": "errors, orders 1 and 2",
    "never order 1": "new voice, order 1",
    "never orders 1 and 2": "new voice, orders 1 and 2",
    **{f"{v}, {m}": f"{v}, {m}" for v in VERSIONS for m in REMEDIES},
    "lowest voice": "lowest voice, own statistics + warp",
    "10, one of each digit": "10 recordings",
    "20, two of each digit": "20 recordings",
    "10, two of each of five digits": "10, five digits",
    "own test": "own recording: test",
}
README_ROWS = {  # row: (the classification example's, the other's column)
    "FSDD's test takes (official split)": ("test", "own test"),
    "a voice never heard (mean of six)": (
        "as recorded, plain",
        "as recorded, own statistics + warp",
    ),
    "the same, raised by 20 %": (
        "raised by 20 %, plain",
        "raised by 20 %, own statistics + warp",
    ),
    "the same, in a laptop's second of room tone": (
        "in a laptop's second, plain",
        "in a laptop's second, own statistics + warp",
    ),
}


def classification_scores(r):
    """What the classification example measured, from its namespace."""
    y, test = r["y"], r["test"]
    found = {
        "test": r["evaluate"](r["model"], r["features"][test], y[test])[1]
    }
    for name in r["heard"]:
        found[f"errors {name}"] = int(
            (r["heard"][name][test] != y[test]).sum()
        )
        right = (r["never"][name] == y).float().mean().item()
        found[f"never {name}"] = right
    off = r["new"].confusion_matrix * (1 - np.eye(10, dtype=int))
    top = np.argsort(off, axis=None, stable=True)[::-1][:3]
    found["confusions"] = [f"{c // 10}->{c % 10}" for c in top]
    return found


def own_scores(r):
    """What the "Your own recording" example measured, from its namespace."""
    found = {
        f"{v}, {m}": statistics.mean(r["scores"][v, m].values())
        for v in VERSIONS
        for m in REMEDIES
    }
    found["lowest voice"] = min(
        a
        for v in VERSIONS
        for a in r["scores"][v, "own statistics + warp"].values()
    )
    for line in r.output.splitlines():
        name, _, value = line.partition(": mean accuracy = ")
        if name in r["subsets"]:
            found[name] = float(value)
        if line.startswith("TEST, "):
            found["own test"] = float(line.rsplit("= ", 1)[1])
    return found


def cell(value):
    """An error count as it is, an accuracy to three decimals."""
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def accuracy_table(seeds, device=None, threads=None):
    """Print the table for ``seeds``; return {seed: {column: value}}."""
    parameters = {} if device is None else {"device": device}
    rows, started = {}, time.perf_counter()
    print("| seed | " + " | ".join(COLUMNS.values()) + " | confusions |")
    print("|---:|" + "---:|" * len(COLUMNS) + "---|")
    for seed in seeds:
        found = {}
        for path, measure in (
            (CLASSIFY, "accuracy:classification_scores"),
            (OWN, "accuracy:own_scores"),
        ):
            child = run_in_fresh_process(
                path, measure, threads, seed=seed, **parameters
            )
            found |= child["measured"]
        rows[seed] = found
        cells = " | ".join(cell(found[c]) for c in COLUMNS)
        print(
            f"| {seed} | {cells} | {', '.join(found['confusions'])} |",
            flush=True,
        )
    for name, summary in (
        ("mean", statistics.mean),
        ("min", min),
        ("max", max),
    ):
        values = [summary(r[c] for r in rows.values()) for c in COLUMNS]
        print(f"| {name} | " + " | ".join(f"{v:.4f}" for v in values) + " | |")
    print(f"\nMeans over seeds {list(seeds)}, as README.md quotes them:")
    print(
        "| test recordings | classification example | own-recording example |"
    )
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
