"""How the "Your own recording" example's classifier was chosen, on voices
that no classifier trained on.

Validation data only; FSDD's test takes (0-4) take no part:

- FSDD's voices never heard: each speaker in turn is held out; the
  classifier trains on the other five speakers' training takes (5-49), and
  the held-out speaker's training takes are scored in nine sessions of 50
  recordings (takes 5-9, 10-14, ...), five of each digit, each session
  adapted with its own recordings as a reader's would be;
- outside voices: recordings ``{digit}_{speaker}_{take}.wav`` of people
  outside FSDD (``--outside FOLDER``, or ``$OUTSIDE_VOICES``), each speaker
  one session; the classifier trains on all six voices' training takes.

Each row prints the mean accuracy over FSDD's six held-out voices and over
the outside voices (the men's, the women's and the lowest voice beside).
The margin rule: a remedy is adopted if it lowers neither mean and raises
one of them by at least ``MARGIN``; a summary or a set of warp factors, the
simplest within ``MARGIN`` of the best mean of the two.

1. Remedies, one change a row, on the example's summary.
2. The summary over time of each coefficient, with the adopted remedies.
3. The warp factors that ``adapt`` tries.
4. How many recordings of a voice ``adapt`` needs, and which: its
   statistics and factor from a few of the session's recordings, drawn at
   random by digit (five draws), the accuracy over the whole session.
5. Training settings: the example's against the one that gains the most
   on voices the classifier knows (``bench/selection.py``).

Runs the example itself through the runner, so its functions are those the
page shows. Needs ``KYMATIO_DATASETS``; about 10 minutes on a 2-core CPU.

    python bench/adaptation.py --outside FOLDER
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from robustness import add_noise
from runner import OWN, run

MARGIN = 0.01  # of the mean accuracy: what a change must gain
WOMEN = ("agrima", "agrimk")  # the outside voices that are women's
FACTORS = (1.0, 0.9, 0.8, 1.1, 0.7)  # every warp factor any row needs
SESSIONS = [(t, t + 5) for t in range(5, 50, 5)]  # held-out takes [lo, hi)


def parts(S, n):
    return [p.mean(-1) for p in S.chunk(n, dim=-1)]


SUMMARIES = {  # numbers per coefficient: summary of S (n, coefficients, t)
    "mean, standard deviation": lambda S: torch.cat(
        [*parts(S, 1), S.std(-1)], 1
    ),
    "means over halves, standard deviation": lambda S: torch.cat(
        [*parts(S, 2), S.std(-1)], 1
    ),
    "means over quarters": lambda S: torch.cat(parts(S, 4), 1),
    "means over quarters, standard deviation": lambda S: torch.cat(
        [*parts(S, 4), S.std(-1)], 1
    ),
    "means over eighths": lambda S: torch.cat(parts(S, 8), 1),
    "means over eighths, standard deviation": lambda S: torch.cat(
        [*parts(S, 8), S.std(-1)], 1
    ),
    "means over sixteenths": lambda S: torch.cat(parts(S, 16), 1),
}
GRIDS = {  # simplest first
    "1": (1.0,),
    "1, 0.9": (1.0, 0.9),
    "1, 0.9, 0.8": (1.0, 0.9, 0.8),
    "1, 0.9, 0.8, 0.7": (1.0, 0.9, 0.8, 0.7),
    "1.1, 1, 0.9, 0.8": (1.1, 1.0, 0.9, 0.8),
}


def room_tone_copy(x, rng):
    """The word at a random place in a second of room tone 20-45 dB below
    it, of a random colour: a laptop's untrimmed recording."""
    start = rng.integers(max(1, 8000 - len(x)))
    clip = np.pad(x, (start, max(0, 8000 - len(x) - start)))
    return add_noise(clip, rng.uniform(20, 45), rng, rng.uniform(0, 2))


def altered_copy(x, rng):
    """The earlier noise example's copy: clipped, padded, in noise 5-30 dB
    below the word, of a random colour."""
    top = rng.uniform(0.1, 1) * np.abs(x).max()
    snr, exponent = rng.uniform(5, 30), rng.uniform(0, 2)
    pad = rng.integers(2**13 // 2)
    return add_noise(np.clip(x, -top, top), snr, rng, exponent, pad)


def outside_recordings(folder, r):
    """The outside voices' signals, digits and speakers, read as the
    example reads a recording."""
    paths = sorted(
        p for p in Path(folder).glob("*.wav") if r["pattern"].fullmatch(p.name)
    )
    if not paths:
        raise SystemExit(
            f"{folder} holds no {{digit}}_{{speaker}}_{{take}}.wav"
        )
    fields = np.array([p.stem.split("_") for p in paths])
    return (
        [r["read"](p) for p in paths],
        torch.tensor(fields[:, 0].astype(int)),
        fields[:, 1],
    )


class Data:
    """Log-scattering of the validation recordings at every warp factor,
    and of the training copies; computed once."""

    def __init__(self, r, outside):
        self.r = r
        log_s = lambda xs: r["log_scattering"](  # noqa: E731
            torch.stack([r["window"](x) for x in xs]),
            r["scattering"],
        )
        takes = r["take"].astype(int)
        self.rows = np.flatnonzero(takes >= 5)  # FSDD's training takes
        fsdd = [r["recordings"][i] for i in self.rows]
        self.y, self.speaker = r["y_all"][self.rows], r["speaker"][self.rows]
        self.take = takes[self.rows]
        self.S = {
            f: r["S_all"][self.rows]
            if f == 1.0
            else log_s([r["warp"](x, f) for x in fsdd])
            for f in FACTORS
        }
        rng = np.random.default_rng(0)
        self.copies = {
            "room tone": log_s([room_tone_copy(x, rng) for x in fsdd]),
            "altered": log_s([altered_copy(x, rng) for x in fsdd]),
        }
        signals, self.out_y, self.out_speaker = outside
        self.out_S = {
            f: log_s([r["warp"](x, f) for x in signals]) for f in FACTORS
        }


def subset(per_digit, digits=range(10)):
    """Draws ``per_digit`` recordings of each of ``digits`` from a session."""

    def draw(y, rng):
        chosen = torch.zeros(len(y), dtype=torch.bool)
        for d in digits:
            rows = np.flatnonzero(y.numpy() == d)
            chosen[
                rng.choice(rows, min(per_digit, len(rows)), replace=False)
            ] = True
        return chosen

    return draw


SUBSETS = {
    "10, one of each digit": subset(1),
    "20, two of each digit": subset(2),
    "10, two of each of five digits": subset(2, range(5)),
}


@torch.no_grad()
def predictions(model, X):
    return model(X).argmax(1)


def score(
    data,
    summary=None,
    own=True,
    factors=(1.0,),
    copies=(),
    floor=0,
    reference=None,
    draws=1,
    **settings,
):
    """Accuracy on each validation voice: {voice: accuracy}, FSDD's six
    then the outside voices."""
    r, fit = data.r, data.r["fit"]
    summary = summary or r["summarize"]
    if floor:  # the earlier noise example's second floor beside log_eps
        base = summary

        def summary(S):
            raised = S.exp().add_(floor - 1e-6).log_()
            return torch.cat([base(S), base(raised)], 1)

    needed = (
        set(factors) | {1.0} | ({0.9, 1.1} if "warped" in copies else set())
    )
    X = {f: summary(data.S[f]) for f in needed}
    copied = [summary(data.copies[c]) for c in copies if c != "warped"]
    copied += [X[f] for f in (0.9, 1.1) if "warped" in copies]
    out = {f: summary(data.out_S[f]) for f in needed}
    prepare = r["by_voice"] if own else (lambda Z, s: Z)
    found = {}
    for held in [*np.unique(data.speaker), None]:
        rows = data.speaker != held
        Z = torch.cat(
            [prepare(c[rows], data.speaker[rows]) for c in [X[1.0], *copied]]
        )
        labels = data.y[rows].repeat(1 + len(copied))
        model = fit(Z, labels, **settings)
        if held is None:
            sessions = [
                (s, data.out_speaker == s, out, data.out_y)
                for s in np.unique(data.out_speaker)
            ]
        else:
            sessions = [
                (
                    held,
                    (data.speaker == held)
                    & (data.take >= lo)
                    & (data.take < hi),
                    X,
                    data.y,
                )
                for lo, hi in SESSIONS
            ]
        rng = np.random.default_rng(0)
        for voice, rows_, features, y in sessions:
            warped = {f: features[f][rows_] for f in factors}
            for _ in range(draws):
                if not own:
                    predicted = predictions(model, warped[1.0])
                else:
                    chosen = reference(y[rows_], rng) if reference else ...
                    voice_ = r["adapt"](
                        model, {f: X[chosen] for f, X in warped.items()}
                    )
                    adapted = r["standardize"](
                        warped[voice_["factor"]], voice_
                    )
                    predicted = predictions(model, adapted)
                found.setdefault(voice, []).append(predicted == y[rows_])
    return {v: torch.cat(p).float().mean().item() for v, p in found.items()}


def means(accuracy, fsdd_voices):
    fsdd = [accuracy[v] for v in fsdd_voices]
    out = {v: a for v, a in accuracy.items() if v not in fsdd_voices}
    men = [a for v, a in out.items() if v not in WOMEN]
    women = [a for v, a in out.items() if v in WOMEN]
    return {
        "FSDD": np.mean(fsdd),
        "FSDD lowest": min(fsdd),
        "outside": np.mean(list(out.values())),
        "men": np.mean(men) if men else np.nan,
        "women": np.mean(women) if women else np.nan,
        "outside lowest": min(out.values()),
    }


def table(rows, fsdd_voices):
    print(
        "| candidate | FSDD voices | lowest | outside voices | men | women "
        "| lowest |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    found = {}
    for name, accuracy in rows.items():
        m = found[name] = means(accuracy, fsdd_voices)
        print(
            f"| {name} | {m['FSDD']:.3f} | {m['FSDD lowest']:.2f} | "
            f"{m['outside']:.3f} | {m['men']:.3f} | {m['women']:.3f} | "
            f"{m['outside lowest']:.2f} |",
            flush=True,
        )
    return found


def passes(found, name, base):
    """Whether ``name`` passes the margin rule against ``base``."""
    gain = [found[name][k] - found[base][k] for k in ("FSDD", "outside")]
    print(f"{name}: {gain[0]:+.3f} and {gain[1]:+.3f} against {base}")
    return min(gain) >= 0 and max(gain) >= MARGIN


def simplest_within_margin(found):
    both = {n: (m["FSDD"] + m["outside"]) / 2 for n, m in found.items()}
    best = max(both.values())
    return next(n for n in found if both[n] >= best - MARGIN)


def main(outside_folder):
    started = time.perf_counter()
    r = run(OWN)
    data = Data(r, outside_recordings(outside_folder, r))
    fsdd_voices = list(np.unique(data.speaker))
    page = (1.0, 0.9, 0.8)  # the factors the example tries

    print("Stage 1: remedies, one change a row, the example's summary")
    ladder = {
        "plain (the classification example's classifier)": dict(own=False),
        "+ the voice's own statistics": dict(),
        "+ warp (the example)": dict(factors=page),
    }
    rows = {name: score(data, **kw) for name, kw in ladder.items()}
    extra = {
        "the example + room-tone copies": dict(
            factors=page, copies=("room tone",)
        ),
        "the example + altered copies and a second floor": dict(
            factors=page, copies=("altered",), floor=1e-3
        ),
        "the example + copies warped by 0.9 and 1.1": dict(
            factors=page, copies=("warped",)
        ),
    }
    rows |= {name: score(data, **kw) for name, kw in extra.items()}
    found = table(rows, fsdd_voices)

    adopted, *steps = ladder  # each step against the last adopted
    for name in steps:
        adopted = name if passes(found, name, adopted) else adopted
    for name in extra:  # each against the example
        adopted = name if passes(found, name, adopted) else adopted
    print(f"adopted={adopted!r}\n")

    print("Stage 2: the summary, with the voice's own statistics and warp")
    rows = {
        name: score(data, summary=fn, factors=page)
        for name, fn in SUMMARIES.items()
    }
    found = table(rows, fsdd_voices)
    chosen = simplest_within_margin(found)
    S = r["S_all"][:5]
    same = torch.allclose(r["summarize"](S), SUMMARIES[chosen](S))
    print(f"adopted={chosen!r} example_summary_is_adopted={same}\n")

    print("Stage 3: the warp factors that adapt tries")
    rows = {name: score(data, factors=f) for name, f in GRIDS.items()}
    found = table(rows, fsdd_voices)
    print(f"adopted={simplest_within_margin(found)!r}\n")

    print("Stage 4: the voice's statistics and factor from fewer recordings")
    rows = {
        name: score(data, factors=page, reference=draw, draws=5)
        for name, draw in SUBSETS.items()
    }
    rows["all of the session (the example)"] = score(data, factors=page)
    table(rows, fsdd_voices)

    print("\nStage 5: training settings, with both remedies")
    rows = {
        "the example's own (learning rate 0.001, 50 epochs)": rows[
            "all of the session (the example)"
        ],
        "learning rate 0.0003, 30 epochs": score(
            data, factors=page, lr=3e-4, epochs=30
        ),
    }
    found = table(rows, fsdd_voices)
    adopted, other = found
    if passes(found, other, adopted):
        adopted = other
    print(f"adopted={adopted!r}")
    print(f"threads={torch.get_num_threads()}")
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--outside",
        default=os.environ.get("OUTSIDE_VOICES"),
        metavar="FOLDER",
        help="recordings of people outside FSDD ($OUTSIDE_VOICES)",
    )
    args = parser.parse_args()
    if not args.outside:
        parser.error("name the outside voices' folder with --outside")
    main(args.outside)
