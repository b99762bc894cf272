"""Shared helpers: a small synthetic FSDD, and the real one where it is set."""

import os
import struct
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy.io import wavfile

from runner import run

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = (ROOT / "plot_classif_torch.py", ROOT / "plot_own_recording.py")
RATE = 8000


def tone(digit, speaker=0, take=0, length=4000):
    """A windowed tone whose pitch says the digit, with a little noise.

    Digits sit 250 Hz apart; speakers shift the pitch by 3 % and takes change
    the length, the phase and the noise, so the classes are separable but the
    recordings are not identical.
    """
    rng = np.random.default_rng(1000 * digit + 100 * speaker + take)
    t = np.arange(length + 97 * take) / RATE
    f0 = 250.0 * (digit + 1) * (1 + 0.03 * speaker)
    x = np.sin(2 * np.pi * f0 * t + rng.uniform(0, 2 * np.pi)) * np.hanning(
        len(t)
    )
    return x + 0.05 * rng.standard_normal(len(t))


def write_int16(path, x, rate=RATE):
    x = np.asarray(x, dtype=np.float64)
    wavfile.write(
        path, rate, np.round(x / np.abs(x).max() * 20000).astype(np.int16)
    )


def write_pcm24(path, x, rate=RATE):
    """scipy cannot write 24-bit wav files, so build one by hand."""
    ints = np.round(np.asarray(x) / np.abs(x).max() * (2**23 - 1)).astype(
        "<i4"
    )
    data = b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 3, 3, 24)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def riff_chunk(chunk_id, payload):
    """One RIFF chunk: id, little-endian size, payload and its pad byte."""
    pad = b"\0" * (len(payload) % 2)
    return chunk_id + struct.pack("<I", len(payload)) + payload + pad


def write_wav_with_chunks(path, samples, before=(), after=(), rate=RATE):
    """A 16-bit mono wav file with metadata chunks, as recorders and editors
    write them: ``before`` and ``after`` the data, as (id, payload) pairs."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    data = np.asarray(samples, dtype="<i2").tobytes()
    body = b"WAVE" + riff_chunk(b"fmt ", fmt)
    body += b"".join(riff_chunk(i, p) for i, p in before)
    body += riff_chunk(b"data", data)
    body += b"".join(riff_chunk(i, p) for i, p in after)
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def make_fsdd(
    base, digits=range(10), speakers=("alice", "bob"), takes=range(10)
):
    """Write a synthetic FSDD in the layout fetch_fsdd expects under ``base``."""
    recordings = base / "fsdd" / "free-spoken-digit-dataset" / "recordings"
    recordings.mkdir(parents=True)
    for digit in digits:
        for s, speaker in enumerate(speakers):
            for take in takes:
                path = recordings / f"{digit}_{speaker}_{take}.wav"
                write_int16(path, tone(digit, s, take))
    return recordings


@pytest.fixture
def fsdd(tmp_path, monkeypatch):
    """A fresh synthetic FSDD, with KYMATIO_DATASETS pointing at it."""
    recordings = make_fsdd(tmp_path / "datasets")
    monkeypatch.setenv("KYMATIO_DATASETS", str(tmp_path / "datasets"))
    return recordings


def run_example(path, datasets=None, **parameters):
    """Run an example to its end (``KYMATIO_DATASETS`` set to ``datasets``
    if given); its figures come back, closed, as ``result.figures``."""
    plt.close("all")
    with pytest.MonkeyPatch.context() as mp:
        if datasets is not None:
            mp.setenv("KYMATIO_DATASETS", str(datasets))
        result = run(path, **parameters)
    result.figures = [plt.figure(n) for n in plt.get_fignums()]
    plt.close("all")
    return result


def raised_in_example(excinfo):
    """True when the error was raised by an example itself: the reader sees
    its message, not a traceback from deep inside a library."""
    return Path(excinfo.traceback[-1].path) in EXAMPLES


def skip_or_fail(reason):
    """Skip a test that needs real data, saying why; fail instead where
    REQUIRE_REAL_FSDD=1 (CI), so that the real-data checks never skip there."""
    if os.environ.get("REQUIRE_REAL_FSDD") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def outside_voices():
    """The folder of recordings by people outside FSDD ($OUTSIDE_VOICES);
    skip with the reason where it is absent, fail where CI requires it."""
    folder = Path(os.environ.get("OUTSIDE_VOICES", "/nonexistent"))
    if not any(folder.glob("*_*_*.wav")):
        reason = (
            "no outside voices: set OUTSIDE_VOICES to a folder of "
            "{digit}_{speaker}_{take}.wav by people outside FSDD"
        )
        skip_or_fail(reason)
    return folder


def snapshot(folder):
    """Names, sizes and modification times of everything under ``folder``."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(Path(folder).rglob("*"))
    }


def require_real_fsdd():
    """Skip with a reason when the real FSDD is absent; fail instead where
    REQUIRE_REAL_FSDD=1 (CI), so that the real-data checks never skip there."""
    base = os.environ.get("KYMATIO_DATASETS", "")
    recordings = Path(base, "fsdd", "free-spoken-digit-dataset", "recordings")
    if not base or not any(recordings.glob("*.wav")):
        reason = (
            "the real FSDD is not available: set KYMATIO_DATASETS to a folder "
            "holding fsdd/free-spoken-digit-dataset/recordings/*.wav"
        )
        skip_or_fail(reason)
