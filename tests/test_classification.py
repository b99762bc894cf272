"""The classification example end to end, and its steps, on a synthetic FSDD."""

import re

import kymatio.datasets
import numpy as np
import pytest
import torch
from IPython.display import Audio
from scipy.io import wavfile
from scipy.signal import resample_poly

from conftest import RATE, make_fsdd, run_example, snapshot, tone, write_int16
from runner import CLASSIFY, cells, run

NAN = re.compile(r"\bnan\b", re.IGNORECASE)
TRAINED = "What the second order buys"  # the functions are defined by then
TAKES = (0, 1, 2, 5, 6, 7)  # 60 test takes, 60 training takes


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """One whole run on 120 tones, one of them silent and one a single
    click, beside a file that is not named like a recording."""
    base = tmp_path_factory.mktemp("datasets")
    recordings = make_fsdd(base, takes=TAKES)
    wavfile.write(recordings / "2_alice_1.wav", RATE, np.zeros(3000, np.int16))
    click = np.zeros(3000, np.int16)
    click[1500] = 20000  # the shortest word there is
    wavfile.write(recordings / "3_alice_1.wav", RATE, click)
    write_int16(recordings / "notes.wav", tone(1))
    before = snapshot(base)
    result = run_example(CLASSIFY, base)
    return result, before, snapshot(base)


def printed(result, pattern):
    """Every match of ``pattern`` in what the run printed, one per line."""
    return re.findall(pattern, result.output, re.M)


def colour_bars(figure):
    return [
        image.colorbar
        for ax in figure.axes
        for image in [*ax.collections, *ax.images]
        if getattr(image, "colorbar", None) is not None
    ]


def test_prints_train_and_test_accuracy_and_no_nan(full_run):
    result, *_ = full_run
    features, y, in_test = (
        result["features"],
        result["y_all"],
        result["in_test"],
    )
    for split, rows in (("TRAIN", ~in_test), ("TEST", in_test)):
        loss, accuracy, _ = result["evaluate"](
            result["model"], features[rows], y[rows]
        )
        line = f"{split}, average loss = {loss:.3f}, accuracy = {accuracy:.3f}"
        assert line in result.output.splitlines()
    # Ten well-separated tones, but two test takes are a silence and a
    # click: anything short of 54 of 60 is a bug.
    assert accuracy >= 0.9
    assert not NAN.search(result.output), result.output


def test_a_silent_recording_and_a_click_give_finite_features(full_run):
    # Catches: a log of zero, or a standard deviation of a single frame.
    result, *_ = full_run
    row = result["names"].index("2_alice_1.wav")
    assert (result["x_all"][row] == 0).all()
    assert torch.isfinite(result["S_all"]).all()
    assert torch.isfinite(result["features"]).all()


def test_a_file_not_named_like_a_recording_is_ignored(full_run):
    result, *_ = full_run
    assert "notes.wav" not in result["names"]
    assert len(result["names"]) == 10 * 2 * len(TAKES)


def test_the_dataset_folder_is_only_read(full_run):
    _, before, after = full_run
    assert before == after


def test_reports_its_device_and_stays_quiet(full_run):
    # Catches: a print per epoch or per batch, or a shape line that no
    # longer says what was computed.
    result, *_ = full_run
    out = result.output
    assert f"Using {result['device'].type} device" in out
    shape = list(result["S_all"].shape)
    assert f"Recordings, coefficients, frames: {shape}" in out
    assert shape == [len(result["names"]), 336, 32]
    speakers = len(set(result["speaker"]))
    assert len(out.splitlines()) <= 8 + speakers, out


def test_the_coefficients_are_76_of_order_1_and_260_of_order_2(full_run):
    result, *_ = full_run
    first = result["first"]
    assert first.sum() == 76 and (~first).sum() == 260
    assert result["n_samples"] // 2 ** result["J"] == 32


def test_summarize_gives_the_halves_means_and_the_deviation(full_run):
    # What the text says, frame by frame, for one recording.
    result, *_ = full_run
    S = result["S_all"][5]
    by_hand = torch.cat([S[:, :16].mean(1), S[:, 16:].mean(1), S.std(1)])
    torch.testing.assert_close(result["summarize"](S[None])[0], by_hand)
    torch.testing.assert_close(
        result["features"], result["summarize"](result["S_all"])
    )


def test_a_word_anywhere_in_the_file_gives_the_same_features(full_run):
    # Silence before or after the word, or a recording longer than the
    # window, must not change what the classifier sees.
    result, *_ = full_run
    x = result["recordings"][result["names"].index("4_bob_2.wav")]
    variants = [x, np.pad(x, (4000, 0)), np.pad(x, (0, 4000)), np.pad(x, 9000)]
    windows = torch.stack([result["window"](v) for v in variants])
    features = result["summarize"](result["log_scattering"](windows))
    for other in features[1:]:
        torch.testing.assert_close(other, features[0], atol=1e-3, rtol=1e-3)


def test_the_player_plays_the_recording_of_the_first_figure(full_run):
    # The gallery and Jupyter show a cell's last value: the player, and
    # nothing else (no stray repr of a figure or an axis).
    result, *_ = full_run
    [player] = result.displayed
    assert isinstance(player, Audio)
    expected = Audio(result["x_all"][0].numpy(), rate=RATE)
    assert player.data == expected.data  # the same samples, as a WAV at 8 kHz


def test_the_transform_figure_reads_on_one_time_axis(full_run):
    # Catches: panels that do not line up in time, an image that stops
    # short of its axis (a white strip), an axis without a unit, a colour
    # without a scale, an order-2 panel whose rates are not the band's.
    result, *_ = full_run
    figure = result.figures[0]
    bars = [bar.ax for bar in colour_bars(figure)]
    wave, *panels = [ax for ax in figure.axes if ax not in bars]
    assert len(panels) == 2 and len(bars) == 2
    assert wave.get_title() == result["names"][0]
    figure.draw_without_rendering()  # the layout, as savefig makes it
    boxes = [ax.get_position() for ax in (wave, *panels)]
    for box in boxes[1:]:
        assert np.isclose(box.x0, boxes[0].x0)
        assert np.isclose(box.x1, boxes[0].x1)
    frame_s = 2 ** result["J"] / RATE
    for ax in (wave, *panels):
        assert ax.get_xlim()[0] == 0
        assert abs(ax.get_xlim()[1] - result["n_samples"] / RATE) < frame_s
    for ax in panels:
        x = ax.collections[0].get_coordinates()[0, :, 0]
        assert x.min() <= ax.get_xlim()[0] and x.max() >= ax.get_xlim()[1]
        assert ax.get_yscale() == "log" and "(Hz)" in ax.get_ylabel()
    assert "(s)" in panels[-1].get_xlabel() and "(peak 1)" in wave.get_ylabel()
    assert [b.get_ylabel() for b in bars] == ["log(S + 1e-6)"] * 2
    hz, first, band = result["hz"], result["first"], result["band"]
    low, high = panels[0].get_ylim()
    assert low <= hz[first, 0].min() and high >= hz[first, 0].max()
    assert f"{band:.0f} Hz" in panels[1].get_title()
    rates = np.sort(panels[1].collections[0].get_coordinates()[:, 0, 1])
    expected = np.sort(hz[~first & (hz[:, 0] == band), 1])
    assert len(expected) >= 3
    assert expected.min() > rates.min() and expected.max() < rates.max()


def test_each_order_line_counts_the_errors_of_its_feature_set(full_run):
    result, *_ = full_run
    lines = printed(result, r"^(.+): (\d+) of (\d+) test takes wrong$")
    assert [name for name, *_ in lines] == ["order 1", "orders 1 and 2"]
    y, in_test = result["y_all"], result["in_test"]
    S, first = result["S_all"], result["first"]
    sets = {"order 1": S[:, first], "orders 1 and 2": S}
    for name, wrong, total in lines:
        X = result["summarize"](sets[name])
        model = result["fit"](X[~in_test], y[~in_test])
        *_, predicted = result["evaluate"](model, X[in_test], y[in_test])
        assert int(wrong) == int((predicted != y[in_test]).sum())
        assert int(total) == int(in_test.sum())


def test_the_confusion_matrices_count_what_was_printed(full_run):
    result, *_ = full_run
    figure = result.figures[-1]
    assert len(result.figures) == 2
    matrices = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title() for ax in matrices] == [
        "new takes of known voices",
        "voices never heard",
    ]
    known, never = (ax.images[0].get_array() for ax in matrices)
    y, in_test = result["y_all"], result["in_test"]
    [test] = printed(result, r"^TEST, .*accuracy = (\d\.\d{3})$")
    assert known.sum() == int(in_test.sum())
    assert np.trace(known) / known.sum() == pytest.approx(
        float(test), abs=5e-4
    )
    # Each recording counted once, predicted by the classifier that never
    # heard its speaker: the diagonal is the sum of the printed scores.
    lines = printed(result, r"^(\w+): accuracy = (\d\.\d{3})$")
    per_speaker = {s: (result["speaker"] == s).sum() for s, _ in lines}
    right = sum(float(a) * per_speaker[s] for s, a in lines)
    assert never.sum() == len(y)
    assert abs(np.trace(never) - right) <= len(lines) * 0.5
    bars = colour_bars(figure)
    assert [bar.ax.get_ylabel() for bar in bars] == ["recordings"] * 2
    for ax in matrices:
        assert ax.get_xlabel() and ax.get_ylabel()


def test_each_voice_is_scored_by_a_classifier_that_never_heard_it(full_run):
    # Catches: a speaker left out or counted twice, a mean that is not the
    # mean of the printed lines, a classifier that trained on the voice.
    result, *_ = full_run
    lines = printed(result, r"^(\w+): accuracy = (\d\.\d{3})$")
    assert [name for name, _ in lines] == sorted(set(result["speaker"]))
    values = [float(a) for _, a in lines]
    [mean] = printed(result, r"^mean over speakers: (\d\.\d{3})$")
    assert float(mean) == pytest.approx(np.mean(values), abs=1e-3)
    features, y = result["features"], result["y_all"]
    for name, accuracy in lines:
        voice = torch.from_numpy(result["speaker"] == name)
        classifier = result["fit"](features[~voice], y[~voice])
        _, found, _ = result["evaluate"](classifier, features[voice], y[voice])
        assert f"{found:.3f}" == accuracy


def test_fit_standardizes_with_the_statistics_of_its_training_features(
    full_run,
):
    # Rescaling and shifting each feature must change nothing: the
    # classifier standardizes with the statistics of what it trains on.
    result, *_ = full_run
    X, y = result["features"], result["y_all"]
    scale, shift = torch.linspace(0.5, 20, X.shape[1]), 7.0
    plain = result["fit"](X, y)
    moved = result["fit"](X * scale + shift, y)
    with torch.no_grad():
        torch.testing.assert_close(
            moved(X * scale + shift), plain(X), atol=1e-3, rtol=1e-3
        )


def test_classify_gives_the_digit_of_a_wav_file(full_run, tmp_path):
    result, *_ = full_run
    [line] = printed(result, r"^(\S+\.wav) is a (\d)$")
    assert line == (result["names"][0], result["names"][0][0])
    path = tmp_path / "7_me_0.wav"  # a recording of one's own, at 16 kHz
    x = resample_poly(tone(7, speaker=0, take=3), 2, 1)
    wavfile.write(
        path, 2 * RATE, (x / np.abs(x).max() * 20000).astype(np.int16)
    )
    assert result["classify"](path, result["model"]) == 7


def training_steps(result, X, y, device, monkeypatch):
    """Run the example's ``fit`` on ``device``; return the generators'
    devices of its ``randperm`` calls and the rows of each training step."""
    draws, seen = [], []
    randperm = torch.randperm

    def recording_randperm(*args, **kwargs):
        draws.append(kwargs["generator"].device.type)
        return randperm(*args, **kwargs)

    class Recording(torch.nn.Linear):
        def forward(self, rows):
            if torch.is_grad_enabled():  # a training step
                assert rows.device.type == device
                seen.append(rows[:, 0].cpu())
            return super().forward(rows)

    with monkeypatch.context() as mp:
        mp.setattr(torch, "randperm", recording_randperm)
        mp.setattr(torch.nn, "Linear", Recording)
        mp.setitem(result.namespace, "device", torch.device(device))
        result["fit"](X.to(device), y.to(device))
    return draws, seen


def test_the_batches_come_from_a_cpu_generator_moved_once_an_epoch(
    full_run, monkeypatch
):
    # A CUDA generator would give a GPU run other mini-batches than a CPU
    # run. Each epoch's order is drawn on the CPU with ``seed`` and moved
    # to the device once; each step takes the next slice of it.
    result, *_ = full_run
    n, epochs = 300, result["n_epochs"]
    X = torch.arange(n, dtype=torch.float32)[:, None].repeat(1, 3)
    y = torch.arange(n) % 10
    shuffle = torch.Generator().manual_seed(result["seed"])
    orders = [torch.randperm(n, generator=shuffle) for _ in range(epochs)]
    expected = [b for o in orders for b in o.split(result["batch_size"])]
    standardized = (X[:, 0] - X[:, 0].mean()) / X[:, 0].std()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        draws, seen = training_steps(result, X, y, device, monkeypatch)
        assert draws == ["cpu"] * epochs, device
        assert len(seen) == len(expected), device
        for got, rows in zip(seen, expected, strict=True):
            torch.testing.assert_close(got, standardized[rows])


def test_adam_receives_the_learning_rate_of_the_setup_cell(fsdd, monkeypatch):
    # The original example defined lr = 1e-4 and never passed it on.
    received = []

    class RecordingAdam(torch.optim.Adam):
        def __init__(self, params, **kwargs):
            super().__init__(params, **kwargs)
            received.append(self.defaults["lr"])

    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    result = run(CLASSIFY, until="Testing", learning_rate=0.0123)
    assert received == [0.0123] * len(result["classifiers"])


def test_loading_labels_split_and_order(fsdd, monkeypatch):
    write_int16(fsdd / "3_carol_7.wav", tone(3, 0, 0, length=12000))
    ramp = np.linspace(0.1, 1.0, 1001)
    write_int16(fsdd / "4_carol_2.wav", ramp)
    # Let the filesystem list files in reverse order: nothing may move.
    listdir = __import__("os").listdir
    monkeypatch.setattr(
        kymatio.datasets.os, "listdir", lambda p: listdir(p)[::-1]
    )
    result = run(CLASSIFY, until="Log-scattering transform")
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
    assert x_all.shape == (202, 2**13) and x_all.dtype == torch.float32
    assert torch.allclose(x_all.abs().amax(dim=1), torch.ones(202))
    # The ramp, whole, its energy's middle at the window's middle.
    row = x_all[names.index("4_carol_2.wav")]
    [sounding] = torch.nonzero(row).T
    assert len(sounding) == 1001
    np.testing.assert_allclose(row[sounding].numpy(), ramp, atol=1e-4)
    energy = torch.cumsum(row.double() ** 2, 0)
    assert abs(int(torch.searchsorted(energy, energy[-1] / 2)) - 4096) <= 1


def test_batches_give_the_features_of_one_scattering_call(fsdd):
    # Catches: a batch dropped, repeated or reordered.
    until = "``meta()`` gives"
    batched = run(CLASSIFY, until=until, scattering_batch=64)
    single = run(CLASSIFY, until=until, scattering_batch=10**6)
    torch.testing.assert_close(batched["S_all"], single["S_all"])


def test_the_seed_sets_the_initialization_and_the_shuffling(fsdd):
    first = run(CLASSIFY, until="Testing")
    again = run(CLASSIFY, until="Testing")
    other = run(CLASSIFY, until="Testing", seed=3)
    X = first["feature_sets"]["orders 1 and 2"]

    def logits(result):
        with torch.no_grad():
            return result["classifiers"]["orders 1 and 2"](X)

    assert torch.equal(logits(first), logits(again))
    assert not torch.equal(logits(first), logits(other))


def test_the_runner_refuses_a_parameter_the_example_does_not_set(fsdd):
    with pytest.raises(ValueError, match="no parameter named \\['lr'\\]"):
        run(CLASSIFY, until="Loading the data", lr=0.1)


def test_structure_as_sphinx_gallery_parses_it():
    blocks = cells(CLASSIFY)
    kind, docstring, _ = blocks[0]
    assert kind == "text"
    title = docstring.strip().splitlines()
    assert title[0] == "Classification of spoken digit recordings"
    assert set(title[1]) == {"="} and len(title[1]) == len(title[0])
    source = CLASSIFY.read_text()
    assert "#####" not in source, "one cell splitter style: '# %%' only"
    # The original example's sections, in its order, and the additions.
    headings = re.findall(r"^# (\w[^\n]*)\n# -+$", source, re.M)
    assert headings == [
        "Preliminaries",
        "Pipeline setup",
        "Loading the data",
        "Log-scattering transform",
        "Training the classifier",
        "What the second order buys",
        "Testing",
        "A voice it has never heard",
        "The confusion matrix",
        "Going further",
    ]
    [last] = [c for k, c, _ in blocks if "ConfusionMatrixDisplay." in c]
    assert "# sphinx_gallery_thumbnail_number = -1" in last
    code = [c for k, c, _ in blocks if k == "code"]
    sizes = [
        sum(1 for line in c.splitlines() if line.strip() and line[0] != "#")
        for c in code
    ]
    assert max(sizes) <= 15, "keep the code cells short"
    # On the rendered page a longer line scrolls sideways.
    assert max(len(line) for c in code for line in c.splitlines()) <= 79
