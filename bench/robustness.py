"""Accuracy on recordings as users make them, and the choice of the remedy.

A user's recording differs from FSDD's test takes: a room's noise, silence
around the word, clipping, hum, another level. Each condition alters the
samples of a recording as ``read`` returns them (16-bit units), before
``window`` or anything of the example's sees them, and rounds the result to
16 bits as a recorder would write it. The example's own functions (through
the shared runner) then turn the altered recordings into features.

Methods, each trained on clean recordings (and, for the last, their noisy
copies) exactly as the example trains:

- ``d3367c9``: the example before this bench existed: the take centred in
  the window and cut at its end, statistics over the word's frames with the
  means over the window's halves, mini-batches of 32, clean training only;
- ``clean training``: the example's loader and features, clean training
  (the example's "+ statistics over the word");
- ``the example``: its final pipeline, trained with the altered copies on
  the statistics at two floors, ``log_eps`` and ``noise_floor``.

Default: the test table. FSDD's official split: the 300 test takes (0-4) are
altered, training is untouched. Noise conditions are drawn with each of
``--seeds`` (two by default); each cell is their mean, and the spread (max -
min over seeds) is printed below the table. The table ends with the clean official split,
the leave-one-speaker-out mean, and ``worst_condition=<name> accuracy=<a>``
for the example.

``--validation``: the choice of the remedy, on the training takes only.
Three folds hold out takes 5-9, 10-14 and 15-19 in turn and train on the
other training takes; the held-out takes are altered under a few
conditions. A candidate replaces the one before it only if its mean over
the conditions gains at least 5 of the 900 validation recordings. Later
rows try other remedies against clipped noisy copies of half the
recordings: other copies, other floors under the log, fewer statistics,
weight decay, copies made in the scattering domain, and the statistics at
two floors side by side, the example's choice; the last rows try a higher
second floor, a third floor, a floor set by each coefficient's quietest
frame, a subtracted noise floor and other copies against that choice.
``--only NAME ...`` scores just the candidates whose names hold one of
the given strings.

``--cache DIR`` keeps the scattered recordings that do not depend on the
example's training in DIR and reuses them (the d3367c9 loader's, the
altered validation takes, the training copies), so that a second run only
trains. Needs ``KYMATIO_DATASETS`` to hold FSDD. On a 2-core CPU the test
table took about 35 minutes with a cache; ``--validation`` about 15 with a
cache, 40 without.

    python bench/robustness.py
    python bench/robustness.py --validation --cache bench/results/cache
    python bench/robustness.py --validation --only "(the example's)" "floor"
"""

import argparse
import functools
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from runner import run

SECOND = 8000  # samples
EXAMPLE = "the example"


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
    """Name: (alteration of samples and a NumPy generator, uses noise).
    ``add_noise`` is the example's; ``pad=0`` puts the noise over the take
    alone, as on a file trimmed to the word."""

    def noise(snr, exponent, pad=0):
        return (
            lambda x, rng: add_noise(x, snr, rng, exponent, pad=pad),
            True,
        )

    def plain(f):
        return (lambda x, rng: f(x), False)

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


VALIDATION_CONDITIONS = (
    "clean",
    "white noise, 20 dB, 0.5 s of it each side",
    "white noise, 10 dB",
    "pink noise, 20 dB",
    "0.5 s of silence before",
    "clipped at 30 % of the peak",
)


# The example at d3367c9, for the "before" column: its loader and features.
def old_window(x, n_samples):
    x = x / (np.abs(x).max() or 1)
    x = torch.from_numpy(x)[:n_samples]
    start = (n_samples - len(x)) // 2
    return torch.nn.functional.pad(x, (start, n_samples - len(x) - start))


def old_features(S, first):
    energy = S[:, first].mean(1)
    word = (energy >= energy.amax(1, keepdim=True) - 4)[:, None].float()
    mean = (S * word).sum(-1) / word.sum(-1)
    spread = ((S - mean[..., None]) ** 2 * word).sum(-1) / (
        word.sum(-1) - 1
    ).clamp_min(1)
    peak = S.masked_fill(word == 0, S.min()).amax(-1)
    parts = zip(S.chunk(2, -1), word.chunk(2, -1), strict=True)
    halves = [(h * w).sum(-1) / w.sum(-1).clamp_min(1) for h, w in parts]
    return torch.cat([mean, spread.sqrt(), peak, *halves], 1)


class Pipelines:
    """The example's functions and its recordings, and ways to featurize
    altered recordings under each loader."""

    def __init__(self, result):
        self.r = result
        self.n_samples = result["n_samples"]
        self.first = torch.from_numpy(result["first"])

    def scatter(self, signals, loader):
        if loader == "old":
            x = [old_window(s, self.n_samples) for s in signals]
        else:
            x = [self.r["window"](s) for s in signals]
        return self.r["log_scattering"](torch.stack(x).float())

    def altered(self, rows, condition, seed, loader):
        alter, _ = condition
        rng = np.random.default_rng(seed)
        recordings = self.r["recordings"]
        signals = [quantize(alter(recordings[i], rng)) for i in rows]
        return self.scatter(signals, loader)


def coefficients(S, base=1e-6):
    """The scattering coefficients themselves, from log(S + base)."""
    return (S.exp() - base).clamp_min(0)


def with_eps(S, eps, base=1e-6):
    """log(S + eps) from log(S + base)."""
    return coefficients(S, base).add(eps).log()


def fit_with(result, settings, *args, weight_decay=0.0):
    """The example's ``fit`` with some of its parameters replaced, and
    ``weight_decay`` passed on to its Adam (the example leaves it at 0)."""
    saved = {name: result[name] for name in settings}
    adam = torch.optim.Adam
    try:
        result.namespace.update(settings)
        if weight_decay:
            torch.optim.Adam = functools.partial(
                adam, weight_decay=weight_decay
            )
        return result["fit"](*args)
    finally:
        result.namespace.update(saved)
        torch.optim.Adam = adam


def new_voice(r, S_old):
    """Each method's accuracy on each speaker held out in turn, trained on
    the other five; the example's as its own leave-one-speaker-out printed.
    ``r`` is a run of the example up to "Where it errs"."""
    first, y, pool = torch.from_numpy(r["first"]), r["y_all"], r["pool"]
    speakers = np.unique(r["speaker"])
    held = [torch.from_numpy(r["speaker"] == s) for s in speakers]
    return {
        "d3367c9": [
            fit_with(
                r, {"batch_size": 32}, old_features(S_old, first), y, h
            ).test.accuracy
            for h in held
        ],
        "clean training": [
            r["fit"](pool(r["S_all"]), y, h).test.accuracy for h in held
        ],
        EXAMPLE: list(r["new_voice"].values()),
    }


def test_table(seeds, cache=None):
    started = time.perf_counter()
    r = run(until="Where it errs")
    p = Pipelines(r)
    y, in_test, first = r["y_all"], r["in_test"], p.first
    pool, evaluate = r["pool"], r["evaluate"]
    rows = np.flatnonzero(in_test.numpy())
    S_old = cached(cache, "old-all", lambda: p.scatter(r["recordings"], "old"))
    old = fit_with(
        r, {"batch_size": 32}, old_features(S_old, first), y, in_test
    )
    clean = r["ladder"]["+ statistics over the word"]
    models = {
        "d3367c9": (old.model, "old", lambda S: old_features(S, first)),
        "clean training": (clean.model, "new", pool),
        EXAMPLE: (r["final"].model, "new", r["two_floors"]),
    }
    print(
        f"example run and d3367c9's features: {time.perf_counter() - started:.0f} s"
    )
    table, spread = {}, {}
    for name, condition in conditions(r["add_noise"]).items():
        runs = seeds if condition[1] else seeds[:1]
        scores = {m: [] for m in models}
        for seed in runs:
            features = {}
            for loader in ("old", "new"):
                features[loader] = p.altered(rows, condition, seed, loader)
            for m, (model, loader, f) in models.items():
                acc = evaluate(model, f(features[loader]), y[in_test]).accuracy
                scores[m].append(acc)
        table[name] = {m: statistics.mean(s) for m, s in scores.items()}
        spread[name] = {m: max(s) - min(s) for m, s in scores.items()}
        row = " | ".join(f"{a:.3f}" for a in table[name].values())
        print(f"| {name} | {row} |", flush=True)

    print("\nTest takes (0-4) altered, training untouched; noise: mean over")
    print(f"{len(seeds)} noise seeds {list(seeds)}, one draw otherwise.")
    print("| condition | " + " | ".join(models) + " |")
    print("|---|" + "---:|" * len(models))
    for name, accs in table.items():
        print(
            f"| {name} | "
            + " | ".join(f"{a:.3f}" for a in accs.values())
            + " |"
        )
    print("\nSpread over noise seeds (max - min), in test recordings of 300:")
    for name, s in spread.items():
        if conditions(r["add_noise"])[name][1]:
            print(
                f"{name}: "
                + ", ".join(f"{m} {round(300 * v)}" for m, v in s.items())
            )

    voice = new_voice(r, S_old)
    print(
        "\n| method | official split, clean | new voice, mean of 6 | speakers |"
    )
    print("|---|---:|---:|---|")
    for m in models:
        each = ", ".join(f"{a:.3f}" for a in voice[m])
        print(
            f"| {m} | {table['clean'][m]:.3f} | "
            f"{statistics.mean(voice[m]):.3f} | {each} |"
        )
    worst = min(table, key=lambda n: table[n][EXAMPLE])
    print(f"worst_condition={worst!r} accuracy={table[worst][EXAMPLE]:.3f}")
    print(
        f"new_voice_mean={statistics.mean(voice[EXAMPLE]):.4f} (the example)"
    )
    print(f"took {time.perf_counter() - started:.0f} s")


FOLDS = ((5, 10), (10, 15), (15, 20))
MARGIN = 5  # of 900 validation recordings


def cached(cache, key, compute):
    """``compute()``, or what an earlier call saved under ``key``."""
    if cache is None:
        return compute()
    path = cache / f"{key}.pt"
    if not path.exists():
        torch.save(compute(), path)
    return torch.load(path)


def noise_only_copy(add_noise, snr_range, n_samples):
    """The training copy before clipping joined it: noise alone."""

    def copy(x, rng):
        snr, exponent = rng.uniform(*snr_range), rng.uniform(0, 2)
        return add_noise(x, snr, rng, exponent, rng.integers(n_samples // 2))

    return copy


def altered_copy_variant(add_noise, n_samples, snr_range, clip_probability):
    """The example's ``altered_copy`` with another SNR range, clipped with
    probability ``clip_probability`` only."""

    def copy(x, rng):
        top = rng.uniform(0.1, 1) * np.abs(x).max()
        if rng.random() >= clip_probability:
            top = np.abs(x).max()
        snr, exponent = rng.uniform(*snr_range), rng.uniform(0, 2)
        pad = rng.integers(n_samples // 2)
        return add_noise(np.clip(x, -top, top), snr, rng, exponent, pad)

    return copy


def scattering_domain_copies(r, S, snr_range, seed=5, per_colour=20):
    """Noisy copies made without scattering them: each coefficient of a
    recording and of a noise of random colour, scattered once, add as
    powers, sqrt(S_x**2 + S_n**2), the noise scaled to an SNR drawn in
    ``snr_range`` against the recording's mean power. ``S`` is the
    recordings' log-scattering at ``log_eps`` 1e-6; so are the copies."""
    rng = np.random.default_rng(seed)
    n = r["n_samples"]
    bank = []
    for exponent in np.linspace(0, 2, 5):
        for _ in range(per_colour):
            f = np.fft.rfftfreq(n)
            tilt = np.maximum(f, f[1]) ** (-exponent / 2)
            noise = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * tilt, n)
            bank.append(noise / np.sqrt(np.mean(noise**2)))
    noise_S = r["log_scattering"](torch.tensor(np.array(bank)).float())
    noise_S = coefficients(noise_S)
    power = torch.tensor(
        [np.mean((x / np.abs(x).max()) ** 2) for x in r["recordings"]]
    ).float()
    linear = coefficients(S)
    which = torch.from_numpy(rng.integers(len(bank), size=len(S)))
    snr = torch.from_numpy(rng.uniform(*snr_range, size=len(S))).float()
    gain = (power / 10 ** (snr / 10)).sqrt()[:, None, None]
    return (linear**2 + (gain * noise_S[which]) ** 2).sqrt().add(1e-6).log()


def minimum_subtracted(S):
    """log(S - min over frames + 1e-6) per coefficient: a noise floor
    estimated from each recording's quietest frame and subtracted."""
    linear = coefficients(S)
    return (linear - linear.amin(-1, keepdim=True)).add(1e-6).log()


def quietest_frame_floor(pool, floor):
    """``pool`` at the floor 1e-6 and again at each coefficient's own floor:
    its value in the recording's quietest frame, at least ``floor``, so
    that a band's steady noise reads as that floor."""

    def features(S):
        linear = coefficients(S)
        own = linear.amin(-1, keepdim=True).clamp_min(floor)
        return torch.cat([pool(S), pool((linear + own).log())], dim=1)

    return features


def relative_floor(first, fraction):
    """log(S + fraction x the recording's largest first-order coefficient):
    a floor that follows each recording's level."""

    def transform(S):
        linear = coefficients(S)
        top = linear[:, first].amax((1, 2), keepdim=True)
        return (linear + fraction * top).log()

    return transform


def two_floors(pool, *floors):
    """``pool`` at the floor 1e-6 and again at each of ``floors``, side by
    side: the classifier sees the quiet detail and views that noise below
    each floor does not reach."""

    def features(S):
        raised = [pool(with_eps(S, floor)) for floor in floors]
        return torch.cat([pool(S), *raised], dim=1)

    return features


def statistics_subset(pool, keep):
    """``pool`` with only the statistics numbered in ``keep`` (0 mean, 1
    standard deviation, 2 maximum, 3 and 4 the halves' means)."""

    def features(S):
        parts = pool(S).chunk(5, dim=1)
        return torch.cat([parts[i] for i in keep], dim=1)

    return features


def validation(cache=None, only=()):
    from runner import define

    started = time.perf_counter()
    r = run(until="Training on altered copies")
    define(r, "altered_copy")
    define(r, "two_floors")  # the example's final features
    p = Pipelines(r)
    y, first, pool = r["y_all"], p.first, r["pool"]
    takes = r["take"].astype(int)
    training = takes >= 5
    rows = np.flatnonzero((takes >= 5) & (takes < 20))
    fold = np.full(len(takes), -1)
    for k, (lo, hi) in enumerate(FOLDS):
        fold[(takes >= lo) & (takes < hi)] = k
    S = {
        "new": r["S_all"],
        "old": cached(
            cache, "old-all", lambda: p.scatter(r["recordings"], "old")
        ),
    }

    def copies_of(make, key):
        def compute():
            rng = np.random.default_rng(1)
            signals = [make(x, rng) for x in r["recordings"]]
            return p.scatter(signals, "new")

        return cached(cache, key, compute)

    copies = {
        "noise": copies_of(
            noise_only_copy(r["add_noise"], r["snr_range"], p.n_samples),
            "copies-noise",
        ),
        "altered": copies_of(r["altered_copy"], "copies-altered"),
        "clipped in half of them": copies_of(
            altered_copy_variant(
                r["add_noise"], p.n_samples, r["snr_range"], 0.5
            ),
            "copies-clip-half",
        ),
        "0-20 dB": copies_of(
            altered_copy_variant(r["add_noise"], p.n_samples, (0, 20), 1.0),
            "copies-low-snr",
        ),
        "scattering domain": scattering_domain_copies(
            r, S["new"], r["snr_range"]
        ),
    }
    all_conditions = conditions(r["add_noise"])
    altered = {}  # (condition, loader): features of rows
    for i, name in enumerate(VALIDATION_CONDITIONS):
        for loader in ("new", "old"):
            if name == "clean":
                altered[name, loader] = S[loader][rows]
            else:
                altered[name, loader] = cached(
                    cache,
                    f"validation-{loader}-{i}",
                    lambda name=name, loader=loader, i=i: p.altered(
                        rows, all_conditions[name], 1000 + i, loader
                    ),
                )
    print(f"scattering: {time.perf_counter() - started:.0f} s", flush=True)

    half = np.random.default_rng(1).random(len(takes)) < 0.5
    new = dict(loader="new", features=pool, copies=None, settings={})
    old = dict(new, features=lambda S: old_features(S, first))
    candidates = {
        "d3367c9: take centred, window halves, batch 32": dict(
            old, loader="old", settings={"batch_size": 32}
        ),
        "energy-centred window, window halves, batch 32": dict(
            old, settings={"batch_size": 32}
        ),
        "energy-centred window, word halves, batch 32": dict(
            new, settings={"batch_size": 32}
        ),
        "energy-centred window, word halves, batch 128": new,
        "clean training, log_eps 1e-3": dict(new, eps=1e-3),
        "+ noisy copies of every recording": dict(new, copies="noise"),
        "+ noisy copies of half the recordings": dict(
            new, copies="noise", half=True
        ),
        "+ noisy copies of every recording, log_eps 1e-3": dict(
            new, copies="noise", eps=1e-3
        ),
        "+ clipped noisy copies of every recording": dict(
            new, copies="altered"
        ),
        "+ clipped noisy copies of half": dict(
            new, copies="altered", half=True
        ),
        "+ clipped noisy copies, log_eps 1e-4": dict(
            new, copies="altered", eps=1e-4
        ),
        "+ clipped noisy copies, log_eps 1e-3": dict(
            new, copies="altered", eps=1e-3
        ),
        "+ clipped noisy copies, batch 32": dict(
            new, copies="altered", settings={"batch_size": 32}
        ),
    }
    # Measured against clipped noisy copies of half the recordings, within
    # the example's time budget unless the name says otherwise.
    example = dict(new, copies="altered", half=True)
    candidates |= {
        "copies of half, clipping in half of them only": dict(
            example, copies="clipped in half of them"
        ),
        "copies of half, at 0-20 dB": dict(example, copies="0-20 dB"),
        "copies of every recording, at 0-20 dB": dict(
            example, copies="0-20 dB", half=False
        ),
        "copies of half, noise floor subtracted (minimum over frames)": dict(
            example, transform=minimum_subtracted
        ),
        "copies of half, floor 1e-3 x the largest first-order coefficient": dict(
            example, transform=relative_floor(first, 1e-3)
        ),
        "copies of half without the maximum": dict(
            example, features=statistics_subset(pool, [0, 1, 3, 4])
        ),
        "copies of half without the standard deviation": dict(
            example, features=statistics_subset(pool, [0, 2, 3, 4])
        ),
        "copies of half without the halves": dict(
            example, features=statistics_subset(pool, [0, 1, 2])
        ),
        "copies of half, Adam weight decay 1e-3": dict(
            example, weight_decay=1e-3
        ),
        "copies of half, Adam weight decay 1e-2": dict(
            example, weight_decay=1e-2
        ),
        "copies of half + scattering-domain noisy copies of every recording": dict(
            example, scattering_domain=True
        ),
        "copies of half + its statistics at a second floor, 1e-4": dict(
            example, features=two_floors(pool, 1e-4)
        ),
    }
    # The example's final choice, and what was measured against it.
    final = dict(example, features=r["two_floors"])
    candidates |= {
        "copies of half + its statistics at a second floor, 1e-3 "
        "(the example's)": final,
        "the example's, second floor 1e-2": dict(
            example, features=two_floors(pool, 1e-2)
        ),
        "the example's + a third floor, 1e-2": dict(
            example, features=two_floors(pool, 1e-3, 1e-2)
        ),
        "the example's, copies at 0-20 dB": dict(final, copies="0-20 dB"),
        "the example's, copies of every recording": dict(final, half=False),
        "the example's, second floor at each coefficient's quietest frame": (
            dict(example, features=quietest_frame_floor(pool, 1e-3))
        ),
        "the example's + the noise floor subtracted, as a third view": dict(
            example,
            features=lambda S: torch.cat(
                [r["two_floors"](S), pool(minimum_subtracted(S))], 1
            ),
        ),
    }
    if only:
        candidates = {
            name: c
            for name, c in candidates.items()
            if any(part in name for part in only)
        }
    print("| candidate | " + " | ".join(VALIDATION_CONDITIONS) + " | mean |")
    print("|---|" + "---:|" * (len(VALIDATION_CONDITIONS) + 1))
    means = {}
    for name, c in candidates.items():
        eps = c.get("eps", 1e-6)
        transform = c.get("transform", lambda S, eps=eps: with_eps(S, eps))
        f = c["features"]
        base = f(transform(S[c["loader"]]))
        extra = None
        if c["copies"] is not None:
            extra = f(transform(copies[c["copies"]]))
        right = {k: [] for k in VALIDATION_CONDITIONS}
        for k in range(len(FOLDS)):
            train_rows = training & (fold != k)
            X, labels = base[train_rows], y[train_rows]
            if extra is not None:
                kept = train_rows & half if c.get("half") else train_rows
                X = torch.cat([X, extra[kept]])
                labels = torch.cat([labels, y[kept]])
            if c.get("scattering_domain"):
                synthetic = f(copies["scattering domain"])[train_rows]
                X = torch.cat([X, synthetic])
                labels = torch.cat([labels, y[train_rows]])
            held = torch.zeros(len(X), dtype=torch.bool)
            model = fit_with(
                r,
                c["settings"],
                X,
                labels,
                held,
                weight_decay=c.get("weight_decay", 0.0),
            ).model
            in_fold = torch.from_numpy(fold[rows] == k)
            for cond in VALIDATION_CONDITIONS:
                X_val = f(transform(altered[cond, c["loader"]]))[in_fold]
                scores = r["evaluate"](model, X_val, y[rows][in_fold])
                right[cond].append(scores.predicted == y[rows][in_fold])
        accs = [torch.cat(v).float().mean().item() for v in right.values()]
        means[name] = statistics.mean(accs)
        row = " | ".join(f"{a:.4f}" for a in accs)
        print(f"| {name} | {row} | {means[name]:.4f} |", flush=True)
    print(
        f"\nA candidate beats another when its mean gains at least {MARGIN}"
        f" of the 900 validation recordings ({MARGIN / 900:.4f})."
    )
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validation", action="store_true")
    parser.add_argument(
        "--only",
        nargs="+",
        default=(),
        help="with --validation: the candidates whose names hold one of these",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument(
        "--cache", type=Path, help="keep scattered recordings here"
    )
    args = parser.parse_args()
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    if args.validation:
        validation(args.cache, args.only)
    else:
        test_table(args.seeds, args.cache)
