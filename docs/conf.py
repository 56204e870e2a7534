"""Sphinx configuration for the gilfree documentation.

Build with ``python -m sphinx -W --keep-going -b html docs build/docs`` after
``pip install ".[docs]"``.  The API pages are generated from the docstrings of
the *installed* gilfree, so build it first.
"""

from __future__ import annotations

import datetime

import gilfree

project = "gilfree"
author = "gilfree developers"
_year = datetime.date.today().year
copyright = f"2026, {author}" if _year <= 2026 else f"2026-{_year}, {author}"
release = gilfree.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: ::: fences for notes, definition lists, and anchors for headings
# down to ### so that pages can link to each other's sections.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# autodoc + numpydoc: the docstrings are numpydoc; members are listed by
# autosummary tables on the API page, not by numpydoc.
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Links to Python's and NumPy's docs resolve only when their inventories can
# be fetched; without network the references simply stay plain text.
intersphinx_mapping = {}

html_theme = "pydata_sphinx_theme"
html_title = f"gilfree {release}"
html_static_path = ["_static"]
html_theme_options = {
    "github_url": "https://github.com/gilfree/gilfree",
    "navigation_depth": 3,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"changelog": []}
