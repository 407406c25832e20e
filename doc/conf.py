"""Sphinx configuration of the sknmr documentation.

Build (warnings are errors, the gallery runs)::

    python -m sphinx -W --keep-going -b html doc doc/_build/html

``make -C doc html`` does the same; ``make -C doc html-noplot`` skips
running the gallery (``-D plot_gallery=0``). Environment variables:

- ``SKNMR_DATA_HOME``: folder caching the gallery's simulated echoes
  (default ``~/sknmr_data``); the first example fills it, the others reuse it.
- ``SKNMR_DOC_INTERSPHINX=1``: link to the numpy, scipy, scikit-learn,
  pandas, joblib, skorch and torch docs (needs the network, so it is off by
  default: an unreachable inventory is a warning, hence an error with -W).
"""

import os
import re
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import sknmr  # noqa: E402

project = "sknmr"
author = "the sknmr developers"
copyright = "2026, the sknmr developers"
release = sknmr.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
    # Markdown pages: the study's reports are written once, as Markdown, and
    # included as they are (``{include}`` with ``:relative-images:``).
    "myst_parser",
]

# -- autodoc / autosummary / napoleon ------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_member_order = "groupwise"
autodoc_typehints = "none"  # the numpydoc docstrings already give the types
autoclass_content = "class"  # __init__ holds no docstring of its own
add_module_names = False
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_param = True
# "Attributes" of an estimator are fitted attributes, listed like parameters
# (as ":ivar:") rather than as separate ".. attribute::" entries, which would
# clash with the autodoc entries of properties of the same name.
napoleon_use_ivar = True
napoleon_preprocess_types = False

# -- intersphinx (opt-in: needs the network) -----------------------------------
intersphinx_mapping = {}
if os.environ.get("SKNMR_DOC_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "pandas": ("https://pandas.pydata.org/docs", None),
        "joblib": ("https://joblib.readthedocs.io/en/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
        "skorch": ("https://skorch.readthedocs.io/en/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
        "imblearn": ("https://imbalanced-learn.org/stable", None),
    }

# -- sources --------------------------------------------------------------------
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
    # stored reports: included by their pages, not pages themselves
    "user_guide/full_scale/report/*.md",
]
root_doc = "index"
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
default_role = "literal"  # single backticks in docstrings render as code
nitpicky = False
# sphinx-gallery writes its execution-time page; it is linked from nowhere.
# "ref.python": a bare name in a docstring's type ("shape (n_times,)") that
# several classes define (EchoSimulator.n_times, Experiment.n_times) is an
# ambiguous cross-reference; it is a shape, not a link.
suppress_warnings = ["toc.not_included", "ref.python"]

# -- HTML -----------------------------------------------------------------------
html_theme = "alabaster"
html_theme_options = {
    "description": "Learning electronic spin correlations from NMR spin echoes",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_static_path = []
html_title = f"sknmr {release}"
html_show_sourcelink = False

# -- sphinx-gallery ---------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"/_",
    "abort_on_example_error": True,
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "capture_repr": ("_repr_html_", "__repr__"),
    "min_reported_time": 1,
    # "Examples using X" at the end of each API page
    "doc_module": ("sknmr",),
    "backreferences_dir": "auto_examples/backrefs",
    "reference_url": {"sknmr": None},
}

# Noise from dependencies during the gallery run is not the docs' business.
warnings.filterwarnings("ignore", category=UserWarning, message=".*non-GUI backend.*")
warnings.filterwarnings("ignore", category=FutureWarning, module="skorch")


# -- docstring fixes ----------------------------------------------------------------
# numpydoc types such as "ndarray of shape (n_features_in_,)" name fitted
# attributes, whose trailing underscore reStructuredText reads as a link
# ("Unknown target name"). After napoleon has turned the sections into
# fields, escape such words in the field lines (types and names), outside
# backticks.
_FIELD = re.compile(r"^\s*:(type|vartype|param|ivar|returns?|rtype|raises)\b")
_LITERAL = re.compile(r"(``.*?``|`[^`]*`_{0,2})")
_TRAILING_UNDERSCORE = re.compile(r"(?<![\w\\])([A-Za-z]\w*?[A-Za-z0-9])_(?!\w)")


def _escape_trailing_underscores(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        if not _FIELD.match(line):
            continue
        parts = _LITERAL.split(line)
        for j in range(0, len(parts), 2):  # even parts lie outside backticks
            parts[j] = _TRAILING_UNDERSCORE.sub(r"\1\\_", parts[j])
        lines[i] = "".join(parts)


# "|M(t)|" in a docstring reads as a substitution reference ("Undefined
# substitution"); docstrings use no substitutions, so escape the bars, outside
# backticks and doctest lines.
_SUBSTITUTION = re.compile(r"(?<![\\|\w])\|(\S(?:[^|`]*?\S)?)\|(?![|\w])")


def _escape_bars(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        if line.lstrip().startswith((">>>", "...")):
            continue
        parts = _LITERAL.split(line)
        for j in range(0, len(parts), 2):
            parts[j] = _SUBSTITUTION.sub(r"\\|\1\\|", parts[j])
        lines[i] = "".join(parts)


def _skip_request_methods(app, what, name, obj, skip, options):
    # set_fit_request & co. are generated by scikit-learn's metadata routing;
    # their docstrings point into scikit-learn's own documentation. The user
    # guide (screening) explains routing w instead.
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    # priority > 500: after napoleon has converted the docstring
    app.connect("autodoc-process-docstring", _escape_trailing_underscores, priority=600)
    app.connect("autodoc-process-docstring", _escape_bars, priority=600)
    app.connect("autodoc-skip-member", _skip_request_methods)
