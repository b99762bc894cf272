"""Score both examples' classifiers on a folder of recordings of your own.

Every ``{digit}_{speaker}_{take}.wav`` in FOLDER is read as the examples
read a recording (any sample rate, mono or stereo); each speaker's
recordings are one voice. Both classifiers are trained as the pages train
them, on FSDD's training takes, by running the examples themselves:

- the classification example's, as it is (FSDD's statistics), and with the
  voice's own statistics in place of FSDD's;
- the "Your own recording" example's, adapted to the voice with all its
  recordings in the folder: its own statistics, then its statistics and the
  warp toward FSDD's voices, as ``adapt`` chooses (the page's
  classifier).

Prints the accuracy on each speaker, the mean over speakers, and the three
digits most often heard as another by the page's classifier. Needs
``KYMATIO_DATASETS`` to hold FSDD; about 3 minutes on a 2-core CPU.

    python bench/voices.py FOLDER
"""

import argparse
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from runner import CLASSIFY, OWN, run

NAME = re.compile(r"(\d)_([^_]+)_(\d+)\.wav")
COLUMNS = (
    "classification example",
    "classification example, own statistics",
    "own-recording example, own statistics",
    "own-recording example, own statistics and warp",
)


def recordings_in(folder):
    """{speaker: (paths, digits)} of the recordings in ``folder``."""
    found = {}
    for path in (
        sorted(Path(folder).iterdir()) if Path(folder).is_dir() else []
    ):
        if match := NAME.fullmatch(path.name):
            paths, digits = found.setdefault(match[2], ([], []))
            paths.append(path)
            digits.append(int(match[1]))
    if not found:
        raise SystemExit(
            f"{folder} holds no recording named {{digit}}_{{speaker}}_"
            "{take}.wav: name yours like 7_me_0.wav (a seven, speaker me, "
            "take 0) and put them in one folder."
        )
    return found


def scores(folder, classification=None, own=None):
    """{speaker: {column: accuracy}}, the number of recordings and the warp
    factor of each speaker, and the page's predictions, pooled. The runs of
    the examples are made here unless given."""
    voices = recordings_in(folder)
    classification = classification or run(CLASSIFY, until="What the second")
    own = own or run(OWN)
    plain, model = classification["model"], own["model"]
    found, pooled = {}, ([], [])
    for speaker, (paths, digits) in voices.items():
        signals = [own["read"](p) for p in paths]
        y = torch.tensor(digits)
        warped = own["warped_features"](signals, own["scattering"])
        X = warped[1.0]
        standardize, adapt = own["standardize"], own["adapt"]
        on = next(plain.parameters()).device
        both = adapt(model, warped)
        with torch.no_grad():
            predicted = {
                COLUMNS[0]: plain(X.to(on)).argmax(1).cpu(),
                COLUMNS[1]: plain.linear(standardize(X).to(on))
                .argmax(1)
                .cpu(),
                COLUMNS[2]: model(standardize(X)).argmax(1),
                COLUMNS[3]: model(
                    standardize(warped[both["factor"]], both)
                ).argmax(1),
            }
        found[speaker] = {
            "recordings": len(paths),
            "factor": both["factor"],
            **{
                c: (p == y).float().mean().item() for c, p in predicted.items()
            },
        }
        pooled[0].append(y)
        pooled[1].append(predicted[COLUMNS[3]])
    return found, torch.cat(pooled[0]), torch.cat(pooled[1])


def main(folder):
    started = time.perf_counter()
    found, y, predicted = scores(folder)
    short = ("plain", "plain, own stats", "own stats", "own stats + warp")
    print(f"Accuracy on the recordings in {folder}, per speaker:")
    print("| speaker | recordings | warp | " + " | ".join(short) + " |")
    print("|---|---:|---:|" + "---:|" * len(short))
    for speaker, row in found.items():
        cells = " | ".join(f"{row[c]:.3f}" for c in COLUMNS)
        print(
            f"| {speaker} | {row['recordings']} | {row['factor']:g} | "
            f"{cells} |"
        )
    means = [np.mean([row[c] for row in found.values()]) for c in COLUMNS]
    print(
        f"| mean over {len(found)} speakers | | | "
        + " | ".join(f"{m:.3f}" for m in means)
        + " |"
    )
    print()
    for column, mean in zip(COLUMNS, means, strict=True):
        print(f"{column}: mean over speakers = {mean:.3f}")
    wrong = Counter(
        (true, heard)
        for true, heard in zip(y.tolist(), predicted.tolist(), strict=True)
        if true != heard
    )
    print("The page's classifier's largest confusions, all speakers:")
    for (true, heard), count in wrong.most_common(3):
        print(f"  {true} heard as {heard}: {count} recordings")
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "folder", help="recordings {digit}_{speaker}_{take}.wav"
    )
    main(parser.parse_args().folder)
