"""Test accuracy of the example over several seeds, on the real FSDD.

Runs ``plot_classif_torch.py`` itself once per seed (``EXAMPLE_SEED``), so the
numbers are those of the tutorial and cannot drift from it, and reads what it
printed. Needs ``KYMATIO_DATASETS`` to hold FSDD. Takes about 40 s per seed on
a 2-core CPU.

    python bench/accuracy.py            # seeds 0-4
    python bench/accuracy.py --seeds 0 1
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "plot_classif_torch.py"
LINES = {
    "baseline": r"^Time average: train accuracy = \d\.\d+, test accuracy = (\d\.\d+)$",
    "train": r"^TRAIN, average loss = \d+\.\d+, accuracy = (\d\.\d+)$",
    "test": r"^TEST, average loss = \d+\.\d+, accuracy = (\d\.\d+)$",
}


def run_example(seed):
    env = {**os.environ, "EXAMPLE_SEED": str(seed), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"the example failed with seed {seed}:\n{done.stderr}")
    found = {k: re.search(p, done.stdout, re.M) for k, p in LINES.items()}
    missing = [k for k, m in found.items() if m is None]
    if missing:
        sys.exit(f"seed {seed}: no {missing} line in the output:\n{done.stdout}")
    return {k: float(m[1]) for k, m in found.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    seeds = parser.parse_args().seeds

    print("| seed | test, time average | train, pooled | test, pooled |")
    print("|-----:|-------------------:|--------------:|-------------:|")
    tests = []
    for seed in seeds:
        acc = run_example(seed)
        tests.append(acc["test"])
        print(
            f"| {seed:4d} | {acc['baseline']:18.3f} | {acc['train']:13.3f} "
            f"| {acc['test']:12.3f} |",
            flush=True,
        )
    print(
        f"mean_test_accuracy={statistics.mean(tests):.4f} "
        f"min={min(tests):.4f} seeds={len(tests)}"
    )


if __name__ == "__main__":
    main()
