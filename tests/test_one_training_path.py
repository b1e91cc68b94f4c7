"""``tfzoo.train`` is the project's only training loop and ``tfzoo export`` its only model-card writer.

Benchmarks measure runs of the trainer; the only ``fit`` calls under ``benchmarks/`` train the named
non-tfzoo baselines (each marked ``# baseline``). Nothing outside the publisher writes a model card.
"""

import ast
import glob
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python_files(*folders):
    return sorted(p for folder in folders for p in glob.glob(os.path.join(REPO, folder, "**", "*.py"), recursive=True))


def test_benchmarks_fit_only_their_named_baselines():
    for path in _python_files("benchmarks"):
        for number, line in enumerate(open(path), 1):
            if ".fit(" in line and not line.lstrip().startswith("#"):
                assert "# baseline" in line, f"{os.path.relpath(path, REPO)}:{number} trains outside tfzoo.train"


def test_only_the_publisher_writes_model_cards():
    writers = []
    for path in _python_files("tfzoo", "benchmarks", "colab", "docs"):
        tree = ast.parse(open(path).read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value == "MODEL_CARD.md":
                writers.append(os.path.relpath(path, REPO))
    assert set(writers) <= {"tfzoo/publisher.py"}, writers
