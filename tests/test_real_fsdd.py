"""The example on the real FSDD, and the numbers its text quotes.

Skipped, with the reason, when ``KYMATIO_DATASETS`` does not hold FSDD; CI sets
``REQUIRE_REAL_FSDD=1`` so that there these tests fail rather than skip.
"""

import os
import re
import subprocess
import sys

import pytest

from conftest import (
    ROOT,
    real_fsdd_dir,
    require_real_fsdd,
    run_example,
    snapshot,
)

pytestmark = pytest.mark.slow

# One sentence, word for word in the docstring and in README.md.
QUOTE = re.compile(
    r"test\s+accuracy\s+of\s+(\d+\.\d)\s+%\s+with\s+time-averaged\s+features\s+"
    r"alone\s+and\s+(\d+\.\d)\s+%\s+once"
)
# BLAS kernels differ between CPUs, which can flip one borderline recording out
# of the 300: allow that much and no more.
ONE_RECORDING = 1 / 300


@pytest.fixture(scope="module")
def real_run():
    require_real_fsdd()
    before = snapshot(real_fsdd_dir())
    namespace, out = run_example()
    return namespace, out, before


def printed_accuracies(out):
    baseline = re.search(r"Time average: .* test accuracy = (\d\.\d{3})", out)
    final = re.search(
        r"^TEST, average loss = \d+\.\d{3}, accuracy = (\d\.\d{3})$", out, re.M
    )
    assert baseline and final, out
    return float(baseline[1]), float(final[1])


def test_test_accuracy_on_the_official_split(real_run):
    namespace, out, _ = real_run
    assert len(namespace["recordings"]) == 3000
    assert int(namespace["in_test"].sum()) == 300
    assert out.strip().splitlines()[-1].startswith("TEST, ")
    assert printed_accuracies(out)[1] >= 0.975


@pytest.mark.parametrize("document", ["plot_classif_torch.py", "README.md"])
def test_quoted_accuracies_are_the_printed_ones(real_run, document):
    _, out, _ = real_run
    match = QUOTE.search((ROOT / document).read_text())
    assert match, f"{document} does not quote the accuracies in the expected sentence"
    quoted = float(match[1]) / 100, float(match[2]) / 100
    for q, printed in zip(quoted, printed_accuracies(out), strict=True):
        assert abs(q - printed) <= ONE_RECORDING + 0.0005, (document, quoted, out)


def test_real_dataset_is_only_read(real_run):
    *_, before = real_run
    assert snapshot(real_fsdd_dir()) == before


def table_rows(text):
    rows = re.findall(
        r"^\|\s+(\d)\s+\|\s+(\d\.\d{3})\s+\|\s+(\d\.\d{3})\s+\|\s+(\d\.\d{3})\s+\|$",
        text,
        re.M,
    )
    return {int(seed): tuple(map(float, accs)) for seed, *accs in rows}


def summary(text):
    match = re.search(
        r"^mean_test_accuracy=(\d\.\d{4}) min=(\d\.\d{4}) seeds=(\d+)$", text, re.M
    )
    assert match, text
    return float(match[1]), float(match[2]), int(match[3])


def test_accuracy_benchmark_over_five_seeds_matches_the_readme():
    require_real_fsdd()
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "accuracy.py")],
        capture_output=True,
        text=True,
        env={**os.environ, "EXAMPLE_SEED": "99"},  # the bench must set its own seeds
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("mean_test_accuracy=")
    mean, lowest, seeds = summary(done.stdout)
    # The goal: 98 % on average over seeds 0-4, and no seed below 97.5 %.
    assert seeds == 5 and mean >= 0.98 and lowest >= 0.975
    readme = (ROOT / "README.md").read_text()
    quoted_mean, quoted_min, quoted_seeds = summary(readme)
    assert quoted_seeds == seeds
    assert abs(quoted_mean - mean) <= ONE_RECORDING / seeds + 0.00005
    assert abs(quoted_min - lowest) <= ONE_RECORDING + 0.00005
    printed, quoted = table_rows(done.stdout), table_rows(readme)
    assert sorted(printed) == sorted(quoted) == [0, 1, 2, 3, 4]
    for seed, accs in printed.items():
        for p, q in zip(accs, quoted[seed], strict=True):
            assert abs(p - q) <= ONE_RECORDING + 0.0005, (seed, accs, quoted[seed])
