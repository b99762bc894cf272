"""The pitch of FSDD's voices, against the width of the example's 2.4 kHz band.

The example says that its first-order band nearest 2.4 kHz holds two
neighbouring harmonics of a voice, whose beating its second order measures.
That holds when the band is wider than the voice's pitch. This prints both:
the band's centre and width at half height from kymatio's own filter bank
(``meta()``: a Gaussian of standard deviation ``sigma`` in frequency), and
each speaker's pitch, estimated by autocorrelation on the voiced frames of
all 500 of their recordings.

A frame (40 ms, every 10 ms) counts as voiced when it holds at least a tenth
of the recording's loudest frame's energy and its normalized autocorrelation
peaks above 0.6 at a lag between 1/400 s and 1/60 s; the pitch is the
inverse of that lag. Needs ``KYMATIO_DATASETS`` to hold FSDD; about a minute.

    python bench/pitch.py
"""

import argparse
import time

import numpy as np

from runner import CLASSIFY, run

FRAME, HOP = 320, 80  # samples at 8 kHz: 40 ms, 10 ms
LOW, HIGH = 60, 400  # Hz, the pitch range searched


def pitches(x, rate):
    """The pitch (Hz) of each voiced frame of ``x``."""
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME)[::HOP]
    frames = frames - frames.mean(1, keepdims=True)
    energy = (frames**2).sum(1)
    found = []
    for frame, e in zip(frames, energy, strict=True):
        if e < 0.1 * energy.max() or e == 0:
            continue
        ac = np.correlate(frame, frame, "full")[FRAME - 1 :] / e
        lags = np.arange(rate // HIGH, rate // LOW + 1)
        best = lags[ac[lags].argmax()]
        if ac[best] > 0.6:
            found.append(rate / best)
    return found


def main():
    started = time.perf_counter()
    result = run(CLASSIFY, until="Below a kilohertz or so")
    rate = result["sampling_rate"]
    hz, first = result["hz"], result["first"]
    meta = result["scattering"].meta()
    sigma = meta["sigma"][meta["order"] > 0, 0] * rate
    band = np.abs(hz[first, 0] - 2400).argmin()
    width = 2 * np.sqrt(2 * np.log(2)) * sigma[first][band]
    print(
        f"band: centre {hz[first, 0][band]:.0f} Hz, "
        f"width at half height {width:.0f} Hz"
    )
    print(
        "| speaker | voiced frames | 10th pct (Hz) | median (Hz) | 90th pct (Hz) |"
    )
    print("|---|---:|---:|---:|---:|")
    everyone = []
    for speaker in np.unique(result["speaker"]):
        rows = np.flatnonzero(result["speaker"] == speaker)
        f0 = np.concatenate(
            [pitches(result["recordings"][i], rate) for i in rows]
        )
        everyone.append(f0)
        p10, p50, p90 = np.percentile(f0, [10, 50, 90])
        print(f"| {speaker} | {len(f0)} | {p10:.0f} | {p50:.0f} | {p90:.0f} |")
    p10, p50, p90 = np.percentile(np.concatenate(everyone), [10, 50, 90])
    print(
        f"pitch_all_speakers p10={p10:.0f} median={p50:.0f} p90={p90:.0f} Hz"
    )
    print(f"harmonics_in_band={width / p90:.1f} to {width / p10:.1f}")
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    main()
