"""The ``tfzoo`` command (also ``python -m tfzoo``): list, train, evaluate, export, pretrained.

Examples::

    tfzoo list
    tfzoo train realnvp-moons                      # the flagship flow on data generated in code
    tfzoo train lenet-mnist --data-dir ../shared/data/mnist --time-budget 20m
    tfzoo evaluate runs/lenet-mnist
    tfzoo export runs/lenet-mnist savedmodels/lenet-mnist [--version 1]
    tfzoo pretrained list
    tfzoo pretrained download realnvp-mnist

A run killed part-way and started again with the same command resumes; a finished run started again
says so and changes nothing. Exit status: 0 success, 2 a usage error (unknown model, a wrong
argument), 1 a failure at run time (missing data, a diverged loss, a failed download). Set
``TFZOO_DEBUG=1`` to see the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

USAGE_ERROR, RUNTIME_ERROR = 2, 1


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _positive_int(text):
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number >= 1, got 0")
    return value


def _duration(text):
    from tfzoo.recipe import Budget

    try:
        return Budget.parse_seconds(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class _DefaultsFormatter(argparse.HelpFormatter):
    """Shows an option's default unless its help already says it, or it has none."""

    def _get_help_string(self, action):
        text = action.help or ""
        no_default = action.default is None or action.default is False or action.default == [] \
            or action.default == argparse.SUPPRESS
        if "default" not in text and not no_default and action.option_strings:
            text += f" (default: {action.default})"
        return text


def _parser():
    import tfzoo

    formatter = _DefaultsFormatter
    parser = argparse.ArgumentParser(prog="tfzoo", description=__doc__.split("\n")[0], formatter_class=formatter)
    parser.add_argument("--version", action="version", version=f"tfzoo {tfzoo.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list registered models", formatter_class=formatter)
    p.add_argument("pattern", nargs="?", help="shell-style filter, e.g. 'lenet*'")
    p.add_argument("--verbose", "-v", action="store_true", help="show task, description and citation "
                                                                  "(default: names only)")

    p = sub.add_parser("train", help="train a registered model, evaluate, export and plot",
                       formatter_class=formatter)
    p.add_argument("model", help="registered model name (see `tfzoo list`)")
    p.add_argument("--output-dir", "-o", help="run directory (default: runs/MODEL)")
    p.add_argument("--epochs", type=_positive_int, help="epochs (default: the preset's recipe)")
    p.add_argument("--batch-size", type=_positive_int, help="batch size (default: the preset's recipe)")
    p.add_argument("--steps", type=_positive_int, help="stop after this many training steps (default: no step limit)")
    p.add_argument("--time-budget", type=_duration, metavar="DURATION",
                   help="stop after this much wall-clock time, e.g. 90s, 20m, 1h30m (default: no time limit)")
    p.add_argument("--cpu-budget", type=_duration, metavar="DURATION",
                   help="stop after this much process CPU time, e.g. 20m (default: no CPU limit)")
    p.add_argument("--data-dir", help="directory of the task's files, e.g. MNIST's four IDX .gz files (default: "
                                      "$TFZOO_MNIST_DIR, else ../shared/data/mnist, for MNIST tasks)")
    p.add_argument("--source", help="where the data comes from: one of the task's sources, e.g. idx or tfds "
                                    "(default: the task's own choice)")
    p.add_argument("--seed", type=_non_negative_int, default=0,
                   help="seeds the initial weights, the data order and every noise layer")
    p.add_argument("--limit-train", type=_positive_int, help="train on the first N examples only (default: all)")
    p.add_argument("--limit-eval", type=_positive_int, help="evaluate on the first N examples only (default: all)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                   help="override a model constructor argument, e.g. --set dropout=0.3; repeatable (default: none)")
    p.add_argument("--set-recipe", action="append", default=[], metavar="KEY=JSON",
                   help="override a recipe field, e.g. --set-recipe learning_rate=0.001; repeatable (default: none)")
    p.add_argument("--workers", type=_positive_int,
                   help="ISSGD presets: real norm-worker processes on this machine (a TF_CONFIG cluster is "
                        "used when set) (default: simulated workers)")
    p.add_argument("--strategy", choices=["none", "mirrored"], default="none",
                   help="tf.distribute strategy: 'mirrored' uses every local device")
    p.add_argument("--cpu-devices", type=_non_negative_int, default=0,
                   help="split the CPU into N logical devices (to try --strategy mirrored on a CPU)")

    p = sub.add_parser("evaluate", help="evaluate a finished run on a split of its task", formatter_class=formatter)
    p.add_argument("run_dir", help="a run directory written by `tfzoo train`")
    p.add_argument("--data-dir", help="directory of the task's files")
    p.add_argument("--source", help="where the data comes from (default: the run's)")
    p.add_argument("--split", default="test", choices=["train", "validation", "test"], help="which split")

    p = sub.add_parser("export", help="publish a finished run: SavedModel, MODEL_CARD.md, tfzoo.json",
                       formatter_class=formatter)
    p.add_argument("run_dir", help="a finished run directory")
    p.add_argument("destination", help="the export directory")
    p.add_argument("--version", type=_positive_int,
                   help="write the SavedModel to DESTINATION/VERSION/, TensorFlow Serving's layout "
                        "(default: the SavedModel in DESTINATION itself)")

    p = sub.add_parser("pretrained", help="list or download trained models", formatter_class=formatter)
    pre = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    pre.add_parser("list", help="trained models: local (cache, checkout) and downloadable")
    d = pre.add_parser("download", help="download a trained model into the cache, verified by SHA-256",
                       formatter_class=formatter)
    d.add_argument("name", help="a preset with a published model (see `tfzoo pretrained list`)")
    d.add_argument("--force", action="store_true", help="download again even if cached (default: use the cache)")
    k = pre.add_parser("pack", help="maintainers: pack the checkout's savedmodels/ as release assets and "
                                    "record their SHA-256 in tfzoo/published.py", formatter_class=formatter)
    k.add_argument("--into", default=os.path.join("dist", "pretrained"), help="where the archives go")
    return parser


def _parse_assignments(option: str, items) -> dict:
    values = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _UsageError(f"{option} expects KEY=VALUE with a JSON value, got {item!r}")
        try:
            values[key] = json.loads(value)
        except json.JSONDecodeError:
            values[key] = value
    return values


class _UsageError(ValueError):
    pass


def _strategy(args):
    if args.strategy == "none":
        if args.cpu_devices:
            raise _UsageError("--cpu-devices is for --strategy mirrored")
        return None
    import tensorflow as tf

    if args.cpu_devices:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(args.cpu_devices)])
        return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(args.cpu_devices)])
    return tf.distribute.MirroredStrategy()


def recorded_command(argv) -> str:
    """``tfzoo ...`` as typed, with absolute paths made relative to the working directory."""
    def relative(word):
        if os.path.isabs(word):
            return os.path.relpath(word)
        key, sep, value = word.partition("=")
        if sep and key.startswith("--") and os.path.isabs(value):
            return f"{key}={os.path.relpath(value)}"
        return word
    return "tfzoo " + shlex.join(relative(w) for w in argv)


def _train(args, argv):
    import tfzoo

    tfzoo.get_preset(args.model)  # an unknown name fails before TensorFlow loads
    run = tfzoo.train(
        args.model, args.output_dir, epochs=args.epochs, batch_size=args.batch_size, steps=args.steps,
        time_budget=args.time_budget, cpu_budget=args.cpu_budget, data_dir=args.data_dir, source=args.source,
        seed=args.seed, strategy=_strategy(args), overrides=_parse_assignments("--set", args.set),
        recipe_overrides=_parse_assignments("--set-recipe", args.set_recipe), limit_train=args.limit_train,
        limit_eval=args.limit_eval, workers=args.workers, command=recorded_command(argv))
    if run.already_finished:
        print(f"{run.run_dir} holds this run, finished already ({run.spent['epochs']} epochs, "
              f"{run.spent['steps']} steps): nothing to do. Use another --output-dir to train again, "
              f"or a larger --epochs or budget to continue it.")
    spent = run.spent
    print(f"\nspent: {spent['epochs']} epochs, {spent['steps']} steps, {spent['wall_seconds']:.0f} s wall, "
          f"{spent['cpu_seconds']:.0f} s CPU (stopped by {spent['stopped_by']})")
    print("test metrics: " + ", ".join(f"{k} = {v:.4g}" for k, v in run.metrics.items()))
    print("wrote:")
    for key, path in run.paths.items():
        print(f"  {key:12s} {path}")


def _pretrained(args):
    from tfzoo import pretrained

    if args.action == "list":
        rows = pretrained.list_pretrained()
        if not rows:
            print("no trained model is available: none is cached, none is in a checkout, none is published")
        print(f"{'name':28s} {'where':9s} {'MiB':>7s}  location")
        for row in rows:
            size = row["disk_bytes"] if row["disk_bytes"] is not None else row["size_bytes"]
            print(f"{row['name']:28s} {row['where']:9s} {size / 2**20:7.2f}  {row['path'] or row['url']}")
        return
    if args.action == "pack":
        for name, artifact in pretrained.pack_checkout(args.into).items():
            print(f"{name:28s} {artifact.size_bytes / 2**20:7.2f} MiB  sha256 {artifact.sha256}")
        return
    print(pretrained.download(args.name, force=args.force))


def _run(args, argv):
    import tfzoo

    if args.command == "list":
        for name in tfzoo.list_models(args.pattern):
            if args.verbose:
                preset = tfzoo.get_preset(name)
                print(f"{name:28s} {preset.task:22s} {preset.description}  [{preset.citation}]")
            else:
                print(name)
    elif args.command == "train":
        _train(args, argv)
    elif args.command == "evaluate":
        from tfzoo.trainer import evaluate

        for key, value in evaluate(args.run_dir, args.data_dir, args.split, args.source).items():
            print(f"{args.split} {key} = {value:.6g}")
    elif args.command == "export":
        from tfzoo.publisher import publish

        print(f"wrote {publish(args.run_dir, args.destination, version=args.version, command=recorded_command(argv))}")
    elif args.command == "pretrained":
        _pretrained(args)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up notices
    args = _parser().parse_args(argv)  # argparse exits with 2 on a usage error
    from tfzoo.datasets import DataError
    from tfzoo.errors import ArgumentError, InputError, OutputDirectoryError, TrainingDivergedError
    from tfzoo.registry import UnknownModelError

    usage = (UnknownModelError, ArgumentError, InputError, OutputDirectoryError, _UsageError)
    runtime = (DataError, TrainingDivergedError, OSError, RuntimeError, ValueError, TypeError)
    try:
        _run(args, argv)
    except usage + runtime as error:
        if os.environ.get("TFZOO_DEBUG"):
            raise
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR if isinstance(error, usage) else RUNTIME_ERROR
    return 0


def main_exit():
    """The ``tfzoo`` console script."""
    sys.exit(main())
