"""Fills README.md's family summaries (title and first paragraph of each docs/<family>.md, with a
link to the whole section), the table of registered models, and the benchmark tables (from
benchmarks/results/*.json). Run after a benchmark, preset or docs change: ``python docs/build_readme.py``.
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


def models_table() -> str:
    """Every registered preset with its parameter count, description and source lines."""
    sys.path.insert(0, os.path.join(HERE, ".."))
    import tfzoo

    rows = ["### Registered models", "", "| name | parameters | what | paper lines |", "|---|---|---|---|"]
    for name in tfzoo.list_models():
        preset = tfzoo.get_preset(name)
        params = f"{preset.expected_params:,}" if preset.expected_params is not None else "—"
        rows.append(f"| `{name}` | {params} | {preset.description} | `{preset.citation}` |")
    return "\n".join(rows)


def shipped_table(family: str | None = None, link_prefix: str = "") -> str:
    """The models in savedmodels/ (of ``family``, or all): the command that produced each, the budget it
    spent and what it measured."""
    import json

    root = os.path.join(HERE, "..", "savedmodels")
    rows = ["| model | command (then `tfzoo export runs/NAME savedmodels/NAME`) | spent | test metrics (this export) |",
            "|---|---|---|---|"]
    for name in sorted(os.listdir(root)):
        meta_path = os.path.join(root, name, "tfzoo.json")
        if not os.path.exists(meta_path):
            continue
        with open(meta_path) as f:
            meta = json.load(f)
        if family is not None and meta["class"].split(".")[1] != family:
            continue
        spent = meta["spent"]
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in meta["metrics"].items())
        rows.append(f"| [`{name}`]({link_prefix}savedmodels/{name}/MODEL_CARD.md) | `{'`; `'.join(meta['training_commands'])}` | "
                    f"{spent['epochs']} epochs, {spent['steps']:,} steps, {spent['cpu_seconds'] / 60:.1f} CPU min | "
                    f"{metrics} |")
    return "\n".join(rows)


def main():
    families = [f for f in ORDER if os.path.exists(os.path.join(HERE, f"{f}.md"))]
    sections = []
    for family in families:
        with open(os.path.join(HERE, f"{family}.md")) as f:
            title, _, body = f.read().strip().partition("\n")
        first_paragraph = body.strip().split("\n\n")[0]
        sections.append(f"### {title.lstrip('# ')}\n\n{first_paragraph}\n\n"
                        f"Everything about it — what is implemented, usage, presets, measured numbers beside "
                        f"the paper's and what is missing: [docs/{family}.md](docs/{family}.md).")
    sections.append(models_table())
    tables = subprocess.run([sys.executable, os.path.join(HERE, "..", "benchmarks", "run.py"), "--summary"],
                            capture_output=True, text=True, check=True).stdout.strip()
    with open(README) as f:
        text = f.read()
    text = replace_block(text, "FAMILIES", "\n\n".join(sections))
    text = replace_block(text, "BENCHMARKS", tables)
    text = replace_block(text, "SHIPPED", shipped_table())
    with open(README, "w") as f:
        f.write(text)
    for family in families:  # each family's shipped models in its own docs page
        path = os.path.join(HERE, f"{family}.md")
        with open(path) as f:
            page = f.read()
        table = shipped_table(family, link_prefix="../")
        if table.count("\n") < 2:
            continue
        if "<!-- SHIPPED -->" not in page:
            page = page.rstrip() + (
                "\n\n## Shipped models (`savedmodels/`)\n\nRe-produced with the one training path "
                "(`tfzoo train`, then `tfzoo export`; `bash savedmodels/reproduce.sh NAME`). What each "
                "run spent and measured, from its `tfzoo.json` (numbers quoted elsewhere on this page for "
                "earlier exports were measured by the benchmark scripts that produced those):\n\n<!-- SHIPPED -->\n")
        with open(path, "w") as f:
            f.write(replace_block(page, "SHIPPED", table) + ("" if page.endswith("\n") else "\n"))


if __name__ == "__main__":
    main()
