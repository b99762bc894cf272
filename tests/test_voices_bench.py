"""``bench/voices.py``, which a user runs on a folder of their recordings,
on a synthetic FSDD and a synthetic folder."""

import re

import numpy as np
import pytest
from scipy.io import wavfile

from conftest import make_fsdd, tone
from voices import COLUMNS, main, recordings_in


def test_a_folder_without_recordings_is_told_how_to_name_them(tmp_path):
    (tmp_path / "hello.wav").write_bytes(b"")
    with pytest.raises(SystemExit) as excinfo:
        recordings_in(tmp_path)
    message = str(excinfo.value)
    assert str(tmp_path) in message and "7_me_0.wav" in message


def test_scores_each_speaker_of_a_folder_at_any_rate_mono_or_stereo(
    tmp_path, monkeypatch, capsys
):
    make_fsdd(tmp_path / "datasets", takes=range(8))
    monkeypatch.setenv("KYMATIO_DATASETS", str(tmp_path / "datasets"))
    folder = tmp_path / "mine"
    folder.mkdir()
    for digit in range(10):
        for take in range(2):
            x = tone(digit, speaker=1, take=take)
            stereo = np.stack([x, 0.5 * x], axis=1)
            wavfile.write(
                folder / f"{digit}_me_{take}.wav",
                16000,
                (np.repeat(stereo, 2, axis=0) * 20000).astype(np.int16),
            )
            wavfile.write(
                folder / f"{digit}_you_{take}.wav",
                8000,
                (tone(digit, 0, take) * 20000).astype(np.int16),
            )
    (folder / "notes.wav").write_bytes(b"not a recording")  # skipped
    main(folder)
    out = capsys.readouterr().out
    rows = re.findall(r"^\| (me|you) \| (\d+) \| (\S+) \| (.+) \|$", out, re.M)
    assert [(s, int(n)) for s, n, *_ in rows] == [("me", 20), ("you", 20)]
    for *_, cells in rows:
        accuracies = [float(c) for c in cells.split(" | ")]
        assert len(accuracies) == len(COLUMNS)
        assert all(0 <= a <= 1 for a in accuracies)
        assert accuracies[-1] >= 0.9  # well-separated tones, adapted
    for column in COLUMNS:
        assert re.search(
            rf"^{re.escape(column)}: mean over speakers = ", out, re.M
        )
