"""The example end to end, and its steps, on a small synthetic FSDD."""

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
TRAINED = "A room's noise"  # the first text cell after the ladder's training
WORD = "+ statistics over the word"  # the ladder's last feature set
TAKES = (0, 1, 2, 5, 6, 7)  # 60 test takes, 60 training takes


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """One whole run on 120 tones, one of them silent and one a single click,
    beside a file that is not a recording."""
    base = tmp_path_factory.mktemp("datasets")
    recordings = make_fsdd(base, takes=TAKES)
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


def printed(result, pattern):
    """Every match of ``pattern`` in what the run printed, one per line."""
    return re.findall(pattern, result.output, re.M)


def test_prints_train_and_test_accuracy_and_no_nan(full_run):
    result, *_ = full_run
    final = result["final"]
    for split, scores in (("TRAIN", final.train), ("TEST", final.test)):
        line = (
            f"{split}, average loss = {scores.loss:.3f}, "
            f"accuracy = {scores.accuracy:.3f}"
        )
        assert line in result.output.splitlines()
    # Ten well-separated tones: anything short of near-perfect is a bug.
    assert final.test.accuracy >= 0.95
    assert not NAN.search(result.output), result.output


def test_a_silent_recording_and_a_click_give_finite_features(full_run):
    # Catches: a log of zero, statistics over the word's frames that divide
    # by zero for a word as short as a click, a half of the word that holds
    # no frame.
    result, *_ = full_run
    row = result["names"].index("2_alice_1.wav")
    assert (result["x_all"][row] == 0).all()
    assert torch.isfinite(result["S_all"]).all()
    assert torch.isfinite(result["features"]).all()
    assert torch.isfinite(result["copies"][0]).all()


def test_a_file_not_named_like_a_recording_is_skipped_with_a_warning(full_run):
    result, messages, *_ = full_run
    assert "notes.wav" not in result["names"]
    assert len(result["names"]) == 10 * 2 * len(TAKES)
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
    shape = list(result["S_all"].shape)
    assert f"Recordings, coefficients, frames: {shape}" in out
    assert shape == [len(result["names"]), 336, 32]
    speakers = len(set(result["speaker"]))
    assert len(out.splitlines()) <= 15 + speakers, out


def test_the_shape_is_76_first_order_and_260_second_order_coefficients(
    full_run,
):
    # What the text says of the printed shape, from kymatio's own meta().
    result, *_ = full_run
    order = result["scattering"].meta()["order"]
    assert (order == 1).sum() == 76 and (order == 2).sum() == 260
    assert result["n_samples"] // 2 ** result["J"] == 32


def test_each_ladder_line_counts_the_errors_of_its_feature_set(full_run):
    result, *_ = full_run
    lines = printed(result, r"^(.+): (\d+) of (\d+) test takes wrong$")
    ladder = result["ladder"]
    assert [name for name, *_ in lines] == list(ladder)
    y_test = result["y_all"][result["in_test"]]
    for name, wrong, total in lines:
        predicted = ladder[name].test.predicted
        assert int(wrong) == int((predicted != y_test).sum())
        assert int(total) == len(y_test)


def test_the_feature_sets_add_one_part_each(full_run):
    # Catches: a set that is not what the text's list says.
    result, *_ = full_run
    S, first = result["S_all"], torch.from_numpy(result["first"])
    sets = result["feature_sets"]
    assert list(sets) == [
        "order 1, time average",
        "orders 1 and 2, time average",
        WORD,
    ]
    torch.testing.assert_close(
        sets["order 1, time average"], S[:, first].mean(-1)
    )
    torch.testing.assert_close(
        sets["orders 1 and 2, time average"], S.mean(-1)
    )
    n = sets[WORD].shape[1]  # the final features hold them at log_eps first
    torch.testing.assert_close(sets[WORD], result["features"][:, :n])


def statistics_by_hand(S, first):
    """The word's statistics of one recording, frame by frame, as the text
    describes them."""
    energy = S[first].mean(0)
    frames = [t for t in range(S.shape[1]) if energy[t] >= energy.max() - 4]
    n = len(frames)
    early, late = frames[: (n + 1) // 2], frames[n // 2 :]
    word = S[:, frames]
    return torch.cat(
        [
            word.mean(1),
            word.std(1, correction=0),
            word.amax(1),
            S[:, early].mean(1),
            S[:, late].mean(1),
        ]
    )


def test_the_word_statistics_are_those_the_text_describes(full_run):
    # Catches: frames outside the word counted in, halves of the window
    # instead of halves of the word, a half that holds no frame.
    result, *_ = full_run
    S, first = result["S_all"], torch.from_numpy(result["first"])
    for name in ("0_alice_0.wav", "3_alice_1.wav", "9_bob_7.wav"):
        row = result["names"].index(name)
        torch.testing.assert_close(
            result["pool"](S[row : row + 1])[0],
            statistics_by_hand(S[row], first),
        )


def test_a_word_anywhere_in_the_window_gives_the_same_features(full_run):
    # Silence before or after the word, or a recording longer than the
    # window, must not change what the classifier sees beyond a frame's
    # worth of rounding.
    result, *_ = full_run
    x = result["recordings"][result["names"].index("4_bob_2.wav")]
    variants = [
        x,
        np.pad(x, (4000, 0)),  # 0.5 s of silence before
        np.pad(x, (0, 4000)),  # 0.5 s after
        np.pad(x, (9000, 3000)),  # a recording longer than the window
    ]
    windows = torch.stack([result["window"](v) for v in variants])
    features = result["pool"](result["log_scattering"](windows))
    for other in features[1:]:
        torch.testing.assert_close(other, features[0], atol=1e-3, rtol=1e-3)


def test_add_noise_puts_the_word_amid_noise_at_the_asked_snr(full_run):
    result, *_ = full_run
    add_noise = result["add_noise"]
    x = result["recordings"][0]
    for exponent in (0, 1, 2):
        rng = np.random.default_rng(0)
        noisy = add_noise(x, 10, rng, exponent, pad=1000)
        assert len(noisy) == len(x) + 2000
        noise = noisy - np.pad(x, 1000)
        snr = 10 * np.log10(np.mean(x**2) / np.mean(noise**2))
        assert snr == pytest.approx(10, abs=1e-6)
        # The colour: the share of the noise's power below 500 Hz grows
        # with the exponent.
        power = np.abs(np.fft.rfft(noise)) ** 2
        low = power[: len(power) * 500 // 4000].sum() / power.sum()
        assert low > {0: 0.08, 1: 0.5, 2: 0.9}[exponent]
        assert low < {0: 0.2, 1: 0.95, 2: 1.0}[exponent]


def test_the_altered_copies_are_clipped_noisy_and_trained_on(full_run):
    # Catches: copies that are the clean recordings, or a final model that
    # never saw them.
    result, *_ = full_run
    x = result["recordings"][0]
    copy = result["altered_copy"](x, np.random.default_rng(0))
    assert len(copy) >= len(x) and not np.allclose(copy[: len(x)], x)
    extra, rows = result["copies"]
    assert len(extra) == len(rows) and 0 < len(rows) < len(result["names"])
    assert not torch.allclose(extra, result["features"][rows])
    y, in_test = result["y_all"], result["in_test"]
    clean_only = result["fit"](result["features"], y, in_test)
    assert not torch.equal(
        clean_only.model.weight, result["final"].model.weight
    )


def test_the_final_features_are_the_statistics_at_two_floors(full_run):
    # Catches: a second floor that is not log(S + noise_floor), features
    # that drop the statistics at log_eps, or copies featurized otherwise.
    result, *_ = full_run
    pool, S = result["pool"], result["S_all"]
    features, noise_floor = result["features"], result["noise_floor"]
    n = pool(S[:1]).shape[1]
    assert features.shape == (len(S), 2 * n)
    torch.testing.assert_close(features[:, :n], pool(S))
    coefficients = S.exp() - result["log_eps"]  # the scattering itself
    at_floor = pool((coefficients + noise_floor).log())
    torch.testing.assert_close(features[:, n:], at_floor, atol=1e-4, rtol=0)
    # A silent recording reads as the floor itself, with no spread.
    silent = features[result["names"].index("2_alice_1.wav"), n:]
    mean, std = silent[: n // 5], silent[n // 5 : 2 * n // 5]
    assert torch.allclose(mean, torch.tensor(np.log(noise_floor)).float())
    assert (std < 1e-3).all()
    extra, rows = result["copies"]
    assert extra.shape[1] == 2 * n


def colour_bars(figure):
    return [
        image.colorbar
        for ax in figure.axes
        for image in [*ax.collections, *ax.images]
        if getattr(image, "colorbar", None) is not None
    ]


def test_the_transform_figure_reads_on_one_time_axis(full_run):
    # Catches: panels that do not line up in time (a colour bar squeezing one
    # of them), an image that stops short of its axis (a white strip), an
    # axis without a unit, a colour without a scale, an order-2 panel whose
    # rates are not the ones kymatio computed for the band in its title.
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
    seconds = result["n_samples"] / RATE
    for ax in (wave, *panels):
        # The whole recording, and nothing past the last frame.
        assert ax.get_xlim()[0] == 0
        assert abs(ax.get_xlim()[1] - seconds) < frame_s
    for ax in panels:
        x = ax.collections[0].get_coordinates()[0, :, 0]
        assert x.min() <= ax.get_xlim()[0] and x.max() >= ax.get_xlim()[1]
        assert ax.get_yscale() == "log" and "(Hz)" in ax.get_ylabel()
    assert "(s)" in panels[-1].get_xlabel()
    assert [b.get_ylabel() for b in bars] == ["log-scattering"] * 2
    hz, first = result["hz"], result["first"]
    low, high = panels[0].get_ylim()
    assert low <= hz[first, 0].min() and high >= hz[first, 0].max()
    band = result["band"]
    assert f"{band:.0f} Hz" in panels[1].get_title()
    rates = np.sort(panels[1].collections[0].get_coordinates()[:, 0, 1])
    expected = np.sort(hz[~first & (hz[:, 0] == band), 1])
    assert len(expected) >= 3
    assert expected.min() > rates.min() and expected.max() < rates.max()


def test_the_noise_figure_sets_each_coefficient_clean_against_noisy(
    full_run,
):
    result, *_ = full_run
    figure = result.figures[1]
    [bar] = colour_bars(figure)
    ax = [a for a in figure.axes if a is not bar.ax][0]
    assert "clean" in ax.get_xlabel() and "20 dB" in ax.get_ylabel()
    assert bar.ax.get_ylabel()
    counts = ax.collections[0].get_array()
    total = np.nansum(np.ma.filled(counts, np.nan))
    assert total == result["tests"]["clean"].numel()


def test_the_snr_figure_draws_the_printed_accuracies(full_run):
    result, *_ = full_run
    [ax] = result.figures[2].axes
    levels = list(result["tests"])
    assert levels == ["clean", "30 dB", "20 dB", "10 dB"]
    lines = printed(
        result, r"^(.+): (\d\.\d{3}), (\d\.\d{3}), (\d\.\d{3}), (\d\.\d{3})$"
    )
    assert [name for name, *_ in lines] == list(result["models"])
    for line, (name, *accuracies) in zip(ax.get_lines(), lines, strict=True):
        assert line.get_label() == name
        assert [t.get_text() for t in ax.get_xticklabels()] == levels
        np.testing.assert_allclose(
            line.get_ydata(), [100 * float(a) for a in accuracies], atol=0.05
        )
    assert "(%)" in ax.get_ylabel()
    # The clean point of the clean-trained pipeline is the ladder's score.
    word = result["ladder"][WORD].test.accuracy
    assert float(lines[0][1]) == pytest.approx(word, abs=5e-4)


def test_the_last_figure_shows_where_each_pipeline_errs(full_run):
    result, *_ = full_run
    figure = result.figures[-1]
    assert len(result.figures) == 4
    matrices = [ax for ax in figure.axes if ax.images]
    assert len(matrices) == 2
    y, in_test = result["y_all"], result["in_test"]
    known = matrices[0].images[0].get_array()
    never = matrices[1].images[0].get_array()
    assert known.sum() == int(in_test.sum())
    assert np.trace(known) == int(
        (result["final"].test.predicted == y[in_test]).sum()
    )
    assert never.sum() == len(y)
    # Each recording counted once, predicted by the model that never heard
    # its speaker: the diagonal is the sum of the printed per-speaker scores.
    accuracies = result["new_voice"]
    per_speaker = {s: (result["speaker"] == s).sum() for s in accuracies}
    right = sum(round(accuracies[s] * per_speaker[s]) for s in accuracies)
    assert np.trace(never) == right
    # A colour scale for each.
    assert len(colour_bars(figure)) == 2


def test_fit_standardizes_with_the_training_rows_only(full_run):
    # Catches: statistics taken over all rows, which would let the held-out
    # rows leak into the features the model is scored on.
    result, *_ = full_run
    features, labels = result["features"], result["y_all"]
    in_test = result["in_test"]
    shifted = features.clone()
    shifted[in_test] += 1000.0  # only the held-out rows move
    before = result["fit"](features, labels, in_test)
    after = result["fit"](shifted, labels, in_test)
    # Training saw exactly the same rows...
    assert torch.equal(before.model.weight, after.model.weight)
    assert before.train.loss == after.train.loss
    assert torch.equal(before.train.predicted, after.train.predicted)
    # ...and the held-out rows, far off, are no longer recognised.
    assert after.test.accuracy < 0.5


def test_the_evaluation_reports_the_final_pipeline_by_name(full_run):
    result, *_ = full_run
    final = result["final"]
    assert final is result["models"]["+ a second floor"][0]
    counts = result.figures[-1].axes[0].images[0].get_array()
    assert np.trace(counts) == round(
        final.test.accuracy * int(result["in_test"].sum())
    )


def test_the_data_stays_on_the_cpu_so_any_mask_indexes_it(full_run):
    # Catches: data on the GPU beside masks on the CPU (or the reverse),
    # which fails at the first ``x_all[in_test]`` a reader types.
    result, *_ = full_run
    for name in ["x_all", "y_all", "in_test", "S_all", "features"]:
        assert result[name].device.type == "cpu", name
    assert result["final"].test.predicted.device.type == "cpu"
    assert next(result["final"].model.parameters()).device.type == (
        result["device"].type
    )
    alice = result["speaker"] == "alice"
    assert len(result["features"][alice]) == len(
        result["x_all"][torch.from_numpy(alice)]
    )


def test_a_new_voice_line_per_speaker_and_their_mean(full_run):
    # Catches: a speaker left out or counted twice, a mean that is not the
    # mean of the printed lines, a score from a model that heard the voice.
    result, *_ = full_run
    lines = printed(result, r"^(\w+): accuracy = (\d\.\d{3})$")
    assert [name for name, _ in lines] == sorted(set(result["speaker"]))
    values = [float(acc) for _, acc in lines]
    assert values == [round(a, 3) for a in result["new_voice"].values()]
    [mean] = printed(result, r"^mean over speakers: (\d\.\d{3})$")
    assert float(mean) == pytest.approx(np.mean(values), abs=1e-3)
    for name, accuracy in result["new_voice"].items():
        held_out = torch.from_numpy(result["speaker"] == name)
        fitted = result["fit"](
            result["features"], result["y_all"], held_out, result["copies"]
        )
        assert fitted.test.accuracy == accuracy


def recorded_batches(monkeypatch, namespace):
    """Patch the example's ``torch.nn.Linear`` so that it records the rows
    each training step sees; returns that list."""
    seen = []

    class Recording(torch.nn.Linear):
        def forward(self, X):
            if torch.is_grad_enabled():  # a training step
                seen.append(X[:, 0].round().long().cpu())
            return super().forward(X)

    monkeypatch.setattr(torch.nn, "Linear", Recording)
    return seen


def test_the_batches_come_from_a_cpu_generator_whatever_the_device(
    full_run, monkeypatch
):
    # A CUDA generator would give a GPU run other mini-batches, and so other
    # numbers than the page quotes. The batches must be those of a CPU
    # generator seeded with ``seed``, on every device this machine has.
    result, *_ = full_run
    n, seed = 300, result["seed"]
    X = torch.arange(n, dtype=torch.float32)[:, None].repeat(1, 3)
    y = torch.arange(n) % 10
    shuffle = torch.Generator().manual_seed(seed)
    expected = [
        batch
        for _ in range(result["n_epochs"])
        for batch in torch.randperm(n, generator=shuffle).split(
            result["batch_size"]
        )
    ]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        seen = recorded_batches(monkeypatch, result.namespace)
        saved = result["device"]
        result.namespace["device"] = torch.device(device)
        try:
            result["train"](X.to(device), y.to(device))
        finally:
            result.namespace["device"] = saved
        assert len(seen) == len(expected), device
        for got, want in zip(seen, expected, strict=True):
            assert torch.equal(got, want), device


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
    assert received == [0.0123] * 3  # one model per feature set


def test_loading_labels_split_and_order(fsdd, monkeypatch):
    write_int16(fsdd / "3_carol_7.wav", tone(3, 0, 0, length=12000))
    ramp = np.linspace(0.1, 1.0, 1001)
    write_int16(fsdd / "4_carol_2.wav", ramp)
    # Let the filesystem list files in reverse order: the result must not move.
    listdir = __import__("os").listdir
    monkeypatch.setattr(
        kymatio.datasets.os, "listdir", lambda p: listdir(p)[::-1]
    )
    result = run(until="Each recording gives")
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
    # Catches: a batch dropped, repeated or reordered, or a batch size that
    # changes the features.
    batched = run(until="What a recording looks like", scattering_batch=64)
    single = run(until="What a recording looks like", scattering_batch=10**6)
    torch.testing.assert_close(batched["S_all"], single["S_all"])


def test_the_seed_sets_the_initialization_and_the_shuffling(fsdd):
    first = run(until=TRAINED)
    again = run(until=TRAINED)
    other = run(until=TRAINED, seed=3)

    def weights(result):
        return [fitted.model.weight for fitted in result["ladder"].values()]

    trios = zip(weights(first), weights(again), weights(other), strict=True)
    for a, b, c in trios:
        assert torch.equal(a, b) and not torch.equal(a, c)


def test_the_runner_scores_the_example_classifier_on_another_split(full_run):
    # A voice it has never heard: train on alice, test on bob.
    result, *_ = full_run
    in_test = result["in_test"].clone()
    bob = torch.from_numpy(result["speaker"] == "bob")
    time_average = result["feature_sets"]["orders 1 and 2, time average"]
    accuracy = score(result, time_average, result["y_all"], bob)
    # Bob's tones sit 3 % higher than alice's, far less than between digits.
    assert accuracy >= 0.9
    assert torch.equal(result["in_test"], in_test)  # the run is left as it was


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
        "A room's noise",
        "A voice it has never heard",
        "Where it errs",
    } <= set(headings)
    # The confusion matrices, the last figure, are the thumbnail.
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
    # Each figure sets its own layout; nothing changes Matplotlib globally.
    assert "rcParams" not in source
