"""What the examples' text claims, checked on the real FSDD and on the
outside voices; and README.md's tables against the benches that print them.

The second tier (``python -m pytest -m slow``). Skipped, with the reason,
when ``KYMATIO_DATASETS`` does not hold FSDD or ``OUTSIDE_VOICES`` no
outside voices; CI sets ``REQUIRE_REAL_FSDD=1`` so that there these tests
fail rather than skip.

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
from conftest import ROOT, outside_voices, require_real_fsdd, run_example
from pitch import pitches
from runner import CLASSIFY, OWN
from voices import COLUMNS, scores

pytestmark = pytest.mark.slow


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
def own():
    return real_run(OWN, "own_recording")


def printed(result, pattern):
    return re.findall(pattern, result.output, re.M)


def mean(by_voice):
    return float(np.mean(list(by_voice.values())))


# The classification example.


def test_the_official_split(classification):
    assert len(classification["names"]) == 3000
    assert int(classification["in_test"].sum()) == 300


def test_all_or_all_but_one_test_take_is_right(classification):
    # "On every seed we tried, all or all but one of the test takes come
    # out right." SPREAD: 299 or 300 of 300.
    [accuracy] = printed(classification, r"^TEST, .* accuracy = (\S+)$")
    assert float(accuracy) >= 299 / 300


def test_what_the_transform_figure_shows(classification):
    r = classification
    found = np.concatenate([pitches(x, 8000) for x in r["recordings"]])
    low, high = np.percentile(found, [10, 90])  # FSDD's voices' pitch
    meta = r["scattering"].meta()
    sigma = meta["sigma"][meta["order"] > 0, 0] * 8000
    widths = 2 * np.sqrt(2 * np.log(2)) * sigma[r["first"]]
    bands = r["hz"][r["first"], 0]
    # "Below a kilohertz or so, order 1's bands are narrower than the
    # spacing of the voice's harmonics": every band below 1 kHz.
    assert (widths[bands < 1000] < low).all()
    # "For FSDD's voices, pitched below about 200 Hz, the band at 2.4 kHz
    # is wider and holds two harmonics."
    assert high < 200 and widths[bands == r["band"]][0] > high
    # "While the voice sounds, its order 2 is largest at its fastest
    # rates": the two largest, over the frames where the first recording
    # sounds, are the band's two fastest.
    S, hz, rates = r["S_all"][0], r["hz"], r["rates"]
    sounding = r["x_all"][0].reshape(32, -1).abs().amax(1) > 0.1
    energy = S[rates][:, sounding].mean(1).numpy()
    top_two = np.sort(hz[rates, 1][np.argsort(energy)[-2:]])
    assert np.allclose(top_two, np.sort(hz[rates, 1])[-2:]), energy
    # "So the word looks longer than in the waveform."
    first_order = S[r["first"]].mean(0)
    seen = first_order > first_order.min() + 3
    assert seen.sum() > sounding.sum() + 2, (seen.sum(), sounding.sum())


def test_what_the_second_order_buys(classification):
    # "The official split leaves order 1 too few errors to show a gain; on
    # voices never heard order 2 wins four or five recordings in a hundred.
    # With it the classifier has about four times as many features." SPREAD: order 1, 1 error;
    # orders 1 and 2, 0-1; new voices 0.739-0.747 against 0.780-0.792, a
    # gain of 0.035-0.046.
    lines = printed(
        classification,
        r"^(.+), (\d+) features: (\d+) test takes wrong; "
        r"voices never heard, accuracy = (\S+)$",
    )
    (_, n1, wrong1, never1), (_, n2, wrong2, never2) = lines
    assert int(wrong1) <= 3 and int(wrong2) <= 1
    assert 0.03 <= float(never2) - float(never1) <= 0.06
    assert 4 <= int(n2) / int(n1) < 5


def test_order_2s_gain_is_not_its_number_of_features(classification):
    # "Its gain is not their number": order 1 over every frame, with its
    # deviation, about as many features as orders 1 and 2, does no better on
    # voices never heard than order 1 summarized.
    r = classification
    S1 = r["S_all"][:, r["first"]]
    every_frame = torch.cat([S1, S1.std(-1, keepdim=True)], -1).flatten(1)
    assert every_frame.shape[1] > 0.8 * r["features"].shape[1]
    right = r["never_heard"](every_frame, r["y"], r["speaker"]) == r["y"]
    lines = dict(printed(r, r"^(.+?), \d+ features: .* accuracy = (\S+)$"))
    assert right.float().mean() < float(lines["order 1"]) + 0.01
    assert right.float().mean() < float(lines["orders 1 and 2"]) - 0.03


def test_a_voice_never_heard_makes_many_errors_on_a_few_pairs(
    classification,
):
    # "A voice never heard makes many of its errors on a few pairs of
    # digits that share a sound, and the three largest cells are among these
    # four: nine heard as five, seven as six, zero as two, one as nine."
    # Each of the three holds at least four times an even share of the
    # errors. SPREAD: nine as five,
    # seven as six and zero as two on seeds 0-4, one as nine tied third on
    # seed 0 (43 times, as seven as six).
    lines = printed(classification, r"^(\d) heard as (\d): (\d+) times$")
    assert len(lines) == 3
    assert {(a, b) for a, b, _ in lines} <= {
        ("9", "5"),
        ("7", "6"),
        ("0", "2"),
        ("1", "9"),
    }
    r = classification
    wrong = int((r["never"]["orders 1 and 2"] != r["y"]).sum())
    assert min(int(n) for *_, n in lines) >= 4 * wrong / 90, (lines, wrong)


# The "Your own recording" example.


def test_the_higher_voice_is_the_same_picture_moved_up(own):
    # "On the log-frequency axis the higher voice is the same picture
    # moved up": the raised take's order 1 matches the take's best when
    # moved up by the bands 20 % spans (12 log2(1.2), about 3), where
    # the bands are spaced Q an octave.
    S = own["S"][:, : len(own["hz"])]
    as_recorded, raised = S[0], S[1]
    constant_q = own["hz"] > 300
    rows = np.flatnonzero(constant_q)
    kept = rows[rows >= 6]
    match = {
        shift: np.corrcoef(
            raised[kept - shift].ravel(), as_recorded[kept].ravel()
        )[0, 1]
        for shift in range(0, 7)
    }
    assert max(match, key=match.get) == 3, match  # bands run high to low


def test_room_tone_lifts_the_quiet_coefficients_above_the_floor(own):
    # "Room tone lifts the quiet coefficients around the word above the
    # floor that zero-padding leaves in FSDD's takes." Where the take as
    # recorded sits at the floor (about half its order 1), the laptop's
    # second lies above it. SPREAD over the room tone's seeds 0-4: medians
    # 2.3 to 3.1 above the floor's.
    S = own["S"][:, : len(own["hz"])]
    as_recorded, laptop = S[0], S[2]
    quiet = as_recorded < np.log(1e-5)
    assert quiet.float().mean() > 0.3
    assert laptop[quiet].median() > as_recorded[quiet].median() + 1.5


def test_what_each_remedy_wins_back(own):
    # "Standardizing each voice with its own statistics wins back most of
    # what a new voice or room tone costs, but not what a higher voice
    # costs: the warp wins that back. On FSDD's own men it changes little."
    # SPREAD, means over the six voices, plain / own statistics / own
    # statistics + warp:
    # as recorded 0.847-0.857 / 0.943-0.957 / 0.943-0.950; raised
    # 0.450-0.460 / 0.620-0.633 / 0.930-0.943; in a laptop's second
    # 0.420-0.473 / 0.877-0.917 / 0.877-0.913.
    s = {key: mean(by_voice) for key, by_voice in own["scores"].items()}
    for version in ("as recorded", "in a laptop's second"):
        lost = 1 - s[version, "plain"]
        won = s[version, "own statistics"] - s[version, "plain"]
        assert won > lost / 2, (version, s)
    lost = 1 - s["raised by 20 %", "plain"]
    won = s["raised by 20 %", "own statistics"] - s["raised by 20 %", "plain"]
    assert won < lost / 2
    assert s["raised by 20 %", "own statistics + warp"] >= 0.9
    both = s["as recorded", "own statistics + warp"]
    change = both - s["as recorded", "own statistics"]
    assert abs(change) <= 0.02


def test_how_many_recordings_of_your_voice(own):
    # "Ten recordings, one of each digit, give most of the gain and twenty
    # nearly all of it; ten that hold only half the digits give much less."
    # The gain: from the plain classifier to all 50 recordings. SPREAD: 10
    # of each digit 0.799-0.884, 20 0.911-0.924, 10 of five digits
    # 0.691-0.750; the plain classifier 0.57-0.59, all 50 0.92-0.93.
    lines = dict(printed(own, r"^(.+): mean accuracy = (\S+)$"))
    plain = np.mean(
        [mean(v) for (_, m), v in own["scores"].items() if m == "plain"]
    )
    gain = {n: float(lines[n]) - plain for n in own["subsets"]}
    every = gain["all 50"]
    assert gain["10, one of each digit"] > every / 2
    assert gain["20, two of each digit"] > 0.85 * every
    assert (
        gain["10, two of each of five digits"]
        < gain["10, one of each digit"] - 0.05
    )


def test_new_takes_of_fsdds_men_come_out_right_nearly_every_time(
    classification, own
):
    # "New takes of FSDD's six men come out right nearly every time", "a
    # take or two fewer than the classification example's". SPREAD:
    # 0.993-0.997 against 0.997-1.000.
    [accuracy] = printed(own, r"^TEST, .* accuracy = (\S+)$")
    [plain] = printed(classification, r"^TEST, .* accuracy = (\S+)$")
    assert float(accuracy) >= 0.98
    assert -0.002 <= float(plain) - float(accuracy) <= 3 / 300


def test_about_nine_in_ten_with_twenty_recordings(own):
    # "A man's voice never heard, adapted with twenty of its recordings, two
    # of each digit, gets about nine in ten right": the voices never heard,
    # the three versions together. SPREAD: 0.911-0.924.
    [accuracy] = printed(
        own, r"^20, two of each digit: mean accuracy = (\S+)$"
    )
    assert 0.85 <= float(accuracy) <= 0.97


def test_a_folder_of_laptop_recordings_is_classified_as_the_page_expects(
    own,
):
    # The first speaker's 50 test takes in a laptop's second, written to a
    # folder, adapted to and classified file by file. SPREAD: the lowest
    # voice in any version, 0.80-0.86 over seeds 0-4.
    [(right, total)] = printed(own, r"^Your recordings: (\d+) of (\d+) right$")
    assert int(total) == 50
    assert int(right) >= 0.75 * 50


@pytest.fixture(scope="module")
def outside(classification, own):
    """bench/voices.py's scores of the outside voices, from these runs."""
    return scores(outside_voices(), classification, own)


def test_what_to_expect_on_voices_outside_fsdd(outside):
    # "On real recordings of five people outside FSDD, each voice adapted
    # with all of its 40 to 51 recordings, the adapted classifier got about
    # nine in ten right, on three men's untrimmed laptop clips with room
    # tone as on two women's voices; the plain one got about half." The
    # classification example's last section says the same of its own
    # classifier and the adapted one.
    found, *_ = outside
    page, plain = COLUMNS[3], COLUMNS[0]
    assert sorted(row["recordings"] for row in found.values()) == [
        40,
        40,
        49,
        50,
        51,
    ]
    women = [row[page] for s, row in found.items() if s.startswith("agrim")]
    men = [row[page] for s, row in found.items() if not s.startswith("agrim")]
    assert 0.85 <= np.mean(men) <= 0.97 and 0.85 <= np.mean(women) <= 0.97
    assert 0.4 <= np.mean([row[plain] for row in found.values()]) <= 0.6


def test_the_readme_outside_table_is_what_the_voices_bench_prints(outside):
    found, *_ = outside
    text = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| (\w+) \| (.+) \|$", text, re.M))
    for speaker, row in found.items():
        quoted = [float(v) for v in rows[speaker].split(" | ")[-4:]]
        measured = [row[c] for c in COLUMNS]
        np.testing.assert_allclose(
            quoted, measured, atol=2 / row["recordings"]
        )


def readme_table():
    """README.md's table of five-seed means: {row: (first, second)}."""
    text = (ROOT / "README.md").read_text()
    rows = re.findall(
        r"^\| ([^|]+?) \| (\d\.\d{3}) \| (\d\.\d{3}) \|$", text, re.M
    )
    return {row: (float(a), float(b)) for row, a, b in rows}


def test_the_readme_table_is_what_the_accuracy_bench_prints(capsys):
    # Every number of README.md's five-seed table, from bench/accuracy.py
    # run now.
    require_real_fsdd()
    rows = accuracy_table([0, 1, 2, 3, 4], device="cpu")
    printed_table = capsys.readouterr().out
    table = readme_table()
    assert sorted(table) == sorted(README_ROWS)
    for label, columns in README_ROWS.items():
        means = [np.mean([r[c] for r in rows.values()]) for c in columns]
        # A recording either way: another machine's float sums.
        for quoted, measured in zip(table[label], means, strict=True):
            assert abs(quoted - measured) <= 1 / 300 + 5e-4, (
                label,
                printed_table,
            )
