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
from selection import features as selection_features

NAN = re.compile(r"\bnan\b", re.IGNORECASE)
TRAINED = "the second order cuts the test error"  # after the training loop
FINAL = "+ over the word's frames only"  # the feature set evaluated last


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """One whole run on 200 tones, one of them silent and one a single click,
    beside a file that is not a recording."""
    base = tmp_path_factory.mktemp("datasets")
    recordings = make_fsdd(base)
    wavfile.write(recordings / "2_alice_1.wav", RATE, np.zeros(3000, np.int16))
    click = np.zeros(3000, np.int16)
    click[1500] = 20000  # the shortest word there is
    wavfile.write(recordings / "3_alice_1.wav", RATE, click)
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


def test_prints_a_high_test_accuracy_and_no_nan(full_run):
    result, *_ = full_run
    assert (
        f"TEST, average loss = {result['test_loss']:.3f}, "
        f"accuracy = {result['test_acc']:.3f}"
    ) in result.output.splitlines()
    # Ten well-separated tones: anything short of near-perfect is a bug.
    assert result["test_acc"] >= 0.95
    # Every feature set does far better than the 10 % of chance.
    assert min(result.accuracies()["ladder"].values()) >= 0.5
    assert not NAN.search(result.output), result.output


def test_a_silent_recording_stays_zero_and_every_feature_is_finite(full_run):
    # Catches: a log of zero, or statistics over the word's frames that
    # divide by zero for a word as short as a click.
    result, *_ = full_run
    row = result["names"].index("2_alice_1.wav")
    assert (result["x_all"][row] == 0).all()
    assert torch.isfinite(result["log_scattering"]).all()
    for features in result["feature_sets"].values():
        assert torch.isfinite(features).all()


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
    # Catches: a print per epoch or per batch, or a shape line that no longer
    # says what was computed.
    result, *_ = full_run
    out = result.output
    assert f"Using {result['device'].type} device" in out
    shape = list(result["log_scattering"].shape)
    assert f"Recordings, coefficients, frames: {shape}" in out
    assert shape[0] == len(result["names"])
    # Fixed lines, one per feature set, the report, one per speaker: no
    # per-epoch or per-batch chatter.
    speakers = len(set(result["speaker"]))
    assert len(out.splitlines()) <= 30 + speakers, out


def test_prints_one_line_per_feature_set_with_its_own_test_scores(full_run):
    result, *_ = full_run
    lines = re.findall(
        r"^(.+): test accuracy = (.+) ± (.+), loss = (.+)$",
        result.output,
        re.M,
    )
    names = list(result["feature_sets"])
    assert [name for name, *_ in lines] == names == list(result["ladder"])
    assert names[:2] == [
        "order 1, time average",
        "orders 1 and 2, time average",
    ]
    n_test = int(result["in_test"].sum())
    for name, accuracy, error, loss in lines:
        _, _, (test_loss, test_acc, _) = result["ladder"][name]
        # The standard error of an accuracy measured on n_test recordings.
        standard_error = (test_acc * (1 - test_acc) / n_test) ** 0.5
        assert (accuracy, error, loss) == (
            f"{test_acc:.3f}",
            f"{standard_error:.3f}",
            f"{test_loss:.3f}",
        )


def test_each_feature_set_adds_to_the_one_before(full_run):
    # Catches: a set that drops what the one before it had, halves that are
    # not the two halves of the window, a last set that is not the one
    # bench/selection.py chose.
    result, *_ = full_run
    sets = list(result["feature_sets"].values())
    assert list(result["feature_sets"])[-1] == FINAL
    S = result["log_scattering"]
    n_first = int(result["first"].sum())
    assert sets[0].shape == (len(S), n_first)
    torch.testing.assert_close(
        sets[0], S[:, torch.from_numpy(result["first"])].mean(-1)
    )
    torch.testing.assert_close(sets[1], S.mean(-1))
    for before, after in itertools.pairwise(sets[1:4]):
        # Each set starts with the one before it and adds columns.
        assert after.shape[1] > before.shape[1]
        assert torch.equal(after[:, : before.shape[1]], before)
    # The halves: the means of the first and of the last 16 of 32 frames.
    halves = sets[3][:, sets[2].shape[1] :].reshape(len(S), 2, -1)
    torch.testing.assert_close(halves[:, 0], S[..., :16].mean(-1))
    torch.testing.assert_close(halves[:, 1], S[..., 16:].mean(-1))
    # The last: the same statistics over the word's frames, bit for bit as
    # bench/selection.py computed them when it chose them.
    chosen = ("mean", "std", "max", "parts2")
    expected = selection_features(result, chosen, word_margin=4)
    assert torch.equal(sets[4], expected)
    assert not torch.equal(sets[4], sets[3])


def colour_bars(figure):
    """The colour bars of a figure, one for each image that has one."""
    return [
        image.colorbar
        for ax in figure.axes
        for image in ax.collections
        if getattr(image, "colorbar", None) is not None
    ]


def colorbar_labels(figure):
    return [bar.ax.get_ylabel() for bar in colour_bars(figure)]


def images(figure):
    """The pseudo-colour images of a figure, each with the axes it is in."""
    bars = [bar.ax for bar in colour_bars(figure)]
    axes = [ax for ax in figure.axes if ax not in bars]
    return [(ax, c) for ax in axes for c in ax.collections[:1]]


def test_the_transform_figure_reads_on_one_time_axis(full_run):
    # Catches: panels that do not line up in time (a colour bar squeezing one
    # of them), an image that stops short of its axis (a white strip), an
    # axis without a unit, a colour without a scale, an order-2 panel whose
    # rates are not the ones kymatio computed for the band in its title.
    result, *_ = full_run
    figure = result.figures[0]
    wave = figure.axes[0]
    panels = [ax for ax, _ in images(figure)]
    assert len(panels) == 2
    assert wave.get_title() == result["names"][0]
    boxes = [ax.get_position() for ax in (wave, *panels)]
    for box in boxes[1:]:
        assert np.isclose(box.x0, boxes[0].x0) and np.isclose(
            box.x1, boxes[0].x1
        )
    frame_s = 2 ** result["J"] / RATE
    n_frames = result["log_scattering"].shape[-1]
    for ax in (wave, *panels):
        # The whole recording, and nothing past the last frame.
        assert ax.get_xlim()[0] == 0
        assert abs(ax.get_xlim()[1] - n_frames * frame_s) < frame_s
    for ax, image in images(figure):
        x = image.get_coordinates()[0, :, 0]
        assert x.min() <= ax.get_xlim()[0] and x.max() >= ax.get_xlim()[1]
        assert ax.get_yscale() == "log" and "(Hz)" in ax.get_ylabel()
    assert "(s)" in panels[-1].get_xlabel()
    assert colorbar_labels(figure) == ["log-scattering"] * 2
    # Every first-order band; order 2 of one of them, by its rates.
    hz, first = result["hz"], result["first"]
    low, high = panels[0].get_ylim()
    assert low <= hz[first, 0].min() and high >= hz[first, 0].max()
    band = result["band"]
    assert f"{band:.0f} Hz" in panels[1].get_title()
    rates = np.sort(panels[1].collections[0].get_coordinates()[:, 0, 1])
    expected = np.sort(hz[~first & (hz[:, 0] == band), 1])
    assert len(expected) >= 3
    assert expected.min() > rates.min() and expected.max() < rates.max()


def test_the_digit_figure_puts_each_digit_in_its_own_second(full_run):
    result, *_ = full_run
    figure = result.figures[1]
    ax = figure.axes[0]
    frames = result["log_scattering"].shape[-1]
    # Catches: digits drawn out of place or unlabelled, a colour scale whose
    # middle is not "as loud as the mean digit", a colour without a scale.
    assert ax.get_yscale() == "log" and "(Hz)" in ax.get_ylabel()
    assert "digit" in ax.get_xlabel()
    ticks = dict(zip(ax.get_xticks(), ax.get_xticklabels(), strict=True))
    for d in range(10):  # each digit named under the middle of its second
        assert ticks[d + 0.5].get_text() == str(d)
    vmin, vmax = ax.collections[0].get_clim()
    assert vmax == -vmin > 0  # white is the mean digit
    cmap = ax.collections[0].get_cmap()
    middle, low, high = cmap(0.5), cmap(0.0), cmap(1.0)
    assert min(middle[:3]) > 0.9  # near white where a digit is average
    assert low != high
    [label] = colorbar_labels(figure)
    assert "mean digit" in label
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


def test_the_ladder_figure_shows_each_feature_set_error(full_run):
    result, *_ = full_run
    # Catches: bars that do not show the printed scores, an axis without
    # its unit, sets in another order than the text's list.
    [error] = result.figures[2].axes
    ladder = result["ladder"]
    names = [t.get_text() for t in error.get_yticklabels()]
    assert names == list(ladder)
    assert "(%)" in error.get_xlabel()
    widths = [[bar.get_width() for bar in error.patches]]
    np.testing.assert_allclose(
        widths[0], [100 * (1 - test[1]) for *_, test in ladder.values()]
    )
    # The first set on top.
    assert error.get_ylim()[0] > error.get_ylim()[1]


def test_the_confusion_matrix_is_last_with_its_colour_scale(full_run):
    result, *_ = full_run
    assert len(result.figures) == 4
    matrix = result.figures[3]
    assert matrix.axes[0] is result["disp"].ax_
    # Catches: a matrix of another model or another split than the one the
    # text reports, or one without its colour scale.
    counts = result["disp"].confusion_matrix
    assert counts.shape == (10, 10)
    assert counts.sum() == int(result["in_test"].sum())
    assert np.trace(counts) / counts.sum() == pytest.approx(result["test_acc"])
    assert len(matrix.axes) == 2  # the matrix and its colour bar


def test_fit_standardizes_with_the_training_rows_only(full_run):
    # Catches: statistics taken over all rows, which would let the held-out
    # rows leak into the features the model is scored on.
    result, *_ = full_run
    final = result["feature_sets"][FINAL]
    labels, in_test = result["y_all"], result["in_test"]
    shifted = final.clone()
    shifted[in_test] += 1000.0  # only the held-out rows move
    _, on_train, _ = result["fit"](final, labels, in_test)
    _, on_train_shifted, on_test = result["fit"](shifted, labels, in_test)
    # Training saw exactly the same standardized rows...
    assert on_train[:2] == on_train_shifted[:2]
    assert torch.equal(on_train[2], on_train_shifted[2])
    # ...and the held-out rows, far off, are no longer recognised.
    assert on_test[1] < 0.5


def test_the_evaluation_reports_the_final_features_by_name(full_run):
    # Catches: an evaluation that takes whatever model or scores the last
    # pass of the comparison loop left behind.
    result, *_ = full_run
    model, on_train, on_test = result["ladder"][FINAL]
    assert result["model"] is model
    assert (result["test_loss"], result["test_acc"]) == on_test[:2]
    assert (result["train_loss"], result["train_acc"]) == on_train[:2]
    assert torch.equal(result["y_pred"], on_test[2])
    # The matrix counts these predictions.
    counts = result["disp"].confusion_matrix
    assert np.trace(counts) == int(
        (on_test[2] == result["y_all"][result["in_test"]]).sum()
    )


def test_the_data_stays_on_the_cpu_so_any_mask_indexes_it(full_run):
    # Catches: data on the GPU beside masks on the CPU (or the reverse),
    # which fails at the first ``x_all[in_test]`` a reader types.
    result, *_ = full_run
    for name in ["x_all", "y_all", "in_test", "log_scattering", "y_pred"]:
        assert result[name].device.type == "cpu", name
    for name, features in result["feature_sets"].items():
        assert features.device.type == "cpu", name
    # The classifier itself lives on the device the example chose.
    assert next(result["model"].parameters()).device.type == (
        result["device"].type
    )
    alice = result["speaker"] == "alice"
    final = result["feature_sets"][FINAL]
    assert len(final[alice]) == len(result["x_all"][torch.from_numpy(alice)])
    assert len(result["x_all"][result["in_test"]]) == int(
        result["in_test"].sum()
    )


def test_a_new_voice_line_per_speaker_and_their_mean(full_run):
    # Catches: a speaker left out or counted twice, or a mean that is not
    # the mean of the printed lines.
    result, *_ = full_run
    lines = re.findall(r"^(\w+): accuracy = (\d\.\d{3})$", result.output, re.M)
    assert [name for name, _ in lines] == sorted(set(result["speaker"]))
    printed = [float(acc) for _, acc in lines]
    assert printed == [round(a, 3) for a in result["new_voice"].values()]
    mean = re.search(r"^mean over speakers: (\d\.\d{3})$", result.output, re.M)
    assert mean and float(mean[1]) == pytest.approx(
        np.mean(list(result["new_voice"].values())), abs=5e-4
    )
    # Each speaker's score is that of a model that never heard the speaker.
    for name, accuracy in result["new_voice"].items():
        held_out = torch.from_numpy(result["speaker"] == name)
        final = result["feature_sets"][FINAL]
        assert score(result, final, result["y_all"], held_out) == accuracy


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
    assert received == [0.0123] * 5  # one model per feature set


def test_loading_labels_split_padding_and_order(fsdd, monkeypatch):
    T = 2**13  # samples per recording
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
    # Catches: a batch dropped, repeated or reordered, or a batch size that
    # changes the features.
    batched = run(until="How the digits differ", scattering_batch=64)
    single = run(until="How the digits differ", scattering_batch=10**6)
    torch.testing.assert_close(
        batched["log_scattering"], single["log_scattering"]
    )


def test_the_seed_sets_the_initialization_and_the_shuffling(fsdd):
    first = run(until=TRAINED)
    again = run(until=TRAINED)
    other = run(until=TRAINED, seed=3)

    def weights(result):
        return [model.weight for model, *_ in result["ladder"].values()]

    trios = zip(weights(first), weights(again), weights(other), strict=True)
    for a, b, c in trios:
        assert torch.equal(a, b) and not torch.equal(a, c)


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
        "A voice it has never heard",
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
