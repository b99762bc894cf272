"""
.. _spoken_digits_own_recording:

Your own recording
==================

FSDD's recordings are six men's voices, close to the microphone and trimmed
to the word; yours may be a woman's voice, recorded on a laptop with room
tone around the word. We measure what a voice never heard costs the
classifier of :ref:`spoken_digits_classification`, adapt it to a voice from
a few of its recordings, without their labels, and classify a recording of
your own.
"""

# %%
# Preliminaries
# -------------
# The cells that read, scatter and classify repeat those of the
# classification example, so that this page runs on its own.
import re
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import soundfile
import torch
import torch.nn.functional as F
from IPython.display import Audio
from kymatio.datasets import fetch_fsdd, find_datasets_base_dir
from kymatio.torch import Scattering1D
from scipy.signal import resample_poly

sampling_rate = 8000  # Hz, the rate of every FSDD recording
n_samples = 2**13  # samples in the window around each word, about 1 s
J, Q = 8, 12  # frames every 2**J samples; first-order wavelets per octave
seed = 0  # sets the initial weights, the order of the batches, the noise
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print(f"Using {device} device")

# %%
# Loading the data
# ----------------
# :func:`~kymatio.datasets.fetch_fsdd` clones FSDD (27 MB) on first use into
# ``$KYMATIO_DATASETS/fsdd``, by default ``~/kymatio_datasets/fsdd``.
folder = f"{find_datasets_base_dir()}/fsdd"
fix = f"Delete {folder} to clone it anew, or set KYMATIO_DATASETS to a copy."
try:
    fsdd = fetch_fsdd()
except (OSError, RuntimeError) as err:  # offline, or a half-finished clone
    raise RuntimeError(f"Cannot load FSDD: {err}. {fix}") from err


# %%
# ``read`` gives a recording as one signal at ``rate`` hertz, its channels
# mixed, and stops the run, naming the file, where it holds no samples or NaN;
# a file cut short is read as far as it goes. ``window`` scales a signal to
# peak 1 and cuts or pads it to ``n_samples`` around the middle of its energy,
# wherever the word lies; it misses the word if something louder shares the
# recording.
def read(path, rate=sampling_rate):
    try:
        x, file_rate = soundfile.read(path, always_2d=True)
    except soundfile.LibsndfileError as err:  # its message names the file
        raise ValueError(f"{err} Replace the file.") from err
    if not (x.size and np.isfinite(x).all()):
        raise ValueError(f"{path} holds no sound, or NaN: replace it.")
    return resample_poly(x.mean(1), rate, file_rate)


def window(x, n_samples=n_samples):
    x = x / (np.abs(x).max() or 1)  # silence stays zero
    middle = np.searchsorted(np.cumsum(x**2), np.sum(x**2) / 2)
    start = middle + n_samples // 2  # in x padded by n_samples on each side
    return torch.from_numpy(np.pad(x, n_samples)[start:][:n_samples]).float()


# %%
# File names read ``{digit}_{speaker}_{take}.wav``; other files are skipped
# with a line that names them. FSDD's official split tests on takes 0-4 of
# each speaker and digit, and trains on takes 5-49.
pattern = re.compile(r"\d_[^_]+_\d+\.wav")
names = sorted(filter(pattern.fullmatch, fsdd["files"]))
for other in sorted(set(fsdd["files"]) - set(names)):
    print(f"Skipped {other}: not named {{digit}}_{{speaker}}_{{take}}.wav")
if missing := sorted(set("0123456789") - {name[0] for name in names}):
    raise RuntimeError(f"{folder} lacks digits {', '.join(missing)}. {fix}")
digit, speaker, take = np.array([name[:-4].split("_") for name in names]).T
y_all = torch.tensor(digit.astype(int))
in_test = torch.tensor(take.astype(int) < 5)
recordings = [read(f"{fsdd['path_dataset']}/{name}") for name in names]
x_all = torch.stack([window(x) for x in recordings])

# %%
# Log-scattering transform
# ------------------------
# Orders 1 and 2 of the scattering transform, a spectrogram on a
# log-frequency axis and how fast each of its bands fluctuates, and their
# log; the classification example shows them.
scattering = Scattering1D(J=J, shape=n_samples, Q=Q).to(device)


def log_scattering(x, scattering, batch_size=64, eps=1e-6):
    """Orders 1 and 2 of the log-scattering of signals ``x``, in batches
    (all at once would take several GB)."""
    on = next(scattering.buffers()).device
    keep = scattering.meta()["order"] > 0
    with torch.no_grad():
        S = [scattering(b.to(on)).cpu() for b in x.split(batch_size)]
    return torch.cat(S)[:, keep].abs_().add_(eps).log_()  # abs: round-off


S_all = log_scattering(x_all, scattering)
print(f"Recordings, coefficients, frames: {list(S_all.shape)}")


# %%
# The classifier
# --------------
# ``summarize`` keeps each coefficient's means over eight parts of the window
# and its standard deviation; ``DigitClassifier`` is a logistic regression
# that standardizes its features, ``fit`` trains it with Adam and
# ``evaluate`` tests it.
def summarize(S, parts=8):
    means = [part.mean(-1) for part in S.chunk(parts, dim=-1)]
    return torch.cat([*means, S.std(-1)], dim=1)


class DigitClassifier(torch.nn.Module):
    def __init__(self, mean, std, n_classes=10):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.linear = torch.nn.Linear(len(mean), n_classes)

    def forward(self, X):
        return self.linear((X - self.mean) / self.std)


def fit(X, y, seed=0, lr=1e-3, epochs=50, batch_size=128):
    torch.manual_seed(seed)  # the initial weights
    model = DigitClassifier(X.mean(0), X.std(0).clamp_min(1e-8)).to(X.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    shuffle = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=shuffle).to(X.device)
        for batch in order.split(batch_size):
            optimizer.zero_grad()
            F.cross_entropy(model(X[batch]), y[batch]).backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def evaluate(model, X, y):
    """The average loss, the accuracy and the digit predicted for each."""
    logits = model(X)
    accuracy = (logits.argmax(1) == y).float().mean().item()
    return F.cross_entropy(logits, y).item(), accuracy, logits.argmax(1)


# %%
# What differs in your recording
# ------------------------------
# ``warp`` resamples a recording so that, played at the same rate, it lasts
# 1 / ``factor`` as long and every frequency is multiplied by ``factor``.
# Raised by 20 %, a man's take stands in for a higher voice, such as a
# woman's, which FSDD lacks: her shorter vocal tract raises her formants by
# about that much, though her pitch is nearly an octave higher.
# ``in_a_second`` puts a take at a random moment of a second of quiet noise,
# as a laptop records a word in a one-second clip, room tone and all.
def warp(x, factor):
    return resample_poly(x, 10, round(10 * factor))


def in_a_second(x, rng, snr=30, length=sampling_rate):
    start = rng.integers(max(1, length - len(x)))
    x = np.pad(x, (start, max(0, length - len(x) - start)))
    return x + rng.normal(0, np.sqrt(np.mean(x**2) / 10 ** (snr / 10)), len(x))


rng = np.random.default_rng(seed)
versions = {
    "as recorded": lambda x: x,
    "raised by 20 %": lambda x: warp(x, 1.2),
    "in a laptop's second": lambda x: in_a_second(x, rng),
}
first_take = {v: make(recordings[0]) for v, make in versions.items()}
S = log_scattering(
    torch.stack([window(x) for x in first_take.values()]), scattering
)
order = scattering.meta()["order"]
hz = scattering.meta()["xi"][order == 1, 0] * sampling_rate  # order 1
times = np.arange(S.shape[-1]) * 2**J / sampling_rate  # frames (s)
fig, axes = plt.subplots(
    1, 3, figsize=(11, 3.6), sharey=True, layout="constrained"
)
for ax, title, S_version in zip(axes, versions, S, strict=True):
    ax.pcolormesh(
        times, hz, S_version[: len(hz)], vmin=-14, vmax=S.max().item()
    )
    ax.set(title=title, xlabel="time (s)", yscale="log")
axes[0].set_ylabel("frequency (Hz)")
fig.colorbar(axes[0].collections[0], ax=axes, label="order 1, log(S + 1e-6)")
fig.suptitle(names[0])
plt.show()
Audio(first_take["in a laptop's second"], rate=sampling_rate)


# %%
# On the log-frequency axis the higher voice is the same picture moved up, and
# a sixth shorter; room tone lifts the quiet coefficients around the word above
# the floor that zero-padding leaves in FSDD's takes.
#
# A voice never heard
# -------------------
# Each speaker in turn stands in for you: a classifier trains on the other
# five voices' training takes and is tested on the held-out voice's 50 test
# takes, five of each digit, in each version. ``warped_features`` gives
# their features at a few warp factors, for a remedy below.
def warped_features(recordings, scattering, factors=(1.0, 0.9, 0.8)):
    found = {}
    for factor in factors:
        x = torch.stack([window(warp(r, factor)) for r in recordings])
        found[factor] = summarize(log_scattering(x, scattering))
    return found


features, y, train = summarize(S_all), y_all, take.astype(int) >= 5
voices = np.unique(speaker)
mine = {v: ~train & (speaker == v) for v in voices}  # each one's test takes
held_out = {}  # {voice: {version: {factor: features}}}
for voice in voices:
    takes = [recordings[i] for i in np.flatnonzero(mine[voice])]
    held_out[voice] = {
        kind: warped_features([make(x) for x in takes], scattering)
        for kind, make in versions.items()
    }


# %%
# The voice's own statistics
# --------------------------
# A voice, a microphone and a room shift and scale every feature in their
# own way. As speech recognizers do, we standardize each voice with the mean
# and deviation of its own recordings: each training voice with its own, and
# a new voice with those of some of its recordings, whose digits need not be
# known.
def statistics(X):
    """The mean and deviation of each feature over a voice's recordings."""
    return {"mean": X.mean(0), "std": X.std(0).clamp_min(1e-8)}


def standardize(X, voice=None):
    """``X`` standardized with a voice's statistics, by default its own."""
    voice = statistics(X) if voice is None else voice
    return (X - voice["mean"]) / voice["std"]


def by_voice(X, speaker):
    """Each voice's features standardized with that voice's statistics."""
    Z = torch.empty_like(X)
    for voice in np.unique(speaker):
        Z[speaker == voice] = standardize(X[speaker == voice])
    return Z


# %%
# Warping the voice toward FSDD's
# -------------------------------
# A higher voice comes from a shorter vocal tract: its harmonics and
# formants sit higher than those of FSDD's men. ``adapt`` standardizes a
# voice's features at each warp factor with their own statistics and keeps
# the factor on which the classifier is most confident on average, with the
# statistics there; it needs no labels either. The factors lower a voice
# only: raising one gained nothing on the voices we tried.
@torch.no_grad()
def adapt(model, warped):
    """A voice's factor and statistics; ``warped``: {factor: features}."""
    confidence = {
        factor: model(standardize(X)).softmax(1).amax(1).mean()
        for factor, X in warped.items()
    }
    factor = max(confidence, key=confidence.get)
    return {"factor": factor, **statistics(warped[factor])}


def adapted_accuracy(model, warped, digits, factors, chosen=...):
    """Accuracy on a voice's recordings, adapted with the ``chosen`` ones."""
    voice = adapt(model, {f: warped[f][chosen] for f in factors})
    X = standardize(warped[voice["factor"]], voice)
    return evaluate(model, X, digits)[1]


# %%
# Each voice never heard, in each version: the plain classifier of the
# classification example, and one trained on voices standardized each with
# its own statistics, adapted with the voice's 50 test takes, the very
# recordings it classifies, as you would adapt it with yours; without and
# with the warp. The plain classifier's score differs from the
# classification example's, which tests all 500 recordings of each voice,
# trained on every take of the other five.
remedies = {"own statistics": [1.0], "own statistics + warp": [1.0, 0.9, 0.8]}
scores, adapted_models = {}, {}  # scores: {(version, remedy): {voice: ...}}
for voice in voices:
    rows, digits = train & (speaker != voice), y[mine[voice]]
    plain = fit(features[rows], y[rows], seed=seed)
    Z = by_voice(features[rows], speaker[rows])
    adapted_models[voice] = fit(Z, y[rows], seed=seed)
    for version, warped in held_out[voice].items():
        found = {"plain": evaluate(plain, warped[1.0], digits)[1]}
        for remedy, factors in remedies.items():
            model = adapted_models[voice]
            found[remedy] = adapted_accuracy(model, warped, digits, factors)
        for remedy, accuracy in found.items():
            scores.setdefault((version, remedy), {})[voice] = accuracy
for version, remedy in scores:
    mean = np.mean(list(scores[version, remedy].values()))
    print(f"{version}, {remedy}: mean accuracy = {mean:.3f}")

# %%
# Accuracy on each voice never heard, for each remedy:
fig, axes = plt.subplots(
    1, 3, figsize=(12, 4.2), sharey=True, layout="constrained"
)
for ax, version in zip(axes, versions, strict=True):
    for k, remedy in enumerate(
        ("plain", "own statistics", "own statistics + warp")
    ):
        heights = [100 * scores[version, remedy][v] for v in voices]
        places = np.arange(len(voices)) + 0.27 * (k - 1)
        ax.bar(places, heights, 0.27, label=remedy)
    ax.set_xticks(range(len(voices)), voices, rotation=30, ha="right")
    ax.set(title=version, ylim=(0, 100), xlabel="voice never heard")
axes[0].set_ylabel("accuracy on its 50 test takes (%)")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center")
plt.show()
# sphinx_gallery_thumbnail_number = -1

# %%
# Standardizing each voice with its own statistics wins back most of what a
# new voice or room tone costs, but not what a higher voice costs: the warp
# wins that back. On FSDD's own men it changes little.
#
# How many recordings of your voice
# ---------------------------------
# The statistics and the factor from fewer of each held-out voice's test
# takes, the classifier tested on all 50; means over the six voices as
# recorded, raised and in a laptop's second:
subsets = {
    "10, one of each digit": take.astype(int) < 1,
    "20, two of each digit": take.astype(int) < 2,
    "10, two of each of five digits": (take.astype(int) < 2)
    & (digit.astype(int) < 5),
    "all 50": take.astype(int) < 5,
}
for name, chosen in subsets.items():
    right = [
        adapted_accuracy(
            adapted_models[v],
            held_out[v][version],
            y[mine[v]],
            remedies["own statistics + warp"],
            torch.from_numpy(chosen[mine[v]]),
        )
        for v in voices
        for version in versions
    ]
    print(f"{name}: mean accuracy = {np.mean(right):.3f}")

# %%
# Ten recordings, one of each digit, give most of the gain and twenty
# nearly all of it; ten that hold only half the digits give much less: their
# mean is that of the digits they hold, not the voice's.
#
# Your own recording
# ------------------
# The classifier for your recordings trains on all six voices' training
# takes, each standardized with its own statistics. On FSDD's official
# split, with each speaker's test takes adapting it to their voice, it gets
# nearly all right, a take or two fewer than the classification example's:
model = fit(by_voice(features[train], speaker[train]), y[train], seed=seed)
test_features = []
for voice in voices:
    adapted = adapt(model, held_out[voice]["as recorded"])
    X = held_out[voice]["as recorded"][adapted["factor"]]
    test_features.append(standardize(X, adapted))
test_digits = torch.cat([y[mine[v]] for v in voices])
loss, test_accuracy, _ = evaluate(model, torch.cat(test_features), test_digits)
print(f"TEST, average loss = {loss:.3f}, accuracy = {test_accuracy:.3f}")


# %%
# Record each digit once or twice and save the recordings as WAV files in a
# folder of their own. ``classify_folder`` finds your voice's factor and
# statistics in them with ``adapt``, once, and classifies each with
# ``classify``; keep the voice it returns, beside ``model.state_dict()``, to
# classify later recordings. For your folder:
# ``your_voice, found = classify_folder("my_digits", model, scattering)``.
def classify(path, model, voice, scattering):
    """The digit spoken in a recording, by a model adapted to its voice."""
    x = window(warp(read(path), voice["factor"]))[None]
    X = summarize(log_scattering(x, scattering))
    return model(standardize(X, voice)).argmax().item()


def classify_folder(folder, model, scattering):
    """The voice of a folder's recordings, and the digit found in each."""
    paths = sorted(
        p for p in Path(folder).iterdir() if p.suffix.lower() == ".wav"
    )
    if len(paths) < 2:  # a voice's statistics need several recordings
        raise ValueError(f"{folder} holds fewer than two WAV files.")
    voice = adapt(model, warped_features([read(p) for p in paths], scattering))
    return voice, {
        p.name: classify(p, model, voice, scattering) for p in paths
    }


# %%
# Below, the first speaker's test takes, each in a fresh laptop's second,
# stand in for your folder, and the classifier that never heard that speaker
# for ``model``; their names say the digit, so we count those right:
you = speaker[0]
with tempfile.TemporaryDirectory() as your_folder:
    for n in np.flatnonzero(mine[you]):
        laptop = in_a_second(recordings[n], rng)
        path = f"{your_folder}/{names[n]}"
        soundfile.write(path, laptop, sampling_rate, subtype="FLOAT")
    your_voice, found = classify_folder(
        your_folder, adapted_models[you], scattering
    )
right = sum(int(name[0]) == digit for name, digit in found.items())
print(f"Your recordings: {right} of {len(found)} right")

# %%
# What to expect
# --------------
# New takes of FSDD's six men come out right nearly every time. A voice
# never heard, adapted with twenty of its recordings, two of each digit,
# gets about nine in ten right, as recorded, raised or in a laptop's
# second; ten recordings that leave out some digits adapt it much less
# well. On real recordings of five people outside FSDD, each voice adapted
# with all of its 40 to 51 recordings, the adapted classifier got about nine
# in ten right, on three men's untrimmed laptop clips with room tone as on
# two women's voices; the plain one got about half. The warp tries factors
# down to 0.8: a child's voice, higher still, is not measured here, nor
# reverberation.
#
# In the project's repository, ``python bench/voices.py FOLDER`` scores
# both classifiers on a folder of your recordings, named
# ``{digit}_{speaker}_{take}.wav``; ``python bench/adaptation.py`` shows how
# the remedies were chosen on voices never heard, and
# ``python bench/accuracy.py`` prints this page's numbers over five seeds.
