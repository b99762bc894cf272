"""The sphinx-gallery page and notebook, built from a fresh copy of the docs.

Each build starts from a copy in a temporary folder: sphinx-gallery skips an
example whose checksum has not changed, so an in-place rebuild could pass
after a failure.
"""

import os
import re
import shutil
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from PIL import Image
from sphinx_gallery.utils import scale_image

from conftest import ROOT, make_fsdd

# Each build runs the example: the second tier (``python -m pytest -m slow``).
pytestmark = pytest.mark.slow

EXAMPLE = "plot_classif_torch"
# The transform, the digits, the feature sets, the confusion matrix.
FIGURES = (1, 2, 3, 4)


def build_docs(tmp, datasets, example_source=None):
    """Copy docs/ and the example to ``tmp`` and build the HTML there."""
    shutil.copytree(
        ROOT / "docs",
        tmp / "docs",
        symlinks=True,
        ignore=shutil.ignore_patterns("_build", "auto_examples", "sg_*"),
    )
    source = example_source or (ROOT / f"{EXAMPLE}.py").read_text()
    (tmp / f"{EXAMPLE}.py").write_text(source)
    env = {
        **os.environ,
        "KYMATIO_DATASETS": str(datasets),
        "MPLBACKEND": "Agg",
    }
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        "html",
        str(tmp / "docs"),
        str(tmp / "html"),
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs")
    datasets = tmp / "datasets"
    make_fsdd(datasets)
    done = build_docs(tmp, datasets)
    assert done.returncode == 0, done.stdout + done.stderr
    html = (tmp / "html" / "auto_examples" / f"{EXAMPLE}.html").read_text()
    return tmp, datasets, html, done.stdout + done.stderr


def test_gallery_link_is_the_root_example():
    link = ROOT / "docs" / "gallery" / f"{EXAMPLE}.py"
    assert link.is_symlink() and link.resolve() == ROOT / f"{EXAMPLE}.py"


def test_the_build_executed_the_example(built):
    *_, log = built
    # sphinx-gallery's own count; 0 out of 1 would mean it ran nothing.
    assert "successfully executed 1 out of 1 file" in log, log


def test_page_shows_output_and_ran(built):
    _, _, html, _ = built
    assert "TEST, average loss" in html
    assert re.search(r"Using \w+ device", html)
    assert "Traceback" not in html
    seconds = re.search(
        r"Total running time of the script:</strong> \((\d+) minutes ([\d.]+) seconds\)",
        html,
    )
    assert seconds and 60 * int(seconds[1]) + float(seconds[2]) > 0
    # No stray reprs: a cell's last expression would be echoed as text.
    for stray in (
        "Generator object",
        "&lt;torch._C.Generator",
        "Text(",
        "&lt;matplotlib",
    ):
        assert stray not in html


def test_page_has_four_figures_as_valid_pngs(built):
    tmp, _, html, _ = built
    images = sorted(set(re.findall(rf"sphx_glr_{EXAMPLE}_\d+\.png", html)))
    assert images == [f"sphx_glr_{EXAMPLE}_00{n}.png" for n in FIGURES]
    for name in images:
        with Image.open(tmp / "html" / "_images" / name) as image:
            image.verify()
            assert image.format == "PNG" and min(image.size) > 100


def pixels(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=float).ravel()


def test_thumbnail_is_the_confusion_matrix(built, tmp_path):
    # As sphinx-gallery's own tests do: scale each figure the way the
    # thumbnail is made and compare pixels.
    tmp, *_ = built
    images = tmp / "html" / "_images"
    thumbnail = pixels(images / f"sphx_glr_{EXAMPLE}_thumb.png")
    correlation = {}
    for n in FIGURES:
        scaled = tmp_path / f"{n}.png"
        scale_image(images / f"sphx_glr_{EXAMPLE}_00{n}.png", scaled, 400, 280)
        correlation[n] = np.corrcoef(thumbnail, pixels(scaled))[0, 1]
    assert correlation.pop(4) > 0.99, correlation
    assert max(correlation.values()) < 0.9, correlation


def test_page_offers_the_script_and_the_notebook(built):
    tmp, _, html, _ = built
    for suffix in (".py", ".ipynb"):
        [download] = (tmp / "html" / "_downloads").glob(f"*/{EXAMPLE}{suffix}")
        assert download.stat().st_size > 1000
        assert f"{EXAMPLE}{suffix}" in html


def test_notebook_runs_headless(built, monkeypatch):
    tmp, datasets, *_ = built
    [path] = (tmp / "html" / "_downloads").glob(f"*/{EXAMPLE}.ipynb")
    notebook = nbformat.read(path, as_version=4)
    # The kernel inherits this process's environment.
    monkeypatch.setenv("KYMATIO_DATASETS", str(datasets))
    # As in Jupyter: the inline backend, which shows each figure in the page.
    monkeypatch.delenv("MPLBACKEND", raising=False)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp)}},
    )
    client.execute()
    outputs = [
        o
        for cell in notebook.cells
        if cell.cell_type == "code"
        for o in cell.outputs
    ]
    text = "".join(
        o.get("text", "") for o in outputs if o.output_type == "stream"
    )
    assert "TEST, average loss" in text
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == len(
        FIGURES
    )


def test_a_failing_example_breaks_the_build(tmp_path):
    datasets = tmp_path / "datasets"
    make_fsdd(datasets)
    source = (ROOT / f"{EXAMPLE}.py").read_text()
    marker = "# %%\n# A voice it has never heard\n"
    broken = source.replace(
        marker,
        "# %%\nraise RuntimeError('deliberately broken')\n\n" + marker,
        1,
    )
    assert broken != source
    done = build_docs(tmp_path, datasets, broken)
    assert done.returncode != 0
    assert "deliberately broken" in done.stdout + done.stderr
