"""Test accuracy of the example over several seeds, on the real FSDD.

Runs ``plot_classif_torch.py`` itself, in a fresh process per seed, through
the shared runner, so the numbers are those of the tutorial and cannot drift
from it. Needs ``KYMATIO_DATASETS`` to hold FSDD. Takes about a minute per
seed on a 2-core CPU (5 minutes for seeds 0-4).

    python bench/accuracy.py                # seeds 0-4
    python bench/accuracy.py --seeds 0 1
    python bench/accuracy.py --device cpu   # even where there is a GPU
"""

import argparse
import statistics

from runner import run_in_fresh_process


def accuracy_table(seeds, device=None):
    """Accuracies of the example for each seed, printed as a Markdown table.

    ``device`` ("cpu" or "cuda") replaces the example's own choice.
    """
    parameters = {} if device is None else {"device": device}
    print("| seed | test, time average | train, pooled | test, pooled |")
    print("|-----:|-------------------:|--------------:|-------------:|")
    rows = {}
    for seed in seeds:
        acc = rows[seed] = run_in_fresh_process(seed=seed, **parameters)
        print(
            f"| {seed:4d} | {acc['baseline']:18.3f} | {acc['train']:13.3f} "
            f"| {acc['test']:12.3f} |",
            flush=True,
        )
    tests = [acc["test"] for acc in rows.values()]
    print(
        f"mean_test_accuracy={statistics.mean(tests):.4f} "
        f"min={min(tests):.4f} seeds={len(tests)}"
    )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4]
    )
    accuracy_table(parser.parse_args().seeds)
