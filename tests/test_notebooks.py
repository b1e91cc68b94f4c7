"""Executes every notebook in ``colab/`` at a reduced size (``TFZOO_NOTEBOOK_SMOKE=1``)."""

import glob
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(REPO, "colab", "*.ipynb")))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p) for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch, mnist_dir):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("TFZOO_NOTEBOOK_SMOKE", "1")
    monkeypatch.setenv("TFZOO_MNIST_DIR", mnist_dir)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
