"""What a reader's own data can do wrong, each case on a small synthetic FSDD."""

import shutil
import struct

import numpy as np
import pytest
import soundfile
import torch
from scipy.io import wavfile

from conftest import (
    RATE,
    raised_in_example,
    tone,
    write_pcm24,
    write_wav_with_chunks,
)
from runner import CLASSIFY, run

LOADED = "Log-scattering transform"  # run the example up to its scattering


def fake_git(tmp_path, monkeypatch, exists):
    """Put a failing ``git`` (or none at all) first on PATH: no test may reach
    the network, and both ways a download can fail are covered."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if exists:
        git = bin_dir / "git"
        git.write_text(
            "#!/bin/sh\necho \"fatal: unable to access 'https://github.com/': "
            'Could not resolve host: github.com" >&2\nexit 128\n'
        )
        git.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))


@pytest.mark.parametrize(
    "git_exists", [True, False], ids=["offline", "no-git"]
)
def test_absent_dataset_and_no_download(tmp_path, monkeypatch, git_exists):
    base = tmp_path / "empty"
    base.mkdir()
    monkeypatch.setenv("KYMATIO_DATASETS", str(base))
    fake_git(tmp_path, monkeypatch, git_exists)
    with pytest.raises(RuntimeError) as excinfo:
        run(CLASSIFY, until=LOADED)
    message = str(excinfo.value)
    assert message.startswith("Cannot load FSDD: ")
    assert f"Delete {base / 'fsdd'} to clone it anew" in message
    assert message.endswith("or set KYMATIO_DATASETS to a copy.")
    assert ("Could not resolve host" if git_exists else "not found") in message
    assert raised_in_example(excinfo)


@pytest.mark.parametrize(
    "leftover", ["no recordings folder", "empty recordings"]
)
def test_half_finished_download(fsdd, tmp_path, monkeypatch, leftover):
    shutil.rmtree(fsdd)
    if leftover == "empty recordings":
        fsdd.mkdir()
    fake_git(tmp_path, monkeypatch, exists=True)
    with pytest.raises(RuntimeError) as excinfo:
        run(CLASSIFY, until=LOADED)
    # Either way the message names the folder to delete or to fill.
    assert str(fsdd.parents[1]) in str(excinfo.value)
    assert raised_in_example(excinfo)


def test_only_wrongly_named_files_is_no_dataset(fsdd):
    for path in fsdd.iterdir():
        path.rename(path.with_name("take_" + path.name))
    with pytest.raises(RuntimeError) as excinfo:
        run(CLASSIFY, until=LOADED)
    everything = ", ".join("0123456789")
    assert f"lacks digits {everything}. " in str(excinfo.value)
    assert raised_in_example(excinfo)


# Without a three or a seven the example would train on eight classes and
# print a high accuracy over them: it must stop before any training, naming
# the cause.
@pytest.mark.parametrize(
    "missing", ["0", "37"], ids=["no zero", "no three or seven"]
)
def test_a_copy_without_some_digits_is_told_not_trained_on(fsdd, missing):
    for path in fsdd.iterdir():
        if path.name[0] in missing:
            path.unlink()
    with pytest.raises(RuntimeError) as excinfo:
        result = run(CLASSIFY, until=LOADED)
        pytest.fail(f"it went on with {len(result['names'])} recordings")
    folder = fsdd.parents[1]
    assert str(excinfo.value) == (
        f"{folder} lacks digits {', '.join(missing)}. "
        f"Delete {folder} to clone it anew, or set KYMATIO_DATASETS to a copy."
    )
    assert raised_in_example(excinfo)


@pytest.mark.parametrize(
    "damage",
    ["header only", "not a wav", "empty file", "no samples", "NaN"],
)
def test_an_unreadable_recording_stops_the_run_with_its_name(fsdd, damage):
    path = fsdd / "5_bob_3.wav"
    if damage == "no samples":  # a valid header and a data chunk of length 0
        wavfile.write(path, RATE, np.zeros(0, np.int16))
    elif damage == "NaN":
        x = tone(5, 1, 3).astype(np.float32)
        x[100] = np.nan
        wavfile.write(path, RATE, x)
    else:
        path.write_bytes(
            {
                "header only": path.read_bytes()[:30],
                "not a wav": b"<html>404 Not Found</html>",
                "empty file": b"",
            }[damage]
        )
    with pytest.raises(ValueError) as excinfo:
        run(CLASSIFY, until=LOADED)
    message = str(excinfo.value)
    assert str(path) in message and "replace" in message.lower()
    # The reader's own error stays attached, for whoever needs more detail.
    if damage not in ("no samples", "NaN"):
        assert excinfo.value.__cause__ is not None
    assert raised_in_example(excinfo)


def test_a_file_cut_short_is_read_as_far_as_it_goes(fsdd):
    # An interrupted copy or recording: the header promises more samples
    # than the file holds. As audio players do, the example reads those
    # there are.
    path = fsdd / "5_bob_3.wav"
    x = tone(5, 1, 3)
    samples = np.round(x / np.abs(x).max() * 20000).astype(np.int16)
    wavfile.write(path, RATE, samples)
    data = path.read_bytes()
    path.write_bytes(data[: 44 + 2 * 1000])  # the header and 1,000 samples
    result = run(CLASSIFY, until=LOADED)
    loaded = result["recordings"][result["names"].index("5_bob_3.wav")]
    np.testing.assert_allclose(loaded * 32768, samples[:1000], atol=0.5)


# Chunks that recorders and editors add: broadcast-wave metadata, cue points,
# ID3 tags, sampler loops, a LIST/INFO block.
METADATA = {
    "bext": b"recorder description".ljust(602, b"\0"),
    "cue ": struct.pack("<I", 1)
    + struct.pack("<II4sIII", 1, 0, b"data", 0, 0, 0),
    "id3 ": b"ID3\x03\x00\x00\x00\x00\x00\x0a" + b"\0" * 10,
    "smpl": b"\0" * 36,
    "LIST": b"INFOISFT" + struct.pack("<I", 6) + b"Audio\0",
}


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("chunk", METADATA)
def test_metadata_chunks_are_read_past_with_the_audio_unchanged(
    fsdd, chunk, where
):
    x = tone(7, 1, 2)
    samples = np.round(x / np.abs(x).max() * 20000).astype(np.int16)
    path = fsdd / "7_bob_2.wav"
    write_wav_with_chunks(
        path, samples, **{where: [(chunk.encode(), METADATA[chunk])]}
    )
    result = run(
        CLASSIFY, until=LOADED
    )  # a warning would fail the test (pyproject)
    row = result["names"].index("7_bob_2.wav")
    np.testing.assert_array_equal(result["recordings"][row] * 32768, samples)


def test_an_unexpected_error_is_not_blamed_on_the_file(fsdd, monkeypatch):
    # A bug or a missing feature is not a broken download: it must reach the
    # reader as it is, not as "replace the file".
    def read(*args, **kwargs):
        raise TypeError("an error nobody expected")

    monkeypatch.setattr(soundfile, "read", read)
    with pytest.raises(TypeError, match="an error nobody expected"):
        run(CLASSIFY, until=LOADED)


def pcm8(x):
    return np.round(x / np.abs(x).max() * 127 + 128).astype(np.uint8)


def pcm32(x):
    return np.round(x / np.abs(x).max() * (2**31 - 1)).astype(np.int32)


FORMATS = {
    "8-bit unsigned": lambda p, x: wavfile.write(p, RATE, pcm8(x)),
    "24-bit": lambda p, x: write_pcm24(p, x),
    "32-bit integer": lambda p, x: wavfile.write(p, RATE, pcm32(x)),
    "32-bit float": lambda p, x: wavfile.write(
        p, RATE, (0.3 * x).astype(np.float32)
    ),
    "64-bit float": lambda p, x: wavfile.write(p, RATE, 0.3 * x),
    "stereo 16-bit": lambda p, x: wavfile.write(
        p,
        RATE,
        np.round(np.stack([x, 0.5 * x], axis=1) * 8000).astype(np.int16),
    ),
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_sample_formats_are_mixed_to_mono_and_scaled(fsdd, fmt):
    x = tone(6, 1, 4)
    x /= np.abs(x).max()
    FORMATS[fmt](fsdd / "6_bob_4.wav", x)
    result = run(CLASSIFY, until=LOADED)
    row = result["names"].index("6_bob_4.wav")
    loaded = result["recordings"][row]
    assert loaded.shape == x.shape  # one channel, every sample
    # Peak normalization makes every format land on the same signal.
    windowed = result["x_all"][row]
    assert windowed.abs().max() == 1
    np.testing.assert_allclose(
        loaded / np.abs(loaded).max(), x, atol=0.02 if "8-bit" in fmt else 1e-3
    )


def test_other_sample_rate_is_resampled(fsdd):
    x = tone(8, 0, 2, length=2000)  # 0.25 s at 8 kHz
    t = np.arange(2 * len(x)) / (2 * RATE)
    f0 = 250.0 * 9
    wavfile.write(
        fsdd / "8_alice_2.wav",
        2 * RATE,
        (np.sin(2 * np.pi * f0 * t) * 9000).astype(np.int16),
    )
    result = run(CLASSIFY, until=LOADED)
    row = result["x_all"][result["names"].index("8_alice_2.wav")]
    nonzero = torch.nonzero(row).squeeze()
    # 4,000 samples at 16 kHz are 2,000 samples at 8 kHz, centred in T.
    assert abs(len(nonzero) - len(x)) <= 2
    spectrum = np.abs(np.fft.rfft(row.numpy()))
    peak_hz = np.argmax(spectrum) * RATE / len(row)
    assert abs(peak_hz - f0) < 5
