"""What the examples' text claims, checked on the real FSDD; and README.md's
table against the bench that prints it.

The second tier (``python -m pytest -m slow``). Skipped, with the reason,
when ``KYMATIO_DATASETS`` does not hold FSDD; CI sets ``REQUIRE_REAL_FSDD=1``
so that there these tests fail rather than skip.

The text states only what holds over seeds 0-4 and across machines. Each
claim is checked here as a property of one run (seed 0, on the CPU), with
a bound that every one of the five seeds meets: the ``SPREAD`` notes give
the range ``python bench/accuracy.py`` printed for seeds 0-4.
"""

import re

import numpy as np
import pytest
import torch

from accuracy import README_ROWS, accuracy_table
from conftest import ROOT, require_real_fsdd, run_example
from pitch import pitches
from runner import CLASSIFY, NOISE, run
from selection import (
    REFERENCE,
    choose_summary,
    last_revision_defining,
    summary,
)

pytestmark = pytest.mark.slow

ONE_TAKE = 1 / 300


def real_run(path, name):
    """An example on the real FSDD, on the CPU; its figures and output are
    kept in test-results/ (not tracked), to look at."""
    require_real_fsdd()
    result = run_example(path, device=torch.device("cpu"))
    folder = ROOT / "test-results"
    folder.mkdir(exist_ok=True)
    for n, figure in enumerate(result.figures, 1):
        figure.savefig(folder / f"{name}_figure_{n}.png")
    (folder / f"{name}_output.txt").write_text(result.output)
    return result


@pytest.fixture(scope="module")
def classification():
    return real_run(CLASSIFY, "classification")


@pytest.fixture(scope="module")
def noise():
    return real_run(NOISE, "noise")


def errors(result, name):
    y, in_test = result["y_all"], result["in_test"]
    X = result["feature_sets"][name][in_test]
    *_, predicted = result["evaluate"](
        result["classifiers"][name], X, y[in_test]
    )
    return int((predicted != y[in_test]).sum())


def test_the_official_split(classification):
    assert len(classification["names"]) == 3000
    assert int(classification["in_test"].sum()) == 300


def test_nearly_every_test_take_is_right(classification):
    # "Every test take, or nearly every one, comes out right." SPREAD: all
    # 1.000.
    r = classification
    _, accuracy, _ = r["evaluate"](
        r["model"], r["features"][r["in_test"]], r["y_all"][r["in_test"]]
    )
    assert accuracy >= 0.98


def test_the_second_order_removes_most_of_the_errors(classification):
    # "The second order removes most or all of the errors of order 1
    # alone." SPREAD: order 1, 5-7 errors; orders 1 and 2, none.
    order_1, both = (
        errors(classification, n) for n in classification["classifiers"]
    )
    assert order_1 >= 3 and both < order_1 / 2, (order_1, both)


def test_each_half_of_the_window_holds_part_of_the_word(classification):
    # "As the window is centred on the word's energy, each half holds part
    # of the word": here, of every recording, 40 % to 60 % of its energy.
    energy = classification["x_all"].double() ** 2
    first_half = energy[:, : energy.shape[1] // 2].sum(1) / energy.sum(1)
    assert first_half.min() > 0.4 and first_half.max() < 0.6


def test_order_0_alone_tells_the_digits_apart_no_better_than_chance(
    classification,
):
    # "order 0, the signal's local average, tells the digits apart no
    # better than chance": the example's classifier on its summary of order
    # 0 alone gets at most 15 % of the test takes (one in ten is chance).
    r = classification
    order = r["scattering"].meta()["order"]
    with torch.no_grad():
        S0 = torch.cat(
            [
                r["scattering"](b)[:, order == 0]
                for b in r["x_all"].split(r["scattering_batch"])
            ]
        )
    X, y, in_test = r["summarize"](S0), r["y_all"], r["in_test"]
    classifier = r["fit"](X[~in_test], y[~in_test])
    _, accuracy, _ = r["evaluate"](classifier, X[in_test], y[in_test])
    assert accuracy <= 0.15, accuracy


def test_validation_adopts_the_summary_the_example_computes():
    # bench/selection.py's rule, run now on the 900 validation takes: the
    # simplest summary within the margin of the best, the summary it
    # replaced included, is the one ``summarize`` computes.
    require_real_fsdd()
    if last_revision_defining(REFERENCE) is None:
        pytest.skip(f"the git history holds no example defining {REFERENCE}")
    result = run(CLASSIFY, until="What the second order buys")
    chosen = choose_summary(result, None)
    S = result["S_all"][:5]
    torch.testing.assert_close(result["summarize"](S), summary(S, chosen))


def band_widths(result):
    """The width at half height (Hz) of each first-order band."""
    meta = result["scattering"].meta()
    sigma = meta["sigma"][meta["order"] > 0, 0] * result["sampling_rate"]
    return 2 * np.sqrt(2 * np.log(2)) * sigma[result["first"]]


def test_what_the_transform_figure_shows(classification):
    r = classification
    found = np.concatenate([pitches(x, 8000) for x in r["recordings"]])
    low, high = np.percentile(found, [10, 90])  # FSDD's voices' pitch
    widths, bands = band_widths(r), r["hz"][r["first"], 0]
    # "Below a kilohertz or so its bands are narrower than the spacing of
    # the voice's harmonics, its pitch": every band below 1 kHz.
    assert (widths[bands < 1000] < low).all()
    # "The band at 2.4 kHz is wider."
    assert widths[bands == r["band"]][0] > high
    # "While the voice sounds its second order is largest at its fastest
    # rates": the two largest, over the frames where the first recording
    # sounds, are the band's two fastest.
    S, hz, rates = r["S_all"][0], r["hz"], r["rates"]
    sounding = r["x_all"][0].reshape(32, -1).abs().amax(1) > 0.1
    energy = S[rates][:, sounding].mean(1).numpy()
    top_two = np.sort(hz[rates, 1][np.argsort(energy)[-2:]])
    assert np.allclose(top_two, np.sort(hz[rates, 1])[-2:]), energy
    # "Each frame averages over about a tenth of a second" (two standard
    # deviations of kymatio's low-pass filter), "and the log shows the
    # averages' tails: the word looks longer here than in the waveform."
    sigma = 2 ** r["J"] / (2 * np.pi * r["scattering"].sigma0) / 8000
    assert 0.07 < 2 * sigma < 0.13
    first_order = S[r["first"]].mean(0)
    seen = first_order > first_order.min() + 3
    assert seen.sum() > sounding.sum() + 2, (seen.sum(), sounding.sum())


def test_a_voice_never_heard(classification):
    # "About three recordings in four of a voice it has never heard come
    # out right, some voices far fewer than others." SPREAD: means
    # 0.755-0.763; each seed's best voice 0.32-0.35 above its worst.
    voices = list(classification["new_voice"].values())
    assert 0.70 <= np.mean(voices) <= 0.80
    assert max(voices) - min(voices) >= 0.15


def test_where_the_errors_gather(classification):
    # "On known voices, few errors remain or none. On voices never heard,
    # some digits are mistaken for others far more often than the rest,
    # such as seven heard as six."
    r = classification
    known = (r["known_voices"] != r["y_all"][r["in_test"]]).sum()
    assert known <= 6
    y, predicted = r["y_all"].numpy(), r["never_heard"].numpy()
    matrix = np.zeros((10, 10), int)
    np.add.at(matrix, (y, predicted), 1)
    off = matrix - np.diag(np.diag(matrix))
    top = np.sort(off.ravel())[-3:]
    assert off[7, 6] >= top[0], off
    assert top[0] >= 4 * off.sum() / 90  # four times an even spread


def test_classify_names_the_digit_of_the_first_file(classification):
    [line] = re.findall(r"^(\S+) is a (\d)$", classification.output, re.M)
    assert line == ("0_george_0.wav", "0")


def test_what_noise_does_to_the_coefficients(noise):
    # "On the diagonal, noise left a coefficient as it was; a thin fringe
    # falls below [...]. Above it, the quieter a coefficient, the further
    # noise can lift it: from the floor [...] up to the noise's level, about
    # -5 at most. [...] the summaries shift by more than their spread over
    # the training takes."
    clean, noisy = noise["tests"]["clean"], noise["tests"]["20 dB"]
    lift = noisy - clean
    loud = clean > np.quantile(clean.numpy(), 0.99)
    assert lift[loud].median().abs() < 0.2
    assert 0.002 < (lift < -0.1).float().mean() < 0.05
    edges = [-14, -12, -9, -6, -3]
    medians = [
        lift[(clean >= lo) & (clean < hi)].median().item()
        for lo, hi in zip(edges, edges[1:], strict=False)
    ]
    assert medians == sorted(medians, reverse=True), medians
    risen = noisy[clean < np.log(noise["log_eps"]) + 0.5]
    top = risen.quantile(0.999).item()
    assert -6 < top < -4, top
    summarize = noise["summarize"]
    spread = summarize(noise["S_all"][noise["train"]]).std(0)
    shift = (summarize(noisy) - summarize(clean)).abs() / spread
    assert shift.median() > 1, shift.median()
    # The second floor: "noise at 20 dB lifts quiet ones by less than 2
    # there instead of over 8" (to about 5e-3).
    level, floor = np.exp(top), noise["noise_floor"]
    assert 2e-3 < level < 1e-2, level
    assert np.log(level / noise["log_eps"]) > 8
    assert np.log((level + floor) / floor) < 2


def test_noise_undoes_the_clean_classifier_and_the_remedies_win_it_back(noise):
    # "Trained on clean takes, the classifier loses many test takes at
    # 30 dB and most at 10 dB. The copies win most of them back, and the
    # second floor more, while both keep the clean takes about as well."
    # The classification page's "far fewer in a noisy room" is the first
    # half of this: its classifier is the noise page's clean training.
    # SPREAD: clean training 0.21-0.25 at 10 dB; the copies 0.82-0.88; the
    # second floor 0.88-0.92, above the copies in every seed.
    scores = noise["scores"]
    clean = scores["clean training"]
    copies, final = scores["+ altered copies"], scores["+ a second floor"]
    assert clean["30 dB"] < 0.8 and clean["10 dB"] < 0.5
    lost = clean["clean"] - clean["10 dB"]
    assert copies["10 dB"] - clean["10 dB"] > lost / 2
    assert final["10 dB"] > copies["10 dB"]
    for remedy in (copies, final):
        assert remedy["clean"] >= clean["clean"] - 3 * ONE_TAKE


def test_what_still_fails(noise):
    # "At 10 dB about one test take in ten is still wrong, though the
    # copies trained on noise like it." SPREAD: 0.077 to 0.123 wrong.
    wrong = 1 - noise["scores"]["+ a second floor"]["10 dB"]
    assert 0.05 <= wrong <= 0.15
    low, high = noise["snr_range"]
    assert low <= 10 <= high  # white noise at 10 dB is among the copies'


def readme_table():
    """README.md's table of five-seed means: {row: (first, second)}."""
    text = (ROOT / "README.md").read_text()
    rows = re.findall(
        r"^\| (.+?) \| (\d\.\d{3}) \| (\d\.\d{3}) \|$", text, re.M
    )
    return {row: (float(a), float(b)) for row, a, b in rows}


def test_the_readme_table_is_what_the_accuracy_bench_prints(capsys):
    # Every number of README.md's table, from bench/accuracy.py run now.
    require_real_fsdd()
    rows = accuracy_table([0, 1, 2, 3, 4], device="cpu")
    printed = capsys.readouterr().out
    table = readme_table()
    assert sorted(table) == sorted(README_ROWS)
    for label, columns in README_ROWS.items():
        means = [np.mean([r[c] for r in rows.values()]) for c in columns]
        # One recording of 300 either way: another machine's float sums.
        for quoted, measured in zip(table[label], means, strict=True):
            assert abs(quoted - measured) <= ONE_TAKE + 5e-4, (label, printed)
