"""The Lecture 3 models of issue #8 trained on real MNIST within CPU-time budgets, scored, and exported
to ``savedmodels/<preset>/`` with model cards (``shared/papers/002_e592b05206285d1e.txt``).

1. ``gan-mnist`` (L391–509): the preset's recipe (Adam 2e-4, β₁ 0.5 for both players, ``k = 1``
   discriminator step per generator step, non-saturating generator loss, batch 100) on the first
   50,000 MNIST training images, for the recipe's 50 epochs or until ``--cpu-seconds`` are spent
   (about 12 CPU s per epoch on the 2-core machine). ``--gan-recipe`` replaces keys of the recipe;
   the recipe used is recorded in the results and on the model card. Measured with seed 0, momentum
   SGD 0.01/0.9 diverges (non-finite losses in epoch 2); a diverged run is neither scored nor
   exported. Per epoch: the two training losses, the mean ``D(x)`` on 2,000 validation images and
   the mean ``D(G(z))`` on 2,000 samples of fixed noise. Sample quality, measured once at the end in
   the same run, on 1,000 samples ``sample(1000, seed=2)`` against 1,000 held-out test digits as
   the baseline:

   * *closeness to the data*: the mean Euclidean distance (pixels in [0, 1]) from a sample to its
     nearest of the 50,000 training images, as in the lecture's L509 figure ("the nearest training
     example of the neighboring sample, in order to demonstrate that the model has not memorized the
     training set"). Test digits score the distance of unseen real digits; samples far above it are
     off the digit manifold, samples far below it are copies of training images;
   * *coverage*: the mean distance from each of the 1,000 test digits to its nearest of the 1,000
     samples, against the same distance to 1,000 training images (what 1,000 real digits achieve).
     A collapsed generator (few modes) scores far above the baseline;
   * the shipped ``savedmodels/convnet-mnist`` classifier (1.38% test error, no training here): mean
     top-class probability, entropy of the histogram of predicted classes (log2 10 = 3.32 bits when
     all digits are equally frequent) and the classifier score ``exp E_x KL(p(y | x) ‖ p(y))``, the
     MNIST analogue of the Inception score (EXTERNAL: Salimans et al. 2016; 10 at most).

   Endpoints: ``serve``/``discriminate`` (x ↦ D(x)), ``generate`` (z ↦ G(z)), ``sample(n, seed)``.
2. ``sparseae-mnist`` (L532–578): its recipe (Adam 1e-3, batch 256, 10 epochs, ``rho = 0.05``,
   ``beta = 3``) or ``--sparseae-cpu-seconds``, whichever ends first. On the 10,000 test images: the
   reconstruction term ``J`` of L560 (``½ ‖x − x̂‖²``, pixels in [0, 1]) against the training mean
   image and against PCA with as many components as hidden units (the best linear code of that size,
   without sparsity); ``rho_hat_j`` (L535, averaged over the test set) against ``rho`` (L536); the
   fraction of single activations below 0.1 (L537: "the hidden units activations must mostly be near
   0", which a mean of 0.05 alone does not show); per epoch, the objective on the 10,000 validation
   images. Endpoints: ``serve`` (reconstruction), ``encode``.
3. ``lista-mnist-patches-m100`` (L582–636): its recipe: 8×8 patches (``mnist_patches``) of the
   training digits (10,000) and, for the test, of the test digits (1,000); ``W_d`` learned by
   ``learn_dictionary(steps=30)`` (L588) and installed with ``set_dictionary``; Adam 3e-3, batch 50,
   15 epochs on FISTA codes (L624). Reported as in ``benchmarks/lecture.py``: the test code error and
   the ISTA/FISTA iterations needed to reach it (L636: 18 FISTA iterations, on natural-image patches).
   Endpoints: ``serve``/``encode`` (x ↦ code), ``reconstruct``.

The budgets are **process CPU time** (``time.process_time``) spent in ``fit``; scoring is excluded.
One epoch is the unit, so a budget can be overrun by up to one epoch (the CPU time actually spent
is ``train_cpu_s`` in the results). Results: ``benchmarks/results/lecture_exports.json``, rewritten
after every epoch, so an interrupted run leaves its curves; ``--models`` runs a subset and keeps the
other models' results (each model's entry has its own date); ``--results`` writes them elsewhere,
and ``--output-root`` or ``--no-export`` keep a trial run out of ``savedmodels/``.

Run (all three: about 11 CPU minutes, 10 of them for the GAN; then
``pytest tests/test_savedmodels_directory.py``)::

    python benchmarks/lecture_exports.py --cpu-seconds 600 --sparseae-cpu-seconds 300

Smoke run, exporting nowhere: ``python benchmarks/lecture_exports.py --cpu-seconds 20
--sparseae-cpu-seconds 10 --no-export --results /tmp/lecture_exports.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
GAN_PRESET, SPARSE_AE_PRESET, LISTA_PRESET = "gan-mnist", "sparseae-mnist", "lista-mnist-patches-m100"
MODELS = ("gan", "sparseae", "lista")  # the choices of --models
CLASSIFIER = os.path.join(REPO, "savedmodels", "convnet-mnist")
QUALITY_SAMPLES = 1000
LISTA_TRAIN_PATCHES, LISTA_TEST_PATCHES = 10000, 1000
LISTA_DICTIONARY_STEPS = 30  # the lista-mnist-patches recipe: learn_dictionary(x, m, alpha=0.1, steps=30)
LISTA_MAX_ITERATIONS = 500   # ISTA/FISTA iterations searched for the one matching LISTA
DIVERGED = "non-finite training loss"  # such a run is neither scored nor exported


def train_within_budget(name, model, x, y, *, batch_size, max_epochs, cpu_seconds, epoch_scores, record, write):
    """Fits ``model`` one epoch at a time until the recipe's ``max_epochs`` are done, ``cpu_seconds``
    (None: no budget) of process CPU time are spent in ``fit``, or the training loss is not finite.
    After every epoch appends the epoch's training logs and ``epoch_scores()`` (not counted in the
    budget) to ``record["curve"]`` and writes the results; ``record["stopped_by"]`` says why it stopped."""
    curve = record["curve"] = []
    train_cpu = 0.0
    while len(curve) < max_epochs and (cpu_seconds is None or train_cpu < cpu_seconds):
        start = time.process_time()
        epoch = len(curve)
        history = model.fit(x, y, batch_size=batch_size, epochs=epoch + 1, initial_epoch=epoch, verbose=0)
        train_cpu += time.process_time() - start
        logs = {key: round(float(values[-1]), 5) for key, values in history.history.items()}
        curve.append(dict(epoch=epoch + 1, train_cpu_s=round(train_cpu, 1), **logs, **epoch_scores()))
        print(name, curve[-1], flush=True)
        record.update(epochs=len(curve), recipe_epochs=max_epochs, train_cpu_s=round(train_cpu, 1),
                      cpu_budget_s=cpu_seconds)
        write()
        if not all(math.isfinite(v) for v in logs.values()):
            record["stopped_by"] = DIVERGED
            break
    else:
        record["stopped_by"] = "recipe epochs" if len(curve) == max_epochs else "CPU budget"
    write()
    return curve


def recipe_summary(recipe: dict, overrides: dict) -> str:
    """The optimiser settings of a training recipe, and which of them override the preset's."""
    settings = {k: v for k, v in recipe.items() if k not in ("note", "data")}
    changed = f" (overriding the preset's {json.dumps(sorted(overrides))})" if overrides else " (the preset's recipe)"
    return json.dumps(settings, sort_keys=True) + changed


def mean_nearest_neighbour_distance(queries, references, chunk: int = 10000) -> float:
    """The mean over ``queries`` of the Euclidean distance to the nearest row of ``references``
    (both flattened to vectors)."""
    q = np.asarray(queries, np.float32).reshape(len(queries), -1)
    r = np.asarray(references, np.float32).reshape(len(references), -1)
    nearest = np.full(len(q), np.inf, np.float32)
    q_squared = np.sum(q**2, 1)[:, None]
    for start in range(0, len(r), chunk):
        block = r[start:start + chunk]
        squared = q_squared - 2.0 * q @ block.T + np.sum(block**2, 1)[None]
        nearest = np.minimum(nearest, squared.min(1))
    return float(np.mean(np.sqrt(np.maximum(nearest, 0.0))))


def classifier_statistics(logits) -> dict:
    """Mean top-class probability, entropy (bits) of the predicted-class histogram and the classifier
    score ``exp E_x KL(p(y | x) ‖ p(y))`` of a batch of classifier logits (N, 10)."""
    logits = np.asarray(logits, np.float64)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    histogram = np.bincount(p.argmax(1), minlength=p.shape[1]) / len(p)
    present = histogram[histogram > 0]
    kl = np.sum(p * (np.log(p + 1e-12) - np.log(p.mean(0) + 1e-12)), 1)
    return {"mean_confidence": round(float(p.max(1).mean()), 4),
            "predicted_class_entropy_bits": round(float(np.sum(present * np.log2(1 / present))), 4),
            "classifier_score": round(float(np.exp(kl.mean())), 3)}


def gan_sample_quality(samples, x_train, x_test, y_test, classify) -> dict:
    """The module docstring's three measures for ``samples`` and, as the baseline, for the test digits
    ``x_test`` (images in pixels 0..255; ``classify`` maps such images to logits)."""
    samples, x_train, x_test = (np.asarray(a, np.float32) for a in (samples, x_train, x_test))
    test_logits = classify(x_test)

    def nearest(queries, references):
        return round(mean_nearest_neighbour_distance(queries / 255, references / 255), 4)

    return {"n": len(samples), "classifier": "savedmodels/convnet-mnist",
            "classifier_accuracy_on_test_digits": round(float(np.mean(test_logits.argmax(1) == y_test)), 4),
            "samples": dict(to_nearest_training_image=nearest(samples, x_train),
                            test_digits_to_nearest=nearest(x_test, samples),
                            **classifier_statistics(classify(samples))),
            # the coverage baseline: as many training images as there are samples
            "test_digits": dict(to_nearest_training_image=nearest(x_test, x_train),
                                test_digits_to_nearest=nearest(x_test, x_train[:len(samples)]),
                                **classifier_statistics(test_logits))}


class Exporter:
    """Writes ``<root>/<preset>`` and its model card, or nothing when ``root`` is None."""

    def __init__(self, root: str | None, command: str):
        self.root, self.command = root, command

    def __call__(self, model, metrics: dict, data: str, notes: str) -> str | None:
        if self.root is None:
            return None
        import tfzoo
        from tfzoo.savedmodel import directory_size_bytes, write_model_card

        path = os.path.join(self.root, model.preset_name)
        tfzoo.export(model, path)
        write_model_card(path, preset=tfzoo.get_preset(model.preset_name), metrics=metrics,
                         training_command=self.command, data=data, endpoints=model.export_endpoints(), notes=notes)
        return f"{os.path.relpath(path, REPO)} ({directory_size_bytes(path) / 2**20:.2f} MiB)"


def save_figure(figures: str | None, model, data, curve):
    """``model.plot_result`` (its picture beside the per-epoch curves) as ``<figures>/<preset>.png``."""
    if figures is None:
        return None
    os.makedirs(figures, exist_ok=True)
    keys = [k for k in curve[0] if k not in ("epoch", "train_cpu_s")]
    return model.plot_result(os.path.join(figures, f"{model.preset_name}.png"), data,
                             {k: [row[k] for row in curve] for k in keys})


def gan(splits, cpu_seconds, recipe_overrides, seed, record, write, export, figures) -> dict:
    import keras
    import tensorflow as tf

    import tfzoo

    recipe = {**tfzoo.get_preset(GAN_PRESET).training, **recipe_overrides}
    (x_train, _), (x_valid, _), (x_test, y_test) = splits["train"], splits["validation"], splits["test"]
    x_valid = x_valid[:2000]
    keras.utils.set_random_seed(seed)
    model = tfzoo.create_model(GAN_PRESET, compile=False)
    model.compile_from_recipe(recipe)

    def discriminator_outputs():
        return {"d_real_validation": round(float(tf.reduce_mean(model(x_valid))), 4),
                "d_fake_fixed_z": round(float(tf.reduce_mean(model(model.sample(len(x_valid), 1)))), 4)}

    record.update(preset=GAN_PRESET, train_examples=len(x_train), k=model.k, generator_loss=model.generator_loss_kind,
                  recipe=recipe, recipe_overrides=recipe_overrides)
    curve = train_within_budget(GAN_PRESET, model, x_train, None, batch_size=recipe["batch_size"],
                                max_epochs=recipe["epochs"], cpu_seconds=cpu_seconds,
                                epoch_scores=discriminator_outputs, record=record, write=write)
    if record["stopped_by"] == DIVERGED:
        return record
    start = time.process_time()
    classifier = tf.saved_model.load(CLASSIFIER)

    def classify(images):
        return np.concatenate([classifier.serve(images[i:i + 500]).numpy() for i in range(0, len(images), 500)])

    quality = record["quality"] = gan_sample_quality(model.sample(QUALITY_SAMPLES, 2), x_train,
                                                     x_test[:QUALITY_SAMPLES], y_test[:QUALITY_SAMPLES], classify)
    quality["scoring_cpu_s"] = round(time.process_time() - start, 1)
    print(GAN_PRESET, quality, flush=True)
    write()
    s, t = quality["samples"], quality["test_digits"]
    record["exported"] = export(
        model,
        {"mean distance of 1,000 samples to the nearest of 50,000 training images (pixels in [0, 1])":
             f"{s['to_nearest_training_image']:.3f} (1,000 test digits: {t['to_nearest_training_image']:.3f})",
         "mean distance of 1,000 test digits to the nearest of 1,000 samples":
             f"{s['test_digits_to_nearest']:.3f} (to 1,000 training images: {t['test_digits_to_nearest']:.3f})",
         "convnet-mnist classifier score exp E KL(p(y ∣ x) ‖ p(y)), 1,000 samples":
             f"{s['classifier_score']:.2f} (test digits: {t['classifier_score']:.2f}; 10 at most)",
         "convnet-mnist mean confidence / predicted-class entropy":
             f"{s['mean_confidence']:.3f} / {s['predicted_class_entropy_bits']:.2f} bits (test digits: "
             f"{t['mean_confidence']:.3f} / {t['predicted_class_entropy_bits']:.2f} bits)",
         "training": f"{record['epochs']} of the recipe's {record['recipe_epochs']} epochs over 50,000 images, "
                     f"{record['train_cpu_s']:.0f} s of CPU time; final D loss {curve[-1]['d_loss']:.3f}, "
                     f"G loss {curve[-1]['g_loss']:.3f}"},
        f"MNIST, the first 50,000 training images (pixels 0..255); k = {model.k}, {model.generator_loss_kind} "
        f"generator loss, the same optimiser for both players: {recipe_summary(recipe, recipe_overrides)}; "
        f"seed {seed}; scored against the first 1,000 test digits",
        "\n`sample(n, seed)` draws `n` images (pixels 0..255) from the uniform prior with a stateless seed: "
        "the same seed gives the same images in every process. `serve` and `discriminate` return D(x), the "
        "probability that x is a training image. Distances, coverage and classifier scores are defined in "
        "`benchmarks/lecture_exports.py`; the run's curves are in `benchmarks/results/lecture_exports.json`.\n")
    record["figure"] = save_figure(figures, model, {"test": (x_test, y_test)}, curve)
    write()
    return record


def pca_reconstruction_error(x_train, x_test, components: int) -> float:
    """``J = ½ ‖x − x̂‖²`` averaged over ``x_test`` for PCA (fitted on ``x_train``) with ``components``."""
    mean = x_train.mean(0)
    _, vectors = np.linalg.eigh(np.cov(x_train - mean, rowvar=False))
    basis = vectors[:, -components:]
    centred = x_test - mean
    return float(0.5 * np.mean(np.sum((centred - centred @ basis @ basis.T) ** 2, 1)))


def sparse_autoencoder(splits, cpu_seconds, seed, record, write, export, figures) -> dict:
    import keras

    import tfzoo

    preset = tfzoo.get_preset(SPARSE_AE_PRESET)
    (x_train, _), (x_valid, _), (x_test, y_test) = splits["train"], splits["validation"], splits["test"]
    record.update(preset=SPARSE_AE_PRESET, recipe=preset.training)
    keras.utils.set_random_seed(seed)
    model = tfzoo.create_model(SPARSE_AE_PRESET)

    def validation_objective():
        scores = model.evaluate(x_valid, batch_size=1000, verbose=0, return_dict=True)
        return {f"validation_{k}": round(float(v), 5) for k, v in scores.items()}

    curve = train_within_budget(SPARSE_AE_PRESET, model, x_train, None, batch_size=preset.training["batch_size"],
                                max_epochs=preset.training["epochs"], cpu_seconds=cpu_seconds,
                                epoch_scores=validation_objective, record=record, write=write)
    if record["stopped_by"] == DIVERGED:
        return record
    reconstruction, penalty, rho_hat = (np.asarray(v) for v in model.objective(x_test))
    activations = model.encode(x_test).numpy()
    flat_train = x_train.reshape(len(x_train), -1) / 255.0
    flat_test = x_test.reshape(len(x_test), -1) / 255.0
    hidden_units = activations.shape[1]
    record.update(
        train_examples=len(x_train), test_examples=len(x_test), rho=model.rho,
        beta=model.beta, rho_hat_mode=model.rho_hat_mode, hidden_units=hidden_units,
        test_reconstruction=round(float(reconstruction), 4),
        mean_image_reconstruction=round(float(0.5 * np.mean(np.sum((flat_test - flat_train.mean(0)) ** 2, 1))), 4),
        pca_reconstruction=round(pca_reconstruction_error(flat_train, flat_test, hidden_units), 4),
        test_sparsity_penalty=round(float(penalty), 4),
        test_rho_hat={"mean": round(float(rho_hat.mean()), 4), "min": round(float(rho_hat.min()), 4),
                      "max": round(float(rho_hat.max()), 4)},
        activations_below_0_1=round(float(np.mean(activations < 0.1)), 4))
    print(SPARSE_AE_PRESET, {k: v for k, v in record.items() if k != "curve"}, flush=True)
    write()
    r = record
    record["exported"] = export(
        model,
        {"test reconstruction J = ½ ‖x − x̂‖² (pixels in [0, 1], 10,000 test images)":
             f"{r['test_reconstruction']:.3f} (training mean image: {r['mean_image_reconstruction']:.3f}; "
             f"PCA, {hidden_units} components: {r['pca_reconstruction']:.3f})",
         "mean hidden activation ρ̂ over the test set (target ρ = 0.05, L536)":
             f"{r['test_rho_hat']['mean']:.4f} (units from {r['test_rho_hat']['min']:.4f} to "
             f"{r['test_rho_hat']['max']:.4f})",
         "test KL sparsity penalty Σ_j KL(ρ ‖ ρ̂_j)": f"{r['test_sparsity_penalty']:.4f}",
         "fraction of single hidden activations below 0.1": f"{r['activations_below_0_1']:.3f}",
         "training": f"{r['epochs']} of the recipe's {r['recipe_epochs']} epochs over 50,000 images, "
                     f"{r['train_cpu_s']:.0f} s of CPU time"},
        f"MNIST, the first 50,000 training images; ρ = {model.rho}, β = {model.beta}, {model.rho_hat_mode} ρ̂; "
        f"{recipe_summary(preset.training, {})}; seed {seed}; scored on the 10,000-image test split",
        f"\n`serve` returns the reconstruction in pixel units (0..255); `encode` the {hidden_units} sigmoid hidden "
        "activations a⁽²⁾(x) of L571. The input of norm at most 1 that maximally activates unit j (L572) is "
        f"column j of the encoder kernel (784 × {hidden_units}, in the units of x / 255) normalised to unit length "
        "(`SparseAutoencoder.max_activating_inputs`).\n")
    record["figure"] = save_figure(figures, model, {"test": (x_test, y_test)}, curve)
    write()
    return record


def lista(splits, seed, record, write, export) -> dict:
    import keras
    from lecture import LISTA_PAPER_FISTA_ITERATIONS, _iterations_to_match

    import tfzoo
    from tfzoo.lecture import sparse_coding as sc

    preset = tfzoo.get_preset(LISTA_PRESET)
    record.update(preset=LISTA_PRESET, recipe=preset.training)
    keras.utils.set_random_seed(seed)
    model = tfzoo.create_model(LISTA_PRESET)
    start = time.process_time()
    x_train = sc.mnist_patches(splits["train"][0], LISTA_TRAIN_PATCHES, seed=seed)
    x_test = sc.mnist_patches(splits["test"][0], LISTA_TEST_PATCHES, seed=seed + 1)
    model.set_dictionary(sc.learn_dictionary(x_train, model.n_codes, model.alpha, steps=LISTA_DICTIONARY_STEPS,
                                             seed=seed))
    z_train, z_test = model.optimal_codes(x_train), model.optimal_codes(x_test)
    record["dictionary_and_codes_cpu_s"] = round(time.process_time() - start, 1)
    train_within_budget(LISTA_PRESET, model, x_train, z_train, batch_size=preset.training["batch_size"],
                        max_epochs=preset.training["epochs"], cpu_seconds=None, epoch_scores=dict,
                        record=record, write=write)
    if record["stopped_by"] == DIVERGED:
        return record
    error = float(np.mean(np.sum((model(x_test).numpy() - z_test) ** 2, 1)))
    ista_errors = sc.ista(x_test, model.dictionary, model.alpha, LISTA_MAX_ITERATIONS, reference=z_test).code_errors
    fista_errors = sc.fista(x_test, model.dictionary, model.alpha, LISTA_MAX_ITERATIONS, reference=z_test).code_errors
    record.update(
        train_patches=len(x_train), test_patches=len(x_test), n_codes=model.n_codes,
        num_steps=model.num_steps, alpha=model.alpha, test_code_error=round(error, 4),
        optimal_code_mean_nonzeros=round(float(np.mean(np.sum(z_test != 0, 1))), 2),
        ista_same_shrinkages_error=round(float(ista_errors[model.num_steps + 1]), 4),
        ista_iterations_to_match=_iterations_to_match(ista_errors.numpy(), error),
        fista_iterations_to_match=_iterations_to_match(fista_errors.numpy(), error),
        max_iterations_searched=LISTA_MAX_ITERATIONS,
        paper_fista_iterations=LISTA_PAPER_FISTA_ITERATIONS[model.n_codes])
    print(LISTA_PRESET, {k: v for k, v in record.items() if k != "curve"}, flush=True)
    write()
    r = record
    record["exported"] = export(
        model,
        {"test code error mean ‖f_e(x) − z*‖² (1,000 patches of test digits)": f"{error:.4f}",
         f"ISTA {model.num_steps + 1} iterations (the same shrinkages) code error":
             f"{r['ista_same_shrinkages_error']:.4f}",
         "ISTA / FISTA iterations to match": f"{r['ista_iterations_to_match']} / {r['fista_iterations_to_match']} "
                                             f"(None: not within {LISTA_MAX_ITERATIONS}; lecture, natural-image "
                                             f"patches: FISTA {r['paper_fista_iterations']})",
         "training": f"{r['epochs']} epochs over {len(x_train):,} patches, {r['train_cpu_s']:.0f} s of CPU time"},
        f"{len(x_train):,} 8×8 patches of the first 50,000 MNIST training digits (tfzoo.lecture.sparse_coding."
        f"mnist_patches, seed {seed}; test: {len(x_test):,} patches of the test digits, seed {seed + 1}); W_d = "
        f"learn_dictionary(patches, {model.n_codes}, alpha={model.alpha}, steps={LISTA_DICTIONARY_STEPS}); "
        f"targets: 1000 FISTA iterations (L624); {recipe_summary(preset.training, {})}",
        "\nInputs are patches in the units of `mnist_patches` (pixels / 255, patch mean removed). The learned "
        f"dictionary W_d ({model.n_inputs} × {model.n_codes}) is the weight `dictionary` of the SavedModel, not "
        "the preset's random placeholder (`dictionary_seed` in the config); `reconstruct(x)` returns W_d f_e(x).\n")
    write()
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu-seconds", type=float, default=600.0, help="the GAN's training budget")
    parser.add_argument("--gan-recipe", type=json.loads, default={},
                        help='JSON keys replacing those of the gan-mnist training recipe, e.g. '
                             '\'{"optimizer_args": {"momentum": 0.5}}\'')
    parser.add_argument("--sparseae-cpu-seconds", type=float, default=300.0)
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra- and inter-op threads")
    parser.add_argument("--output-root", default=os.path.join(REPO, "savedmodels"),
                        help="the SavedModels go to <output-root>/<preset>")
    parser.add_argument("--no-export", action="store_true", help="train and score only")
    parser.add_argument("--results", default=os.path.join(HERE, "results", "lecture_exports.json"))
    parser.add_argument("--figures", help="a directory for each model's picture beside its curves (PNG)")
    args = parser.parse_args()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    sys.path.insert(0, HERE)
    from run import machine

    from tfzoo.datasets import mnist_splits

    date = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    record = {"family": "lecture_exports", "quick": False, "machine": machine(), "date": date,
              "wall_clock_s": None, "results": {}}
    if os.path.exists(args.results) and set(args.models) != set(MODELS):
        with open(args.results) as f:  # keep the models not run now, as run.py --only does
            record["results"] = {m: r for m, r in json.load(f)["results"].items() if m not in args.models}
    start = time.time()

    def write():
        record["wall_clock_s"] = round(time.time() - start, 1)
        os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
        with open(args.results, "w") as f:
            json.dump(record, f, indent=1, sort_keys=True)

    command = "python benchmarks/lecture_exports.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    export = Exporter(None if args.no_export else args.output_root, command.strip())
    splits = mnist_splits()
    results = record["results"]
    for name in args.models:
        results[name] = {"date": date, "seed": args.seed, "threads": args.threads}
    if "gan" in args.models:
        gan(splits, args.cpu_seconds, args.gan_recipe, args.seed, results["gan"], write, export, args.figures)
    if "sparseae" in args.models:
        sparse_autoencoder(splits, args.sparseae_cpu_seconds, args.seed, results["sparseae"], write, export,
                           args.figures)
    if "lista" in args.models:
        lista(splits, args.seed, results["lista"], write, export)


def summary(r: dict) -> str:
    parts = [f"**`{m['preset']}`** diverged (non-finite training loss) in epoch {m['epochs']}: not scored, not "
             f"exported. Recipe: {json.dumps({k: v for k, v in m.get('recipe', {}).items() if k != 'note'})}"
             for m in r.values() if m.get("stopped_by") == DIVERGED]
    g = r.get("gan")
    if g and "quality" in g:
        s, t = g["quality"]["samples"], g["quality"]["test_digits"]
        parts.append(
            f"**`gan-mnist`**: {g['epochs']} of the recipe's {g['recipe_epochs']} epochs (k = {g['k']}, "
            f"{g['generator_loss']} generator loss; recipe overrides: {json.dumps(g['recipe_overrides'])}) in "
            f"{g['train_cpu_s']:.0f} CPU s; final D loss "
            f"{g['curve'][-1]['d_loss']:.3f}, G loss {g['curve'][-1]['g_loss']:.3f}, D(x) on validation "
            f"{g['curve'][-1]['d_real_validation']:.2f}, D(G(z)) {g['curve'][-1]['d_fake_fixed_z']:.2f}.\n\n"
            f"| {g['quality']['n']:,} images | GAN samples | MNIST test digits (baseline) |\n|---|---|---|\n"
            f"| mean distance to the nearest of 50,000 training images (L509; pixels in [0, 1]) | "
            f"{s['to_nearest_training_image']:.3f} | {t['to_nearest_training_image']:.3f} |\n"
            f"| coverage: mean distance of 1,000 test digits to the nearest of these images | "
            f"{s['test_digits_to_nearest']:.3f} | {t['test_digits_to_nearest']:.3f} (1,000 training images) |\n"
            f"| convnet-mnist mean confidence | {s['mean_confidence']:.3f} | {t['mean_confidence']:.3f} |\n"
            f"| predicted-class entropy (bits; 3.32 uniform) | {s['predicted_class_entropy_bits']:.2f} | "
            f"{t['predicted_class_entropy_bits']:.2f} |\n"
            f"| classifier score exp E KL(p(y ∣ x) ‖ p(y)) (≤ 10) | {s['classifier_score']:.2f} | "
            f"{t['classifier_score']:.2f} |")
    a = r.get("sparseae")
    if a and "test_reconstruction" in a:
        parts.append(
            f"**`sparseae-mnist`** (ρ = {a['rho']}, β = {a['beta']}, {a['hidden_units']} units): {a['epochs']} of "
            f"{a['recipe_epochs']} epochs in {a['train_cpu_s']:.0f} CPU s\n\n"
            "| 10,000 test images | sparse AE | reference |\n|---|---|---|\n"
            f"| reconstruction J = ½‖x − x̂‖² (pixels in [0, 1]) | {a['test_reconstruction']:.3f} | "
            f"training mean image {a['mean_image_reconstruction']:.3f}; PCA, {a['hidden_units']} components "
            f"{a['pca_reconstruction']:.3f} |\n"
            f"| mean activation ρ̂ of the units (min–max) | {a['test_rho_hat']['mean']:.4f} "
            f"({a['test_rho_hat']['min']:.3f}–{a['test_rho_hat']['max']:.3f}) | target ρ = {a['rho']} (L536) |\n"
            f"| Σ_j KL(ρ ‖ ρ̂_j) | {a['test_sparsity_penalty']:.4f} | 0 when every ρ̂_j = ρ |\n"
            f"| single activations below 0.1 | {a['activations_below_0_1']:.1%} | — |")
    li = r.get("lista")
    if li and "test_code_error" in li:
        parts.append(
            f"**`lista-mnist-patches-m100`** ({li['train_patches']:,} training / {li['test_patches']:,} test "
            f"8×8 patches, {li['epochs']} epochs, {li['train_cpu_s']:.0f} CPU s)\n\n"
            "| m | LISTA T | test code error | ISTA(T+1) error | ISTA its | FISTA its | lecture FISTA its "
            "(natural patches) |\n|---|---|---|---|---|---|---|\n"
            f"| {li['n_codes']} | {li['num_steps']} | {li['test_code_error']:.4f} | "
            f"{li['ista_same_shrinkages_error']:.4f} | {li['ista_iterations_to_match']} | "
            f"{li['fista_iterations_to_match']} | {li['paper_fista_iterations']} (L636) |")
    exported = [m["exported"] for m in (g, a, li) if m and m.get("exported")]
    if exported:
        parts.append("Exported: " + ", ".join(exported) + ".")
    return "\n\n".join(parts) or "run interrupted before any score"


if __name__ == "__main__":
    main()
