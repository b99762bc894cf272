"""Accuracy on recordings as users make them, and the noise example's choices.

A user's recording differs from FSDD's test takes: a room's noise, silence
around the word, clipping, hum, another level. Each condition alters the
samples of a recording as ``read`` returns them (16-bit units), before
anything else of the example's sees them, and rounds the result to 16 bits
as a recorder writes it. The noise example's own functions, through the
shared runner, then turn the altered recordings into features.

Default: the test table. FSDD's 300 test takes (0-4) are altered, training
is untouched, and two pipelines of ``plot_classif_noise.py`` are scored:
the classifier trained on clean takes (the classification example's) and
the final one (altered copies and a second floor). Noise is drawn with each
of ``--seeds``; a cell is their mean, and the spread (max - min over seeds,
in test takes) follows the table. Last: ``worst_condition=...``.

``--validation``: the noise example's choices, on the training takes only.
Three folds hold out takes 5-9, 10-14 and 15-19 in turn and train on the
other training takes (and the copies of those); the held-out takes are
scored as they are and altered five ways. Each row of ``VARIANTS`` changes
the example in one named way; a change is adopted only if its mean over the
six columns gains at least ``MARGIN`` of the 900 validation recordings.
``--only TEXT ...`` scores the rows whose names hold one of the texts.

``--cache DIR`` keeps scattered recordings that do not depend on training
(the altered validation takes, the copies) for the next run. Needs
``KYMATIO_DATASETS`` to hold FSDD. On a 2-core CPU the test table takes
about 5 minutes, ``--validation`` about 10 with an empty cache.

    python bench/robustness.py
    python bench/robustness.py --validation --cache bench/results/cache
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from runner import FOLDS, MARGIN, NOISE, run, validation_folds, with_settings

SECOND = 8000  # samples
FINAL = "the noise example"


def quantize(x):
    """What a 16-bit recorder writes."""
    return np.clip(np.round(x), -32768, 32767)


def clip(x, fraction):
    top = fraction * np.abs(x).max()
    return np.clip(x, -top, top)


def hum(x, snr, hz=50.0):
    tone = np.sin(2 * np.pi * hz * np.arange(len(x)) / SECOND)
    return x + tone * np.sqrt(2 * np.mean(x**2) / 10 ** (snr / 10))


def conditions(add_noise):
    """Name: (alteration of samples and a NumPy generator, draws noise).
    ``add_noise`` is the example's; ``pad=0`` puts the noise over the take
    alone, as on a file trimmed to the word."""

    def noise(snr, exponent, pad=0):
        return (lambda x, rng: add_noise(x, snr, rng, exponent, pad), True)

    def plain(alter):
        return (lambda x, rng: alter(x), False)

    return {
        "clean": plain(lambda x: x),
        "white noise, 30 dB": noise(30, 0),
        "white noise, 20 dB": noise(20, 0),
        "white noise, 10 dB": noise(10, 0),
        "pink noise, 20 dB": noise(20, 1),
        "pink noise, 10 dB": noise(10, 1),
        "brown noise, 20 dB": noise(20, 2),
        "white noise, 20 dB, 0.5 s of it each side": noise(20, 0, SECOND // 2),
        "0.1 s of silence before": plain(
            lambda x: np.pad(x, (SECOND // 10, 0))
        ),
        "0.5 s of silence before": plain(
            lambda x: np.pad(x, (SECOND // 2, 0))
        ),
        "0.1 s of silence after": plain(
            lambda x: np.pad(x, (0, SECOND // 10))
        ),
        "0.5 s of silence after": plain(lambda x: np.pad(x, (0, SECOND // 2))),
        "clipped at 50 % of the peak": plain(lambda x: clip(x, 0.5)),
        "clipped at 30 % of the peak": plain(lambda x: clip(x, 0.3)),
        "clipped at 10 % of the peak": plain(lambda x: clip(x, 0.1)),
        "50 Hz hum, 20 dB below": plain(lambda x: hum(x, 20)),
        "quieter: 40 dB down": plain(lambda x: x / 100),
        "louder: 12 dB up, clipped at 16 bits": plain(lambda x: 4 * x),
    }


def scatter(r, signals):
    """The example's log-scattering of signals, windowed as it windows."""
    return r["log_scattering"](torch.stack([r["window"](s) for s in signals]))


def altered(r, rows, condition, seed):
    alter, _ = condition
    rng = np.random.default_rng(seed)
    return scatter(r, [quantize(alter(r["recordings"][i], rng)) for i in rows])


def cached(cache, key, compute):
    """``compute()``, or what an earlier call saved under ``key``."""
    if cache is None:
        return compute()
    path = cache / f"{key}.pt"
    if not path.exists():
        torch.save(compute(), path)
    return torch.load(path)


def test_table(seeds):
    started = time.perf_counter()
    r = run(NOISE, until="The three pipelines")
    pipelines = {
        "clean training": (r["clean"], r["summarize"]),
        FINAL: (r["final"], r["two_floors"]),
    }
    rows, y = np.flatnonzero(r["in_test"].numpy()), r["y_test"]
    print("| condition | " + " | ".join(pipelines) + " |")
    print("|---|" + "---:|" * len(pipelines))
    table, spread = {}, {}
    for name, condition in conditions(r["add_noise"]).items():
        runs = seeds if condition[1] else seeds[:1]  # one draw without noise
        draws = [altered(r, rows, condition, s) for s in runs]
        scores = {
            p: [r["evaluate"](model, featurize(S), y)[1] for S in draws]
            for p, (model, featurize) in pipelines.items()
        }
        table[name] = {p: statistics.mean(s) for p, s in scores.items()}
        if condition[1]:
            spread[name] = {
                p: round(300 * (max(s) - min(s))) for p, s in scores.items()
            }
        cells = " | ".join(f"{a:.3f}" for a in table[name].values())
        print(f"| {name} | {cells} |", flush=True)
    print(f"\nNoise: the mean over seeds {list(seeds)}; spread (max - min),")
    print("in test takes of 300:")
    for name, s in spread.items():
        print(f"{name}: " + ", ".join(f"{p} {v}" for p, v in s.items()))
    worst = min(table, key=lambda n: table[n][FINAL])
    print(f"worst_condition={worst!r} accuracy={table[worst][FINAL]:.3f}")
    print(f"took {time.perf_counter() - started:.0f} s")


VALIDATION_CONDITIONS = (
    "clean",
    "white noise, 20 dB, 0.5 s of it each side",
    "white noise, 10 dB",
    "pink noise, 20 dB",
    "0.5 s of silence before",
    "clipped at 30 % of the peak",
)
# Each row changes the example in one named way: ``copies`` (None, "altered"
# as the example makes them, "noise only" or "0-20 dB"), ``share`` (of the
# training recordings copied), ``floors`` (log(S + f) for each f, side by
# side), ``settings`` (the example's parameters replaced).
EXAMPLE = dict(copies="altered", share=1.0, floors=(1e-6, 1e-3), settings={})
CLEAN = dict(EXAMPLE, copies=None, floors=(1e-6,))
VARIANTS = {
    "clean training (the classification example)": CLEAN,
    "clean training, log_eps 1e-3": dict(CLEAN, floors=(1e-3,)),
    "clean training, a second floor at 1e-3": dict(CLEAN, floors=(1e-6, 1e-3)),
    "+ clipped noisy copies of half": dict(EXAMPLE, share=0.5, floors=(1e-6,)),
    "+ clipped noisy copies of every recording": dict(EXAMPLE, floors=(1e-6,)),
    "+ a second floor at 1e-3 (the example)": EXAMPLE,
    "the example, copies of half": dict(EXAMPLE, share=0.5),
    "the example, copies not clipped": dict(EXAMPLE, copies="noise only"),
    "the example, copies at 0-20 dB": dict(EXAMPLE, copies="0-20 dB"),
    "the example, batches of 32": dict(EXAMPLE, settings={"batch_size": 32}),
    "the example, one floor at 1e-3 instead of two": dict(
        EXAMPLE, floors=(1e-3,)
    ),
    "the example, second floor at 1e-4": dict(EXAMPLE, floors=(1e-6, 1e-4)),
    "the example, second floor at 1e-2": dict(EXAMPLE, floors=(1e-6, 1e-2)),
    "the example, a third floor at 1e-2": dict(
        EXAMPLE, floors=(1e-6, 1e-3, 1e-2)
    ),
}


def noise_only(r):
    """The example's copy without the clipping."""

    def copy(x, rng):
        snr, exponent = rng.uniform(*r["snr_range"]), rng.uniform(0, 2)
        pad = rng.integers(r["n_samples"] // 2)
        return r["add_noise"](x, snr, rng, exponent, pad)

    return copy


def validation_data(r, cache):
    """The altered validation takes by condition, and the copies of every
    training recording by kind."""
    fold = validation_folds(r)
    rows = np.flatnonzero(fold >= 0)
    every = conditions(r["add_noise"])
    takes = {"clean": r["S_all"][rows]}
    for i, name in enumerate(VALIDATION_CONDITIONS[1:]):
        takes[name] = cached(
            cache,
            f"validation-{i}",
            lambda name=name, i=i: altered(r, rows, every[name], 1000 + i),
        )
    training = np.flatnonzero(fold != -2)
    makers = {
        "altered": (r["altered_copy"], {}),
        "noise only": (noise_only(r), {}),
        "0-20 dB": (r["altered_copy"], {"snr_range": (0, 20)}),
    }

    def copies(make, settings):
        rng = np.random.default_rng(1)
        with with_settings(r, **settings):
            return scatter(
                r, [make(r["recordings"][i], rng) for i in training]
            )

    made = {
        k: cached(cache, f"copies-{k}", lambda m=m: copies(*m))
        for k, m in makers.items()
    }
    return rows, takes, training, made


def featurizer(r, floors):
    """The example's summary at each floor, side by side, computed from the
    log-scattering at ``log_eps`` as the example's ``two_floors`` does."""

    def raised(S, floor):
        return (
            S
            if floor == r["log_eps"]
            else S.exp().add(floor - r["log_eps"]).log()
        )

    return lambda S: torch.cat(
        [r["summarize"](raised(S, f)) for f in floors], 1
    )


def score(r, variant, data):
    """Validation accuracy of one variant under each condition."""
    rows, takes, training, made = data
    fold, y = validation_folds(r), r["y_all"]
    featurize = featurizer(r, variant["floors"])
    half = np.random.default_rng(2).random(len(training)) < variant["share"]
    right = {name: [] for name in takes}
    for k in range(len(FOLDS)):
        kept = fold[training] != k  # of the training recordings
        X, labels = featurize(r["S_all"][training[kept]]), y[training[kept]]
        if variant["copies"] is not None:
            copied = kept & half
            X = torch.cat([X, featurize(made[variant["copies"]][copied])])
            labels = torch.cat([labels, y[training[copied]]])
        with with_settings(r, **variant["settings"]):
            model = r["fit"](X, labels)
        held = torch.from_numpy(fold[rows] == k)
        for name, S in takes.items():
            *_, predicted = r["evaluate"](
                model, featurize(S[held]), y[rows][held]
            )
            right[name].append(predicted == y[rows][held])
    return {
        name: torch.cat(v).float().mean().item() for name, v in right.items()
    }


def validation(cache, only):
    started = time.perf_counter()
    r = run(NOISE, until="The three pipelines")
    data = validation_data(r, cache)
    print(f"scattering: {time.perf_counter() - started:.0f} s", flush=True)
    print("| variant | " + " | ".join(VALIDATION_CONDITIONS) + " | mean |")
    print("|---|" + "---:|" * (len(VALIDATION_CONDITIONS) + 1))
    means = {}
    for name, variant in VARIANTS.items():
        if only and not any(text in name for text in only):
            continue
        accuracy = score(r, variant, data)
        means[name] = statistics.mean(accuracy.values())
        cells = " | ".join(f"{a:.4f}" for a in accuracy.values())
        print(f"| {name} | {cells} | {means[name]:.4f} |", flush=True)
    print(
        f"\nA change passes when its mean gains {MARGIN} of the 900 validation"
    )
    print("recordings or more; in recordings against the example's row:")
    own = means.get("+ a second floor at 1e-3 (the example)")
    for name, mean in means.items():
        if own is not None:
            print(f"{name}: {900 * (mean - own):+.1f}")
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validation", action="store_true")
    parser.add_argument("--only", nargs="+", default=(), metavar="TEXT")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--cache", type=Path, help="keep scatterings here")
    args = parser.parse_args()
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    if args.validation:
        validation(args.cache, args.only)
    else:
        test_table(args.seeds)
