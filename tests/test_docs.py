"""The sphinx-gallery pages and notebooks, built from a fresh copy of the docs.

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

# Each build runs the examples: the second tier (``python -m pytest -m slow``).
pytestmark = pytest.mark.slow

# Each example, its number of figures and the one that is its thumbnail.
EXAMPLES = {"plot_classif_torch": (2, 2), "plot_own_recording": (2, 2)}


def build_docs(tmp, datasets, sources=None):
    """Copy docs/ and the examples to ``tmp`` and build the HTML there;
    ``sources`` replaces the text of some examples, by name."""
    shutil.copytree(
        ROOT / "docs",
        tmp / "docs",
        symlinks=True,
        ignore=shutil.ignore_patterns("_build", "auto_examples", "sg_*"),
    )
    for name in EXAMPLES:
        source = (sources or {}).get(name) or (ROOT / f"{name}.py").read_text()
        (tmp / f"{name}.py").write_text(source)
    env = {
        **os.environ,
        "KYMATIO_DATASETS": str(datasets),
        "MPLBACKEND": "Agg",
    }
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going"]
    command += ["-b", "html", str(tmp / "docs"), str(tmp / "html")]
    return subprocess.run(command, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs")
    datasets = tmp / "datasets"
    make_fsdd(datasets)
    done = build_docs(tmp, datasets)
    assert done.returncode == 0, done.stdout + done.stderr
    pages = {
        name: (tmp / "html" / "auto_examples" / f"{name}.html").read_text()
        for name in EXAMPLES
    }
    return tmp, datasets, pages, done.stdout + done.stderr


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_gallery_link_is_the_root_example(name):
    link = ROOT / "docs" / "gallery" / f"{name}.py"
    assert link.is_symlink() and link.resolve() == ROOT / f"{name}.py"


def test_the_build_executed_both_examples(built):
    *_, log = built
    # sphinx-gallery's own count; fewer would mean it skipped one.
    assert "successfully executed 2 out of 2 files" in log, log


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_page_shows_its_output_and_ran(built, name):
    html = built[2][name]
    assert "TEST, average loss" in html
    assert re.search(r"Using \w+ device", html)
    assert "Traceback" not in html
    seconds = re.search(
        r"Total running time of the script:</strong> \((\d+) minutes "
        r"([\d.]+) seconds\)",
        html,
    )
    assert seconds and 60 * int(seconds[1]) + float(seconds[2]) > 0
    # No stray reprs: a cell's last expression would be echoed as text.
    for stray in ("Generator object", "Text(", "&lt;matplotlib", "&lt;torch"):
        assert stray not in html


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_page_plays_its_recording(built, name):
    # IPython's Audio, rendered by sphinx-gallery's capture_repr: one
    # player, with the WAV data embedded.
    html = built[2][name]
    players = re.findall(r"<audio\b.*?</audio>", html, re.S)
    assert len(players) == 1, players
    assert 'src="data:audio/wav;base64,' in players[0]


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_page_has_its_figures_as_valid_pngs(built, name):
    tmp, _, pages, _ = built
    count, _ = EXAMPLES[name]
    images = sorted(set(re.findall(rf"sphx_glr_{name}_\d+\.png", pages[name])))
    assert images == [
        f"sphx_glr_{name}_{n:03d}.png" for n in range(1, count + 1)
    ]
    for image_name in images:
        with Image.open(tmp / "html" / "_images" / image_name) as image:
            image.verify()
            assert image.format == "PNG" and min(image.size) > 100


def pixels(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=float).ravel()


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_thumbnail_is_its_last_figure(built, name, tmp_path):
    # As sphinx-gallery's own tests do: scale each figure the way the
    # thumbnail is made and compare pixels.
    tmp, *_ = built
    count, thumbnail_figure = EXAMPLES[name]
    images = tmp / "html" / "_images"
    thumbnail = pixels(images / f"sphx_glr_{name}_thumb.png")
    correlation = {}
    for n in range(1, count + 1):
        scaled = tmp_path / f"{n}.png"
        scale_image(images / f"sphx_glr_{name}_{n:03d}.png", scaled, 400, 280)
        correlation[n] = np.corrcoef(thumbnail, pixels(scaled))[0, 1]
    assert correlation.pop(thumbnail_figure) > 0.99, correlation
    assert max(correlation.values()) < 0.9, correlation


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_page_offers_the_script_and_the_notebook(built, name):
    tmp, _, pages, _ = built
    for suffix in (".py", ".ipynb"):
        [download] = (tmp / "html" / "_downloads").glob(f"*/{name}{suffix}")
        assert download.stat().st_size > 1000
        assert f"{name}{suffix}" in pages[name]


def test_the_pages_link_each_other(built):
    _, _, pages, _ = built
    # Through labels the pages define, which resolve in any gallery.
    assert 'href="plot_own_recording.html' in pages["plot_classif_torch"]
    assert 'href="plot_classif_torch.html' in pages["plot_own_recording"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_notebook_runs_headless(built, name, monkeypatch):
    tmp, datasets, *_ = built
    [path] = (tmp / "html" / "_downloads").glob(f"*/{name}.ipynb")
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
    data = [o.get("data", {}) for o in outputs]
    assert sum("image/png" in d for d in data) == EXAMPLES[name][0]
    assert sum("<audio" in d.get("text/html", "") for d in data) == 1


def test_a_failing_example_breaks_the_build(tmp_path):
    datasets = tmp_path / "datasets"
    make_fsdd(datasets)
    source = (ROOT / "plot_own_recording.py").read_text()
    marker = "# %%\n# Warping the voice toward FSDD's\n"
    broken = source.replace(
        marker,
        "# %%\nraise RuntimeError('deliberately broken')\n\n" + marker,
        1,
    )
    assert broken != source
    done = build_docs(tmp_path, datasets, {"plot_own_recording": broken})
    assert done.returncode != 0
    assert "deliberately broken" in done.stdout + done.stderr
