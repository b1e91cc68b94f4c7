"""NICE / Real NVP on real MNIST within a fixed CPU-time budget (issue: "bits/dim against
wall-clock within a 60-minute CPU budget"; paper 4.36 bits/dim for NICE, Table 5.1 of
``004_6b1d8905d771edf8.txt`` L1580, after long training).

One preset per process::

    python benchmarks/flows_mnist_budget.py nice-mnist --cpu-seconds 3600 --threads 1
    python benchmarks/flows_mnist_budget.py realnvp-mnist --cpu-seconds 3600 --threads 1 --export

The budget is **process CPU time** (``time.process_time``) spent in training steps, so two presets
can train side by side on the 2-core machine (one TensorFlow thread each) and a busy machine
stretches the wall clock without changing what the budget buys. Every ``--eval-every`` CPU seconds
the model is scored on 2,000 *validation* images (last 10,000 of the official training set); the
test set (all 10,000 images) is scored once, at the end. Models with batch-norm bijectors get the
exact statistics of the whole 50,000-image training set before the final scores (the
``BatchNormBijector`` protocol) and of its first 5,000 images before each validation score. Time
spent evaluating is measured and excluded from the budget. The results file is rewritten after every
validation score, so an interrupted run still leaves its curve:
``benchmarks/results/flows_mnist_budget_<preset>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PAPER_NICE_BITS = 4.36


def _mean_bits(model, x, seed, batch_size=500):
    return float(np.mean(np.concatenate([model.bits_per_dim(x[i:i + batch_size], seed=seed + i).numpy()
                                         for i in range(0, len(x), batch_size)])))


def train_within_budget(preset_name: str, cpu_seconds: float, eval_every: float, export: bool,
                        record: dict, write) -> dict:
    import keras

    import tfzoo
    from tfzoo.datasets import mnist_splits

    splits = mnist_splits()
    x_train = splits["train"][0].astype("float32")
    x_valid = splits["validation"][0][:2000].astype("float32")
    x_test = splits["test"][0].astype("float32")
    preset = tfzoo.get_preset(preset_name)
    batch_size = preset.training["batch_size"]
    keras.utils.set_random_seed(0)
    model = tfzoo.create_model(preset_name)
    rng = np.random.default_rng(0)
    chunk = 50 * batch_size
    curve = record["validation_curve"] = []
    train_cpu, eval_cpu, seen, position, epoch_order = 0.0, 0.0, 0, 0, rng.permutation(len(x_train))
    next_eval, wall_start = 0.0, time.perf_counter()

    def score_validation():
        nonlocal eval_cpu
        start = time.process_time()
        if model.batch_norm_statistics:
            model.accumulate_batch_norm_statistics(x_train[:5000], batch_size=100)
        bits = _mean_bits(model, x_valid, seed=1)
        eval_cpu += time.process_time() - start
        curve.append(dict(train_cpu_s=round(train_cpu, 1), wall_s=round(time.perf_counter() - wall_start, 1),
                          examples=seen, epochs=round(seen / len(x_train), 2), validation_bits_per_dim=round(bits, 4),
                          train_bits_per_dim=round(last_train_bits, 4) if last_train_bits else None))
        print(preset_name, curve[-1], flush=True)
        write()

    last_train_bits = None
    while train_cpu < cpu_seconds:
        if train_cpu >= next_eval:
            score_validation()
            next_eval += eval_every
        if position + chunk > len(x_train):
            epoch_order, position = rng.permutation(len(x_train)), 0
        start = time.process_time()
        history = model.fit(x_train[epoch_order[position:position + chunk]], batch_size=batch_size,
                            epochs=1, verbose=0, shuffle=False)
        train_cpu += time.process_time() - start
        last_train_bits = float(history.history["bits_per_dim"][-1])
        if not np.isfinite(last_train_bits):
            record["stopped"] = "non-finite training loss"
            break
        seen, position = seen + chunk, position + chunk
    score_validation()
    start = time.process_time()
    if model.batch_norm_statistics:
        model.accumulate_batch_norm_statistics(x_train, batch_size=100)
    test_bits = _mean_bits(model, x_test, seed=2)
    record.update(test_bits_per_dim=round(test_bits, 4), test_images=len(x_test),
                  final_eval_cpu_s=round(time.process_time() - start, 1), train_cpu_s=round(train_cpu, 1),
                  eval_cpu_s=round(eval_cpu, 1), examples_seen=seen, epochs=round(seen / len(x_train), 2),
                  wall_s=round(time.perf_counter() - wall_start, 1), params=int(model.count_params()),
                  batch_size=batch_size, batch_norm_statistics="exact moments over the 50,000 training images"
                  if model.batch_norm_statistics else None, paper_nice_mnist_bits_per_dim=PAPER_NICE_BITS)
    if export:
        from flows import _export

        _export(model, preset_name, {"test bits/dim (all 10,000 test images, 1 dequantisation draw)":
                                     round(test_bits, 4),
                                     "training": f"{seen} examples ({record['epochs']} epochs), "
                                                 f"{record['train_cpu_s']} s of CPU time"},
                "MNIST (tfzoo.datasets.mnist_splits: 50k train / 10k validation / 10k test)",
                f"python benchmarks/flows_mnist_budget.py {preset_name} --cpu-seconds {cpu_seconds:g} --export")
        record["exported_to"] = f"savedmodels/{preset_name}"
    write()
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("preset")
    parser.add_argument("--cpu-seconds", type=float, default=3600.0)
    parser.add_argument("--eval-every", type=float, default=600.0, help="CPU seconds between validation scores")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra- and inter-op threads")
    parser.add_argument("--export", action="store_true", help="write savedmodels/<preset> with a model card")
    args = parser.parse_args()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    sys.path.insert(0, HERE)
    from run import machine

    path = os.path.join(HERE, "results", f"flows_mnist_budget_{args.preset}.json")
    record = {"family": "flows_mnist_budget", "quick": False, "machine": machine(),
              "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "wall_clock_s": None,
              "results": {"preset": args.preset, "cpu_budget_s": args.cpu_seconds, "threads": args.threads}}
    start = time.time()

    def write():
        record["wall_clock_s"] = round(time.time() - start, 1)
        with open(path, "w") as f:
            json.dump(record, f, indent=1, sort_keys=True)

    train_within_budget(args.preset, args.cpu_seconds, args.eval_every, args.export, record["results"], write)


def summary(r: dict) -> str:
    curve = " → ".join(f"{p['validation_bits_per_dim']:.2f} ({p['train_cpu_s'] / 60:.0f} min)"
                       for p in r.get("validation_curve", []))
    final = (f"{r['test_bits_per_dim']:.3f} (all {r['test_images']} test images)" if "test_bits_per_dim" in r
             else "run interrupted before the test score")
    paper = ("NICE 4.36 (Table 5.1, nice-mnist after long training)" if r["preset"].startswith("nice")
             else "— (Table 5.2 has no MNIST)")
    return ("| preset | CPU budget | validation bits/dim against CPU time | test bits/dim | paper |\n"
            "|---|---|---|---|---|\n"
            f"| `{r['preset']}` | {r['cpu_budget_s'] / 60:.0f} min on {r['threads']} thread(s), "
            f"{r.get('epochs', '?')} epochs | {curve} | {final} | {paper} |")


if __name__ == "__main__":
    main()
