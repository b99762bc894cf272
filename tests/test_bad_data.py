"""What a reader's own data can do wrong, each case on a small synthetic FSDD."""

import shutil

import numpy as np
import pytest
import torch
from scipy.io import wavfile

from conftest import (
    RATE,
    raised_in_example,
    run_example,
    snapshot,
    tone,
    write_int16,
    write_pcm24,
)

LOADED = "Log-scattering features"  # run the example up to its features


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


@pytest.mark.parametrize("git_exists", [True, False], ids=["offline", "no-git"])
def test_absent_dataset_and_no_download(tmp_path, monkeypatch, git_exists):
    base = tmp_path / "empty"
    base.mkdir()
    monkeypatch.setenv("KYMATIO_DATASETS", str(base))
    fake_git(tmp_path, monkeypatch, git_exists)
    with pytest.raises(RuntimeError) as excinfo:
        run_example(until=LOADED)
    message = str(excinfo.value)
    assert str(base / "fsdd" / "free-spoken-digit-dataset") in message
    assert "KYMATIO_DATASETS" in message
    assert ("Could not resolve host" if git_exists else "not found") in message
    assert raised_in_example(excinfo)


@pytest.mark.parametrize("leftover", ["no recordings folder", "empty recordings"])
def test_half_finished_download(fsdd, tmp_path, monkeypatch, leftover):
    shutil.rmtree(fsdd)
    if leftover == "empty recordings":
        fsdd.mkdir()
    fake_git(tmp_path, monkeypatch, exists=True)
    with pytest.raises(RuntimeError) as excinfo:
        run_example(until=LOADED)
    assert str(fsdd.parent) in str(excinfo.value)
    assert raised_in_example(excinfo)


def test_digit_missing_from_the_test_split(fsdd):
    for path in fsdd.glob("7_*_[0-4].wav"):
        path.unlink()
    with pytest.raises(
        RuntimeError, match=r"test split has no recording of digit\(s\) \[7\]"
    ):
        run_example(until=LOADED)


def test_wrongly_named_files_are_skipped_with_a_warning(fsdd):
    write_int16(fsdd / "notes.wav", tone(1))
    write_int16(fsdd / "7_alice.wav", tone(7))
    with pytest.warns(UserWarning) as record:
        ns, _ = run_example(until=LOADED)
    skipped = sorted(str(w.message).split(":")[0] for w in record)
    assert skipped == ["Skipping 7_alice.wav", "Skipping notes.wav"]
    assert len(ns["recordings"]) == 200


# pytest turns warnings into errors; a reader's Python does not. Ignore scipy's
# warning here so that only the example's own handling can fail the run.
@pytest.mark.filterwarnings("ignore::scipy.io.wavfile.WavFileWarning")
@pytest.mark.parametrize("damage", ["truncated", "header only", "not a wav", "empty"])
def test_unreadable_recording_names_the_file(fsdd, damage):
    path = fsdd / "5_bob_3.wav"
    data = path.read_bytes()
    broken = {
        "truncated": data[: len(data) // 2],
        "header only": data[:30],
        "not a wav": b"<html>404 Not Found</html>",
        "empty": b"",
    }[damage]
    path.write_bytes(broken)
    with pytest.raises(RuntimeError) as excinfo:
        run_example(until=LOADED)
    assert str(path) in str(excinfo.value)
    assert "Replace or delete" in str(excinfo.value)
    assert raised_in_example(excinfo)


def test_float_recording_with_nan_names_the_file(fsdd):
    x = tone(4, 0, 6).astype(np.float32)
    x[100] = np.nan
    wavfile.write(fsdd / "4_alice_6.wav", RATE, x)
    with pytest.raises(RuntimeError, match="4_alice_6.wav holds NaN") as excinfo:
        run_example(until=LOADED)
    assert raised_in_example(excinfo)


def test_silent_recording_gives_no_nan(fsdd):
    wavfile.write(fsdd / "2_alice_1.wav", RATE, np.zeros(3000, np.int16))
    wavfile.write(fsdd / "2_alice_8.wav", RATE, np.zeros(3000, np.int16))
    ns, out = run_example()
    row = [name for name, *_ in ns["recordings"]].index("2_alice_1.wav")
    assert (ns["x_all"][row] == 0).all()
    assert torch.isfinite(ns["log_scattering"]).all()
    assert torch.isfinite(ns["X_train"]).all() and torch.isfinite(ns["X_test"]).all()
    assert "nan" not in out.lower()
    assert np.isfinite(ns["test_loss"])


def pcm8(x):
    return np.round(x / np.abs(x).max() * 127 + 128).astype(np.uint8)


def pcm32(x):
    return np.round(x / np.abs(x).max() * (2**31 - 1)).astype(np.int32)


FORMATS = {
    "8-bit unsigned": lambda p, x: wavfile.write(p, RATE, pcm8(x)),
    "24-bit": lambda p, x: write_pcm24(p, x),
    "32-bit integer": lambda p, x: wavfile.write(p, RATE, pcm32(x)),
    "32-bit float": lambda p, x: wavfile.write(p, RATE, (0.3 * x).astype(np.float32)),
    "64-bit float": lambda p, x: wavfile.write(p, RATE, 0.3 * x),
    "stereo 16-bit": lambda p, x: wavfile.write(
        p, RATE, np.round(np.stack([x, 0.5 * x], axis=1) * 8000).astype(np.int16)
    ),
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_sample_formats_are_mixed_to_mono_and_scaled(fsdd, fmt):
    x = tone(6, 1, 4)
    x /= np.abs(x).max()
    FORMATS[fmt](fsdd / "6_bob_4.wav", x)
    ns, _ = run_example(until=LOADED)
    row = [name for name, *_ in ns["recordings"]].index("6_bob_4.wav")
    T = ns["T"]
    start = (T - len(x)) // 2
    loaded = ns["x_all"][row, start : start + len(x)].numpy()
    # Peak normalization makes every format land on the same signal.
    np.testing.assert_allclose(loaded, x, atol=0.02 if "8-bit" in fmt else 1e-3)


def test_other_sample_rate_is_resampled(fsdd):
    x = tone(8, 0, 2, length=2000)  # 0.25 s at 8 kHz
    t = np.arange(2 * len(x)) / (2 * RATE)
    f0 = 250.0 * 9
    wavfile.write(
        fsdd / "8_alice_2.wav",
        2 * RATE,
        (np.sin(2 * np.pi * f0 * t) * 9000).astype(np.int16),
    )
    ns, _ = run_example(until=LOADED)
    row = ns["x_all"][[n for n, *_ in ns["recordings"]].index("8_alice_2.wav")]
    nonzero = torch.nonzero(row).squeeze()
    # 4,000 samples at 16 kHz are 2,000 samples at 8 kHz, centred in T.
    assert abs(len(nonzero) - len(x)) <= 2
    spectrum = np.abs(np.fft.rfft(row.numpy()))
    peak_hz = np.argmax(spectrum) * RATE / len(row)
    assert abs(peak_hz - f0) < 5


def test_the_dataset_folder_is_only_read(fsdd):
    write_int16(fsdd / "odd name.wav", tone(1))  # even with a file to skip
    before = snapshot(fsdd.parents[2])
    with pytest.warns(UserWarning):
        run_example()
    assert snapshot(fsdd.parents[2]) == before
