"""The noise example end to end, and its steps, on a synthetic FSDD."""

import ast
import re

import numpy as np
import pytest
import torch
from IPython.display import Audio
from scipy.io import wavfile

from conftest import RATE, make_fsdd, run_example, snapshot
from runner import CLASSIFY, NOISE, cells, run

TAKES = (0, 1, 2, 5, 6, 7, 8, 9)  # 60 test takes, 100 training takes
# The functions and the loading cell that both examples must hold alike.
SHARED = ("fsdd", "read", "window", "x_all", "log_scattering", "summarize")
SHARED += ("fit", "evaluate")


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    base = tmp_path_factory.mktemp("datasets")
    recordings = make_fsdd(base, takes=TAKES)
    wavfile.write(recordings / "2_alice_1.wav", RATE, np.zeros(3000, np.int16))
    return base


@pytest.fixture(scope="module")
def full_run(datasets):
    before = snapshot(datasets)
    result = run_example(NOISE, datasets)
    assert snapshot(datasets) == before, "the dataset folder was written to"
    return result


def printed(result, pattern):
    return re.findall(pattern, result.output, re.M)


def code_cell_binding(path, name):
    """The one code cell of an example that binds ``name``."""
    found = []
    for kind, content, _ in cells(path):
        tree = ast.parse(content) if kind == "code" else ast.Module([], [])
        stored = {
            n.id
            for n in ast.walk(tree)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }
        defined = {getattr(n, "name", None) for n in tree.body}
        if name in stored | defined:
            found.append(content)
    [cell] = found
    return cell


@pytest.mark.parametrize("name", SHARED)
def test_the_shared_cells_are_those_of_the_classification_example(name):
    # Each example runs alone, so the noise example repeats the loading,
    # the transform and the classifier; a fix to one must reach the other.
    noise, classify = (code_cell_binding(p, name) for p in (NOISE, CLASSIFY))
    assert noise.strip() == classify.strip()


def test_the_clean_pipeline_is_the_classification_examples_classifier(
    full_run, datasets, monkeypatch
):
    # The README's "classification example" column in noise is read off
    # this page: the two must be the same classifier.
    monkeypatch.setenv("KYMATIO_DATASETS", str(datasets))
    classification = run(CLASSIFY, until="Testing")
    X = full_run["summarize"](full_run["S_all"])
    with torch.no_grad():
        torch.testing.assert_close(
            full_run["clean"](X),
            classification["classifiers"]["orders 1 and 2"](X),
        )


def test_ends_with_the_final_pipelines_test_line(full_run):
    # The original example's last line, for the final pipeline on the test
    # takes as read from disk.
    r = full_run
    features = r["two_floors"](r["S_all"][r["in_test"]])
    loss, accuracy, _ = r["evaluate"](r["final"], features, r["y_test"])
    line = f"TEST, average loss = {loss:.3f}, accuracy = {accuracy:.3f}"
    assert r.output.splitlines()[-1] == line
    assert not re.search(r"\bnan\b", r.output, re.I)


def test_add_noise_puts_the_word_amid_noise_at_the_asked_snr(full_run):
    add_noise, x = full_run["add_noise"], full_run["recordings"][0]
    for exponent in (0, 1, 2):
        noisy = add_noise(x, 10, np.random.default_rng(0), exponent, pad=1000)
        assert len(noisy) == len(x) + 2000
        noise = noisy - np.pad(x, 1000)
        snr = 10 * np.log10(np.mean(x**2) / np.mean(noise**2))
        assert snr == pytest.approx(10, abs=1e-6)
        # The colour: the share of the power below 500 Hz grows with it.
        power = np.abs(np.fft.rfft(noise)) ** 2
        low = power[: len(power) * 500 // 4000].sum() / power.sum()
        assert {0: 0.08, 1: 0.5, 2: 0.9}[exponent] < low
        assert low < {0: 0.2, 1: 0.95, 2: 1.0}[exponent]


def test_the_player_plays_the_first_recording_at_10_db(full_run):
    r = full_run
    [player] = r.displayed
    assert isinstance(player, Audio)
    # The same draw the example made, from a generator seeded alike.
    rng = np.random.default_rng(r["seed"])
    noisy = r["window"](r["add_noise"](r["recordings"][0], 10, rng))
    assert player.data == Audio(noisy.numpy(), rate=RATE).data


def test_each_training_recording_gets_one_altered_copy(full_run):
    # Catches: copies of test takes (which would leak them into training),
    # copies that are the clean recordings, a final model that never saw
    # them.
    r = full_run
    train = r["train"].numpy()
    assert (r["train_rows"] == np.flatnonzero(train)).all()
    x = r["recordings"][0]
    copy = r["altered_copy"](x, np.random.default_rng(0))
    assert len(copy) >= len(x) and not np.allclose(copy[: len(x)], x)
    assert len(r["S_copies"]) == train.sum()
    assert not torch.allclose(r["S_copies"], r["S_all"][train])
    expected = torch.cat([r["y_all"][train], r["y_all"][train]])
    assert torch.equal(r["y_train"], expected)
    X = torch.cat(
        [r["two_floors"](r["S_all"][train]), r["two_floors"](r["S_copies"])]
    )
    refit = r["fit"](X, expected)
    with torch.no_grad():
        torch.testing.assert_close(r["final"](X), refit(X))


def test_two_floors_are_the_summary_at_log_eps_and_at_noise_floor(full_run):
    r = full_run
    S, summarize = r["S_all"], r["summarize"]
    features = r["two_floors"](S)
    n = summarize(S[:1]).shape[1]
    assert features.shape == (len(S), 2 * n)
    torch.testing.assert_close(features[:, :n], summarize(S))
    coefficients = S.exp() - r["log_eps"]  # the scattering itself
    raised = summarize((coefficients + r["noise_floor"]).log())
    torch.testing.assert_close(features[:, n:], raised, atol=1e-4, rtol=0)
    # A silent recording reads as the second floor itself, with no spread.
    silent = features[r["names"].index("2_alice_1.wav"), n:]
    floor = torch.tensor(np.log(r["noise_floor"])).float()
    assert torch.allclose(silent[: 2 * n // 3], floor)
    assert (silent[2 * n // 3 :] < 1e-3).all()


def test_what_the_second_floor_does_to_quiet_and_loud_coefficients(full_run):
    # The text: below 1e-3 a coefficient reads within 0.7 of log(1e-3);
    # above 1e-2 it barely moves (less than 0.1).
    r = full_run
    log_eps, floor = r["log_eps"], np.log(r["noise_floor"])
    quiet = torch.logspace(-8, -3, 50)
    loud = torch.logspace(-2, 1, 50)
    frames = torch.stack([quiet, loud])[:, :, None].expand(-1, -1, 32)
    second = r["two_floors"]((frames + log_eps).log())
    means = second[:, 150:200]  # first halves' means at the second floor
    assert ((means[0] - floor) >= -1e-4).all() and (
        means[0] - floor < 0.7
    ).all()
    assert ((means[1] - (loud + log_eps).log()).abs() < 0.1).all()


def test_the_histogram_counts_each_coefficient_clean_against_noisy(full_run):
    r = full_run
    figure = r.figures[0]
    [bar] = [image.colorbar for image in figure.axes[0].collections]
    ax = figure.axes[0]
    assert (
        "clean" in ax.get_xlabel() and "white noise 20 dB" in ax.get_ylabel()
    )
    assert bar.ax.get_ylabel()
    counts = np.ma.filled(ax.collections[0].get_array(), np.nan)
    assert np.nansum(counts) == r["tests"]["clean"].numel()


def test_the_snr_figure_draws_the_printed_accuracies(full_run):
    r = full_run
    assert len(r.figures) == 2
    [ax] = r.figures[1].axes
    levels = ["clean", "30 dB", "20 dB", "10 dB"]
    assert list(r["tests"]) == levels
    lines = printed(r, r"^(.+): (\{.*\})$")
    assert [name for name, _ in lines] == list(r["scores"])
    for line, (name, scores) in zip(ax.get_lines(), lines, strict=True):
        scores = ast.literal_eval(scores)
        assert line.get_label() == name and list(scores) == levels
        np.testing.assert_allclose(
            line.get_ydata(), [100 * a for a in scores.values()]
        )
    assert [t.get_text() for t in ax.get_xticklabels()] == levels
    assert "(%)" in ax.get_ylabel() and ax.get_legend() is not None
    # The clean point of the clean pipeline is the classification
    # example's test accuracy, recomputed.
    X = r["summarize"](r["tests"]["clean"])
    _, accuracy, _ = r["evaluate"](r["clean"], X, r["y_test"])
    assert ast.literal_eval(lines[0][1])["clean"] == round(accuracy, 3)
