"""Sphinx configuration: a sphinx-gallery page for each example.

The gallery source folder holds links to the examples at the repository
root, so there is a single copy of each. Build with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

sphinx-gallery's defaults already fail the build when an example fails, show
a cell's last value (``capture_repr``: the audio players) and name the output
folder ``auto_examples``; only what differs is set here.
"""

project = "Spoken digit classification with kymatio"
author = "the project's contributors"
copyright = "2026, " + author

extensions = ["sphinx_gallery.gen_gallery"]
# The gallery sources are read by sphinx-gallery, not by Sphinx itself.
exclude_patterns = ["_build", "gallery"]
html_theme = "alabaster"
# Wide enough for the examples' 79-character code lines, which alabaster's
# default 940-pixel page cuts off at about 66.
html_theme_options = {"page_width": "1140px", "sidebar_width": "220px"}

sphinx_gallery_conf = {
    # The default is ../examples.
    "examples_dirs": "gallery",
    # The classification example first, then "Your own recording".
    "within_subsection_order": "ExampleTitleSortKey",
    # Keep "# sphinx_gallery_thumbnail_number" out of the rendered code.
    "remove_config_comments": True,
}
