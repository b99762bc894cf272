"""The example on the real FSDD, and the numbers its text quotes.

Skipped, with the reason, when ``KYMATIO_DATASETS`` does not hold FSDD; CI sets
``REQUIRE_REAL_FSDD=1`` so that there these tests fail rather than skip.
"""

import re

import numpy as np
import pytest
import torch

from accuracy import accuracy_table
from conftest import ROOT, require_real_fsdd
from runner import run
from selection import correct, sign_test
from speakers import leave_one_speaker_out, per_speaker_standardized

pytestmark = pytest.mark.slow

# One sentence of README.md.
QUOTE = re.compile(
    r"The test accuracy rises from (\d+\.\d) % with the first order averaged "
    r"over time to (\d+\.\d) % with orders 1 and 2 averaged over time, and to "
    r"(\d+\.\d) % with the final features, (\d+\.\d) % on average over five "
    r"seeds"
)
# BLAS kernels differ from one CPU to another, which can flip one borderline
# recording out of the 300: allow that much and no more.
ONE_RECORDING = 1 / 300


def words(document):
    """The text of a file with its comment marks and line breaks gone."""
    text = (ROOT / document).read_text().replace("\n# ", "\n")
    return " ".join(text.split())


def quoted(document):
    match = QUOTE.search(words(document))
    assert match, f"{document} does not quote the accuracies as expected"
    return [float(q) / 100 for q in match.groups()]


def close(quoted, computed, recordings=1):
    return abs(quoted - computed) <= recordings * ONE_RECORDING + 0.0005


@pytest.fixture(scope="module")
def real_run():
    """The example on a CPU, where the numbers its text quotes were printed
    (on a GPU, floating-point differences move a recording or two)."""
    require_real_fsdd()
    return run(device=torch.device("cpu"), scattering_batch=64)


def test_test_accuracy_on_the_official_split(real_run):
    assert len(real_run["names"]) == 3000
    assert int(real_run["in_test"].sum()) == 300
    assert real_run.output.strip().splitlines()[-1].startswith("TEST, ")
    assert real_run["test_acc"] >= 0.98


def test_the_readme_quotes_the_accuracies_the_example_prints(real_run):
    ladder = list(real_run.accuracies()["ladder"].values())
    computed = ladder[0], ladder[1], real_run["test_acc"]
    for q, c in zip(quoted("README.md")[:3], computed, strict=True):
        assert close(q, c), (quoted("README.md"), computed)


def test_the_second_order_cuts_the_error_about_threefold(real_run):
    assert (
        "At ``log_eps = 1e-6`` the second order cuts the test error about "
        "threefold" in words("plot_classif_torch.py")
    )
    assert real_run["log_eps"] == 1e-6
    order_1, orders_1_and_2, *_ = real_run.accuracies()["ladder"].values()
    assert 2.5 <= (1 - order_1) / (1 - orders_1_and_2) <= 3.5


def test_the_readme_quotes_the_loss_the_halves_halve(real_run):
    losses = [test[0] for *_, test in real_run["ladder"].values()]
    match = re.search(
        r"halve the test loss, from (\d\.\d{3}) to (\d\.\d{3})",
        words("README.md"),
    )
    assert match, "README.md does not quote the test losses"
    for q, c in zip(map(float, match.groups()), losses[2:], strict=True):
        assert abs(q - c) <= 0.002, (match.groups(), losses)


def test_the_validation_evidence_the_text_quotes(real_run):
    # What bench/selection.py measured for the halves, on the training takes.
    sets = list(real_run["feature_sets"].values())
    before, after = correct(real_run, sets[2]), correct(real_run, sets[3])
    text = words("plot_classif_torch.py")
    match = re.search(
        r"they were right on (\d+) more of the 900 recordings, (\d+) right "
        r"only with them and (\d+) only without \(sign test p = (0\.\d+)\)",
        text,
    )
    assert match, "the text does not quote the validation evidence"
    gain = int(after.sum() - before.sum())
    assert int(match[1]) == gain, (match[1], gain)
    assert sign_test(after, before) == (
        f"right only with it: {match[2]}, only without: {match[3]}, "
        f"p = {match[4]}"
    )


def test_the_confusion_the_text_names_is_the_most_frequent_error(real_run):
    counts = real_run["disp"].confusion_matrix.copy()
    np.fill_diagonal(counts, 0)
    true, predicted = np.unravel_index(counts.argmax(), counts.shape)
    assert (true, predicted) == (0, 3), counts
    text = words("plot_classif_torch.py")
    number = ["no", "one", "two", "three", "four"][counts[0, 3]]
    assert f'the largest count is {number} "zero"s taken for a "three"' in text


def test_the_transform_figure_shows_what_its_text_says(real_run):
    text = words("plot_classif_torch.py")
    rate = 8000
    # "The word lasts from 0.36 s to 0.66 s"
    [sounding] = torch.nonzero(real_run["x_all"][0]).T
    start, stop = sounding[0] / rate, sounding[-1] / rate
    assert "The word lasts from 0.36 s to 0.66 s" in text
    assert (round(float(start), 2), round(float(stop), 2)) == (0.36, 0.66)
    # "the first order shows it from about 0.2 s to 0.8 s": the frames
    # where some band rises clear (by 1) of the floor log(log_eps).
    S, first = real_run["S"], real_run["first"]
    floor = np.log(real_run["log_eps"])
    lit = np.nonzero((S[first] > floor + 1).any(0).numpy())[0]
    times = real_run["times"]
    assert "the first order shows it from about 0.2 s to 0.8 s" in text
    assert abs(times[lit[0]] - 0.2) <= 0.032
    assert abs(times[lit[-1]] - 0.8) <= 0.032
    # "a Gaussian with a standard deviation of about 50 ms": kymatio's
    # low-pass filter has a standard deviation of sigma0 / 2**J cycles per
    # sample in frequency, so 1 / (2 pi sigma) samples in time.
    sigma_t = 2 ** real_run["J"] / (2 * np.pi * real_run["scattering"].sigma0)
    assert "standard deviation of about 50 ms" in text
    assert abs(sigma_t / rate - 0.050) < 0.005
    # "its envelope fluctuates most at the fastest rates measured, 175 and
    # 350 Hz": over the word, voiced throughout, the two largest rows of the
    # band's second order are its two fastest rates.
    hz, rates = real_run["hz"], real_run["rates"]
    word = (times >= float(start)) & (times <= float(stop))
    energy = S[rates][:, word].mean(1).numpy()
    top_two = np.sort(hz[rates, 1][np.argsort(energy)[-2:]])
    assert np.allclose(top_two, np.sort(hz[rates, 1])[-2:]), energy
    assert f"{top_two[0]:.0f} and {top_two[1]:.0f} Hz" in text


def table_rows(text):
    cell = r"\s+\|\s+(\d\.\d{3,4})"
    rows = re.findall(rf"^\|\s+(\d|mean){cell * 5}\s+\|$", text, re.M)
    return {seed: tuple(map(float, accs)) for seed, *accs in rows}


def test_accuracy_benchmark_over_five_seeds_matches_the_texts():
    require_real_fsdd()
    rows = accuracy_table([0, 1, 2, 3, 4], device="cpu")
    computed = {
        str(seed): (*acc["ladder"].values(), acc["train"])
        for seed, acc in rows.items()
    }
    computed["mean"] = tuple(np.mean(list(computed.values()), axis=0))
    readme = (ROOT / "README.md").read_text()
    table = table_rows(readme)
    assert sorted(table) == sorted(computed)
    for seed, accuracies in computed.items():
        allowed = 1 / 5 if seed == "mean" else 1
        for q, c in zip(table[seed], accuracies, strict=True):
            assert close(q, c, allowed), (seed, table[seed], accuracies)
    summary = re.search(
        r"mean_test_accuracy=(\d\.\d{4}) min=(\d\.\d{4}) seeds=5", readme
    )
    assert summary, "README.md lacks the summary line of bench/accuracy.py"
    tests = [acc["test"] for acc in rows.values()]
    assert close(float(summary[1]), np.mean(tests), 1 / 5)
    assert close(float(summary[2]), min(tests))
    # The goal, on the machine that printed the README: a mean of 99.0 % and
    # no seed below 98.3 %.
    assert float(summary[1]) >= 0.990 and float(summary[2]) >= 0.983
    for document in ("plot_classif_torch.py", "README.md"):
        assert close(quoted(document)[3], np.mean(tests), 1 / 5), document
    # "over five seeds they cut the test error from 1.7 % to 1.0 %"
    match = re.search(
        r"over five seeds they cut the test error from (\d\.\d) % to "
        r"(\d\.\d) %",
        words("plot_classif_torch.py"),
    )
    assert match
    errors = [100 * (1 - computed["mean"][i]) for i in (2, 3)]
    for q, c in zip(map(float, match.groups()), errors, strict=True):
        assert abs(q - c) <= 0.05 + 100 * ONE_RECORDING / 5, (match, errors)


def test_the_new_voice_accuracy_the_texts_quote(real_run):
    # Leave one speaker out, with the example's final features: what
    # bench/speakers.py prints last, and what the tutorial and README.md
    # tell a reader to expect.
    names = sorted(set(real_run["speaker"]))
    speakers = torch.tensor([names.index(s) for s in real_run["speaker"]])
    features = real_run["feature_sets"]["+ means over each half"]
    labels = real_run["y_all"].cpu()
    by_speaker = leave_one_speaker_out(
        real_run, features, labels, speakers, speakers.unique()
    )
    mean = np.mean(list(by_speaker.values()))
    text = words("plot_classif_torch.py")
    quote = re.search(
        r"about (\d+) % when each speaker in turn is held out", text
    )
    assert quote and abs(int(quote[1]) / 100 - mean) <= 0.01, (quote, mean)
    readme = (ROOT / "README.md").read_text()
    line = re.search(
        r"speaker_independent_accuracy=(\d\.\d{4}) \(the example\)", readme
    )
    assert line and abs(float(line[1]) - mean) <= 0.002, (line, mean)
    # With each speaker's features standardized by that speaker's own
    # statistics, computed from unlabelled recordings.
    own = per_speaker_standardized(features, speakers.to(features.device))
    by_speaker = leave_one_speaker_out(
        real_run, own, labels, speakers, speakers.unique()
    )
    mean = np.mean(list(by_speaker.values()))
    quote = re.search(r"statistics gives about (\d+) %", text)
    assert quote and abs(int(quote[1]) / 100 - mean) <= 0.01, (quote, mean)
