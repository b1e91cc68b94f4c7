"""The one publisher: a finished run -> SavedModel, ``MODEL_CARD.md`` and ``tfzoo.json``.

``publish(run_dir, destination)`` (``tfzoo export RUN DIR``) loads a finished run's model, exports
its SavedModel with every endpoint, and writes beside it

* ``tfzoo.json``: preset, model class and configuration, endpoints with their inputs and outputs,
  the full recipe, the data task and how many examples each split had, the budget spent, the
  measured test metrics, the paper's reported numbers, and the commands that reproduce the model;
* ``MODEL_CARD.md``: the same for people — what the model is, how it was trained (the exact
  ``tfzoo`` command, with relative paths only), measured metrics beside the paper's, each endpoint's
  named inputs and outputs, intended use, limitations and license.

With ``version=N`` the SavedModel goes to ``destination/N/`` (the TensorFlow Serving layout) and the
card and metadata to ``destination/``. Every file is written to a temporary path and renamed into
place, so an interrupted export leaves the previous export, or nothing.

Example:
    >>> from tfzoo.publisher import publish                                  # doctest: +SKIP
    >>> publish("runs/realnvp-mnist", "savedmodels/realnvp-mnist")            # doctest: +SKIP
    'savedmodels/realnvp-mnist'
"""

from __future__ import annotations

import json
import os
import shutil

from tfzoo.errors import OutputDirectoryError
from tfzoo.trainer import read_metrics, read_run, write_json_atomically

CARD_FILE = "MODEL_CARD.md"
_PARTIAL = ".partial"


def _signature_table(savedmodel_dir: str) -> dict:
    """Endpoint -> {"inputs": {name: "dtype shape"}, "outputs": {name: "dtype shape"}} of a SavedModel."""
    import tensorflow as tf

    loaded = tf.saved_model.load(savedmodel_dir)
    table = {}
    for name, function in sorted(loaded.signatures.items()):
        _, inputs = function.structured_input_signature
        outputs = function.structured_outputs
        table[name] = {
            "inputs": {k: f"{v.dtype.name} {list(v.shape)}" for k, v in sorted(inputs.items())},
            "outputs": {k: f"{v.dtype.name} {list(v.shape)}" for k, v in sorted(outputs.items())},
        }
    return table


def _format_seconds(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s"


def export_command(run_dir: str, destination: str, version: int | None) -> str:
    return f"tfzoo export {run_dir} {destination}" + (f" --version {version}" if version is not None else "")


def publish(run_dir: str, destination: str, *, version: int | None = None, command: str | None = None) -> str:
    """Exports the finished run in ``run_dir`` to ``destination``; returns ``destination``.

    ``command`` is the export command recorded on the card (the CLI passes its own; default
    ``tfzoo export RUN_DIR DESTINATION``)."""
    from tfzoo import registry
    from tfzoo.savedmodel import directory_size_bytes, export
    from tfzoo.trainer import load_run_model

    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise OutputDirectoryError(f"version must be a positive integer (TF Serving's layout), got {version!r}")
    if os.path.exists(destination) and not os.path.isdir(destination):
        raise OutputDirectoryError(f"export destination {destination!r} is a file, not a directory")
    if os.path.isdir(destination) and os.listdir(destination) and \
            not os.path.exists(os.path.join(destination, "tfzoo.json")):
        raise OutputDirectoryError(f"{destination} exists, is not empty and holds no tfzoo export "
                                   "(no tfzoo.json); choose an empty or new directory")
    run = read_run(run_dir)
    metrics = read_metrics(run_dir)
    model = load_run_model(run_dir)  # refuses an unfinished run
    preset = registry.get_preset(run["preset"])

    os.makedirs(destination, exist_ok=True)
    savedmodel_dir = os.path.join(destination, str(version)) if version is not None else destination
    staging = destination.rstrip("/") + _PARTIAL
    if os.path.exists(staging):
        shutil.rmtree(staging)
    export(model, staging)
    signatures = _signature_table(staging)
    metadata = {
        "preset": preset.name,
        "class": preset.model,
        "config": {k: v for k, v in model.get_config().items() if k not in ("name", "trainable")},
        "parameters": int(model.count_params()),
        "endpoints": signatures,
        "serving_default": "serve",
        "recipe": metrics["recipe"],
        "task": run["task"],
        "examples": {"train": metrics["train_examples"], "test": metrics["test_examples"]},
        "seed": run["seed"],
        "spent": metrics["spent"],
        "metrics": metrics["test"],
        "reported": {k: {"value": v.value, "unit": v.unit, "source": v.source, "note": v.note}
                     for k, v in preset.reported.items()},
        "citation": preset.citation,
        "training_commands": run["commands"],
        "export_command": command or export_command(run_dir, destination, version),
        "tfzoo_version": run.get("tfzoo_version"),
    }
    for name in (CARD_FILE, "tfzoo.json"):  # written below, to the destination, from this export
        if os.path.exists(os.path.join(staging, name)):
            os.remove(os.path.join(staging, name))
    if version is None:
        _move_savedmodel(staging, savedmodel_dir)
    else:
        target = savedmodel_dir
        if os.path.isdir(target):
            shutil.rmtree(target)
        os.replace(staging, target)
    metadata["size_bytes"] = directory_size_bytes(savedmodel_dir)
    write_json_atomically(os.path.join(destination, "tfzoo.json"), metadata)
    card = render_card(preset, metadata)
    with open(os.path.join(destination, CARD_FILE + _PARTIAL), "w") as f:
        f.write(card)
    os.replace(os.path.join(destination, CARD_FILE + _PARTIAL), os.path.join(destination, CARD_FILE))
    return destination


def _move_savedmodel(staging: str, destination: str):
    """Replaces the SavedModel files of ``destination`` by those of ``staging`` (same directory)."""
    for name in ("saved_model.pb", "fingerprint.pb", "variables", "assets"):
        old = os.path.join(destination, name)
        if os.path.isdir(old):
            shutil.rmtree(old)
        elif os.path.exists(old):
            os.remove(old)
    for name in os.listdir(staging):
        os.replace(os.path.join(staging, name), os.path.join(destination, name))
    os.rmdir(staging)


def render_card(preset, metadata: dict) -> str:
    """``MODEL_CARD.md`` from a preset and the metadata :func:`publish` writes."""
    spent = metadata["spent"]
    reported = "\n".join(f"| {k} | {v['value']} {v['unit']} | {v['note']} ({v['source']}) |"
                         for k, v in metadata["reported"].items()) or "| — | the paper reports none | |"
    measured = "\n".join(
        f"| {k} | {v:.6g} | " + (f"{metadata['reported'][k]['value']} {metadata['reported'][k]['unit']}"
                                 if k in metadata["reported"] else "—") + " |"
        for k, v in metadata["metrics"].items())
    endpoints = "\n".join(
        f"| `{name}`{' (serving_default)' if name == metadata['serving_default'] else ''} | "
        + ", ".join(f"`{k}`: {v}" for k, v in e["inputs"].items()) + " | "
        + ", ".join(f"`{k}`: {v}" for k, v in e["outputs"].items()) + " |"
        for name, e in metadata["endpoints"].items() if name != "serving_default")
    recipe = metadata["recipe"]
    callbacks = ", ".join(f"`{c['target'].split(':')[1]}`({json.dumps(c['kwargs'], sort_keys=True)})"
                          for c in recipe["callbacks"]) or "none"
    newline = "\n"
    schedule = recipe["schedule"]["kind"] + (f" (x{recipe['schedule']['decay']} per epoch)"
                                             if recipe["schedule"]["decay"] else "")
    return f"""# {preset.name}

{preset.description}

- **Paper**: {preset.citation}
- **Model**: `{preset.model}`, {metadata['parameters']:,} parameters
- **Data**: task `{metadata['task']}` ({metadata['examples']['train']:,} training examples; metrics on \
{metadata['examples']['test']:,} test examples)
- **Size on disk**: {metadata['size_bytes'] / 2**20:.2f} MiB
- **License**: Apache-2.0 (code and weights)

## How it was trained

```
{newline.join(metadata['training_commands'])}
{metadata['export_command']}
```

- Recipe: {recipe['optimizer']} (learning rate {recipe['learning_rate']:g}, {json.dumps(recipe['optimizer_args'], sort_keys=True)}), \
schedule {schedule}, batch {recipe['batch_size']}, {recipe['epochs']} epochs requested, XLA {recipe['jit_compile']}; \
method callbacks: {callbacks}; seed {metadata['seed']}.
- Budget spent: {spent['epochs']} epochs, {spent['steps']:,} steps, {_format_seconds(spent['wall_seconds'])} wall clock, \
{_format_seconds(spent['cpu_seconds'])} CPU (stopped by: {spent['stopped_by']}).
- Notes: {recipe['notes'] or '—'}

## Metrics measured (this export, test split)

| metric | measured | the paper |
|---|---|---|
{measured}

## What the paper reports

| metric | value | where |
|---|---|---|
{reported}

## Endpoints

`serving_default` is `{metadata['serving_default']}`. Inputs and outputs as TF Serving names them:

| endpoint | inputs | outputs |
|---|---|---|
{endpoints}

Load without tfzoo: `loaded = tf.saved_model.load(path)`, then `loaded.signatures["serve"](x=...)`
or `loaded.serve(x)`.

## Intended use and limitations

For research and teaching: reproducing and inspecting the paper's model. It was trained on the data
task above only, with the budget stated, on a CPU; its numbers can fall short of the paper's where the
budget is smaller (compare the two tables). Not evaluated for any use beyond that data.
"""
