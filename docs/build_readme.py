"""Fills README.md's family sections (from docs/<family>.md) and benchmark tables (from
benchmarks/results/*.json). Run after a benchmark or a docs change: ``python docs/build_readme.py``.
"""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "README.md")
ORDER = ["classifiers", "flows", "probabilistic", "gsn", "issgd", "analysis", "reversible", "lecture"]


def replace_block(text: str, marker: str, body: str) -> str:
    pattern = re.compile(rf"<!-- {marker} -->.*?<!-- /{marker} -->|<!-- {marker} -->", re.S)
    return pattern.sub(lambda _: f"<!-- {marker} -->\n{body}\n<!-- /{marker} -->", text, count=1)


def main():
    families = [f for f in ORDER if os.path.exists(os.path.join(HERE, f"{f}.md"))]
    sections = []
    for family in families:
        with open(os.path.join(HERE, f"{family}.md")) as f:
            sections.append(f.read().strip())
    tables = subprocess.run([sys.executable, os.path.join(HERE, "..", "benchmarks", "run.py"), "--summary"],
                            capture_output=True, text=True, check=True).stdout.strip()
    with open(README) as f:
        text = f.read()
    text = replace_block(text, "FAMILIES", "\n\n".join(sections))
    text = replace_block(text, "BENCHMARKS", tables)
    with open(README, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
