"""The classification example end to end, and its steps, on a synthetic FSDD."""

import io
import re
import types

import kymatio.datasets
import numpy as np
import pytest
import soundfile
import torch
import torch.nn.functional as F
from IPython.display import Audio
from scipy.io import wavfile
from scipy.signal import resample_poly

from conftest import RATE, make_fsdd, run_example, snapshot, tone, write_int16
from runner import CLASSIFY, run

NAN = re.compile(r"\bnan\b", re.IGNORECASE)
TAKES = (0, 1, 2, 5, 6, 7)  # 60 test takes, 60 training takes
NOT_RECORDINGS = ("notes.wav", "hello.wav", "7_bob.wav")


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """One whole run on 120 tones, one of them silent and one a single
    click, beside files that are not named like a recording."""
    base = tmp_path_factory.mktemp("datasets")
    recordings = make_fsdd(base, takes=TAKES)
    wavfile.write(recordings / "2_alice_1.wav", RATE, np.zeros(3000, np.int16))
    click = np.zeros(3000, np.int16)
    click[1500] = 20000  # the shortest word there is
    wavfile.write(recordings / "3_alice_1.wav", RATE, click)
    for name in NOT_RECORDINGS:
        write_int16(recordings / name, tone(1))
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
    r, *_ = full_run
    X, y, test = r["features"], r["y"], r["test"]
    for split, rows in (("TRAIN", ~test), ("TEST", test)):
        loss, accuracy, _ = r["evaluate"](r["model"], X[rows], y[rows])
        line = f"{split}, average loss = {loss:.3f}, accuracy = {accuracy:.3f}"
        assert line in r.output.splitlines()
    # Ten well-separated tones, but two test takes are a silence and a
    # click: anything short of 54 of 60 is a bug.
    assert accuracy >= 0.9
    assert not NAN.search(r.output), r.output


def test_a_silent_recording_and_a_click_give_finite_features(full_run):
    # Catches: a log of zero, or a standard deviation of a single frame.
    r, *_ = full_run
    row = r["names"].index("2_alice_1.wav")
    assert (r["x_all"][row] == 0).all()
    assert torch.isfinite(r["S_all"]).all()
    assert torch.isfinite(r["features"]).all()


def test_a_file_not_named_like_a_recording_is_skipped_with_its_name(
    full_run,
):
    r, *_ = full_run
    assert len(r["names"]) == 10 * 2 * len(TAKES)
    skipped = printed(r, r"^Skipped (\S+): not named ")
    assert sorted(skipped) == sorted(NOT_RECORDINGS)


def test_the_dataset_folder_is_only_read(full_run):
    _, before, after = full_run
    assert before == after


def test_reports_its_device_and_stays_quiet(full_run):
    # Catches: a print per epoch or per batch, or a shape line that no
    # longer says what was computed.
    r, *_ = full_run
    assert f"Using {r['device'].type} device" in r.output
    shape = list(r["S_all"].shape)
    assert f"Recordings, coefficients, frames: {shape}" in r.output
    assert shape[0] == len(r["names"])
    assert len(r.output.splitlines()) <= 12 + len(NOT_RECORDINGS), r.output


def test_the_averaging_line_is_the_width_of_kymatios_low_pass_filter(
    full_run,
):
    # The printed width, measured on the filter itself: its impulse
    # response's width at half height.
    r, *_ = full_run
    [(every, width)] = printed(
        r, r"^A frame every (\d\.\d+) s, averaging (\d\.\d+) s$"
    )
    assert float(every) == 2 ** r["J"] / RATE
    response = np.ravel(r["scattering"].phi_f["levels"][0])  # in frequency
    phi = np.fft.fftshift(np.fft.ifft(response).real)
    above = np.flatnonzero(phi >= phi.max() / 2)
    measured = (above[-1] - above[0] + 1) / RATE
    assert abs(float(width) - measured) <= 0.002, measured
    assert float(width) > float(every)  # "averages over more than the time"


def test_summarize_gives_eight_means_and_the_deviation(full_run):
    # What the text says, frame by frame, for one recording.
    r, *_ = full_run
    S = r["S_all"][5]
    by_hand = torch.cat([*(S[:, 4 * k : 4 * k + 4].mean(1) for k in range(8))])
    by_hand = torch.cat([by_hand, S.std(1)])
    torch.testing.assert_close(r["summarize"](S[None])[0], by_hand)


def test_a_word_anywhere_in_the_file_gives_the_same_features(full_run):
    # Silence before or after the word, or a recording longer than the
    # window, must not change what the classifier sees.
    r, *_ = full_run
    x = r["recordings"][r["names"].index("4_bob_2.wav")]
    variants = [x, np.pad(x, (4000, 0)), np.pad(x, (0, 4000)), np.pad(x, 9000)]
    windows = torch.stack([r["window"](v) for v in variants])
    features = r["summarize"](r["log_scattering"](windows, r["scattering"]))
    for other in features[1:]:
        torch.testing.assert_close(other, features[0], atol=1e-3, rtol=1e-3)


def test_the_player_plays_the_recording_of_the_first_figure(full_run):
    # The gallery and Jupyter show a cell's last value: the player, and
    # nothing else (no stray repr of a figure or an axis).
    r, *_ = full_run
    [player] = r.displayed
    assert isinstance(player, Audio)
    expected = Audio(r["x_all"][0].numpy(), rate=RATE)
    assert player.data == expected.data  # the same samples, as a WAV at 8 kHz


def test_the_transform_figure_reads_on_its_own(full_run):
    # Every axis labelled with its unit, every colour with a scale, the
    # images filling their time axis, the order-2 panel the band's rates.
    r, *_ = full_run
    figure = r.figures[0]
    bars = [bar.ax for bar in colour_bars(figure)]
    wave, *panels = [ax for ax in figure.axes if ax not in bars]
    assert len(panels) == 2 and len(bars) == 2
    assert wave.get_title() == r["names"][0]
    assert "(peak 1)" in wave.get_ylabel() and "(s)" in panels[-1].get_xlabel()
    for ax in panels:
        assert ax.get_yscale() == "log" and "(Hz)" in ax.get_ylabel()
        x = ax.collections[0].get_coordinates()[0, :, 0]
        assert x.min() <= ax.get_xlim()[0] and x.max() >= ax.get_xlim()[1]
    assert [b.get_ylabel() for b in bars] == ["log(S + 1e-6)"] * 2
    hz, first, band = r["hz"], r["first"], r["band"]
    assert f"{band:.0f} Hz" in panels[1].get_title()
    rates = np.sort(panels[1].collections[0].get_coordinates()[:, 0, 1])
    expected = np.sort(hz[~first & (hz[:, 0] == band), 1])
    assert expected.min() > rates.min() and expected.max() < rates.max()


def test_each_order_line_counts_its_test_errors_and_its_new_voices(full_run):
    r, *_ = full_run
    lines = printed(
        r,
        r"^(.+), (\d+) features: (\d+) test takes wrong; "
        r"voices never heard, accuracy = (\d\.\d{3})$",
    )
    assert [line[0] for line in lines] == ["order 1", "orders 1 and 2"]
    y, test, speaker = r["y"], r["test"], r["speaker"]
    orders = {
        "order 1": r["S_all"][:, r["first"]],
        "orders 1 and 2": r["S_all"],
    }
    for name, n_features, wrong, never in lines:
        X = r["summarize"](orders[name])
        assert int(n_features) == X.shape[1]
        model = r["fit"](X[~test], y[~test])
        *_, predicted = r["evaluate"](model, X[test], y[test])
        assert int(wrong) == int((predicted != y[test]).sum())
        found = (r["never_heard"](X, y, speaker) == y).float().mean()
        assert f"{found:.3f}" == never


def test_never_heard_predicts_each_voice_with_a_model_without_it(full_run):
    # Catches: a speaker left out or counted twice, or a classifier that
    # trained on the voice it is tested on.
    r, *_ = full_run
    X, y, speaker = r["features"], r["y"], r["speaker"]
    predicted = r["never_heard"](X, y, speaker)
    for voice in np.unique(speaker):
        held = torch.from_numpy(speaker == voice)
        model = r["fit"](X[~held], y[~held])
        expected = r["evaluate"](model, X[held], y[held])[2]
        assert torch.equal(predicted[held], expected)


def test_the_confusion_matrix_and_lines_are_of_voices_never_heard(full_run):
    r, *_ = full_run
    figure = r.figures[-1]
    [never] = [ax.images[0].get_array() for ax in figure.axes if ax.images]
    [accuracy] = printed(
        r, r"^orders 1 and 2, .* voices never heard, accuracy = (\S+)$"
    )
    assert never.sum() == len(r["y_all"])
    assert np.trace(never) / never.sum() == pytest.approx(
        float(accuracy), abs=5e-4
    )
    lines = printed(r, r"^(\d) heard as (\d): (\d+) times$")
    assert len(lines) == 3
    off = np.array(never) * (1 - np.eye(10))
    counts = [int(n) for *_, n in lines]
    assert counts == sorted(np.ravel(off))[::-1][:3]
    for true, heard, count in lines:
        assert off[int(true), int(heard)] == int(count)
    assert [b.ax.get_ylabel() for b in colour_bars(figure)] == ["recordings"]


def test_the_model_is_a_module_whose_state_dict_predicts_alone(full_run):
    # torch.save(model.state_dict()) keeps the standardization: a fresh
    # classifier loaded from it predicts the same logits.
    r, *_ = full_run
    X, model = r["features"], r["model"]
    assert isinstance(model, torch.nn.Module)
    state = model.state_dict()
    assert {"mean", "std"} <= set(state)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    fresh = r["DigitClassifier"](
        torch.zeros(X.shape[1]), torch.ones(X.shape[1])
    )
    fresh.load_state_dict(torch.load(buffer))
    with torch.no_grad():
        torch.testing.assert_close(fresh(X), model(X))
        torch.testing.assert_close(fresh.to("cpu")(X.cpu()), model(X).cpu())


def test_fit_standardizes_with_the_statistics_of_its_training_features(
    full_run,
):
    # Rescaling and shifting each feature must change nothing.
    r, *_ = full_run
    X, y = r["features"], r["y"]
    scale, shift = torch.linspace(0.5, 20, X.shape[1]), 7.0
    plain, moved = r["fit"](X, y), r["fit"](X * scale + shift, y)
    with torch.no_grad():
        torch.testing.assert_close(
            moved(X * scale + shift), plain(X), atol=1e-3, rtol=1e-3
        )


def test_the_functions_take_what_they_use(full_run, tmp_path):
    # A reader copies them into their own code: with no module-level name
    # of the example but the modules they import, they still work.
    r, *_ = full_run
    modules = {
        "np": np,
        "torch": torch,
        "F": F,
        "soundfile": soundfile,
        "resample_poly": resample_poly,
    }
    names = (
        "read",
        "window",
        "log_scattering",
        "summarize",
        "DigitClassifier",
        "fit",
        "evaluate",
        "never_heard",
    )
    copied = dict(modules)
    for name in names:
        f = r[name]
        if isinstance(f, type):
            copied[name] = f
        else:
            copied[name] = types.FunctionType(
                f.__code__, copied, name, f.__defaults__, f.__closure__
            )
    path = tmp_path / "5_me_0.wav"
    write_int16(path, tone(5, take=3), rate=16000)
    x = copied["window"](copied["read"](path))[None]
    S = copied["log_scattering"](x, r["scattering"])
    X = copied["summarize"](S)
    torch.testing.assert_close(
        X, r["summarize"](r["log_scattering"](x, r["scattering"]))
    )
    model = copied["fit"](r["features"], r["y"])
    _, _, found = copied["evaluate"](model, X, torch.tensor([5]))
    assert found.shape == (1,)
    copied["never_heard"](r["features"], r["y"], r["speaker"])


def training_steps(fit, X, y, device, monkeypatch):
    """Run ``fit`` on ``device``; return the generators' devices of its
    ``randperm`` calls and the rows of each training step."""
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
        fit(X.to(device), y.to(device), epochs=3)
    return draws, seen


def test_the_batches_come_from_a_cpu_generator_moved_once_an_epoch(
    full_run, monkeypatch
):
    # A CUDA generator would give a GPU run other mini-batches than a CPU
    # run. Each epoch's order is drawn on the CPU with the seed and moved to
    # the device once; each step takes the next slice of it.
    r, *_ = full_run
    n, epochs, batch = 300, 3, 128
    X = torch.arange(n, dtype=torch.float32)[:, None].repeat(1, 3)
    y = torch.arange(n) % 10
    shuffle = torch.Generator().manual_seed(0)
    orders = [torch.randperm(n, generator=shuffle) for _ in range(epochs)]
    expected = [b for o in orders for b in o.split(batch)]
    standardized = (X[:, 0] - X[:, 0].mean()) / X[:, 0].std()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        draws, seen = training_steps(r["fit"], X, y, device, monkeypatch)
        assert draws == ["cpu"] * epochs, device
        assert len(seen) == len(expected), device
        for got, rows in zip(seen, expected, strict=True):
            torch.testing.assert_close(got, standardized[rows])


def test_adam_receives_the_learning_rate_fit_is_given(full_run, monkeypatch):
    # The original example defined lr = 1e-4 and never passed it on.
    r, *_ = full_run
    received = []

    class RecordingAdam(torch.optim.Adam):
        def __init__(self, params, **kwargs):
            super().__init__(params, **kwargs)
            received.append(self.defaults["lr"])

    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    r["fit"](r["features"], r["y"], lr=0.0123, epochs=1)
    assert received == [0.0123]


def test_the_seed_sets_the_initialization_and_the_shuffling(full_run):
    r, *_ = full_run
    X, y, fit = r["features"], r["y"], r["fit"]
    models = [fit(X, y, epochs=2), fit(X, y, epochs=2), fit(X, y, 3, epochs=2)]
    with torch.no_grad():
        first, again, other = (model(X) for model in models)
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_loading_labels_split_and_order(fsdd, monkeypatch):
    write_int16(fsdd / "3_carol_7.wav", tone(3, 0, 0, length=12000))
    ramp = np.linspace(0.1, 1.0, 1001)
    write_int16(fsdd / "4_carol_2.wav", ramp)
    # Let the filesystem list files in reverse order: nothing may move.
    listdir = __import__("os").listdir
    monkeypatch.setattr(
        kymatio.datasets.os, "listdir", lambda p: listdir(p)[::-1]
    )
    r = run(CLASSIFY, until="Log-scattering transform")
    names = r["names"]
    assert names == sorted(listdir(fsdd)) and len(names) == 202
    for name, label, test in zip(
        names, r["y_all"].tolist(), r["in_test"].tolist(), strict=True
    ):
        digit, _, take = name[:-4].split("_")
        assert label == int(digit) and test == (int(take) < 5)
    x_all = r["x_all"]
    assert x_all.shape == (202, 2**13) and x_all.dtype == torch.float32
    assert torch.allclose(x_all.abs().amax(dim=1), torch.ones(202))
    # The ramp, whole, its energy's middle at the window's middle.
    row = x_all[names.index("4_carol_2.wav")]
    [sounding] = torch.nonzero(row).T
    assert len(sounding) == 1001
    np.testing.assert_allclose(row[sounding].numpy(), ramp, atol=1e-4)
    energy = torch.cumsum(row.double() ** 2, 0)
    assert abs(int(torch.searchsorted(energy, energy[-1] / 2)) - 4096) <= 1


def test_batches_give_the_features_of_one_scattering_call(full_run):
    # Catches: a batch dropped, repeated or reordered.
    r, *_ = full_run
    x = r["x_all"][:70]
    batched = r["log_scattering"](x, r["scattering"], batch_size=16)
    single = r["log_scattering"](x, r["scattering"], batch_size=1000)
    torch.testing.assert_close(batched, single)


def test_the_runner_refuses_a_parameter_the_example_does_not_set(fsdd):
    with pytest.raises(ValueError, match="no parameter named \\['lr'\\]"):
        run(CLASSIFY, until="Loading the data", lr=0.1)
