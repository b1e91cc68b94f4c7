"""Trains ``issgd-mnist`` (the paper's 784-4×2048 ReLU-10, 14.2M parameters) or ``issgd-mnist-small``
(4×256) by ISSGD for a budget of process CPU time and exports it.

Only ``issgd-mnist-small`` (1.7 MiB) goes to ``savedmodels/``: the paper-sized export is 54 MiB, over the
repository's ~10 MB limit for shipped models, so it is written to the git-ignored ``runs/issgd-mnist-savedmodel/``.

Paper: ``shared/papers/003_a93095073811cc34.txt`` section 7.5 (lines 2600–2664): the 4×2048 MLP, SGD with
learning rate 0.01 and smoothing c = 10 (setting (a), lines 2622–2624), 3 GPU workers. Here the workers
are simulated on the same CPU (:class:`tfzoo.issgd.StaleImportanceWeights`, relaxed mode): the master
publishes every ``PUBLISH_EVERY`` steps and the workers refresh ``REFRESH_SIZE`` weights per step,
round-robin over the 50,000 training images (a full sweep every 50,000 / ``REFRESH_SIZE`` steps). The
budget counts the CPU time of ``fit`` only (master and simulated workers together), not the
evaluations; the validation error (10,000 held-out training images) is recorded after every chunk of
``CHUNK_STEPS`` steps, and the test error (10,000 test images) once, at the end.

With ``--method sgd`` the same model, initial weights, learning rate and batch size are trained by plain
SGD on uniformly shuffled minibatches (the paper's baseline) for ``--steps`` steps, recording the same
curve; nothing is exported.

Usage::

    python benchmarks/issgd_mnist_export.py --cpu-seconds 1500 [--no-export]
    python benchmarks/issgd_mnist_export.py --method sgd --steps 3000
    python benchmarks/issgd_mnist_export.py --preset issgd-mnist-small --cpu-seconds 400

Results: ``benchmarks/results/issgd_mnist_export.json`` (ISSGD), ``issgd_mnist_sgd.json`` (SGD) and, for
another preset, ``issgd_mnist_export_<preset>.json``, written after every chunk.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from issgd import REPO, SETTINGS, _evaluate

BATCH, PUBLISH_EVERY, REFRESH_SIZE, CHUNK_STEPS, MONITOR_SIZE = 128, 10, 64, 250, 2000


SHIPPED_PRESETS = ("issgd-mnist-small",)  # under the ~10 MB limit of savedmodels/


def _export(model, preset_name: str, metrics: dict, *, training_command: str, data: str, notes: str):
    import tfzoo
    from tfzoo.savedmodel import export, write_model_card

    path = (os.path.join(REPO, "savedmodels", preset_name) if preset_name in SHIPPED_PRESETS
            else os.path.join(REPO, "runs", f"{preset_name}-savedmodel"))
    export(model, path)
    write_model_card(path, preset=tfzoo.get_preset(preset_name), metrics=metrics,
                     training_command=training_command, data=data, endpoints=model.export_endpoints(), notes=notes)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu-seconds", type=float, default=1500.0, help="process CPU seconds of training")
    parser.add_argument("--no-export", action="store_true", help="measure only; leave savedmodels/ alone")
    parser.add_argument("--method", choices=("issgd", "sgd"), default="issgd")
    parser.add_argument("--preset", choices=("issgd-mnist", "issgd-mnist-small"), default="issgd-mnist")
    parser.add_argument("--steps", type=int, default=None, help="stop after this many steps (default: budget only)")
    args = parser.parse_args()

    import keras

    import tfzoo
    from run import machine
    from tfzoo.datasets import make_dataset, mnist_splits
    from tfzoo.issgd import StaleImportanceWeights

    splits = mnist_splits()
    train, valid, test = splits["train"], splits["validation"], splits["test"]
    setting = SETTINGS["a"]
    name = "issgd_mnist_export" if args.method == "issgd" else "issgd_mnist_sgd"
    if args.preset != "issgd-mnist":
        name += f"_{args.preset}"
    out = os.path.join(REPO, "benchmarks", "results", f"{name}.json")
    record = dict(method=args.method, preset=args.preset, setting="a", **setting, batch_size=BATCH,
                  publish_every=PUBLISH_EVERY, refresh_size=REFRESH_SIZE, cpu_budget_s=args.cpu_seconds,
                  train_examples=len(train[0]), curve=[])
    envelope = {"family": "issgd_mnist_export", "quick": False, "machine": machine(),
                "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "wall_clock_s": None, "results": record}
    start_wall = time.time()

    def write():
        envelope["wall_clock_s"] = round(time.time() - start_wall, 1)
        with open(out, "w") as f:
            json.dump(envelope, f, indent=1, sort_keys=True)

    keras.utils.set_random_seed(0)
    model = tfzoo.create_model(args.preset, compile=False)
    model.compile_from_recipe(dict(optimizer="sgd", learning_rate=setting["learning_rate"]))
    if args.method == "issgd":
        issgd = StaleImportanceWeights(*train, batch_size=BATCH, smoothing=setting["smoothing"],
                                       publish_every=PUBLISH_EVERY, refresh_every=1, refresh_size=REFRESH_SIZE,
                                       monitor_size=MONITOR_SIZE, seed=0)
        data, callbacks = issgd.dataset(), [issgd]
    else:  # the paper's baseline: uniformly shuffled minibatches, same initial weights
        data, callbacks = make_dataset(*train, batch_size=BATCH, shuffle_seed=0, drop_remainder=True).repeat(), []
    train_cpu, wall_start, chunk = 0.0, time.perf_counter(), 0
    while train_cpu < args.cpu_seconds and (args.steps is None or chunk * CHUNK_STEPS < args.steps):
        start = time.process_time()
        history = model.fit(data, steps_per_epoch=CHUNK_STEPS, epochs=chunk + 1, initial_epoch=chunk, verbose=0,
                            shuffle=False, callbacks=callbacks + [keras.callbacks.TerminateOnNaN()])
        train_cpu += time.process_time() - start
        chunk += 1
        steps = chunk * CHUNK_STEPS
        logs = {k: float(v[-1]) for k, v in history.history.items()}
        if not np.isfinite(logs["loss"]):
            raise SystemExit(f"{args.preset}: the training loss became {logs['loss']} in chunk {chunk}; stopped")
        _, valid_error = _evaluate(model, *valid)
        record["curve"].append(dict(step=steps, epochs=round(steps * BATCH / len(train[0]), 2),
                                    train_cpu_s=round(train_cpu, 1),
                                    wall_s=round(time.perf_counter() - wall_start, 1),
                                    validation_error=valid_error, **logs))
        print(args.preset, record["curve"][-1], flush=True)
        write()
    test_loss, test_error = _evaluate(model, *test)
    train_loss, train_error = _evaluate(model, train[0][:10000], train[1][:10000])
    record.update(steps=steps, train_cpu_s=round(train_cpu, 1), test_error=test_error, test_loss=test_loss,
                  train_loss_first_10k=train_loss, train_error_first_10k=train_error)
    if args.method == "issgd":
        record["ratio_uniform_over_stale"] = [u / s for u, s in zip(issgd.history["issgd_sqrt_trace_uniform"],
                                                                    issgd.history["issgd_sqrt_trace_stale"])]
    if args.method == "issgd" and not args.no_export:
        epochs = steps * BATCH / len(train[0])
        path = _export(model, args.preset, {
            "test error (10k MNIST test images)": f"{test_error:.4f}",
            "validation error (10k held-out training images)": f"{record['curve'][-1]['validation_error']:.4f}",
            "training loss (first 10k training images)": f"{train_loss:.4f}",
            "ISSGD steps (batch 128)": f"{steps} ({epochs:.1f} epochs)",
            "training CPU time": f"{train_cpu / 60:.0f} min (2-core CPU, simulated workers included)",
            "setting": "lr 0.01, smoothing c = 10 (paper setting (a))"},
            training_command=(f"python benchmarks/issgd_mnist_export.py --preset {args.preset} "
                              f"--cpu-seconds {args.cpu_seconds:g}"),
            data="MNIST training images 1-50,000 (permutation-invariant: flattened pixels); validation: the "
                 "other 10,000 training images; test: the 10,000 test images",
            notes=f"\n{tfzoo.get_preset(args.preset).description} The paper's setting (a), trained by ISSGD "
                  f"with simulated workers on one CPU for {train_cpu / 60:.0f} CPU minutes ({epochs:.1f} epochs): far shorter than the paper's "
                  "hours of GPU training (on SVHN). `per_example_grad_norms(x, y)` returns the gradient norm "
                  "of each example's cross-entropy over all parameters (Proposition 3, 003 lines 2495-2511), "
                  "which is what an ISSGD worker computes.\n")
        record["exported"] = os.path.relpath(path, REPO)
    write()
    print(json.dumps({k: v for k, v in record.items() if k != "curve"}, indent=1))


def summary(r: dict) -> str:
    """One run (the README's benchmark section reads every results file through its family's summary)."""
    curve = r["curve"]
    shown = sorted({round(i * (len(curve) - 1) / 7) for i in range(8)})  # at most 8 columns, the last included
    method = "ISSGD (simulated workers)" if r["method"] == "issgd" else "SGD, uniform minibatches"
    lines = [f"**`{r['preset']}`, {method}** (setting (a): lr {r['learning_rate']}"
             + (f", c = {r['smoothing']:g}" if r["method"] == "issgd" else "")
             + f"; batch {r['batch_size']}, {r['train_examples']:,} training images): {r['steps']:,} steps "
             f"({curve[-1]['epochs']} epochs) in {r['train_cpu_s']:.0f} CPU s; test error **{r['test_error']:.4f}**, "
             f"training loss (first 10k images) {r['train_loss_first_10k']:.4f}.", "",
             "| step | " + " | ".join(str(curve[i]["step"]) for i in shown) + " |",
             "|---|" + "---|" * len(shown),
             "| validation error | " + " | ".join(f"{curve[i]['validation_error']:.4f}" for i in shown) + " |"]
    if "ratio_uniform_over_stale" in r:
        ratios = r["ratio_uniform_over_stale"]
        lines.append("| √TrΣ uniform / stale | " + " | ".join(f"{ratios[i]:.2f}" for i in shown) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
