"""The example end to end, and its steps, on a small synthetic FSDD."""

import os
import re

import kymatio.datasets
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from scipy.io import wavfile

from conftest import EXAMPLE, RATE, make_fsdd, snapshot, tone, write_int16
from runner import cells, run, score

NAN = re.compile(r"\bnan\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """One whole run on 200 tones, one of them silent, beside a file that is
    not a recording."""
    base = tmp_path_factory.mktemp("datasets")
    recordings = make_fsdd(base)
    wavfile.write(recordings / "2_alice_1.wav", RATE, np.zeros(3000, np.int16))
    write_int16(recordings / "notes.wav", tone(1))
    before = snapshot(base)
    plt.close("all")
    with (
        pytest.MonkeyPatch.context() as mp,
        # Any other warning is raised again, and pytest makes it an error.
        pytest.warns(UserWarning, match="notes.wav") as w,
    ):
        mp.setenv("KYMATIO_DATASETS", str(base))
        result = run()
    result.figures = [plt.figure(n) for n in plt.get_fignums()]
    plt.close("all")
    return result, [str(m.message) for m in w], before, snapshot(base)


def test_prints_a_high_test_accuracy_last_and_no_nan(full_run):
    result, *_ = full_run
    last = result.output.strip().splitlines()[-1]
    assert last == (
        f"TEST, average loss = {result['test_loss']:.3f}, "
        f"accuracy = {result['test_acc']:.3f}"
    )
    # Ten well-separated tones: anything short of near-perfect is a bug.
    assert result["test_acc"] >= 0.95 and result["baseline_acc"] >= 0.95
    assert not NAN.search(result.output), result.output


def test_a_silent_recording_stays_zero_and_every_feature_is_finite(full_run):
    result, *_ = full_run
    row = result["names"].index("2_alice_1.wav")
    assert (result["x_all"][row] == 0).all()
    assert torch.isfinite(result["log_scattering"]).all()
    assert torch.isfinite(result["X_train"]).all()
    assert torch.isfinite(result["X_test"]).all()


def test_a_file_not_named_like_a_recording_is_skipped_with_a_warning(full_run):
    result, messages, *_ = full_run
    assert "notes.wav" not in result["names"] and len(result["names"]) == 200
    assert [m for m in messages if "notes.wav" in m] == [
        "Skipping notes.wav: not named like 0_george_0.wav"
    ]


def test_the_dataset_folder_is_only_read(full_run):
    *_, before, after = full_run
    assert before == after


def test_reports_its_device_and_stays_quiet(full_run):
    result, *_ = full_run
    out = result.output
    assert f"Using {result['device'].type} device" in out
    progress = re.findall(r"^ *(\d+) of 200 recordings scattered$", out, re.M)
    assert 1 <= len(progress) <= 4 and progress[-1] == "200", out
    assert len(re.findall(r"^epoch \d+, average loss", out, re.M)) == 2 * 5


def test_draws_the_transform_the_digit_means_and_the_confusion_matrix(
    full_run,
):
    result, *_ = full_run
    transform, means, matrix = result.figures
    wave, first, second = transform.axes
    assert wave.get_xlabel() == "time (s)" and wave.get_title().startswith(
        "0_"
    )
    # Order 1 on a frequency axis in Hz, from about 20 Hz up to below 4 kHz.
    assert (
        first.get_yscale() == "log" and first.get_ylabel() == "frequency (Hz)"
    )
    low, high = sorted(first.get_ylim())
    assert 1 < low < 50 and 3000 < high < RATE / 2 * 1.05
    assert second.collections and first.collections
    n_features = (result["order"] > 0).sum()
    assert means.axes[0].images[0].get_array().shape == (10, n_features)
    assert list(means.axes[0].get_yticks()) == list(range(10))
    counts = result["disp"].confusion_matrix
    assert counts.shape == (10, 10) and counts.sum() == 100
    assert matrix.axes[0] is result["disp"].ax_


def test_adam_receives_the_learning_rate_of_the_parameter_cell(
    fsdd, monkeypatch
):
    # The original example defined lr = 1e-4 and never passed it on.
    received = []

    class RecordingAdam(torch.optim.Adam):
        def __init__(self, params, **kwargs):
            super().__init__(params, **kwargs)
            received.append(self.defaults["lr"])

    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    run(until="What the classifier sees", learning_rate=0.0123)
    assert received == [0.0123]


def test_loading_labels_split_padding_and_order(fsdd, monkeypatch):
    T = 2**13
    long_x = tone(3, 0, 0, length=12000)
    write_int16(fsdd / "3_carol_7.wav", long_x)
    ramp = np.linspace(0.1, 1.0, 1001)
    write_int16(fsdd / "4_carol_2.wav", ramp)
    # Let the filesystem list files in reverse order: the result must not move.
    listdir = os.listdir
    monkeypatch.setattr(
        kymatio.datasets.os, "listdir", lambda p: listdir(p)[::-1]
    )

    result = run(until="What a recording looks like")
    names = result["names"]
    assert names == sorted(listdir(fsdd)) and len(names) == 202
    for name, label, test in zip(
        names,
        result["y_all"].tolist(),
        result["in_test"].tolist(),
        strict=True,
    ):
        digit, _, take = name[:-4].split("_")
        assert label == int(digit) and test == (int(take) < 5)

    x_all = result["x_all"]
    assert x_all.shape == (202, T) and x_all.dtype == torch.float32
    assert torch.allclose(x_all.abs().amax(dim=1), torch.ones(202))
    row = x_all[names.index("4_carol_2.wav")]
    start = (T - 1001) // 2
    assert (row[:start] == 0).all() and (row[start + 1001 :] == 0).all()
    np.testing.assert_allclose(row[start : start + 1001], ramp, atol=1e-4)
    long_row = x_all[names.index("3_carol_7.wav")]
    np.testing.assert_allclose(
        long_row, long_x[:T] / np.abs(long_x).max(), atol=1e-4
    )


def test_batches_give_the_features_of_one_scattering_call(fsdd):
    batched = run(until="Training a logistic regression", scattering_batch=64)
    single = run(
        until="Training a logistic regression", scattering_batch=10**6
    )
    assert [len(c) for c in batched["chunks"]] == [64, 64, 64, 8]
    assert len(single["chunks"]) == 1
    torch.testing.assert_close(
        batched["log_scattering"], single["log_scattering"]
    )


def test_the_seed_sets_the_initialization_and_the_shuffling(fsdd):
    first = run(until="What the classifier sees")
    again = run(until="What the classifier sees")
    other = run(until="What the classifier sees", seed=3)
    assert torch.equal(first["baseline"].weight, again["baseline"].weight)
    assert not torch.equal(first["baseline"].weight, other["baseline"].weight)


def test_the_runner_scores_the_example_classifier_on_another_split(full_run):
    # A voice it has never heard: train on alice, test on bob.
    result, *_ = full_run
    in_test = result["in_test"].clone()
    bob = torch.tensor(
        [name.split("_")[1] == "bob" for name in result["names"]]
    )
    accuracy = score(result, result["time_mean"], result["y_all"], bob)
    # Bob's tones sit 3 % higher than alice's, far less than between digits.
    assert accuracy >= 0.9
    assert torch.equal(result["in_test"], in_test)  # the run is left as it was
    assert result["learning_rate"] == 1e-3


def test_the_runner_refuses_a_parameter_the_example_does_not_set(fsdd):
    with pytest.raises(ValueError, match="no parameter named \\['lr'\\]"):
        run(until="Loading the data", lr=0.1)


def test_structure_as_sphinx_gallery_parses_it():
    blocks = cells()
    kind, docstring, _ = blocks[0]
    assert kind == "text"
    title = docstring.strip().splitlines()
    assert title[0] == "Classification of spoken digit recordings"
    assert set(title[1]) == {"="} and len(title[1]) == len(title[0])
    source = EXAMPLE.read_text()
    assert "#####" not in source, "one cell splitter style: '# %%' only"
    headings = re.findall(r"^# (\w[^\n]*)\n# -+$", source, re.M)
    assert headings[:3] == [
        "Setup",
        "The scattering transform",
        "Loading the data",
    ]
    assert {
        "What a recording looks like",
        "Evaluation",
        "Confusion matrix",
    } <= set(headings)
    assert source.rstrip().endswith("# sphinx_gallery_thumbnail_number = -1")
    code = [c for k, c, _ in blocks if k == "code"]
    sizes = [
        sum(1 for line in c.splitlines() if line.strip() and line[0] != "#")
        for c in code
    ]
    assert max(sizes) <= 15, "keep the code cells short"
    # On the rendered page a longer line scrolls sideways.
    assert max(len(line) for c in code for line in c.splitlines()) <= 79
