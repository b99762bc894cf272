"""The cross-validation that chose the example's pooling and training settings.

Uses only FSDD's training takes (5-49): three folds hold out takes 5-9, 10-14
and 15-19 in turn and train on the other training takes; the test takes 0-4
take no part. Features come from the example itself (through the shared
runner) and every model is trained with its own ``train`` function.

1. Pooling over time (mean; mean and standard deviation; mean and maximum;
   all three) for three values of ``log_eps``, at the example's training
   settings.
2. With the best pooling: learning rate x epochs x Adam's weight decay.

Prints one Markdown table per stage, with fold means, and the chosen setting.
Needs ``KYMATIO_DATASETS`` to hold FSDD; takes about 5 minutes on a 2-core
CPU.
"""

import itertools
import statistics
import time

import torch

from runner import run, score

POOLINGS = {
    "mean": ("mean",),
    "mean+std": ("mean", "std"),
    "mean+max": ("mean", "max"),
    "mean+std+max": ("mean", "std", "max"),
}
LOG_EPS = (1e-6, 1e-4, 1e-3)
GRID = {"learning_rate": (3e-4, 1e-3), "n_epochs": (30, 50, 100)}
WEIGHT_DECAY = (0.0, 1e-3)
FOLDS = ((5, 10), (10, 15), (15, 20))  # validation takes [start, stop)


def pool(log_scattering, statistics_):
    by_name = {
        "mean": lambda s: s.mean(-1),
        "std": lambda s: s.std(-1),
        "max": lambda s: s.amax(-1),
    }
    return torch.cat([by_name[n](log_scattering) for n in statistics_], dim=1)


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


def main():
    started = time.perf_counter()
    until = "The original pipeline summarizes"
    runs = {eps: run(until=until, log_eps=eps) for eps in LOG_EPS}

    print(
        "Stage 1: pooling over time x log_eps (learning rate 1e-3, 50 epochs)"
    )
    print("| pooling | " + " | ".join(f"eps {e:g}" for e in LOG_EPS) + " |")
    print("|---|" + "---:|" * len(LOG_EPS))
    stage1 = {}
    for name, statistics_ in POOLINGS.items():
        for eps, result in runs.items():
            features = pool(result["log_scattering"], statistics_)
            stage1[name, eps] = cross_validate(result, features)
        row = " | ".join(f"{stage1[name, eps]:.4f}" for eps in LOG_EPS)
        print(f"| {name} | {row} |", flush=True)
    best_pooling, best_eps = max(stage1, key=stage1.get)
    print(f"best: {best_pooling}, log_eps {best_eps:g}\n")

    print(f"Stage 2: {best_pooling}, log_eps {best_eps:g}")
    print("| learning rate | epochs | weight decay | accuracy |")
    print("|---:|---:|---:|---:|")
    result = runs[best_eps]
    features = pool(result["log_scattering"], POOLINGS[best_pooling])
    stage2 = {}
    for lr, epochs, wd in itertools.product(*GRID.values(), WEIGHT_DECAY):
        stage2[lr, epochs, wd] = cross_validate(
            result,
            features,
            learning_rate=lr,
            n_epochs=epochs,
            weight_decay=wd,
        )
        print(f"| {lr:g} | {epochs} | {wd:g} | {stage2[lr, epochs, wd]:.4f} |")
    lr, epochs, wd = max(stage2, key=stage2.get)
    ours = stage2[result["learning_rate"], result["n_epochs"], 0.0]
    print(f"the example's own settings (1e-3, 50, 0) score {ours:.4f}")
    print(
        f"chosen: pooling={best_pooling} log_eps={best_eps:g} learning_rate={lr:g}"
        f" n_epochs={epochs} weight_decay={wd:g}"
        f" validation_accuracy={stage2[lr, epochs, wd]:.4f}"
    )
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
