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
3. Where the adopted statistics look: over all 32 frames, as the example
   computes them, or over the frames of the word alone, those whose mean
   first-order log-scattering lies within ``m`` (natural-log units) of the
   recording's loudest frame, for m in ``WORD_MARGINS``. Frames outside the
   word hold the zero padding at the floor log(log_eps) and the filters'
   tails, so over all frames the statistics also measure the word's length.
   A variant replaces all frames only if it gains ``MARGIN`` or more.
4. With the adopted features: learning rate x epochs x Adam's weight decay,
   at the example's batch size. A setting replaces the example's own only
   if it gains ``MARGIN`` or more.
5. The log and the average over time in either order, for the time average
   of orders 1 and 2: the example's average of the log-scattering over the
   32 frames, or the log of the average scattering, which is what kymatio
   computes itself when its ``T`` spans the whole window.

The choices that concern recordings as users make them (the loader's
window, the halves of the word, the altered training copies, the batch
size) are made in ``bench/robustness.py --validation``.

For each adopted change it also prints how many validation recordings the
change gets right that the features before it got wrong, and the reverse,
with the exact two-sided sign test of that difference.

Prints one Markdown table per stage, with fold means, and the choices. Needs
``KYMATIO_DATASETS`` to hold FSDD; takes about 10 minutes on a 2-core CPU.

    python bench/selection.py
    python bench/selection.py --threads 1   # torch's CPU threads
"""

import argparse
import itertools
import time

import torch
from scipy.stats import binomtest

from runner import predict, run, thread_argument

UNTIL = "The same classifier trains on each set"  # after ``pool``
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
WORD_MARGINS = (4, 6)  # "the word": frames within e**m of the loudest


def loudest_half_mean(S, first_order):
    """Mean over the half of the frames with the most first-order energy."""
    energy = S[:, first_order].mean(1)
    loud = energy.topk(S.shape[-1] // 2, dim=-1).indices
    return S.gather(-1, loud[:, None].expand(-1, S.shape[1], -1)).mean(-1)


def word_frames(S, first_order, margin):
    """The frames whose mean first-order log-scattering lies within
    ``margin`` of the recording's loudest: (recordings, frames), boolean."""
    energy = S[:, first_order].mean(1)
    return energy >= energy.amax(-1, keepdim=True) - margin


def masked_statistic(S, name, frames):
    """Mean, standard deviation, maximum or means over parts of each
    coefficient over the ``frames`` marked True only."""
    if name.startswith("parts"):
        parts = zip(
            S.tensor_split(int(name[-1]), -1),
            frames.tensor_split(int(name[-1]), -1),
            strict=True,
        )
        return torch.cat([masked_statistic(p, "mean", f) for p, f in parts], 1)
    w = frames[:, None].to(S.dtype)
    count = w.sum(-1).clamp_min(1)  # a part may hold none of the word
    mean = (S * w).sum(-1) / count
    if name == "mean":
        return mean
    if name == "max":
        return S.masked_fill(w == 0, S.min()).amax(-1)
    spread = ((S - mean[..., None]) ** 2 * w).sum(-1)
    return (spread / (count - 1).clamp_min(1)).sqrt()  # "std"


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


def with_eps(S, eps, base=1e-6):
    """log(S + eps) from the example's log(S + base)."""
    return (S.exp() - base).clamp_min(0).add(eps).log()


def features(result, statistics_, orders=(1, 2), word_margin=None, eps=1e-6):
    """The chosen statistics of the example's log-scattering, side by side:
    of orders 1 and 2, or of order 1 alone with ``orders=(1,)``; over all
    frames, or over the word's frames with ``word_margin``."""
    S, first = result["S_all"], torch.from_numpy(result["first"])
    if eps != result["log_eps"]:
        S = with_eps(S, eps, result["log_eps"])
    if word_margin is not None:
        frames = word_frames(S, first, word_margin)
        return torch.cat(
            [masked_statistic(S, n, frames) for n in statistics_], dim=1
        )
    if orders == (1,):
        S, first = S[:, first], first[first]
    return torch.cat([statistic(S, n, first) for n in statistics_], dim=1)


def validation_folds(result):
    """The training takes, and for each of them its validation fold."""
    takes = torch.tensor(result["take"].astype(int))
    training = takes >= 5
    fold = torch.full_like(takes, -1)  # -1: always trained on
    for k, (lo, hi) in enumerate(FOLDS):
        fold[(takes >= lo) & (takes < hi)] = k
    return training, fold[training]


def correct(result, features, **settings):
    """For each of the 900 validation recordings (three folds of 300),
    whether the example's classifier trained on the other training takes
    labels it right."""
    training, fold = validation_folds(result)
    labels, features = result["y_all"][training], features[training]
    right = []
    for k in range(len(FOLDS)):
        held_out = fold == k
        predicted = predict(result, features, labels, held_out, **settings)
        right.append(predicted == labels[held_out])
    return torch.cat(right)


def cross_validate(result, features, **settings):
    """Mean validation accuracy over the three folds of the training takes
    (each holds 300 recordings, so this is also the mean over all 900)."""
    return correct(result, features, **settings).float().mean().item()


def sign_test(new, old):
    """Recordings ``new`` gets right and ``old`` wrong, the reverse, and the
    exact two-sided sign test's p-value of that difference."""
    wins, losses = int((new & ~old).sum()), int((old & ~new).sum())
    p = binomtest(wins, wins + losses).pvalue if wins + losses else 1.0
    return f"right only with it: {wins}, only without: {losses}, p = {p:.3f}"


def table_row(name, scores):
    return f"| {name} | " + " | ".join(f"{s:.4f}" for s in scores) + " |"


def main():
    started = time.perf_counter()
    result = run(until=UNTIL)
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
            for eps in LOG_EPS:
                f = features(result, statistics_, orders, eps=eps)
                stage1[name, orders, eps] = cross_validate(result, f)
            label = name + (", order 1 only" if orders == (1,) else "")
            scores = [stage1[name, orders, eps] for eps in LOG_EPS]
            print(table_row(label, scores), flush=True)
    best_pooling, orders, eps = max(stage1, key=stage1.get)
    best = stage1[best_pooling, orders, eps]
    print(f"best: {best_pooling}, orders {orders}, log_eps {eps:g}\n")

    assert eps == result["log_eps"], "stage 2 on the example's log_eps"
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
        before = correct(result, features(result, statistics_, orders))
        statistics_ += ADDITIONS[added]
        after = correct(result, features(result, statistics_, orders))
        print(f"adopted: {added} (at least {MARGIN} recordings better)")
        print(sign_test(after, before) + "\n")
    else:
        added = "nothing"
        print(f"adopted: nothing (no addition gains {MARGIN} recordings)\n")

    print(f"Stage 3: {'+'.join(statistics_)} over all frames or the word's")
    print("| frames | accuracy | gain over all frames (recordings) |")
    print("|---|---:|---:|")
    all_frames = correct(result, features(result, statistics_, orders))
    stage3 = {None: all_frames.float().mean().item()}
    print(f"| all 32 | {stage3[None]:.4f} | +0 |")
    for m in WORD_MARGINS:
        f = features(result, statistics_, orders, word_margin=m)
        stage3[m] = cross_validate(result, f)
        gained = gain(stage3[m], stage3[None])
        print(f"| the word's, within e**{m} | {stage3[m]:.4f} | {gained:+d} |")
    margin = max(stage3, key=lambda m: (stage3[m], m is None))
    if margin is not None and gain(stage3[margin], stage3[None]) >= MARGIN:
        chosen = features(result, statistics_, orders, word_margin=margin)
        print(f"adopted: the word's frames, within e**{margin}")
        print(sign_test(correct(result, chosen), all_frames) + "\n")
    else:
        margin, chosen = None, features(result, statistics_, orders)
        print(f"adopted: all frames (no variant gains {MARGIN} recordings)\n")

    chosen = result["pool"](result["S_all"])  # the example's own features
    print(
        f"Stage 4: training settings, the example's features, log_eps {eps:g}"
    )
    print("| learning rate | epochs | weight decay | accuracy |")
    print("|---:|---:|---:|---:|")
    stage4 = {}
    for lr, epochs, wd in itertools.product(*GRID.values(), WEIGHT_DECAY):
        stage4[lr, epochs, wd] = cross_validate(
            result,
            chosen,
            learning_rate=lr,
            n_epochs=epochs,
            weight_decay=wd,
        )
        print(f"| {lr:g} | {epochs} | {wd:g} | {stage4[lr, epochs, wd]:.4f} |")
    best_cell = max(stage4, key=stage4.get)
    own = (result["learning_rate"], result["n_epochs"], 0.0)
    gained = gain(stage4[best_cell], stage4[own])
    print(
        f"the example's own settings {own} score {stage4[own]:.4f}; the best,"
        f" {best_cell}, {gained:+d} recordings"
    )
    lr, epochs, wd = best_cell if gained >= MARGIN else own
    print(
        f"chosen: pooling={best_pooling} added={added!r} log_eps={eps:g}"
        f" frames={'all' if margin is None else f'word within e**{margin}'}"
        f" learning_rate={lr:g} n_epochs={epochs} weight_decay={wd:g}"
        f" validation_accuracy={stage4[lr, epochs, wd]:.4f}"
    )

    print()
    log_order(result)
    print(f"threads={torch.get_num_threads()}")
    print(f"took {time.perf_counter() - started:.0f} s")


def log_order(result):
    """Stage 5: the log and the time average in either order; and the two
    time averages of the example's ladder at each ``log_eps``."""
    print("Stage 5: the time average of orders 1 and 2, log first or last")
    print("| features | accuracy |")
    print("|---|---:|")
    S, eps = result["S_all"], result["log_eps"]
    scattering = (S.exp() - eps).clamp_min(0)  # S, from log(S + eps)
    orders = {
        "average of the log (the example)": S.mean(-1),
        "log of the average (kymatio's T over the window)": scattering.mean(-1)
        .add(eps)
        .log(),
    }
    for name, f in orders.items():
        print(f"| {name} | {cross_validate(result, f):.4f} |", flush=True)
    print("\nThe ladder's time averages at each log_eps")
    print(
        "| features | " + " | ".join(f"log_eps {e:g}" for e in LOG_EPS) + " |"
    )
    print("|---|" + "---:|" * len(LOG_EPS))
    for orders_ in ((1,), (1, 2)):
        scores = [
            cross_validate(result, features(result, ("mean",), orders_, eps=e))
            for e in LOG_EPS
        ]
        label = "order 1" if orders_ == (1,) else "orders 1 and 2"
        print(table_row(f"{label}, time average", scores), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stage-5-only", action="store_true", help="only the log's order"
    )
    apply_threads = thread_argument(parser)
    args = parser.parse_args()
    apply_threads(args)
    if args.stage_5_only:
        log_order(run(until=UNTIL))
    else:
        main()
