"""Accuracy on FSDD's test takes altered as users' recordings differ.

A user's recording differs from FSDD's test takes: a room's noise, room
tone or silence around the word, clipping, hum, another level, a higher
voice. Each condition alters the samples of a recording as ``read`` returns
them, before anything else of the example's sees them. Training is
untouched; the 300 test takes (0-4) are altered, and two classifiers of
``plot_own_recording.py`` are scored:

- the classification example's, trained on the training takes;
- the page's, adapted to each speaker with that speaker's 50 altered test
  takes (its own statistics and the warp ``adapt`` chooses).

Noise is drawn with each of ``--seeds``; a cell is their mean, and the
spread (max - min over seeds, in test takes) follows the table. Last:
``worst_condition=...``. Needs ``KYMATIO_DATASETS`` to hold FSDD; about 10
minutes on a 2-core CPU.

    python bench/robustness.py
"""

import argparse
import statistics
import time

import numpy as np
import torch

from runner import OWN, run

SECOND = 8000  # samples


def add_noise(x, snr, rng, exponent=0.0, pad=0):
    """``x`` padded by ``pad`` samples each side, in Gaussian noise ``snr``
    dB below its mean power, of power 1/f**exponent: white for 0, pink for
    1, brown for 2."""
    white = rng.standard_normal(len(x) + 2 * pad)
    f = np.fft.rfftfreq(len(white))
    tilt = np.maximum(f, f[1]) ** (-exponent / 2)
    noise = np.fft.irfft(np.fft.rfft(white) * tilt, len(white))
    gain = np.sqrt(np.mean(x**2) / np.mean(noise**2) / 10 ** (snr / 10))
    return np.pad(x, pad) + gain * noise


def clip(x, fraction):
    top = fraction * np.abs(x).max()
    return np.clip(x, -top, top)


def hum(x, snr, hz=50.0):
    tone = np.sin(2 * np.pi * hz * np.arange(len(x)) / SECOND)
    return x + tone * np.sqrt(2 * np.mean(x**2) / 10 ** (snr / 10))


def conditions(r):
    """Name: alteration of samples, given a NumPy generator. The noise
    covers the take alone, as on a file trimmed to the word, unless said."""

    def noise(snr, exponent, pad=0):
        return lambda x, rng: add_noise(x, snr, rng, exponent, pad)

    def plain(alter):
        return lambda x, rng: alter(x)

    return {
        "clean": plain(lambda x: x),
        "white noise, 30 dB": noise(30, 0),
        "white noise, 20 dB": noise(20, 0),
        "white noise, 10 dB": noise(10, 0),
        "pink noise, 20 dB": noise(20, 1),
        "pink noise, 10 dB": noise(10, 1),
        "brown noise, 20 dB": noise(20, 2),
        "white noise, 20 dB, 0.5 s of it each side": noise(20, 0, SECOND // 2),
        "in a laptop's second, room tone 30 dB below": r["in_a_second"],
        "0.5 s of silence before": plain(
            lambda x: np.pad(x, (SECOND // 2, 0))
        ),
        "0.5 s of silence after": plain(lambda x: np.pad(x, (0, SECOND // 2))),
        "clipped at 50 % of the peak": plain(lambda x: clip(x, 0.5)),
        "clipped at 10 % of the peak": plain(lambda x: clip(x, 0.1)),
        "50 Hz hum, 20 dB below": plain(lambda x: hum(x, 20)),
        "quieter: 40 dB down": plain(lambda x: x / 100),
        "raised by 10 %": plain(lambda x: r["warp"](x, 1.1)),
        "raised by 20 %": plain(lambda x: r["warp"](x, 1.2)),
        "lowered by 10 %": plain(lambda x: r["warp"](x, 0.9)),
    }


def score(r, alter, seed):
    """Accuracy of both classifiers on the 300 test takes altered."""
    rng = np.random.default_rng(seed)
    y, speaker, train = r["y"].cpu(), r["speaker"], r["train"]
    plain = r["fit"](r["features"][train], r["y"][train], seed=r["seed"])
    right = {"classification example": [], "own-recording example": []}
    for voice in np.unique(speaker):
        rows = np.flatnonzero(~train & (speaker == voice))
        signals = [alter(r["recordings"][i], rng) for i in rows]
        warped = r["warped_features"](signals, r["scattering"])
        X = warped[1.0].to(next(plain.parameters()).device)
        found = r["adapt"](r["model"], warped)
        adapted = r["standardize"](warped[found["factor"]], found)
        with torch.no_grad():
            predicted = plain(X).argmax(1).cpu()
            right["classification example"].append(predicted == y[rows])
            predicted = r["model"](adapted).argmax(1)
            right["own-recording example"].append(predicted == y[rows])
    return {
        name: float(np.concatenate([p.numpy() for p in found_]).mean())
        for name, found_ in right.items()
    }


def main(seeds):
    started = time.perf_counter()
    r = run(OWN)
    names = ("classification example", "own-recording example")
    print("| condition | " + " | ".join(names) + " |")
    print("|---|---:|---:|")
    table, spread = {}, {name: 0 for name in names}
    for condition, alter in conditions(r).items():
        found = [score(r, alter, seed) for seed in seeds]
        table[condition] = {
            n: statistics.mean(f[n] for f in found) for n in names
        }
        for n in names:
            takes = [round(300 * f[n]) for f in found]
            spread[n] = max(spread[n], max(takes) - min(takes))
        cells = " | ".join(f"{table[condition][n]:.3f}" for n in names)
        print(f"| {condition} | {cells} |", flush=True)
    print(
        "spread over noise seeds, in test takes: "
        + ", ".join(f"{n} {s}" for n, s in spread.items())
    )
    worst = min(table, key=lambda c: table[c]["own-recording example"])
    accuracy = table[worst]["own-recording example"]
    print(f"worst_condition={worst!r} accuracy={accuracy:.3f}")
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    main(parser.parse_args().seeds)
