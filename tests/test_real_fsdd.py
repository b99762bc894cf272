"""The example on the real FSDD, and the numbers its text quotes.

Skipped, with the reason, when ``KYMATIO_DATASETS`` does not hold FSDD; CI sets
``REQUIRE_REAL_FSDD=1`` so that there these tests fail rather than skip.
"""

import re

import numpy as np
import pytest

from accuracy import accuracy_table
from conftest import ROOT, require_real_fsdd
from runner import run

pytestmark = pytest.mark.slow

# One sentence, word for word in the docstring and in README.md.
QUOTE = re.compile(
    r"test\s+accuracy\s+of\s+(\d+\.\d)\s+%\s+with\s+time-averaged\s+features\s+"
    r"alone\s+and\s+(\d+\.\d)\s+%\s+once"
)
# Floating-point kernels differ between CPUs and GPUs, which can flip one
# borderline recording out of the 300: allow that much and no more.
ONE_RECORDING = 1 / 300


@pytest.fixture(scope="module")
def real_run():
    require_real_fsdd()
    return run()


def test_test_accuracy_on_the_official_split(real_run):
    assert len(real_run["names"]) == 3000
    assert int(real_run["in_test"].sum()) == 300
    assert real_run.output.strip().splitlines()[-1].startswith("TEST, ")
    assert real_run["test_acc"] >= 0.98


@pytest.mark.parametrize("document", ["plot_classif_torch.py", "README.md"])
def test_quoted_accuracies_are_the_computed_ones(real_run, document):
    match = QUOTE.search((ROOT / document).read_text())
    assert match, (
        f"{document} does not quote the accuracies in the expected sentence"
    )
    quoted = float(match[1]) / 100, float(match[2]) / 100
    computed = real_run["baseline_acc"], real_run["test_acc"]
    for q, c in zip(quoted, computed, strict=True):
        assert abs(q - c) <= ONE_RECORDING + 0.0005, (
            document,
            quoted,
            computed,
        )


def test_the_confusion_the_text_names_is_the_most_frequent_error(real_run):
    counts = real_run["disp"].confusion_matrix.copy()
    np.fill_diagonal(counts, 0)
    true, predicted = np.unravel_index(counts.argmax(), counts.shape)
    assert (true, predicted) == (0, 3), counts
    text = " ".join((ROOT / "plot_classif_torch.py").read_text().split())
    assert 'mostly a "zero" taken for a "three"' in text.replace("# ", "")


def table_rows(text):
    rows = re.findall(
        r"^\|\s+(\d)\s+\|\s+(\d\.\d{3})\s+\|\s+(\d\.\d{3})\s+\|\s+(\d\.\d{3})\s+\|$",
        text,
        re.M,
    )
    return {int(seed): tuple(map(float, accs)) for seed, *accs in rows}


def test_accuracy_benchmark_over_five_seeds_matches_the_readme():
    require_real_fsdd()
    rows = accuracy_table([0, 1, 2, 3, 4])
    tests = [acc["test"] for acc in rows.values()]
    # The goal: 98 % on average over seeds 0-4, and no seed below 97.5 %.
    assert np.mean(tests) >= 0.98 and min(tests) >= 0.975
    readme = (ROOT / "README.md").read_text()
    quoted = table_rows(readme)
    assert sorted(quoted) == [0, 1, 2, 3, 4]
    for seed, acc in rows.items():
        computed = acc["baseline"], acc["train"], acc["test"]
        for q, c in zip(quoted[seed], computed, strict=True):
            assert abs(q - c) <= ONE_RECORDING + 0.0005, (
                seed,
                computed,
                quoted,
            )
    summary = re.search(
        r"mean_test_accuracy=(\d\.\d{4}) min=(\d\.\d{4})", readme
    )
    assert summary, "README.md lacks the summary line of bench/accuracy.py"
    assert (
        abs(float(summary[1]) - np.mean(tests)) <= ONE_RECORDING / 5 + 0.00005
    )
    assert abs(float(summary[2]) - min(tests)) <= ONE_RECORDING + 0.00005
