"""Sphinx configuration: a sphinx-gallery page for ``plot_classif_torch.py``.

The gallery source folder holds a link to the example at the repository root,
so there is a single copy of it. Build with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

sphinx-gallery's defaults already fail the build when the example fails and
name the output folder ``auto_examples``; only what differs is set here.
"""

project = "Spoken digit classification with kymatio"
author = "the project's contributors"
copyright = "2026, " + author

extensions = ["sphinx_gallery.gen_gallery"]
# The gallery sources are read by sphinx-gallery, not by Sphinx itself.
exclude_patterns = ["_build", "gallery"]
html_theme = "alabaster"
# Wide enough for the example's 79-character code lines, which alabaster's
# default 940-pixel page cuts off at about 66.
html_theme_options = {"page_width": "1140px", "sidebar_width": "220px"}

sphinx_gallery_conf = {
    # The default is ../examples.
    "examples_dirs": "gallery",
    # A single example: a zip of all examples would only repeat its download.
    "download_all_examples": False,
    # Keep "# sphinx_gallery_thumbnail_number" out of the rendered code.
    "remove_config_comments": True,
}
