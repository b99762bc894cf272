"""The "Your own recording" example end to end, and its steps, on a synthetic
FSDD."""

import ast
import re

import numpy as np
import pytest
import torch
from IPython.display import Audio
from scipy.io import wavfile

from conftest import RATE, make_fsdd, run_example, snapshot, tone, write_int16
from runner import CLASSIFY, OWN

TAKES = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)  # 100 test takes, 100 training takes
# The cells that read, scatter and classify, which both examples hold alike.
SHARED = ("folder", "fix", "fsdd", "read", "window", "names", "missing")
SHARED += ("speaker", "y_all", "in_test", "recordings", "x_all", "scattering")
SHARED += ("log_scattering", "S_all", "summarize", "DigitClassifier", "fit")
SHARED += ("evaluate",)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    base = tmp_path_factory.mktemp("datasets")
    recordings = make_fsdd(base, takes=TAKES)
    wavfile.write(recordings / "2_alice_1.wav", RATE, np.zeros(3000, np.int16))
    return base


@pytest.fixture(scope="module")
def full_run(datasets):
    before = snapshot(datasets)
    result = run_example(OWN, datasets)
    assert snapshot(datasets) == before, "the dataset folder was written to"
    return result


def printed(result, pattern):
    return re.findall(pattern, result.output, re.M)


@torch.no_grad()
def predict(r, model, X, voice):
    """The digits a model adapted to a voice gives features ``X``."""
    return model(r["standardize"](X, voice)).argmax(1)


def statement_binding(path, name):
    """The top-level statement of an example that binds ``name``, as code."""
    found = []
    for stmt in ast.parse(path.read_text()).body:
        stored = {
            n.id
            for n in ast.walk(stmt)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }
        if name in stored or getattr(stmt, "name", None) == name:
            found.append(ast.unparse(stmt))
    [statement] = found
    return statement


@pytest.mark.parametrize("name", SHARED)
def test_the_shared_cells_are_those_of_the_classification_example(name):
    # Each example runs alone, so this one repeats the loading, the
    # transform and the classifier; a fix to one must reach the other.
    own, classify = (statement_binding(p, name) for p in (OWN, CLASSIFY))
    assert own == classify


def test_warp_multiplies_every_frequency_by_its_factor(full_run):
    warp, t = full_run["warp"], np.arange(8000) / RATE
    x = np.sin(2 * np.pi * 1000 * t)
    for factor in (0.8, 0.9, 1.0, 1.2):
        warped = warp(x, factor)
        assert len(warped) == pytest.approx(len(x) / factor, abs=2)
        spectrum = np.abs(np.fft.rfft(warped))
        peak = np.argmax(spectrum) * RATE / len(warped)
        assert peak == pytest.approx(1000 * factor, abs=3)


def test_in_a_second_places_the_word_whole_in_quiet_noise(full_run):
    x = tone(4, 1, 3)  # about half a second
    clip = full_run["in_a_second"](x, np.random.default_rng(0), snr=30)
    assert len(clip) == RATE
    # The word is there, whole, at one place; the rest is noise 30 dB
    # below the clip's power.
    lag = np.argmax(np.correlate(clip, x, "valid"))
    noise = clip.copy()
    noise[lag : lag + len(x)] -= x
    padded = np.pad(x, (lag, RATE - len(x) - lag))
    snr = 10 * np.log10(np.mean(padded**2) / np.mean(noise**2))
    assert snr == pytest.approx(30, abs=0.5)


def test_by_voice_standardizes_each_voice_with_its_own_statistics(full_run):
    r = full_run
    X, speaker = r["features"], r["speaker"]
    Z = r["by_voice"](X, speaker)
    for voice in np.unique(speaker):
        rows = torch.from_numpy(speaker == voice)
        torch.testing.assert_close(Z[rows], r["standardize"](X[rows]))
        varies = X[rows].std(0) > 1e-2
        assert Z[rows][:, varies].mean(0).abs().max() < 1e-3
        torch.testing.assert_close(
            Z[rows][:, varies].std(0), torch.ones(int(varies.sum()))
        )


def test_adapt_keeps_the_factor_the_model_is_surest_of_without_labels(
    full_run,
):
    r = full_run
    voice = r["speaker"][0]
    warped = r["held_out"][voice]["raised by 20 %"]
    model = r["adapted_models"][voice]
    found = r["adapt"](model, warped)
    with torch.no_grad():
        confidence = {
            f: model(r["standardize"](X)).softmax(1).amax(1).mean().item()
            for f, X in warped.items()
        }
    assert found["factor"] == max(confidence, key=confidence.get)
    X = warped[found["factor"]]
    torch.testing.assert_close(found["mean"], X.mean(0))
    torch.testing.assert_close(found["std"], X.std(0))
    # Standardized with the voice's statistics, the features at that factor
    # are standardized with their own.
    torch.testing.assert_close(r["standardize"](X, found), r["standardize"](X))


def test_each_score_is_a_model_that_never_heard_the_voice(full_run):
    # Catches: a held-out voice in the training set, or a remedy scored on
    # another version of the voice than its name says.
    r = full_run
    y, train, speaker = r["y"], r["train"], r["speaker"]
    for voice, by_version in r["held_out"].items():
        rows = train & (speaker != voice)
        model = r["fit"](
            r["by_voice"](r["features"][rows], speaker[rows]), y[rows]
        )
        with torch.no_grad():
            torch.testing.assert_close(
                model(r["features"]), r["adapted_models"][voice](r["features"])
            )
        mine = ~train & (speaker == voice)
        for version, warped in by_version.items():
            found = r["adapt"](model, warped)
            right = (
                predict(r, model, warped[found["factor"]], found) == y[mine]
            )
            assert (
                r["scores"][version, "own statistics + warp"][voice]
                == right.float().mean().item()
            )


def test_the_printed_means_are_those_of_the_bars(full_run):
    r = full_run
    lines = printed(
        r,
        r"^(.+), (plain|own statistics|own statistics \+ warp): mean accuracy = (\d\.\d{3})$",
    )
    assert len(lines) == 9
    bars_figure = r.figures[-1]
    axes = [ax for ax in bars_figure.axes if ax.patches]
    assert [ax.get_title() for ax in axes] == list(r["versions"])
    for version, remedy, mean in lines:
        assert np.mean(
            list(r["scores"][version, remedy].values())
        ) == pytest.approx(float(mean), abs=5e-4)
    for ax in axes:
        heights = [p.get_height() for p in ax.patches]
        version = ax.get_title()
        expected = [
            100 * r["scores"][version, m][v]
            for m in ("plain", "own statistics", "own statistics + warp")
            for v in r["held_out"]
        ]
        np.testing.assert_allclose(heights, expected)
        assert ax.get_ylim() == (0, 100)
    assert "(%)" in axes[0].get_ylabel()


def test_the_first_figure_shows_the_three_versions_of_one_take(full_run):
    r = full_run
    figure = r.figures[0]
    bars = {
        c.colorbar.ax
        for ax in figure.axes
        for c in ax.collections
        if c.colorbar
    }
    panels = [ax for ax in figure.axes if ax not in bars]
    assert [ax.get_title() for ax in panels] == list(r["versions"])
    for ax in panels:
        assert "(s)" in ax.get_xlabel() and ax.get_yscale() == "log"
    assert "(Hz)" in panels[0].get_ylabel()
    [bar] = bars
    assert "log(S" in bar.get_ylabel()


def test_the_player_plays_the_laptops_version_of_the_first_take(full_run):
    r = full_run
    [player] = r.displayed
    assert isinstance(player, Audio)
    clip = r["first_take"]["in a laptop's second"]
    assert player.data == Audio(clip, rate=RATE).data
    assert len(clip) == RATE


def test_each_subset_line_adapts_on_that_subset_alone(full_run):
    # Recomputed here: the statistics and the factor from the subset's
    # recordings only, the accuracy over all the voice's test takes.
    r = full_run
    lines = dict(
        printed(r, r"^(\d+, [^:]+|all 50): mean accuracy = (\d\.\d{3})$")
    )
    assert list(lines) == list(r["subsets"])
    y, train, speaker = r["y"], r["train"], r["speaker"]
    for name, chosen in r["subsets"].items():
        found = []
        for voice, by_version in r["held_out"].items():
            mine = ~train & (speaker == voice)
            rows = torch.from_numpy(chosen[mine])
            if name.startswith("10"):
                assert int(rows.sum()) == 10
            for warped in by_version.values():
                model = r["adapted_models"][voice]
                v = r["adapt"](model, {f: X[rows] for f, X in warped.items()})
                right = predict(r, model, warped[v["factor"]], v) == y[mine]
                found.append(right.float().mean().item())
        assert f"{np.mean(found):.3f}" == lines[name]


def test_ends_with_the_test_line_and_classifies_a_folder(full_run):
    r = full_run
    [test] = printed(
        r, r"^TEST, average loss = \d+\.\d{3}, accuracy = (\d\.\d{3})$"
    )
    assert float(test) >= 0.9  # well-separated tones
    [(right, total)] = printed(r, r"^Your recordings: (\d+) of (\d+) right$")
    mine = ~r["train"] & (r["speaker"] == r["speaker"][0])
    names = [r["names"][i] for i in np.flatnonzero(mine)]
    assert sorted(r["found"]) == names and int(total) == len(names)
    said = [int(name[0]) for name in r["found"]]
    assert int(right) == sum(np.array(list(r["found"].values())) == said) > 0
    assert {"factor", "mean", "std"} <= set(r["your_voice"])
    assert not re.search(r"\bnan\b", r.output, re.I)


def test_classify_takes_a_recording_of_ones_own_by_its_path(
    full_run, tmp_path
):
    r = full_run
    path = tmp_path / "7_me_0.wav"  # at 16 kHz
    write_int16(path, tone(7, speaker=0, take=3), rate=16000)
    voice = r["adapt"](
        r["model"], r["held_out"][r["speaker"][0]]["as recorded"]
    )
    assert r["classify"](path, r["model"], voice, r["scattering"]) == 7


def test_classify_folder_reads_wav_files_of_any_case_and_nothing_else(
    full_run, tmp_path
):
    r = full_run
    for n, digit in enumerate([3, 7, 3, 7]):
        name = f"take{n}.WAV" if n % 2 else f"take{n}.wav"
        write_int16(tmp_path / name, tone(digit, speaker=1, take=n))
    (tmp_path / "notes.txt").write_text("not a recording")
    voice, found = r["classify_folder"](tmp_path, r["model"], r["scattering"])
    assert sorted(found) == [
        "take0.wav",
        "take1.WAV",
        "take2.wav",
        "take3.WAV",
    ]
    assert set(found.values()) <= set(range(10))
    assert np.isfinite(voice["std"].numpy()).all()


@pytest.mark.parametrize("n_files", [0, 1])
def test_classify_folder_with_too_few_recordings_names_the_folder(
    full_run, tmp_path, n_files
):
    r = full_run
    for n in range(n_files):
        write_int16(tmp_path / f"{n}_me_0.wav", tone(n))
    with pytest.raises(ValueError, match=re.escape(str(tmp_path))):
        r["classify_folder"](tmp_path, r["model"], r["scattering"])
