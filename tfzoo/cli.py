"""``python -m tfzoo list | train | evaluate | export``.

Examples::

    python -m tfzoo list
    python -m tfzoo train mlp-moons --output-dir runs/mlp-moons --epochs 5
    python -m tfzoo train lenet-mnist --data-dir ../shared/data/mnist --output-dir runs/lenet
    python -m tfzoo evaluate runs/lenet --data-dir ../shared/data/mnist
    python -m tfzoo export runs/lenet savedmodels/lenet-mnist

A run killed part-way and started again with the same command resumes from its last epoch.
Errors a user can cause (unknown model, missing data, a directory holding another run, a diverged
loss) end with a one-paragraph message and exit status 2, not a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _parser():
    parser = argparse.ArgumentParser(prog="python -m tfzoo", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list registered models")
    p.add_argument("pattern", nargs="?", help="shell-style filter, e.g. 'lenet*'")
    p.add_argument("--verbose", "-v", action="store_true", help="show descriptions and citations")

    p = sub.add_parser("train", help="train a registered model, evaluate, export and plot")
    p.add_argument("model", help="registered model name (see `list`)")
    p.add_argument("--output-dir", "-o", help="run directory (default: runs/<model>)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--data-dir", help="directory of the data files (e.g. MNIST's four IDX .gz files)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-train", type=int, help="train on the first N examples only")
    p.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                   help="override a model constructor argument, e.g. --set dropout=0.3")
    p.add_argument("--strategy", choices=["none", "mirrored"], default="none",
                   help="tf.distribute strategy: 'mirrored' uses every local device")
    p.add_argument("--cpu-devices", type=int, default=0,
                   help="split the CPU into N logical devices (to try --strategy mirrored on a CPU)")

    p = sub.add_parser("evaluate", help="evaluate a finished run on its test split")
    p.add_argument("run_dir")
    p.add_argument("--data-dir")
    p.add_argument("--split", default="test", choices=["train", "validation", "test"])

    p = sub.add_parser("export", help="export a finished run's model as a SavedModel")
    p.add_argument("run_dir")
    p.add_argument("destination")
    return parser


def _parse_overrides(items):
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set expects KEY=VALUE with a JSON value, got {item!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def _strategy(args):
    if args.strategy == "none":
        return None
    import tensorflow as tf

    if args.cpu_devices:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(args.cpu_devices)])
        return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(args.cpu_devices)])
    return tf.distribute.MirroredStrategy()


def _run(args):
    import tfzoo

    if args.command == "list":
        for name in tfzoo.list_models(args.pattern):
            if args.verbose:
                preset = tfzoo.get_preset(name)
                print(f"{name:28s} {preset.description}  [{preset.citation}]")
            else:
                print(name)
        return
    if args.command == "train":
        from tfzoo.training import train

        tfzoo.get_preset(args.model)  # fail fast on an unknown name, before TensorFlow loads
        output_dir = args.output_dir or os.path.join("runs", args.model)
        result = train(args.model, output_dir, epochs=args.epochs, batch_size=args.batch_size,
                       data_dir=args.data_dir, seed=args.seed, strategy=_strategy(args),
                       overrides=_parse_overrides(args.set), limit_train=args.limit_train)
        print("\ntest metrics: " + ", ".join(f"{k} = {v:.4g}" for k, v in result["metrics"].items()))
        print("wrote:")
        for key, path in result["paths"].items():
            print(f"  {key:12s} {path}")
        return
    if args.command == "evaluate":
        from tfzoo.training import evaluate

        for key, value in evaluate(args.run_dir, args.data_dir, args.split).items():
            print(f"{args.split} {key} = {value:.6g}")
        return
    if args.command == "export":
        import keras

        from tfzoo.savedmodel import export
        from tfzoo.training import RUN_FILE

        with open(os.path.join(args.run_dir, RUN_FILE)) as f:
            tfzoo.get_preset(json.load(f)["preset"]).model_class()
        model = keras.models.load_model(os.path.join(args.run_dir, "model.keras"))
        print(f"wrote SavedModel: {export(model, args.destination)}")


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from tfzoo.datasets import DataError
    from tfzoo.errors import InputError, OutputDirectoryError, TrainingDivergedError
    from tfzoo.registry import UnknownModelError

    try:
        _run(args)
    except (UnknownModelError, DataError, OutputDirectoryError, InputError,
            TrainingDivergedError, FileNotFoundError, ValueError, TypeError) as error:
        if os.environ.get("TFZOO_DEBUG"):  # developers: see the traceback
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
