"""Linear classifier probes for any Keras model (Alain & Bengio; ``003_a93095073811cc34.txt`` ch. 9).

A probe on the features ``h_k`` of layer k is a softmax regression
``f_k(h_k) = softmax(W h_k + b)`` trained with the usual cross-entropy (eq. at lines 3046–3050).
Probes "do not affect the model training": the features pass through ``tf.stop_gradient``
(line 3060) and the probe parameters have their own optimiser. What this module offers:

* :func:`attach_probes` — a :class:`ProbedModel` with one probe per named layer, for functional and
  Sequential models (any layer's output), tfzoo's staged classifiers (their
  ``intermediate_outputs``: ``conv1_preact``, ``conv1_relu``, ``pool1``...) and any subclassed model
  through ``taps(x) -> {name: tensor}``. Features are reduced (lines 3079–3092) by ``"flatten"``,
  ``"global_pool"`` (the mean over every spatial axis, one feature per channel, as for ResNet-50;
  the pooling type is not stated, average is assumed [inferred]) or ``"random_subset"`` (a fixed
  seeded subset of ``n_features`` flattened features, as for Inception v3's 1000; stored in the
  model and exported).
* Training alongside the model: ``ProbedModel.fit`` runs the base model's own ``train_step``
  (its optimiser, its loss) unchanged and then one step of every probe (its own optimiser) on
  ``stop_gradient`` features computed with ``training=False`` (no dropout noise, no random state
  consumed), so the base model's weights are bit-identical to training it without probes.
* :func:`fit_probes_posthoc` — probes trained afterwards on a frozen model from cached features
  (app. 9.B, lines 3251–3257), one layer at a time to bound memory, with early stopping on a
  validation set (Fig. 9.3, line 3112).
* :class:`ProbeMonitor` — train/validation/test error and cross-entropy per probe per epoch, the
  best-validation epoch of every probe (its weights are restored at the end: early stopping on
  validation), and the error-against-depth plot.
* :func:`export_probed` — a SavedModel whose ``serve`` returns the model's output and every probe's
  class probabilities.

Example::

    import tfzoo
    from tfzoo.analysis.probes import attach_probes, ProbeMonitor
    from tfzoo.datasets import mnist_splits
    data = mnist_splits()
    model = tfzoo.create_model("convnet-mnist")
    probed = attach_probes(model)                       # every stage, flattened features
    probed.compile(probe_optimizer="adam")
    monitor = ProbeMonitor({"validation": data["validation"], "test": data["test"]})
    probed.fit(*data["train"], batch_size=64, epochs=1, callbacks=[monitor])
    monitor.plot("probes.png")
"""

from __future__ import annotations

import re

import keras
import numpy as np
import tensorflow as tf

from tfzoo.errors import InputError

REDUCTIONS = ("flatten", "global_pool", "random_subset")


@keras.saving.register_keras_serializable(package="tfzoo")
class RandomFeatureSubset(keras.layers.Layer):
    """Flattens its input and keeps a fixed, seeded subset of ``num_features`` features.

    The indices are drawn without replacement from ``numpy.random.default_rng(seed)`` and sorted;
    when ``num_features`` ≥ the number of features, every feature is kept in order (the layer
    equals ``Flatten``). They are a non-trainable variable, so a SavedModel carries them.
    """

    def __init__(self, num_features: int, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if num_features < 1:
            raise InputError(f"num_features must be ≥ 1, got {num_features}")
        self.num_features = int(num_features)
        self.seed = int(seed)

    def build(self, input_shape):
        total = int(np.prod(input_shape[1:]))
        if self.num_features >= total:
            indices = np.arange(total)
        else:
            indices = np.sort(np.random.default_rng(self.seed).choice(total, self.num_features, replace=False))
        self.indices = self.add_weight(shape=(len(indices),), dtype="int32", trainable=False,
                                       initializer=keras.initializers.Constant(indices), name="indices")

    def call(self, x):
        flat = tf.reshape(x, [tf.shape(x)[0], -1])
        return tf.gather(flat, self.indices, axis=1)

    def get_config(self):
        return {**super().get_config(), "num_features": self.num_features, "seed": self.seed}


def _reduction_layer(reduction: str, n_features: int, seed: int, name: str):
    if reduction == "flatten":
        return keras.layers.Flatten(name=f"{name}_flatten")
    if reduction == "global_pool":
        return keras.layers.Lambda(
            lambda h: tf.reduce_mean(h, axis=list(range(1, len(h.shape) - 1))) if len(h.shape) > 2 else h,
            name=f"{name}_global_pool")
    return RandomFeatureSubset(n_features, seed=seed, name=f"{name}_random_subset")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


class ProbedModel(keras.Model):
    """A model with linear classifier probes; build it with :func:`attach_probes`.

    ``call(x)`` returns ``{"output": model(x), "probe_<layer>": softmax probabilities, ...}``.
    ``fit`` trains the base model exactly as ``base.fit`` would (when ``train_base=True`` in
    :meth:`compile`) and the probes with their own optimiser. ``probe_logits(x)`` gives the probes'
    logits, ``evaluate_probes(x, y)`` their error and cross-entropy.
    """

    def __init__(self, base, taps, layer_names, num_classes, reduction="flatten", n_features=1000,
                 seed=0, **kwargs):
        super().__init__(**kwargs)
        if reduction not in REDUCTIONS:
            raise InputError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        # The base model is held outside Keras tracking: the probes' optimiser must never see its
        # variables, and ``trainable_variables`` of this model are the probes' alone.
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "_taps", taps)
        self.layer_names = list(layer_names)
        self.num_classes = int(num_classes)
        self.reduction = reduction
        self.reducers = [_reduction_layer(reduction, n_features, seed + i, f"reduce_{_safe(n)}")
                         for i, n in enumerate(self.layer_names)]
        self.probes = [keras.layers.Dense(num_classes, name=f"probe_{_safe(n)}",
                                          kernel_initializer=keras.initializers.GlorotUniform(seed + i))
                       for i, n in enumerate(self.layer_names)]
        self.train_base = False
        self._loss_trackers = [keras.metrics.Mean(name=f"probe_{_safe(n)}_loss") for n in self.layer_names]
        self._error_trackers = [keras.metrics.Mean(name=f"probe_{_safe(n)}_error") for n in self.layer_names]

    # ---------------------------------------------------------------- forward
    def features(self, x):
        """``[reduce(stop_gradient(h_k))]``: the probes' inputs, from the model run with training=False."""
        taps = self._taps(x)
        missing = [n for n in self.layer_names if n not in taps]
        if missing:
            raise InputError(f"the feature taps did not return {missing}; they returned {list(taps)}")
        return [reduce(tf.stop_gradient(taps[n]))
                for n, reduce in zip(self.layer_names, self.reducers)]

    def probe_logits(self, x) -> list:
        """Every probe's logits ``W h_k + b`` on ``x``, in ``layer_names`` order."""
        return [probe(h) for probe, h in zip(self.probes, self.features(x))]

    def call(self, x, training=False):
        outputs = {"output": self.base(x, training=False)}
        for name, logits in zip(self.layer_names, self.probe_logits(x)):
            outputs[f"probe_{_safe(name)}"] = tf.nn.softmax(logits)
        return outputs

    # ---------------------------------------------------------------- training
    def compile(self, probe_optimizer="adam", train_base: bool = True, **kwargs):
        """Compiles the probes' optimiser; ``train_base=True`` also trains the (compiled) base model."""
        if train_base and getattr(self.base, "optimizer", None) is None:
            raise InputError("train_base=True needs a compiled base model (base.compile(...)); "
                             "use train_base=False to train only the probes on a frozen model")
        super().compile(optimizer=probe_optimizer, jit_compile=False, **kwargs)
        self.train_base = train_base
        if train_base and not self.base.optimizer.built:
            self.base.optimizer.build(self.base.trainable_variables)

    @property
    def metrics(self):
        base = list(self.base.metrics) if self.train_base else []
        return base + self._loss_trackers + self._error_trackers

    def _probe_step(self, features, y):
        with tf.GradientTape() as tape:
            logits = [probe(h) for probe, h in zip(self.probes, features)]
            losses = [tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                tf.cast(tf.reshape(y, [-1]), tf.int32), z)) for z in logits]
            total = tf.add_n(losses)
        variables = [w for probe in self.probes for w in probe.trainable_weights]
        self.optimizer.apply(tape.gradient(total, variables), variables)
        labels = tf.cast(tf.reshape(y, [-1]), tf.int64)
        for z, loss, lt, et in zip(logits, losses, self._loss_trackers, self._error_trackers):
            lt.update_state(loss)
            et.update_state(tf.cast(tf.not_equal(tf.argmax(z, -1), labels), tf.float32))

    def train_step(self, data):
        """The base model's own ``train_step`` (when ``train_base``), then one step of every probe.

        Hand-written because the method needs it: the probes have their own optimiser and read the
        base model's features before its update, while the base model trains exactly as its own
        ``fit`` would (its loss, optimiser and metrics); no single Keras loss covers both.
        """
        x, y = data[0], data[1]
        features = self.features(x)
        logs = dict(self.base.train_step(data)) if self.train_base else {}
        self._probe_step(features, y)
        logs.update({m.name: m.result() for m in self._loss_trackers + self._error_trackers})
        return logs

    def test_step(self, data):
        x, y = data[0], data[1]
        logs = dict(self.base.test_step(data)) if self.train_base else {}
        labels = tf.cast(tf.reshape(y, [-1]), tf.int64)
        for z, lt, et in zip(self.probe_logits(x), self._loss_trackers, self._error_trackers):
            lt.update_state(tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                tf.cast(labels, tf.int32), z)))
            et.update_state(tf.cast(tf.not_equal(tf.argmax(z, -1), labels), tf.float32))
        logs.update({m.name: m.result() for m in self._loss_trackers + self._error_trackers})
        return logs

    def evaluate_probes(self, x, y, batch_size: int = 500) -> dict:
        """``{layer: {"error": ..., "cross_entropy": ...}}`` of every probe on ``(x, y)`` (means)."""
        if not hasattr(self, "_logits_fn"):
            object.__setattr__(self, "_logits_fn", tf.function(self.probe_logits, reduce_retracing=True))
        y = np.asarray(y).reshape(-1)
        errors = np.zeros(len(self.layer_names))
        entropies = np.zeros(len(self.layer_names))
        for i in range(0, len(y), batch_size):
            labels = y[i:i + batch_size]
            for k, z in enumerate(self._logits_fn(tf.constant(x[i:i + batch_size]))):
                z = z.numpy().astype(np.float64)
                errors[k] += np.sum(np.argmax(z, -1) != labels)
                z = z - z.max(-1, keepdims=True)
                log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
                entropies[k] -= np.sum(log_p[np.arange(len(labels)), labels])
        return {n: {"error": float(e / len(y)), "cross_entropy": float(c / len(y))}
                for n, e, c in zip(self.layer_names, errors, entropies)}


def _functional_taps(model, names):
    outputs = []
    for name in names:
        if name == "input":
            outputs.append(model.inputs[0])
        else:
            try:
                outputs.append(model.get_layer(name).output)
            except ValueError:
                raise InputError(f"model has no layer {name!r}; its layers are "
                                 f"{[layer.name for layer in model.layers]}") from None
    extractor = keras.Model(model.inputs[0] if len(model.inputs) == 1 else model.inputs, outputs)

    def taps(x):
        values = extractor(x, training=False)
        values = values if isinstance(values, (list, tuple)) else [values]
        return dict(zip(names, values))

    return taps


def default_layer_names(model) -> list:
    """Every probe-able place: ``input`` and each layer (functional/Sequential) or stage (tfzoo)."""
    if hasattr(model, "intermediate_outputs") and hasattr(model, "stages"):
        return ["input"] + [name for name, _ in model.stages]
    if hasattr(model, "inputs") and type(model).__name__ in ("Functional", "Sequential"):
        return ["input"] + [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    raise InputError(f"cannot list the layers of a subclassed {type(model).__name__}; pass taps= and layers=")


def resnet_block_outputs(model) -> list:
    """``["input", <every residual block's output>]`` of a ``keras.applications`` ResNet.

    For ResNet-50 these are the 16 ``conv{2..5}_block{k}_out`` layers, the thesis's ``add_1`` …
    ``add_16`` of Table 9.4a (``003`` lines 3143–3160), probed with ``reduction="global_pool"``.
    """
    names = [layer.name for layer in model.layers if re.fullmatch(r"conv\d+_block\d+_out", layer.name)]
    if not names:
        raise InputError("no 'convN_blockM_out' layers: expected a keras.applications ResNet")
    return ["input"] + names


def attach_probes(model, layers=None, reduction: str = "flatten", num_classes: int | None = None,
                  n_features: int = 1000, seed: int = 0, taps=None) -> ProbedModel:
    """Attaches one linear classifier probe per layer in ``layers`` to ``model``.

    Args:
        model: a built Keras model: functional or Sequential (probes on ``model.get_layer(name)``
            outputs and on ``"input"``), a tfzoo staged classifier (its ``intermediate_outputs``), or
            any model with ``taps`` given.
        layers: names to probe; default every layer (stage) and the input.
        reduction: ``"flatten"``, ``"global_pool"`` or ``"random_subset"`` (``003`` lines 3079–3092).
        num_classes: the probes' D; default the last axis of the model's output.
        n_features: features kept by ``"random_subset"`` (the thesis used 1000, line 3271).
        seed: seeds the probes' initial weights and the random subsets.
        taps: ``taps(x) -> {name: tensor}`` computing the features with ``training=False``, for
            subclassed models ("feature taps").

    Returns a :class:`ProbedModel`; compile it with ``probe_optimizer=...`` before ``fit``.
    """
    if not getattr(model, "built", False):
        raise InputError("attach_probes needs a built model (call it once or create it with tfzoo)")
    if taps is None:
        if hasattr(model, "intermediate_outputs"):
            def taps(x):
                return model.intermediate_outputs(x, training=False)
        elif type(model).__name__ in ("Functional", "Sequential"):
            names = list(layers) if layers is not None else default_layer_names(model)
            taps = _functional_taps(model, names)
            layers = names
        else:
            raise InputError(f"{type(model).__name__} is subclassed: give taps(x) -> {{name: tensor}} "
                             "returning the features to probe")
    layers = list(layers) if layers is not None else default_layer_names(model)
    if not layers:
        raise InputError("no layers to probe")
    if num_classes is None:
        num_classes = int(model.outputs[0].shape[-1]) if hasattr(model, "outputs") and model.outputs \
            else int(getattr(model, "num_classes", 0))
        if not num_classes:
            raise InputError("give num_classes: it cannot be read from the model")
    probed = ProbedModel(model, taps, layers, num_classes, reduction, n_features, seed)
    spec = _input_spec(model)
    if spec is not None:  # build the probes now; otherwise they build on the first call
        probed(tf.zeros([1, *spec.shape[1:]], spec.dtype))
    return probed


def _input_spec(model):
    """The batch-first input ``tf.TensorSpec`` of ``model``, or None when it cannot be known."""
    if hasattr(model, "input_signature"):
        return model.input_signature()[0]
    try:
        inputs = model.inputs
    except AttributeError:
        return None
    if not inputs:
        return None
    return tf.TensorSpec((None, *inputs[0].shape[1:]), inputs[0].dtype or "float32", name="x")


def export_probed(probed: ProbedModel, path: str) -> str:
    """Writes a SavedModel whose ``serve(x)`` returns the model's output and every probe's probabilities.

    The random-subset indices are variables of the probes' reducers, so they travel with it. The
    SavedModel loads with ``tf.saved_model.load(path)`` without tfzoo.
    """
    spec = _input_spec(probed.base)
    if spec is None:
        raise InputError("export_probed needs a model with a known input shape (functional, "
                         "Sequential or tfzoo); wrap a subclassed model in a functional one first")
    archive = keras.export.ExportArchive()
    archive.track(probed.base)
    archive.track(probed)
    archive.add_endpoint("serve", lambda x: probed(x, training=False), input_signature=[spec])
    archive.write_out(path, verbose=False)
    return path


def fit_probes_posthoc(probed: ProbedModel, train, validation, test=None, epochs: int = 10,
                       batch_size: int = 128, learning_rate: float = 1e-3, seed: int = 0,
                       feature_batch: int = 500) -> dict:
    """Trains every probe on a frozen model from cached features (``003`` app. 9.B, lines 3251–3257).

    For each probe in turn, the reduced features of ``train``, ``validation`` (and ``test``) are
    computed once and cached as arrays, then the probe is trained by Adam on the cached train
    features for ``epochs`` epochs (seeded shuffling) with early stopping on validation error: its
    weights at the best-validation epoch are kept (Fig. 9.3, line 3112). The model is never run
    in training mode and never changes.

    Returns ``{layer: {"train_error", "train_cross_entropy", "validation_error", ...,
    "best_epoch"}}`` measured at the kept weights.
    """
    rng = np.random.default_rng(seed)
    results = {}
    splits = {"train": train, "validation": validation, **({"test": test} if test is not None else {})}
    for k, name in enumerate(probed.layer_names):
        reducer, probe = probed.reducers[k], probed.probes[k]

        @tf.function(reduce_retracing=True)
        def reduced(x, reducer=reducer, name=name):
            return reducer(tf.stop_gradient(probed._taps(x)[name]))

        cache = {split: (np.concatenate([reduced(tf.constant(x[i:i + feature_batch])).numpy()
                                         for i in range(0, len(x), feature_batch)]),
                         np.asarray(y).reshape(-1).astype(np.int32))
                 for split, (x, y) in splits.items()}
        step = _probe_training_step(probe, keras.optimizers.Adam(learning_rate))

        def measure(split, probe=probe):
            h, y = cache[split]
            z = tf.concat([probe(h[i:i + 2000]) for i in range(0, len(h), 2000)], 0)
            ce = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, z))
            return float(np.mean(np.argmax(z.numpy(), -1) != y)), float(ce)

        best = (np.inf, None, 0)
        h_train, y_train = cache["train"]
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(h_train))
            for i in range(0, len(order), batch_size):
                idx = order[i:i + batch_size]
                step(tf.constant(h_train[idx]), tf.constant(y_train[idx]))
            valid_error = measure("validation")[0]
            if valid_error < best[0]:
                best = (valid_error, [w.numpy() for w in probe.weights], epoch)
        probe.set_weights(best[1])
        record = {"best_epoch": best[2], "num_features": int(h_train.shape[1])}
        for split in splits:
            record[f"{split}_error"], record[f"{split}_cross_entropy"] = measure(split)
        results[name] = record
    return results


def _probe_training_step(probe, optimizer):
    """A compiled Adam step of one probe on cached features ``h`` and labels ``y``."""
    variables = probe.trainable_weights
    optimizer.build(variables)

    @tf.function(reduce_retracing=True)
    def step(h, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, probe(h)))
        optimizer.apply(tape.gradient(loss, variables), variables)

    return step


class ProbeMonitor(keras.callbacks.Callback):
    """Per-epoch error and cross-entropy of every probe on each split, with early stopping on validation.

    Args:
        datasets: ``{split: (x, y)}``, e.g. ``{"train": ..., "validation": ..., "test": ...}``
            (use a subset of the training set to keep it cheap).
        restore_best: at the end of training, set every probe to its weights at its
            best-validation-error epoch (early stopping per probe; ``003`` Fig. 9.3, line 3112).
            Meaningful for a frozen model (``compile(train_base=False)``): when the model trains
            too its features move on, so the restored probe no longer matches them; the
            best-epoch numbers in :meth:`table` are the early-stopped measurements either way.
        measure_at_start: also measure before the first epoch (epoch 0: the probes are untrained).

    After training, :attr:`history` is ``{split: {layer: [{"error", "cross_entropy"}, ...]}}``,
    :attr:`best_epoch` ``{layer: epoch}``, :meth:`table` the rows at the best epochs and :meth:`plot`
    draws error against depth.
    """

    def __init__(self, datasets: dict, restore_best: bool = False, batch_size: int = 500,
                 measure_at_start: bool = False):
        super().__init__()
        self.datasets = datasets
        self.restore_best = restore_best
        self.batch_size = batch_size
        self.measure_at_start = measure_at_start
        self.history: dict = {split: {} for split in datasets}
        self.epochs: list[int] = []
        self.best_epoch: dict = {}
        self._best: dict = {}

    def _measure(self, epoch: int):
        probed = self.model
        self.epochs.append(epoch)
        for split, (x, y) in self.datasets.items():
            for name, values in probed.evaluate_probes(x, y, self.batch_size).items():
                self.history[split].setdefault(name, []).append(values)
        if "validation" in self.datasets:
            for k, name in enumerate(probed.layer_names):
                error = self.history["validation"][name][-1]["error"]
                if name not in self._best or error < self._best[name][0]:
                    self._best[name] = (error, [w.numpy() for w in probed.probes[k].weights])
                    self.best_epoch[name] = epoch

    def on_train_begin(self, logs=None):
        if self.measure_at_start:
            self._measure(0)

    def on_epoch_end(self, epoch, logs=None):
        self._measure(epoch + 1)
        if logs is not None and "validation" in self.datasets:
            for name in self.model.layer_names:
                logs[f"probe_{_safe(name)}_val_error"] = self.history["validation"][name][-1]["error"]

    def on_train_end(self, logs=None):
        if self.restore_best and self._best:
            for k, name in enumerate(self.model.layer_names):
                self.model.probes[k].set_weights(self._best[name][1])

    def table(self) -> list[dict]:
        """One row per probe, in depth order: every split's error and cross-entropy at its best epoch."""
        rows = []
        for name in self.model.layer_names:
            position = self.epochs.index(self.best_epoch[name]) if name in self.best_epoch else -1
            row = {"layer": name, "epoch": self.epochs[position]}
            for split in self.datasets:
                row[f"{split}_error"] = self.history[split][name][position]["error"]
                row[f"{split}_cross_entropy"] = self.history[split][name][position]["cross_entropy"]
            rows.append(row)
        return rows

    def plot(self, path, split: str = "test"):
        """Saves the probes' ``split`` error against depth, one line per measured epoch."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        names = self.model.layer_names
        fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(names)), 4))
        for position, epoch in enumerate(self.epochs):
            ax.plot(range(len(names)), [self.history[split][n][position]["error"] for n in names],
                    marker="o", label=f"epoch {epoch}")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
        ax.set_ylabel(f"probe {split} error")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        return path


def plot_error_by_depth(results: dict, path, labels=None, split: str = "test"):
    """Saves error against depth for one or more :func:`fit_probes_posthoc` results (e.g. init vs trained)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = results if isinstance(results, list) else [results]
    labels = labels or [f"run {i}" for i in range(len(results))]
    names = list(results[0])
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(names)), 4))
    for result, label in zip(results, labels):
        ax.plot(range(len(names)), [result[n][f"{split}_error"] for n in names], marker="o", label=label)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel(f"probe {split} error")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
