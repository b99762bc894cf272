"""The cross-validation that chose the example's features and training settings.

Uses only FSDD's training takes (5-49): three folds hold out takes 5-9, 10-14
and 15-19 in turn and train on the other training takes; the test takes 0-4
take no part. The log-scattering comes from the example itself (through the
shared runner) and every model is trained with its own ``train`` function.

1. Pooling over time (mean; mean and standard deviation; mean and maximum;
   all three), of orders 1 and 2 and of order 1 alone, for three values of
   ``log_eps``, at the example's training settings.
2. Statistics added to the best pooling of stage 1: some ignore the order of
   events in time (minimum, percentiles, the spread of frame-to-frame changes,
   the mean over the loudest frames), some keep it (means over 2, 3 or 4 equal
   parts of the window). The best is adopted only if it beats stage 1's best
   by at least ``MARGIN`` validation recordings.
3. With the adopted features: learning rate x epochs x Adam's weight decay.
   A setting replaces the example's own only if it gains ``MARGIN`` or more.

Prints one Markdown table per stage, with fold means, and the choices. Needs
``KYMATIO_DATASETS`` to hold FSDD; takes about 6 minutes on a 2-core CPU.
"""

import itertools
import statistics
import time

import torch

from runner import run, score

UNTIL = "What each part buys"  # the first text cell after ``train``
POOLINGS = {
    "mean": ("mean",),
    "mean+std": ("mean", "std"),
    "mean+max": ("mean", "max"),
    "mean+std+max": ("mean", "std", "max"),
}
LOG_EPS = (1e-6, 1e-4, 1e-3)
ADDITIONS = {
    "min": ("min",),
    "std of the frame-to-frame change": ("diff_std",),
    "mean over the loudest half of the frames": ("loud_mean",),
    "25th and 75th percentiles": ("q25", "q75"),
    "means over 2 equal parts": ("parts2",),
    "means over 3 equal parts": ("parts3",),
    "means over 4 equal parts": ("parts4",),
}
GRID = {"learning_rate": (3e-4, 1e-3), "n_epochs": (30, 50, 100)}
WEIGHT_DECAY = (0.0, 1e-3)
FOLDS = ((5, 10), (10, 15), (15, 20))  # validation takes [start, stop)
MARGIN = 5  # validation recordings a change must gain to be adopted


def loudest_half_mean(S, first_order):
    """Mean over the half of the frames with the most first-order energy."""
    energy = S[:, first_order].mean(1)
    loud = energy.topk(S.shape[-1] // 2, dim=-1).indices
    return S.gather(-1, loud[:, None].expand(-1, S.shape[1], -1)).mean(-1)


def statistic(S, name, first_order):
    """One summary over time of every coefficient: (recordings, coefficients)
    or, for the means over parts, (recordings, parts x coefficients)."""
    if name.startswith("parts"):
        parts = S.tensor_split(int(name[-1]), dim=-1)
        return torch.cat([p.mean(-1) for p in parts], dim=1)
    return {
        "mean": lambda: S.mean(-1),
        "std": lambda: S.std(-1),
        "max": lambda: S.amax(-1),
        "min": lambda: S.amin(-1),
        "diff_std": lambda: S.diff(dim=-1).std(-1),
        "loud_mean": lambda: loudest_half_mean(S, first_order),
        "q25": lambda: S.quantile(0.25, dim=-1),
        "q75": lambda: S.quantile(0.75, dim=-1),
    }[name]()


def features(result, statistics_, orders=(1, 2)):
    """The chosen statistics of the example's log-scattering, side by side:
    of orders 1 and 2, or of order 1 alone with ``orders=(1,)``."""
    S, first = result["log_scattering"], torch.from_numpy(result["first"])
    if orders == (1,):
        S, first = S[:, first], first[first]
    return torch.cat([statistic(S, n, first) for n in statistics_], dim=1)


def cross_validate(result, features, **settings):
    """Mean validation accuracy over the three folds of the training takes."""
    takes = torch.tensor([int(t) for t in result["take"]])
    training = takes >= 5
    labels = result["y_all"].cpu()[training]
    takes = takes[training]
    features = features[training.to(features.device)]
    return statistics.mean(
        score(
            result, features, labels, (takes >= lo) & (takes < hi), **settings
        )
        for lo, hi in FOLDS
    )


def table_row(name, scores):
    return f"| {name} | " + " | ".join(f"{s:.4f}" for s in scores) + " |"


def main():
    started = time.perf_counter()
    runs = {eps: run(until=UNTIL, log_eps=eps) for eps in LOG_EPS}
    n_validation = sum(hi - lo for lo, hi in FOLDS) * 60  # 10 digits x 6

    def gain(new, old):
        """Validation recordings that ``new`` gets right and ``old`` not:
        fold means are multiples of 1/900, so this is a whole number."""
        return round((new - old) * n_validation)

    print(
        "Stage 1: pooling over time x log_eps (learning rate 1e-3, 50 epochs)"
    )
    print("| pooling | " + " | ".join(f"eps {e:g}" for e in LOG_EPS) + " |")
    print("|---|" + "---:|" * len(LOG_EPS))
    stage1 = {}
    for orders in ((1,), (1, 2)):
        for name, statistics_ in POOLINGS.items():
            for eps, result in runs.items():
                f = features(result, statistics_, orders)
                stage1[name, orders, eps] = cross_validate(result, f)
            label = name + (", order 1 only" if orders == (1,) else "")
            scores = [stage1[name, orders, eps] for eps in LOG_EPS]
            print(table_row(label, scores), flush=True)
    best_pooling, orders, eps = max(stage1, key=stage1.get)
    best = stage1[best_pooling, orders, eps]
    print(f"best: {best_pooling}, orders {orders}, log_eps {eps:g}\n")

    result = runs[eps]
    print(f"Stage 2: {best_pooling} and one more statistic, log_eps {eps:g}")
    print(f"| added | accuracy | gain over {best_pooling} (recordings) |")
    print("|---|---:|---:|")
    stage2 = {}
    for name, statistics_ in ADDITIONS.items():
        chosen = POOLINGS[best_pooling] + statistics_
        stage2[name] = cross_validate(result, features(result, chosen, orders))
        gained = gain(stage2[name], best)
        print(f"| {name} | {stage2[name]:.4f} | {gained:+d} |", flush=True)
    added = max(stage2, key=stage2.get)
    statistics_ = POOLINGS[best_pooling]
    if gain(stage2[added], best) >= MARGIN:
        statistics_ += ADDITIONS[added]
        print(f"adopted: {added} (at least {MARGIN} recordings better)\n")
    else:
        added = "nothing"
        print(f"adopted: nothing (no addition gains {MARGIN} recordings)\n")

    print(f"Stage 3: {'+'.join(statistics_)}, log_eps {eps:g}")
    print("| learning rate | epochs | weight decay | accuracy |")
    print("|---:|---:|---:|---:|")
    chosen = features(result, statistics_, orders)
    stage3 = {}
    for lr, epochs, wd in itertools.product(*GRID.values(), WEIGHT_DECAY):
        stage3[lr, epochs, wd] = cross_validate(
            result,
            chosen,
            learning_rate=lr,
            n_epochs=epochs,
            weight_decay=wd,
        )
        print(f"| {lr:g} | {epochs} | {wd:g} | {stage3[lr, epochs, wd]:.4f} |")
    best_cell = max(stage3, key=stage3.get)
    own = (result["learning_rate"], result["n_epochs"], 0.0)
    gained = gain(stage3[best_cell], stage3[own])
    print(
        f"the example's own settings {own} score {stage3[own]:.4f}; the best,"
        f" {best_cell}, {gained:+d} recordings"
    )
    lr, epochs, wd = best_cell if gained >= MARGIN else own
    print(
        f"chosen: pooling={best_pooling} added={added!r} log_eps={eps:g}"
        f" learning_rate={lr:g} n_epochs={epochs} weight_decay={wd:g}"
        f" validation_accuracy={stage3[lr, epochs, wd]:.4f}"
    )
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
