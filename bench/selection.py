"""The choices of the classification example, made on validation data.

Three folds of FSDD's training takes hold out takes 5-9, 10-14 and 15-19 in
turn and train on the other training takes; the test takes (0-4) take no
part. Every candidate is scored on the same 900 validation recordings, with
the example's own log-scattering, ``fit`` and ``evaluate``.

1. The summary over time of each coefficient's 32 frames, of orders 1 and
   2. Candidates are listed simplest first (fewer numbers per coefficient,
   then as listed); the one adopted is the simplest whose score is within
   ``MARGIN`` recordings of the best, the reference row included. That row
   is the summary the example replaced: function ``pool`` (statistics over
   "the word's frames") of the last git revision whose example defines it,
   run from git on the same log-scattering. ``--against REV:NAME`` names
   another function and revision.
2. The adopted summary of order 1 alone, and of orders 1 and 2.
3. Training settings: learning rate x epochs, and the batch size. A
   setting replaces the example's own only if it gains ``MARGIN``.

Needs ``KYMATIO_DATASETS`` to hold FSDD; about 5 minutes on a 2-core CPU.

    python bench/selection.py
    python bench/selection.py --against REV:NAME
"""

import argparse
import ast
import time

import torch

from runner import (
    CLASSIFY,
    FOLDS,
    MARGIN,
    git,
    run,
    source_at,
    validation_folds,
    with_settings,
)

REFERENCE = "pool"  # the summary that the example replaced


def parts(S, n):
    """The means over ``n`` equal parts of the window, side by side."""
    return torch.cat([p.mean(-1) for p in S.chunk(n, dim=-1)], dim=1)


STATISTICS = {
    "mean": lambda S: S.mean(-1),
    "maximum": lambda S: S.amax(-1),
    "standard deviation": lambda S: S.std(-1),
    "means over halves": lambda S: parts(S, 2),
    "means over quarters": lambda S: parts(S, 4),
}
NUMBERS = {"means over halves": 2, "means over quarters": 4}  # else 1
SUMMARIES = (  # simplest first
    ("mean",),
    ("maximum",),
    ("standard deviation",),
    ("mean", "standard deviation"),
    ("mean", "maximum"),
    ("means over halves",),
    ("mean", "standard deviation", "maximum"),
    ("means over halves", "standard deviation"),
    ("means over quarters",),
    ("means over halves", "standard deviation", "maximum"),
    ("means over quarters", "standard deviation"),
)
SETTINGS = {  # name: settings that replace the example's own
    **{
        f"learning rate {lr:g}, {epochs} epochs": dict(
            learning_rate=lr, n_epochs=epochs
        )
        for lr in (3e-4, 1e-3, 3e-3)
        for epochs in (30, 50, 100)
    },
    "batches of 32": dict(batch_size=32),
    "batches of 512": dict(batch_size=512),
}


def summary(S, statistics):
    return torch.cat([STATISTICS[name](S) for name in statistics], dim=1)


def right(result, features, **settings):
    """For each of the 900 validation recordings, whether the example's
    classifier, trained on the other training takes, labels it right."""
    fold, y = validation_folds(result), result["y_all"]
    found = []
    with with_settings(result, **settings):
        for k in range(len(FOLDS)):
            held, trained = fold == k, (fold != k) & (fold != -2)
            classifier = result["fit"](features[trained], y[trained])
            *_, predicted = result["evaluate"](
                classifier, features[held], y[held]
            )
            found.append(predicted == y[held])
    return torch.cat(found)


def function_at(revision, name, namespace):
    """Function ``name`` of the example at git ``revision``, defined in a
    copy of ``namespace`` (so that it reads this run's settings)."""
    source = source_at(revision)
    [node] = [
        n for n in ast.parse(source).body if getattr(n, "name", 0) == name
    ]
    namespace = dict(namespace)
    exec(
        compile(ast.Module([node], []), f"{revision}:{name}", "exec"),
        namespace,
    )
    return namespace[name]


def last_revision_defining(name):
    """The last git revision whose example defines function ``name``: the
    parent of the last commit that added or removed it. None where the
    history does not hold it (a shallow clone)."""
    pattern = f"def {name}("
    changed = git(
        "log", "-1", "--format=%h", "-S", pattern, "--", CLASSIFY.name
    )
    if not changed.strip():
        return None
    parent = git("rev-parse", "--short", f"{changed.strip()}^", check=False)
    return parent.strip() or None


def table(rows):
    """Print a Markdown table of validation scores; return {name: score}."""
    print("| candidate | right of 900 | accuracy | against the best |")
    print("|---|---:|---:|---:|")
    scores = {name: int(r.sum()) for name, r in rows.items()}
    best = max(scores.values())
    for name, score in scores.items():
        print(f"| {name} | {score} | {score / 900:.4f} | {score - best:+d} |")
    return scores


def choose_summary(result, against):
    S = result["S_all"]
    rows = {", ".join(s): right(result, summary(S, s)) for s in SUMMARIES}
    revision, name = against.split(":") if against else (None, REFERENCE)
    revision = revision or last_revision_defining(name)
    if revision is None:
        print(f"No git revision defines {name}: no reference row.")
    else:
        features = function_at(revision, name, result.namespace)(S)
        rows[f"{name} at {revision} (reference)"] = right(result, features)
    print("Stage 1: the summary over time, orders 1 and 2")
    scores = table(rows)
    best = max(scores.values())
    chosen = next(
        s for s in SUMMARIES if scores[", ".join(s)] >= best - MARGIN
    )
    numbers = sum(NUMBERS.get(name, 1) for name in chosen)
    print(f"adopted: {', '.join(chosen)} ({numbers} numbers a coefficient)")
    own = result["summarize"](S)
    same = own.shape == summary(S, chosen).shape and torch.allclose(
        own, summary(S, chosen)
    )
    print(f"example_summary_is_adopted={same}\n")
    return chosen


def main(against):
    started = time.perf_counter()
    result = run(until="What the second order buys")
    chosen = choose_summary(result, against)
    S, first = result["S_all"], torch.from_numpy(result["first"])
    print(
        "Stage 2: the adopted summary of order 1 alone and of orders 1 and 2"
    )
    orders = {
        "order 1": right(result, summary(S[:, first], chosen)),
        "orders 1 and 2": right(result, summary(S, chosen)),
    }
    table(orders)
    wrong = {name: 900 - int(r.sum()) for name, r in orders.items()}
    ratio = wrong["order 1"] / max(wrong["orders 1 and 2"], 1)
    print(
        f"errors_order_1={wrong['order 1']} errors_orders_1_2="
        f"{wrong['orders 1 and 2']} ratio={ratio:.1f}\n"
    )

    print("Stage 3: training settings, the adopted summary")
    features = summary(S, chosen)
    rows = {"the example's own": orders["orders 1 and 2"]}
    rows |= {n: right(result, features, **s) for n, s in SETTINGS.items()}
    scores = table(rows)
    best = max(scores, key=scores.get)
    gain = scores[best] - scores["the example's own"]
    kept = best if gain >= MARGIN else "the example's own"
    print(f"chosen_settings={kept!r} (the best gains {gain:+d} of 900)")
    print(f"threads={torch.get_num_threads()}")
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV:NAME")
    main(parser.parse_args().against)
