"""The example end to end, and its steps, on a small synthetic FSDD."""

import itertools
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
TRAINED = (
    "the second order cuts the error"  # the text cell after the training loop
)


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
    assert result["test_acc"] >= 0.95
    # Every feature set does far better than the 10 % of chance.
    assert min(result.accuracies()["ladder"].values()) >= 0.5
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
    assert "Recordings, coefficients, frames: [200, 336, 32]" in out
    # One line per feature set, no per-epoch or per-batch chatter.
    assert len(out.splitlines()) <= 30, out


def test_prints_one_line_per_feature_set_with_its_own_test_scores(full_run):
    result, *_ = full_run
    lines = re.findall(
        r"^(.+): test accuracy = (.+), loss = (.+)$", result.output, re.M
    )
    names = list(result["feature_sets"])
    assert [name for name, *_ in lines] == names == list(result["ladder"])
    assert names[:2] == [
        "order 1, time average",
        "orders 1 and 2, time average",
    ]
    for name, accuracy, loss in lines:
        assert (
            f"{result['ladder'][name][1]:.3f}",
            f"{result['ladder'][name][0]:.3f}",
        ) == (accuracy, loss)
    # The last set is the model that the evaluation and the confusion matrix use.
    assert result["ladder"][names[-1]] == (
        result["test_loss"],
        result["test_acc"],
    )


def test_each_feature_set_adds_to_the_one_before(full_run):
    result, *_ = full_run
    sets = list(result["feature_sets"].values())
    S = result["log_scattering"]
    n_first = int(result["first"].sum())
    assert sets[0].shape == (200, n_first)
    torch.testing.assert_close(
        sets[0], S[:, torch.from_numpy(result["first"])].mean(-1)
    )
    torch.testing.assert_close(sets[1], S.mean(-1))
    for before, after in itertools.pairwise(sets[1:]):
        # Each set starts with the one before it and adds columns.
        assert after.shape[1] > before.shape[1]
        assert torch.equal(after[:, : before.shape[1]], before)
    # The halves: the means of the first and of the last 16 of 32 frames.
    halves = sets[3][:, sets[2].shape[1] :].reshape(200, 2, -1)
    torch.testing.assert_close(halves[:, 0], S[..., :16].mean(-1))
    torch.testing.assert_close(halves[:, 1], S[..., 16:].mean(-1))


def colorbar_labels(figure):
    return [
        ax.get_ylabel() for ax in figure.axes if ax.get_label() == "<colorbar>"
    ]


def test_the_transform_figure_shares_one_time_axis_and_labels_its_colours(
    full_run,
):
    result, *_ = full_run
    figure = result.figures[0]
    wave, first, second = figure.axes[:3]
    assert wave.get_title() == result["names"][0] == "0_alice_0.wav"
    assert wave.get_ylabel() == "amplitude"
    # One time axis in seconds for the waveform and both orders.
    assert second.get_xlabel() == "time (s)"
    for ax in (first, second):
        assert ax.get_shared_x_axes().joined(wave, ax)
    assert wave.get_xlim() == (0, result["T"] / RATE)
    # Order 1 on a frequency axis in Hz, from a few Hz up to below 4 kHz.
    assert first.get_yscale() == "log"
    assert first.get_ylabel() == "frequency (Hz)"
    low, high = sorted(first.get_ylim())
    assert 1 < low < 50 and 3000 < high < RATE / 2 * 1.05
    # Order 2 by first-order band, labelled in Hz, highest at the top.
    assert second.get_ylabel() == "first-order band (Hz)"
    ticks = [float(t.get_text()) for t in second.get_yticklabels()]
    assert ticks == sorted(ticks, reverse=True) and 3000 < ticks[0] < 4000
    assert second.get_ylim()[0] > second.get_ylim()[1]
    assert colorbar_labels(figure) == ["log-scattering"] * 2


def test_the_digit_figure_puts_each_digit_in_its_own_second(full_run):
    result, *_ = full_run
    figure = result.figures[1]
    ax = figure.axes[0]
    n_first = int(result["first"].sum())
    frames = len(result["seconds"])
    assert result["means"].shape == (n_first, 10 * frames)
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "frequency (Hz)"
    assert ax.get_xlabel() == "digit (1 s each)"
    assert [t.get_text() for t in ax.get_xticklabels()] == list("0123456789")
    assert list(ax.get_xticks()) == [d + 0.5 for d in range(10)]
    # A diverging colour scale, centred on the mean digit, with its label.
    image = ax.collections[0]
    assert image.get_clim() == (-3, 3) and image.get_cmap().name == "RdBu_r"
    assert colorbar_labels(figure) == ["log-scattering minus the mean digit's"]
    # Digit 0's rows are the mean over its training recordings, minus the
    # mean over all digits.
    S1 = result["log_scattering"][~result["in_test"]][
        :, torch.from_numpy(result["first"])
    ]
    y = result["y_all"][~result["in_test"]]
    per_digit = torch.stack([S1[y == d].mean(0) for d in range(10)])
    torch.testing.assert_close(
        result["means"][:, :frames], (per_digit - per_digit.mean(0))[0]
    )


def test_the_ladder_figure_shows_each_feature_set_error_and_loss(full_run):
    result, *_ = full_run
    error, loss = result.figures[2].axes
    ladder = result["ladder"]
    names = [t.get_text() for t in error.get_yticklabels()]
    assert names == list(ladder)
    assert error.get_xlabel() == "test error (%)"
    assert loss.get_xlabel() == "test loss (cross-entropy)"
    widths = [[bar.get_width() for bar in ax.patches] for ax in (error, loss)]
    np.testing.assert_allclose(
        widths[0], [100 * (1 - acc) for _, acc in ladder.values()]
    )
    np.testing.assert_allclose(
        widths[1], [loss for loss, _ in ladder.values()]
    )
    # The first set on top.
    assert error.get_ylim()[0] > error.get_ylim()[1]


def test_the_confusion_matrix_is_last_with_its_colour_scale(full_run):
    result, *_ = full_run
    assert len(result.figures) == 4
    matrix = result.figures[3]
    assert matrix.axes[0] is result["disp"].ax_
    counts = result["disp"].confusion_matrix
    assert counts.shape == (10, 10) and counts.sum() == 100
    assert matrix.axes[0].get_xlabel() == "Predicted label"
    assert len(matrix.axes) == 2  # the matrix and its colour bar


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
    run(until=TRAINED, learning_rate=0.0123)
    assert received == [0.0123] * 4  # one model per feature set


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
    first = run(until=TRAINED)
    again = run(until=TRAINED)
    other = run(until=TRAINED, seed=3)
    assert torch.equal(first["model"].weight, again["model"].weight)
    assert not torch.equal(first["model"].weight, other["model"].weight)


def test_the_runner_scores_the_example_classifier_on_another_split(full_run):
    # A voice it has never heard: train on alice, test on bob.
    result, *_ = full_run
    in_test = result["in_test"].clone()
    bob = torch.tensor(
        [name.split("_")[1] == "bob" for name in result["names"]]
    )
    time_average = result["feature_sets"]["orders 1 and 2, time average"]
    accuracy = score(result, time_average, result["y_all"], bob)
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
        "What each part buys",
        "Evaluation",
        "Confusion matrix",
    } <= set(headings)
    # The confusion matrix, the last figure, is the thumbnail.
    [matrix_cell] = [c for k, c, _ in blocks if "ConfusionMatrixDisplay." in c]
    assert "# sphinx_gallery_thumbnail_number = -1" in matrix_cell
    code = [c for k, c, _ in blocks if k == "code"]
    sizes = [
        sum(1 for line in c.splitlines() if line.strip() and line[0] != "#")
        for c in code
    ]
    assert max(sizes) <= 15, "keep the code cells short"
    # On the rendered page a longer line scrolls sideways.
    assert max(len(line) for c in code for line in c.splitlines()) <= 79
