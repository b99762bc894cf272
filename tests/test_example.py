"""The example end to end, and its loading step, on a small synthetic FSDD."""

import os
import re

import kymatio.datasets
import numpy as np
import pytest
import torch

from conftest import EXAMPLE, example_cells, make_fsdd, run_example, snapshot, tone

TEST_LINE = re.compile(r"TEST, average loss = (\d+\.\d{3}), accuracy = (\d\.\d{3})")


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("datasets")
    recordings = make_fsdd(base)
    before = snapshot(base)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KYMATIO_DATASETS", str(base))
        namespace, out = run_example()
    return namespace, out, before, snapshot(base), recordings


def test_prints_the_test_line_last_with_high_accuracy(full_run):
    _, out, *_ = full_run
    last = out.strip().splitlines()[-1]
    match = TEST_LINE.fullmatch(last)
    assert match, f"the last printed line is not the TEST line: {last!r}"
    # Ten well-separated tones: anything short of near-perfect is a bug.
    assert float(match[2]) >= 0.95
    assert "nan" not in out.lower()


def test_reports_device_seed_and_progress(full_run):
    _, out, *_ = full_run
    assert "Using cpu device, random seed 0" in out
    progress = re.findall(r"(\d+)/200 recordings, +\d+/s, +\d+ s left", out)
    assert progress and progress[-1] == "200"
    assert len(progress) <= 4, "progress should stay quiet on the gallery page"
    assert len(re.findall(r"^epoch", out, re.M)) == 2 * 5  # every 10th of 50 epochs


def test_draws_feature_image_and_confusion_matrix(full_run):
    namespace, *_ = full_run
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == [1, 2]
    features_ax = plt.figure(1).axes[0]
    assert features_ax.images[0].get_array().shape == (10, 336)
    cm_ax = namespace["disp"].ax_
    assert [t.get_text() for t in cm_ax.get_xticklabels()] == [
        str(d) for d in range(10)
    ]
    assert [t.get_text() for t in cm_ax.get_yticklabels()] == [
        str(d) for d in range(10)
    ]
    counts = namespace["disp"].confusion_matrix
    assert counts.sum() == 100 and counts.trace() >= 95
    cell_text = [t.get_text() for t in cm_ax.texts]
    assert len(cell_text) == 100 and "10" in cell_text


def test_adam_uses_the_learning_rate_defined_in_setup(full_run):
    namespace, *_ = full_run
    # The original example defined lr = 1e-4 and never passed it on.
    source = EXAMPLE.read_text()
    assert "lr=learning_rate" in source
    assert namespace["learning_rate"] == 1e-3


def test_dataset_folder_is_left_untouched(full_run):
    *_, before, after, _ = full_run
    assert before == after


def test_loading_labels_split_padding_and_order(fsdd, monkeypatch):
    # Add a recording longer than T, and one of known content and length.
    T = 2**13
    long_x = tone(3, 0, 0, length=12000)
    from conftest import write_int16

    write_int16(fsdd / "3_carol_7.wav", long_x)
    ramp = np.linspace(0.1, 1.0, 1001)
    write_int16(fsdd / "4_carol_2.wav", ramp)
    # Let the filesystem list files in reverse order: the result must not move.
    listdir = os.listdir
    monkeypatch.setattr(kymatio.datasets.os, "listdir", lambda p: listdir(p)[::-1])

    ns, _ = run_example(until="Log-scattering features")
    names = [name for name, _, _ in ns["recordings"]]
    assert names == sorted(os.listdir(fsdd)) and len(names) == 202
    for (name, digit, take), label, test in zip(
        ns["recordings"], ns["digits"], ns["is_test"], strict=True
    ):
        d, _, t = name[:-4].split("_")
        assert digit == label == int(d) and take == int(t) and test == (int(t) < 5)

    x_all = ns["x_all"]
    assert x_all.shape == (202, T) and torch.isfinite(x_all).all()
    assert torch.allclose(x_all.abs().amax(dim=1), torch.ones(202))
    row = x_all[names.index("4_carol_2.wav")]
    start = (T - 1001) // 2
    assert (row[:start] == 0).all() and (row[start + 1001 :] == 0).all()
    np.testing.assert_allclose(row[start : start + 1001], ramp, atol=1e-4)
    long_row = x_all[names.index("3_carol_7.wav")]
    np.testing.assert_allclose(long_row, long_x[:T] / np.abs(long_x).max(), atol=1e-4)


def test_batched_features_equal_one_scattering_call(fsdd, monkeypatch):
    batched, _ = run_example(until="Training a logistic regression")
    monkeypatch.setenv("EXAMPLE_SCATTERING_BATCH", "100000")
    single, _ = run_example(until="Training a logistic regression")
    assert single["n_workers"] == 1 and len(single["batches"]) == 1
    assert len(batched["batches"]) > 1
    torch.testing.assert_close(batched["log_scattering"], single["log_scattering"])


def test_seed_override(fsdd, monkeypatch):
    default, _ = run_example(until="What the classifier sees")
    monkeypatch.setenv("EXAMPLE_SEED", "3")
    other, out = run_example(until="What the classifier sees")
    assert default["seed"] == 0 and other["seed"] == 3
    assert "random seed 3" in out
    # Same data, another seed: another initialization and shuffling.
    assert not torch.equal(default["baseline"].weight, other["baseline"].weight)


def test_structure_as_sphinx_gallery_parses_it():
    blocks = example_cells()
    kind, docstring, _ = blocks[0]
    assert kind == "text"
    title = docstring.strip().splitlines()
    assert title[0] == "Classification of spoken digit recordings"
    assert set(title[1]) == {"="} and len(title[1]) == len(title[0])
    source = EXAMPLE.read_text()
    assert "#####" not in source, "one cell splitter style: '# %%' only"
    headings = re.findall(r"^# (\w[^\n]*)\n# -+$", source, re.M)
    assert headings[:2] == ["Setup", "Loading the data"]
    assert {"Log-scattering features", "Evaluation", "Confusion matrix"} <= set(
        headings
    )
    assert source.rstrip().endswith("# sphinx_gallery_thumbnail_number = -1")
    code_lengths = [c.count("\n") for k, c, _ in blocks if k == "code"]
    assert max(code_lengths) <= 30, "keep the code cells short"
