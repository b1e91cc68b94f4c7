"""The notebooks in ``colab/``: generated from their sources, and executed at a reduced size.

* every ``colab/<name>.ipynb`` is what ``colab/build.py`` generates from ``colab/src/<name>.py``
  (and README.md's table of notebooks is up to date): checked in-process, nothing executed;
* every notebook opens with its "Open in Colab" badge and the shared install cell, with stable ids;
* notebooks train presets with ``tfzoo.train`` (into an explicit run directory); ``.fit(`` is
  called only in the cells marked ``# plain model.fit: ...``, at most one per notebook;
* every notebook runs top to bottom with ``TFZOO_NOTEBOOK_SMOKE=1``.
"""

import ast
import glob
import importlib.util
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(REPO, "colab", "*.ipynb")))


def _load_build():
    spec = importlib.util.spec_from_file_location("colab_build", os.path.join(REPO, "colab", "build.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()
NAMES = build.source_names()


def _cells(name):
    return build.parse_source(build.read_source(name), f"colab/src/{name}.py")


# ------------------------------------------------------------------------------ one source
def test_every_notebook_has_a_source_and_every_source_a_notebook():
    assert NAMES, "no sources in colab/src/"
    assert sorted(os.path.basename(p)[:-6] for p in NOTEBOOKS) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_equals_what_its_source_generates(name):
    expected = build.render(build.build_notebook(name, build.read_source(name), build.project_url()))
    with open(os.path.join(REPO, "colab", f"{name}.ipynb"), encoding="utf-8") as f:
        assert f.read() == expected, f"colab/{name}.ipynb is out of date: run python colab/build.py"


def test_readme_table_of_notebooks_is_up_to_date():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert "<!-- NOTEBOOKS -->" in readme
    assert build.with_readme_table(readme, build.readme_table()) == readme, "run python colab/build.py"
    assert readme.index("<!-- /NOTEBOOKS -->") < readme.index("\n## Layout")
    for name in NAMES:
        assert build.colab_url(name, build.project_url()) in readme


def test_check_mode_reports_nothing_for_the_committed_notebooks():
    assert build.differences() == []


def test_percent_format_parser():
    text = "# %% [markdown]\n# # Title\n#\n# text\n\n# %%\nx = 1\n\nprint(x)\n\n"
    assert build.parse_source(text) == [("markdown", "# Title\n\ntext"), ("code", "x = 1\n\nprint(x)")]
    for bad in ("x = 1\n# %%\ny = 2\n",                   # text before the first marker
                "# %% [md]\n# text\n",                    # unknown marker
                "# %% [markdown]\ntext without a hash\n",  # markdown line that is not a comment
                "# %%\n\n# %%\nx = 1\n"):                 # empty cell
        with pytest.raises(build.SourceError):
            build.parse_source(bad)


# --------------------------------------------------------------------- badge, install, ids
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p) for p in NOTEBOOKS])
def test_badge_install_cell_and_stable_ids(path):
    import nbformat

    name = os.path.basename(path)[:-6]
    url = build.project_url()
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5)
    assert notebook.metadata == build.METADATA
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source == build.badge(name, url)
    assert f"https://colab.research.google.com/github/{build.github_repository(url)}/blob/main/colab/{name}.ipynb" \
        in first.source
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code[0].source == build.install_cell(url)
    assert sum(c.source == build.install_cell(url) for c in code) == 1
    ids = [c.id for c in notebook.cells]
    assert ids == [f"{name}-{i:02d}" for i in range(len(ids))]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", i) for i in ids)
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None


def test_install_cell_is_built_once_from_setup_cfg():
    url = build.project_url()
    cell = build.install_cell(url)
    assert repr(f"tfzoo @ git+{url}") in cell
    assert "TFZOO_INSTALL_SOURCE" in cell
    code = "\n".join(line for line in cell.splitlines() if not line.lstrip().startswith("#"))
    assert "--upgrade" not in code and "--force-reinstall" not in code and '"-U"' not in code
    ast.parse(cell)  # plain Python: no shell magics


def _run_install_cell(monkeypatch, *, importable, before, after, source=None):
    """Executes the install cell with pip and the installed versions faked; returns (pip argv or None, namespace)."""
    import importlib.metadata

    import tfzoo

    calls = []
    versions = dict(before)

    def fake_version(name):
        if versions.get(name) is None:
            raise importlib.metadata.PackageNotFoundError(name)
        return versions[name]

    def fake_check_call(argv, *args, **kwargs):
        calls.append(list(argv))
        versions.update(after)
        sys.modules["tfzoo"] = tfzoo  # "installed"
        return 0

    monkeypatch.setattr(importlib.metadata, "version", fake_version)
    monkeypatch.setattr(subprocess, "check_call", fake_check_call)
    if source is None:
        monkeypatch.delenv("TFZOO_INSTALL_SOURCE", raising=False)
    else:
        monkeypatch.setenv("TFZOO_INSTALL_SOURCE", source)
    if not importable:
        monkeypatch.setitem(sys.modules, "tfzoo", None)  # `import tfzoo` raises ImportError
    namespace = {}
    exec(compile(build.install_cell(build.project_url()), "<install cell>", "exec"), namespace)
    assert namespace["tfzoo"] is tfzoo
    return (calls[0] if calls else None), namespace


def test_install_cell_does_nothing_where_tfzoo_imports(monkeypatch, capsys):
    argv, _ = _run_install_cell(monkeypatch, importable=True, before={"tensorflow": "2.21.0"}, after={})
    assert argv is None and capsys.readouterr().out == ""


def test_install_cell_installs_without_upgrading_and_asks_no_restart_when_tf_is_kept(monkeypatch, capsys):
    kept = {"tensorflow": "2.21.0", "keras": "3.15.0"}
    argv, _ = _run_install_cell(monkeypatch, importable=False, before=kept, after={})
    assert argv == [sys.executable, "-m", "pip", "install", "--quiet", f"tfzoo @ git+{build.project_url()}"]
    assert "restart" not in capsys.readouterr().out


def test_install_cell_asks_for_a_restart_when_pip_changed_tensorflow(monkeypatch, capsys):
    argv, _ = _run_install_cell(monkeypatch, importable=False, before={"tensorflow": "2.19.0", "keras": None},
                                after={"tensorflow": "2.21.0", "keras": "3.15.0"}, source="dist/tfzoo-0.2.0-py3-none-any.whl")
    assert argv[-1] == "dist/tfzoo-0.2.0-py3-none-any.whl"
    out = capsys.readouterr().out
    assert "restart the runtime" in out and "tensorflow 2.21.0" in out and "keras 3.15.0" in out


# ------------------------------------------------------------------- training through train
def _code_cells(name):
    return [(i, text, ast.parse(text)) for i, (kind, text) in enumerate(_cells(name)) if kind == "code"]


def _is_call(node, attribute, owner=None):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == attribute
            and (owner is None or (isinstance(node.func.value, ast.Name) and node.func.value.id == owner)))


@pytest.mark.parametrize("name", NAMES)
def test_fit_only_in_marked_cells(name):
    cells = _cells(name)
    marked = []
    for index, text, tree in _code_cells(name):
        fits = [n.lineno for n in ast.walk(tree) if _is_call(n, "fit")]
        if build.PLAIN_FIT_MARK in text:
            assert fits, f"colab/src/{name}.py cell {index} is marked '{build.PLAIN_FIT_MARK}' but calls no .fit("
            marked.append(index)
            previous = cells[index - 1]
            assert previous[0] == "markdown" and "model.fit" in previous[1], \
                f"colab/src/{name}.py cell {index}: a markdown cell before it must say why it uses model.fit"
        else:
            assert not fits, (f"colab/src/{name}.py cell {index} calls .fit( (line {fits[0]} of the cell): train "
                              f"presets with tfzoo.train, or mark a plain Keras cell '{build.PLAIN_FIT_MARK} why'")
    assert len(marked) <= 1, f"colab/src/{name}.py has {len(marked)} plain model.fit cells (at most one)"


@pytest.mark.parametrize("name", NAMES)
def test_train_calls_name_a_temporary_run_directory(name):
    trains = [n for _, _, tree in _code_cells(name) for n in ast.walk(tree) if _is_call(n, "train", "tfzoo")]
    source = build.read_source(name)
    if trains:
        assert "tempfile.mkdtemp(" in source, f"colab/src/{name}.py: run directories go under tempfile.mkdtemp()"
    for call in trains:
        run_dir = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "run_dir"), None)
        assert run_dir is not None, f"colab/src/{name}.py:{call.lineno}: tfzoo.train needs a run directory"
        assert not isinstance(run_dir, ast.Constant), \
            f"colab/src/{name}.py:{call.lineno}: the run directory must be under the temporary directory"


# ------------------------------------------------------------------------------- execution
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p) for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch, mnist_dir):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("TFZOO_NOTEBOOK_SMOKE", "1")
    monkeypatch.setenv("TFZOO_MNIST_DIR", mnist_dir)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' tempfile.mkdtemp() run directories
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
