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
import pytest
from nbclient import NotebookClient
from PIL import Image

from conftest import ROOT, make_fsdd

EXAMPLE = "plot_classif_torch"


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
    env = {**os.environ, "KYMATIO_DATASETS": str(datasets), "MPLBACKEND": "Agg"}
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
    return (
        tmp,
        datasets,
        (tmp / "html" / "auto_examples" / f"{EXAMPLE}.html").read_text(),
    )


def test_gallery_link_is_the_root_example():
    link = ROOT / "docs" / "gallery" / f"{EXAMPLE}.py"
    assert link.is_symlink() and link.resolve() == ROOT / f"{EXAMPLE}.py"


def test_page_shows_output_and_ran(built):
    _, _, html = built
    assert "TEST, average loss" in html
    assert "Using cpu device" in html
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


def test_page_has_both_figures_as_valid_pngs(built):
    tmp, _, html = built
    images = sorted(set(re.findall(rf"sphx_glr_{EXAMPLE}_\d+\.png", html)))
    assert images == [f"sphx_glr_{EXAMPLE}_001.png", f"sphx_glr_{EXAMPLE}_002.png"]
    for name in images:
        with Image.open(tmp / "html" / "_images" / name) as image:
            image.verify()
            assert image.format == "PNG" and min(image.size) > 100


def content_aspect(path):
    with Image.open(path) as image:
        box = Image.eval(image.convert("L"), lambda v: 255 - v).getbbox()
    return (box[2] - box[0]) / (box[3] - box[1])


def test_thumbnail_is_the_confusion_matrix(built):
    tmp, *_ = built
    images = tmp / "html" / "_images"
    thumb = content_aspect(images / f"sphx_glr_{EXAMPLE}_thumb.png")
    matrix = content_aspect(images / f"sphx_glr_{EXAMPLE}_002.png")
    features = content_aspect(images / f"sphx_glr_{EXAMPLE}_001.png")
    assert abs(thumb - matrix) < abs(thumb - features)


def test_page_offers_the_script_and_the_notebook(built):
    tmp, _, html = built
    for suffix in (".py", ".ipynb"):
        [download] = (tmp / "html" / "_downloads").glob(f"*/{EXAMPLE}{suffix}")
        assert download.stat().st_size > 1000
        assert f"{EXAMPLE}{suffix}" in html


def test_notebook_runs_headless(built, monkeypatch):
    tmp, datasets, _ = built
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
        o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
    ]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "TEST, average loss" in text
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2


def test_a_failing_example_breaks_the_build(tmp_path):
    datasets = tmp_path / "datasets"
    make_fsdd(datasets)
    source = (ROOT / f"{EXAMPLE}.py").read_text()
    broken = source.replace(
        "# %%\n# Evaluation\n",
        "# %%\n# Evaluation\n\nraise RuntimeError('deliberately broken')\n\n# %%\n",
        1,
    )
    assert broken != source
    done = build_docs(tmp_path, datasets, broken)
    assert done.returncode != 0
    assert "deliberately broken" in done.stdout + done.stderr
