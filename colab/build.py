"""Builds every notebook ``colab/<name>.ipynb`` from its source ``colab/src/<name>.py``.

Usage::

    python colab/build.py           # writes every notebook and README.md's table of notebooks
    python colab/build.py --check   # writes nothing; exit status 1 listing what differs from the sources

A source is a plain Python file in the *percent* format (the one jupytext reads), one cell after
another::

    # %% [markdown]
    # # Title
    #
    # Text of a markdown cell: every line is ``#`` or ``# `` followed by the text.

    # %%
    import tfzoo
    print(tfzoo.list_models())

Blank lines around a cell are dropped; a markdown cell holds only comment lines. Nothing may come
before the first marker, and ``# %%`` followed by anything but `` [markdown]`` is refused (so a
typo does not silently merge two cells).

The generated notebook is the source's cells with two cells added, the same in every notebook:

* first, a markdown cell holding only the "Open in Colab" badge of this notebook;
* after the source's leading markdown cells (its title), :func:`install_cell`: it installs tfzoo
  only where ``import tfzoo`` fails (Colab), from the project URL of ``setup.cfg``
  (``[metadata] url``) or from ``$TFZOO_INSTALL_SOURCE`` (a wheel or any pip requirement), and
  asks for a runtime restart only when pip changed the installed TensorFlow or Keras.

Everything else is fixed, so a notebook is a function of its source: nbformat 4.5, no outputs, no
execution counts, the metadata :data:`METADATA`, and cell ids ``<name>-<index>`` (index = the cell's
position, two digits). ``tests/test_notebooks.py`` checks that the committed notebooks equal what
this script generates.
"""

from __future__ import annotations

import argparse
import configparser
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SOURCES = os.path.join(HERE, "src")
README = os.path.join(REPO, "README.md")
SETUP_CFG = os.path.join(REPO, "setup.cfg")

MARKDOWN_MARKER = "# %% [markdown]"
CODE_MARKER = "# %%"
README_BLOCK = "NOTEBOOKS"
README_ANCHOR = "## Layout"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BRANCH = "main"
PLAIN_FIT_MARK = "# plain model.fit:"   # the only code cells that may call .fit( (tests/test_notebooks.py)
METADATA = {
    "colab": {"provenance": []},
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")   # nbformat 4.5's cell id pattern
_NAME = re.compile(r"^[a-z0-9_]+$")

_INSTALL_TEMPLATE = '''\
# Installs tfzoo where it is not importable (Colab); where it is (a checkout, the tests) this does nothing.
# TFZOO_INSTALL_SOURCE overrides what is installed: a path to a wheel or any pip requirement.
try:
    import tfzoo
except ImportError:
    import os

    def _install_tfzoo(source):
        import importlib
        import importlib.metadata
        import subprocess
        import sys

        def versions():
            found = {}
            for name in ("tensorflow", "keras"):
                try:
                    found[name] = importlib.metadata.version(name)
                except importlib.metadata.PackageNotFoundError:
                    found[name] = None
            return found

        before = versions()
        # No --upgrade or --force-reinstall: a TensorFlow and a Keras within tfzoo's ranges are kept.
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", source])
        importlib.invalidate_caches()
        changed = {name: version for name, version in versions().items() if version != before[name]}
        if changed:
            print("pip installed " + ", ".join(f"{name} {version}" for name, version in changed.items())
                  + ": restart the runtime (Runtime > Restart session), then run the notebook again.")

    _install_tfzoo(os.environ.get("TFZOO_INSTALL_SOURCE", __REQUIREMENT__))
    import tfzoo'''


class SourceError(ValueError):
    """A notebook source that is not in the percent format this script reads."""


# ----------------------------------------------------------------------------------- project
def project_url(setup_cfg: str = SETUP_CFG) -> str:
    """``[metadata] url`` of ``setup.cfg``: the one place the project's address is declared."""
    parser = configparser.ConfigParser(interpolation=None)
    if not parser.read(setup_cfg):
        raise SystemExit(f"cannot read {setup_cfg}")
    url = parser.get("metadata", "url", fallback="").strip().rstrip("/")
    if not url:
        raise SystemExit(f"{setup_cfg} has no [metadata] url; the notebooks' install cell and Colab badges are "
                         "built from it (e.g. url = https://github.com/OWNER/REPO)")
    return url


def github_repository(url: str) -> str:
    """``owner/repo`` of a ``https://github.com/owner/repo`` URL."""
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?", url)
    if not match:
        raise SystemExit(f"the project url {url!r} (setup.cfg) is not https://github.com/OWNER/REPO; "
                         "the Colab badges need a GitHub repository")
    return f"{match.group(1)}/{match.group(2)}"


def colab_url(name: str, url: str) -> str:
    return f"https://colab.research.google.com/github/{github_repository(url)}/blob/{BRANCH}/colab/{name}.ipynb"


def badge(name: str, url: str) -> str:
    """The "Open in Colab" badge of notebook ``name`` (markdown)."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(name, url)})"


def install_cell(url: str) -> str:
    """The first code cell of every notebook (see the module docstring)."""
    return _INSTALL_TEMPLATE.replace("__REQUIREMENT__", repr(f"tfzoo @ git+{url}"))


# ------------------------------------------------------------------------------------ parsing
def _strip_blank(lines: list) -> list:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _cell(kind: str, lines: list, where: str) -> tuple:
    lines = _strip_blank(lines)
    if not lines:
        raise SourceError(f"{where}: empty {kind} cell")
    if kind == "markdown":
        text = []
        for offset, line in enumerate(lines):
            if line.rstrip() == "#":
                text.append("")
            elif line.startswith("# "):
                text.append(line[2:])
            else:
                raise SourceError(f"{where} (+{offset + 1}): a markdown cell holds only '#' or '# text' lines, "
                                  f"got {line!r}")
        return kind, "\n".join(text)
    return kind, "\n".join(lines)


def parse_source(text: str, path: str = "<source>") -> list:
    """The cells ``[(kind, text), ...]`` (kind ``"markdown"`` or ``"code"``) of a percent-format source."""
    cells, kind, lines, start = [], None, [], 0
    for number, line in enumerate(text.splitlines(), 1):
        marker = line.rstrip()
        if marker in (MARKDOWN_MARKER, CODE_MARKER):
            if kind is not None:
                cells.append(_cell(kind, lines, f"{path}:{start}"))
            elif any(previous.strip() for previous in lines):
                raise SourceError(f"{path}:1: text before the first '{CODE_MARKER}' cell marker")
            kind, lines, start = ("markdown" if marker == MARKDOWN_MARKER else "code"), [], number
        elif marker.startswith(CODE_MARKER):
            raise SourceError(f"{path}:{number}: unknown cell marker {marker!r}; use '{CODE_MARKER}' or "
                              f"'{MARKDOWN_MARKER}'")
        else:
            lines.append(line)
    if kind is None:
        raise SourceError(f"{path}: no cells (a cell starts with '{CODE_MARKER}' or '{MARKDOWN_MARKER}')")
    cells.append(_cell(kind, lines, f"{path}:{start}"))
    return cells


def title(cells: list, path: str = "<source>") -> str:
    """The first markdown heading of a source: what the notebook shows (README table)."""
    if not cells or cells[0][0] != "markdown" or not cells[0][1].startswith("# "):
        raise SourceError(f"{path}: the first cell must be markdown starting with a '# Title' heading")
    return cells[0][1].split("\n", 1)[0][2:].strip()


# ----------------------------------------------------------------------------------- building
def cell_id(name: str, index: int) -> str:
    """The stable id of cell ``index`` of notebook ``name`` (nbformat's pattern ``[a-zA-Z0-9-_]{1,64}``)."""
    identifier = re.sub(r"[^a-zA-Z0-9_-]", "-", f"{name}-{index:02d}")
    if not _CELL_ID.match(identifier):
        raise SourceError(f"notebook name {name!r} gives the invalid cell id {identifier!r} (at most 64 characters)")
    return identifier


def notebook_cells(name: str, cells: list, url: str) -> list:
    """``(kind, text)`` of every cell of the notebook: badge, leading markdown, install cell, the rest."""
    leading = next((i for i, (kind, _) in enumerate(cells) if kind == "code"), len(cells))
    return [("markdown", badge(name, url)), *cells[:leading], ("code", install_cell(url)), *cells[leading:]]


def build_notebook(name: str, source_text: str, url: str, path: str = "<source>") -> dict:
    """The notebook (nbformat 4.5 JSON data) of source ``source_text``."""
    if not _NAME.match(name):
        raise SourceError(f"{path}: notebook names are lower-case letters, digits and '_', got {name!r}")
    result = []
    for index, (kind, text) in enumerate(notebook_cells(name, parse_source(source_text, path), url)):
        cell = {"cell_type": kind, "id": cell_id(name, index), "metadata": {},
                "source": text.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        result.append(cell)
    return {"cells": result, "metadata": METADATA, "nbformat": 4, "nbformat_minor": 5}


def render(notebook: dict) -> str:
    """The file text of a notebook, formatted as ``nbformat.write`` does."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def source_names() -> list:
    return sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(SOURCES, "*.py")))


def read_source(name: str) -> str:
    with open(os.path.join(SOURCES, f"{name}.py"), encoding="utf-8") as f:
        return f.read()


def expected_notebooks(url: str | None = None) -> dict:
    """``{name: file text}`` of every notebook, as generated from ``colab/src/``."""
    url = url or project_url()
    return {name: render(build_notebook(name, read_source(name), url, f"colab/src/{name}.py"))
            for name in source_names()}


# ------------------------------------------------------------------------------------- README
def readme_table(url: str | None = None) -> str:
    """The README's table of notebooks: name (link), what it shows (the source's title), badge."""
    url = url or project_url()
    rows = ["| notebook | what it shows | open |", "|---|---|---|"]
    for name in source_names():
        path = f"colab/src/{name}.py"
        shows = title(parse_source(read_source(name), path), path).replace("|", "\\|")
        rows.append(f"| [`{name}`](colab/{name}.ipynb) | {shows} | {badge(name, url)} |")
    return "\n".join(rows)


def with_readme_table(text: str, table: str) -> str:
    """README text with the NOTEBOOKS block holding ``table`` (the block is added before '## Layout')."""
    block = f"<!-- {README_BLOCK} -->\n{table}\n<!-- /{README_BLOCK} -->"
    pattern = re.compile(rf"<!-- {README_BLOCK} -->.*?<!-- /{README_BLOCK} -->", re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    anchor = re.search(rf"^{re.escape(README_ANCHOR)}$", text, re.M)
    if anchor is None:
        raise SystemExit(f"{README} has neither a {README_BLOCK} block nor a '{README_ANCHOR}' line to put it before")
    return text[:anchor.start()] + block + "\n\n" + text[anchor.start():]


# --------------------------------------------------------------------------------------- main
def differences(url: str | None = None) -> list:
    """What differs from the sources: notebooks to (re)write, notebooks without a source, the README table."""
    url = url or project_url()
    problems = []
    for name, text in expected_notebooks(url).items():
        path = os.path.join(HERE, f"{name}.ipynb")
        if not os.path.exists(path):
            problems.append(f"colab/{name}.ipynb is missing (source colab/src/{name}.py)")
        else:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    problems.append(f"colab/{name}.ipynb differs from colab/src/{name}.py")
    problems += orphans()
    with open(README, encoding="utf-8") as f:
        readme = f.read()
    if with_readme_table(readme, readme_table(url)) != readme:
        problems.append(f"README.md's {README_BLOCK} table differs from colab/src/")
    return problems


def orphans() -> list:
    names = set(source_names())
    return [f"colab/{os.path.basename(p)} has no source colab/src/{os.path.basename(p)[:-6]}.py"
            for p in sorted(glob.glob(os.path.join(HERE, "*.ipynb"))) if os.path.basename(p)[:-6] not in names]


def write_all(url: str | None = None) -> list:
    """Writes every notebook that differs and the README table; returns what it wrote."""
    url = url or project_url()
    written = []
    for name, text in expected_notebooks(url).items():
        path = os.path.join(HERE, f"{name}.ipynb")
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            written.append(f"colab/{name}.ipynb")
    with open(README, encoding="utf-8") as f:
        readme = f.read()
    updated = with_readme_table(readme, readme_table(url))
    if updated != readme:
        with open(README, "w", encoding="utf-8") as f:
            f.write(updated)
        written.append("README.md")
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 listing the notebooks that differ from their sources")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = differences()
            for problem in problems:
                print(problem)
            if problems:
                print("run: python colab/build.py", file=sys.stderr)
            return 1 if problems else 0
        written = write_all()
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print("wrote", path)
    for problem in orphans():
        print("warning:", problem, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
