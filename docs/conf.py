"""Sphinx configuration: a sphinx-gallery page for ``plot_classif_torch.py``.

The gallery source folder holds a link to the example at the repository root,
so there is a single copy of it. Build with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

project = "Spoken digit classification with kymatio"
author = "the project's contributors"
copyright = "2026, " + author

extensions = ["sphinx_gallery.gen_gallery"]
# The gallery sources are read by sphinx-gallery, not by Sphinx itself.
exclude_patterns = ["_build", "gallery"]
html_theme = "alabaster"
# Wide enough for 88-character code lines.
html_theme_options = {"page_width": "1180px", "sidebar_width": "220px"}
html_static_path = []

sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # A failing example fails the build, rather than showing a broken page.
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    # Per-example pass/fail and run time, for whoever wants to read them.
    "junit": "../test-results/sphinx-gallery/junit.xml",
    # The script is the single source: no notebook-only first cell.
    "first_notebook_cell": None,
    "download_all_examples": False,
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
}
