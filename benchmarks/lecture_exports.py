"""Measurements of the Lecture 3 models of issue #8 trained on real MNIST by ``tfzoo train``
(``shared/papers/002_e592b05206285d1e.txt``). This script owns no training loop and exports nothing:
each model is a ``tfzoo.train`` run — a finished run directory given with ``--<model>-run``, or a run
the script starts (or resumes) there with a CPU budget — and the shipped ``savedmodels/<preset>/`` come
from ``tfzoo export RUN DIR``.

1. ``gan-mnist`` (L391–509): the preset's recipe (Adam 2e-4, β₁ 0.5 for both players, ``k = 1``
   discriminator step per generator step, non-saturating generator loss, batch 100) on the 50,000
   MNIST training images, for the recipe's 50 epochs or until ``--cpu-seconds`` are spent (the
   trainer's ``cpu_budget``). ``--gan-recipe`` gives recipe overrides (JSON, ``--set-recipe``'s
   fields); the recipe used is recorded in the results. Measured with seed 0, momentum SGD 0.01/0.9
   diverges (non-finite losses in epoch 2): the trainer stops such a run with ``TrainingDivergedError``
   and it is not scored. The curve is the run's per-epoch history (the two training losses, CPU
   seconds); at the end, the mean ``D(x)`` on 2,000 validation images and the mean ``D(G(z))`` on
   2,000 samples of fixed noise. Sample quality, on 1,000 samples ``sample(1000, seed=2)`` against
   1,000 held-out test digits as the baseline:

   * *closeness to the data*: the mean Euclidean distance (pixels in [0, 1]) from a sample to its
     nearest of the 50,000 training images, as in the lecture's L509 figure ("the nearest training
     example of the neighboring sample, in order to demonstrate that the model has not memorized the
     training set"). Test digits score the distance of unseen real digits; samples far above it are
     off the digit manifold, samples far below it are copies of training images;
   * *coverage*: the mean distance from each of the 1,000 test digits to its nearest of the 1,000
     samples, against the same distance to 1,000 training images (what 1,000 real digits achieve).
     A collapsed generator (few modes) scores far above the baseline;
   * the shipped ``savedmodels/convnet-mnist`` classifier (no training here): mean top-class
     probability, entropy of the histogram of predicted classes (log2 10 = 3.32 bits when all digits
     are equally frequent) and the classifier score ``exp E_x KL(p(y | x) ‖ p(y))``, the MNIST
     analogue of the Inception score (EXTERNAL: Salimans et al. 2016; 10 at most).
2. ``sparseae-mnist`` (L532–578): its recipe (Adam 1e-3, batch 256, 10 epochs, ``rho = 0.05``,
   ``beta = 3``) or ``--sparseae-cpu-seconds``, whichever ends first. On the 10,000 test images: the
   reconstruction term ``J`` of L560 (``½ ‖x − x̂‖²``, pixels in [0, 1]) against the training mean
   image and against PCA with as many components as hidden units (the best linear code of that size,
   without sparsity); ``rho_hat_j`` (L535, averaged over the test set) against ``rho`` (L536); the
   fraction of single activations below 0.1 (L537: "the hidden units activations must mostly be near
   0", which a mean of 0.05 alone does not show); per epoch, the trainer's validation objective.
3. ``lista-mnist-patches-m100`` (L582–636): its recipe (the task ``mnist-patches-8x8``; ``W_d``
   learned from the training patches by ``learn_dictionary(steps=30)``, L588, in
   ``LISTA.prepare_training_data``; Adam 3e-3, batch 50, 15 epochs on FISTA codes, L624). Reported as
   in ``benchmarks/lecture.py``: the code error on the task's 1,000 test patches (targets: 1000 FISTA
   iterations for the trained model's dictionary) and the ISTA/FISTA iterations needed to reach it
   (L636: 18 FISTA iterations, on natural-image patches).

Results: ``benchmarks/results/lecture_exports.json``; ``--models`` measures a subset and keeps the
other models' results (each model's entry has its own date); ``--results`` writes them elsewhere.

Run (all three, training them if their run directories are empty: about 11 CPU minutes, 10 of them
for the GAN)::

    python benchmarks/lecture_exports.py --cpu-seconds 600 --sparseae-cpu-seconds 300

or measure runs trained elsewhere: ``python benchmarks/lecture_exports.py --gan-run runs/gan-mnist
--sparseae-run runs/sparseae-mnist --lista-run runs/lista-mnist-patches-m100``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
GAN_PRESET, SPARSE_AE_PRESET, LISTA_PRESET = "gan-mnist", "sparseae-mnist", "lista-mnist-patches-m100"
PRESETS = {"gan": GAN_PRESET, "sparseae": SPARSE_AE_PRESET, "lista": LISTA_PRESET}
MODELS = tuple(PRESETS)  # the choices of --models
CLASSIFIER = os.path.join(REPO, "savedmodels", "convnet-mnist")
QUALITY_SAMPLES = 1000
LISTA_MAX_ITERATIONS = 500   # ISTA/FISTA iterations searched for the one matching LISTA
DIVERGED = "non-finite training loss"  # such a run is not scored


def ensure_run(preset: str, run_dir: str, cpu_seconds, recipe_overrides, seed: int) -> str | None:
    """Trains ``preset`` in ``run_dir`` with ``tfzoo.train`` unless a finished run is there (the same
    call resumes an interrupted one). Returns None, or ``DIVERGED`` when the trainer stopped the run
    on a non-finite loss."""
    import tfzoo
    from tfzoo.errors import TrainingDivergedError
    from tfzoo.trainer import read_metrics

    if os.path.isdir(run_dir) and read_metrics(run_dir) is not None:
        return None
    try:
        tfzoo.train(preset, run_dir, cpu_budget=cpu_seconds, recipe_overrides=recipe_overrides or None,
                    seed=seed, verbose=2)
    except TrainingDivergedError as error:
        print(preset, error, flush=True)
        return DIVERGED
    return None


def run_record(preset: str, run_dir: str) -> tuple:
    """``(model, record)``: the finished run's model and its training facts (recipe and what it
    overrides of the preset's, the per-epoch history as a curve, the budget spent)."""
    import tfzoo
    from trained import finished_run

    finished = finished_run(run_dir, preset)
    metrics = finished["metrics"]
    history, spent, recipe = metrics["history"], metrics["spent"], metrics["recipe"]
    preset_recipe = tfzoo.get_preset(preset).recipe.to_json()
    overrides = {k: v for k, v in recipe.items() if k not in ("epochs", "budget", "notes") and preset_recipe.get(k) != v}
    keys = [k for k in history if not k.startswith("epoch_") and k not in ("cpu_seconds", "steps")]
    curve = [dict(epoch=i + 1, train_cpu_s=round(history["cpu_seconds"][i], 1),
                  **{k: round(float(history[k][i]), 5) for k in keys}) for i in range(len(history["steps"]))]
    record = dict(preset=preset, run_dir=run_dir, training_command=finished["command"],
                  seed=finished["run"]["seed"], recipe=recipe, recipe_overrides=overrides, curve=curve,
                  epochs=spent["epochs"], recipe_epochs=metrics["epochs_requested"],
                  train_cpu_s=round(spent["cpu_seconds"], 1), cpu_budget_s=metrics["budget"]["cpu_seconds"],
                  stopped_by={"epochs": "recipe epochs", "cpu_seconds": "CPU budget"}.get(spent["stopped_by"],
                                                                                          spent["stopped_by"]),
                  train_examples=metrics["train_examples"])
    return finished["model"], record


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


def pca_reconstruction_error(x_train, x_test, components: int) -> float:
    """``J = ½ ‖x − x̂‖²`` averaged over ``x_test`` for PCA (fitted on ``x_train``) with ``components``."""
    mean = x_train.mean(0)
    _, vectors = np.linalg.eigh(np.cov(x_train - mean, rowvar=False))
    basis = vectors[:, -components:]
    centred = x_test - mean
    return float(0.5 * np.mean(np.sum((centred - centred @ basis @ basis.T) ** 2, 1)))


def gan(run_dir: str, record: dict) -> dict:
    import tensorflow as tf

    from tfzoo.datasets import load_task

    model, facts = run_record(GAN_PRESET, run_dir)
    record.update(facts, k=model.k, generator_loss=model.generator_loss_kind)
    splits = load_task("mnist")
    (x_train, _), (x_valid, _), (x_test, y_test) = splits["train"], splits["validation"], splits["test"]
    x_valid = x_valid[:2000]
    record["curve"][-1].update(  # the discriminator at the end of training
        d_real_validation=round(float(tf.reduce_mean(model(x_valid))), 4),
        d_fake_fixed_z=round(float(tf.reduce_mean(model(model.sample(len(x_valid), 1)))), 4))
    start = time.process_time()
    classifier = tf.saved_model.load(CLASSIFIER)

    def classify(images):
        return np.concatenate([classifier.serve(images[i:i + 500]).numpy() for i in range(0, len(images), 500)])

    quality = record["quality"] = gan_sample_quality(model.sample(QUALITY_SAMPLES, 2), x_train,
                                                     x_test[:QUALITY_SAMPLES], y_test[:QUALITY_SAMPLES], classify)
    quality["scoring_cpu_s"] = round(time.process_time() - start, 1)
    print(GAN_PRESET, quality, flush=True)
    return record


def sparse_autoencoder(run_dir: str, record: dict) -> dict:
    from tfzoo.datasets import load_task

    model, facts = run_record(SPARSE_AE_PRESET, run_dir)
    record.update(facts)
    splits = load_task("mnist")
    (x_train, _), (x_test, _) = splits["train"], splits["test"]
    reconstruction, penalty, rho_hat = (np.asarray(v) for v in model.objective(x_test))
    activations = model.encode(x_test).numpy()
    flat_train = x_train.reshape(len(x_train), -1) / 255.0
    flat_test = x_test.reshape(len(x_test), -1) / 255.0
    hidden_units = activations.shape[1]
    record.update(
        test_examples=len(x_test), rho=model.rho, beta=model.beta, rho_hat_mode=model.rho_hat_mode,
        hidden_units=hidden_units, test_reconstruction=round(float(reconstruction), 4),
        mean_image_reconstruction=round(float(0.5 * np.mean(np.sum((flat_test - flat_train.mean(0)) ** 2, 1))), 4),
        pca_reconstruction=round(pca_reconstruction_error(flat_train, flat_test, hidden_units), 4),
        test_sparsity_penalty=round(float(penalty), 4),
        test_rho_hat={"mean": round(float(rho_hat.mean()), 4), "min": round(float(rho_hat.min()), 4),
                      "max": round(float(rho_hat.max()), 4)},
        activations_below_0_1=round(float(np.mean(activations < 0.1)), 4))
    print(SPARSE_AE_PRESET, {k: v for k, v in record.items() if k != "curve"}, flush=True)
    return record


def lista(run_dir: str, record: dict) -> dict:
    from lecture import LISTA_PAPER_FISTA_ITERATIONS, _iterations_to_match

    from tfzoo.lecture import sparse_coding as sc
    from trained import task_splits

    model, facts = run_record(LISTA_PRESET, run_dir)
    record.update(facts)
    x_test = task_splits(LISTA_PRESET, seed=record["seed"])["test"][0]
    z_test = model.optimal_codes(x_test)
    error = float(np.mean(np.sum((model(x_test).numpy() - z_test) ** 2, 1)))
    ista_errors = sc.ista(x_test, model.dictionary, model.alpha, LISTA_MAX_ITERATIONS, reference=z_test).code_errors
    fista_errors = sc.fista(x_test, model.dictionary, model.alpha, LISTA_MAX_ITERATIONS, reference=z_test).code_errors
    record.update(
        train_patches=record["train_examples"], test_patches=len(x_test), n_codes=model.n_codes,
        num_steps=model.num_steps, alpha=model.alpha, test_code_error=round(error, 4),
        optimal_code_mean_nonzeros=round(float(np.mean(np.sum(np.asarray(z_test) != 0, 1))), 2),
        ista_same_shrinkages_error=round(float(ista_errors[model.num_steps + 1]), 4),
        ista_iterations_to_match=_iterations_to_match(ista_errors.numpy(), error),
        fista_iterations_to_match=_iterations_to_match(fista_errors.numpy(), error),
        max_iterations_searched=LISTA_MAX_ITERATIONS,
        paper_fista_iterations=LISTA_PAPER_FISTA_ITERATIONS[model.n_codes])
    print(LISTA_PRESET, {k: v for k, v in record.items() if k != "curve"}, flush=True)
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu-seconds", type=float, default=600.0, help="the GAN run's CPU budget, when it trains")
    parser.add_argument("--gan-recipe", type=json.loads, default={},
                        help='recipe overrides of the gan-mnist run, when it trains (JSON), e.g. '
                             '\'{"optimizer_args": {"beta_1": 0.5, "beta_2": 0.99}}\'')
    parser.add_argument("--sparseae-cpu-seconds", type=float, default=300.0)
    for model in MODELS:
        parser.add_argument(f"--{model}-run", help=f"the {PRESETS[model]} run directory (a finished run is only "
                                                   f"measured; default runs/benchmark-{PRESETS[model]})")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--seed", type=int, default=0, help="the seed of the runs this script trains")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra- and inter-op threads")
    parser.add_argument("--results", default=os.path.join(HERE, "results", "lecture_exports.json"))
    args = parser.parse_args()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    sys.path.insert(0, HERE)
    from run import machine

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

    budgets = {"gan": args.cpu_seconds, "sparseae": args.sparseae_cpu_seconds, "lista": None}
    measures = {"gan": gan, "sparseae": sparse_autoencoder, "lista": lista}
    for name in args.models:
        preset = PRESETS[name]
        run_dir = getattr(args, f"{name}_run") or os.path.join("runs", f"benchmark-{preset}")
        entry = record["results"][name] = {"date": date, "threads": args.threads, "preset": preset}
        stopped = ensure_run(preset, run_dir, budgets[name], args.gan_recipe if name == "gan" else None, args.seed)
        if stopped == DIVERGED:
            entry.update(stopped_by=DIVERGED, run_dir=run_dir, recipe_overrides=args.gan_recipe if name == "gan" else {})
        else:
            measures[name](run_dir, entry)
        write()


def summary(r: dict) -> str:
    parts = [f"**`{m['preset']}`** diverged (non-finite training loss)"
             + (f" in epoch {m['epochs']}" if "epochs" in m else "") + ": not scored. Recipe overrides: "
             f"{json.dumps(m.get('recipe_overrides', {k: v for k, v in m.get('recipe', {}).items() if k != 'note'}))}"
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
    return "\n\n".join(parts) or "run interrupted before any score"


if __name__ == "__main__":
    main()
