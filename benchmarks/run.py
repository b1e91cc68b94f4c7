"""Benchmark runner: ``python benchmarks/run.py <family> [--quick] [--only PART,PART]``.

Each ``benchmarks/<family>.py`` defines ``run(quick: bool) -> dict`` that measures tfzoo against a
named baseline *in the same run on the same machine* and returns JSON-serialisable results. The
runner adds the machine, library versions and wall clock, and writes
``benchmarks/results/<family>.json``; ``python benchmarks/run.py --summary`` prints the Markdown
tables the README shows (each family's ``summary(results) -> str``). ``--only`` re-measures some
parts of a family whose ``run`` accepts ``only`` and merges them into its existing results file
(each re-measured part's date is recorded under ``part_dates``, and ``part_quick`` says which parts
were measured at the other size than the rest of the file).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


def machine() -> dict:
    """The machine and the versions a result was measured with."""
    import keras
    import numpy
    import tensorflow as tf
    import tensorflow_probability as tfp

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tensorflow_probability": tfp.__version__,
        "numpy": numpy.__version__,
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
    }


def timed(function, *args, repeat: int = 1, **kwargs):
    """``(result, seconds)``: the best wall-clock of ``repeat`` calls."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return result, best


def run_family(family: str, quick: bool, only: list | None = None) -> dict:
    sys.path.insert(0, HERE)
    module = importlib.import_module(family)
    path = os.path.join(RESULTS, f"{family}.json")
    start = time.time()
    date = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    if only:
        parts = module.run(quick=quick, only=only)
        with open(path) as f:  # read after measuring: other parts may have been merged meanwhile
            record = json.load(f)
        record["results"].update(parts)
        record.setdefault("part_dates", {}).update({part: date for part in only})
        if quick != record["quick"]:  # a part measured at the other size says so
            record.setdefault("part_quick", {}).update({part: quick for part in only})
    else:
        record = {"family": family, "quick": quick, "machine": machine(),
                  "wall_clock_s": round(time.time() - start, 1), "date": date,
                  "results": module.run(quick=quick)}
        record["wall_clock_s"] = round(time.time() - start, 1)
    os.makedirs(RESULTS, exist_ok=True)
    with open(path, "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)
    return record


def summary() -> str:
    sys.path.insert(0, HERE)
    parts = []
    for name in sorted(os.listdir(RESULTS)):
        if name.endswith(".json"):
            with open(os.path.join(RESULTS, name)) as f:
                record = json.load(f)
            module = importlib.import_module(record["family"])
            remeasured = "".join(f"; `{part}` re-measured {date}" for part, date in record.get("part_dates", {}).items())
            parts.append(f"### {record['family']} ({record['date']}, {record['wall_clock_s']} s, "
                         f"{record['machine']['cpu_count']} CPUs, TF {record['machine']['tensorflow']}{remeasured})\n\n"
                         + module.summary(record["results"]))
    return "\n\n".join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("family", nargs="?")
    parser.add_argument("--quick", action="store_true", help="a reduced size, for a smoke run")
    parser.add_argument("--summary", action="store_true", help="print the README tables")
    parser.add_argument("--only", help="comma-separated parts to re-measure and merge into the results file")
    args = parser.parse_args()
    if args.summary:
        print(summary())
    else:
        record = run_family(args.family, args.quick, args.only.split(",") if args.only else None)
        print(json.dumps(record["results"], indent=1)[:4000])


if __name__ == "__main__":
    main()
