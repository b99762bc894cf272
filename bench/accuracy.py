"""Test accuracy of the example over several seeds, on the real FSDD.

Runs ``plot_classif_torch.py`` itself, in a fresh process per seed, through
the shared runner, so the numbers are those of the tutorial and cannot drift
from it. For each seed it prints the test accuracy of every feature set the
example compares, in its order (trained on clean recordings), that of the
final pipeline (altered copies and a second floor) on the clean test takes
and amid white noise at 20 and 10 dB, its training accuracy, and its mean
accuracy over the six held-out speakers; then the mean of each column.
Needs ``KYMATIO_DATASETS`` to hold FSDD. Took about 1 minute per seed on a
2-core CPU, and 7 on a busier day.

    python bench/accuracy.py                # seeds 0-4
    python bench/accuracy.py --seeds 0 1
    python bench/accuracy.py --device cpu   # even where there is a GPU
    python bench/accuracy.py --threads 1    # torch's CPU threads
"""

import argparse
import json
import statistics
from pathlib import Path

from runner import run_in_fresh_process, thread_argument


def accuracy_table(seeds, device=None, threads=None):
    """Accuracies of the example for each seed, printed as a Markdown table;
    returns {seed: run_in_fresh_process's result}.

    ``device`` ("cpu" or "cuda") replaces the example's own choice;
    ``threads`` sets torch's CPU threads.
    """
    parameters = {} if device is None else {"device": device}
    rows, cells = {}, {}
    for seed in seeds:
        acc = rows[seed] = run_in_fresh_process(
            seed=seed, threads=threads, **parameters
        )
        final = acc["noise"]["+ a second floor"]
        new_voice = statistics.mean(acc["new_voice"].values())
        cells[seed] = [
            *acc["ladder"].values(),
            acc["test"],
            final["20 dB"],
            final["10 dB"],
            acc["train"],
            new_voice,
        ]
        if len(rows) == 1:
            header = [
                *acc["ladder"],
                "final",
                "same, 20 dB",
                "same, 10 dB",
                "train",
                "new voice, mean",
            ]
            print("| seed | " + " | ".join(header) + " |")
            print("|---:|" + "---:|" * len(header))
        row = " | ".join(f"{a:.3f}" for a in cells[seed])
        print(f"| {seed} | {row} |", flush=True)
    means = [statistics.mean(c) for c in zip(*cells.values(), strict=True)]
    print("| mean | " + " | ".join(f"{m:.4f}" for m in means) + " |")
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
    parser.add_argument("--device", choices=["cpu", "cuda"])
    parser.add_argument(
        "--save", metavar="PATH", help="write each seed's results as JSON"
    )
    thread_argument(parser)  # applied in each fresh process, not here
    args = parser.parse_args()
    rows = accuracy_table(args.seeds, args.device, args.threads)
    if args.save:
        Path(args.save).write_text(json.dumps(rows, indent=1))
