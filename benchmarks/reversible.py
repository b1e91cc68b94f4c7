"""Reversible ReLU nets (``001_ba50c8426a439536.txt``): theorems measured, SHADOW vs its baselines.

Three measurements, each beside what the paper says:

1. **Theorems 2.3 / 2.4 / 3.1** on Gaussian layers (NumPy): relative recovery error against
   ``k/t``, the dropout-½ read-out with the factor 2, the 2-layer model; the *linear read-out* (no
   ReLU, no offset) is the baseline.
2. **SHADOW training** with the paper's protocol (P612–624) at CPU scale: widths 512 (the paper:
   5000), batch 100 (paper), Adam (optimiser not in the paper). The learning rate 4ᵃ·0.001 and the
   SHADOW weight 2ᵇ are chosen, per method, on 10,000 held-out training points (the paper's are
   random; here the task's validation split, the last 10,000 official training images), by the
   validation error at the end of a shorter run on a training subset, over the paper's whole grid
   a ∈ {−2..2}, b ∈ {−3..3} (5 and 35 runs per method). The chosen settings are then trained on a
   larger training subset with several seeds. Baselines in the same run from the same initial
   weights: backprop and backprop + dropout 0.5, i.e. the same ``ShadowNet`` with λ = 0, which trains
   exactly like a plain MLP (tests/reversible). Per epoch: real test error and the error on synthetic
   data generated from the test set (P642). Every run is ``tfzoo.train`` of ``shadownet-mnist-small``
   with the method's constructor overrides and learning rate (``benchmarks/trained.py``).
3. **Random-likeness** (P596–610) of the second hidden layer's kernel after SHADOW training, and
   at initialisation (Glorot-uniform entries: spectrally random-like but not Gaussian).
"""

from __future__ import annotations

import numpy as np

METHODS = {  # name -> (dropout, shadow weight λ)
    "backprop": (0.0, 0.0),
    "backprop + dropout": (0.5, 0.0),
    "SHADOW": (0.0, 1.0),
    "SHADOW + dropout": (0.5, 1.0),
}
LEARNING_RATE_EXPONENTS = (-2, -1, 0, 1, 2)  # learning rate 4^a · 0.001, the paper's grid (P614)
SHADOW_WEIGHT_EXPONENTS = (-3, -2, -1, 0, 1, 2, 3)  # SHADOW weight 2^b, the paper's grid (P614)
CLAIMS = {
    "SHADOW": "vs backprop: 'error drops much faster ... a significant advantage is retained even at the end' (P624)",
    "SHADOW + dropout": "vs backprop + dropout: 'error drops much faster ... a small but persistent advantage' (P234)",
}


def theorem_measurements(quick: bool) -> dict:
    from tfzoo.reversible import shadow

    n_values = [1000, 2000] if quick else [1000, 2000, 4000, 8000]
    sweep = shadow.reversal_sweep(n_values, m=1000, k=40, keep_prob=0.5, seed=0)
    W = shadow.gaussian_weights(4000, 1000, seed=1)
    dropout = {
        "no_drop": shadow.reversal_error(W, 50, 0.5, seed=2)["relative_error"],
        "drop_half_factor_2": shadow.reversal_error(W, 50, 0.5, dropout_half=True, seed=2)["relative_error"],
        "drop_half_factor_1": shadow.reversal_error(W, 50, 0.5, dropout_half=True, dropout_factor=1.0,
                                                    seed=2)["relative_error"],
        "no_drop_half_t": shadow.reversal_error(W, 50, 0.25, seed=2)["relative_error"],
    }
    two_layer = shadow.two_layer_reversal_error((8000, 1000, 200), (4000, 200, 10), seed=3)
    return {"sweep": sweep, "dropout": dropout, "two_layer": two_layer}


PRESET = "shadownet-mnist-small"  # every run: this preset with the method's constructor overrides


def train_one(method: str, seed: int, width: int, epochs: int, learning_rate: float, shadow_weight: float,
              n_train: int, test=None) -> dict:
    """One ``tfzoo.train`` run of ``shadownet-mnist-small`` with ``method``'s dropout and λ =
    ``shadow_weight`` for SHADOW methods (λ = 0 otherwise), widths ``width``, seed ``seed`` (the same
    initial weights for every method of a seed), Adam at ``learning_rate``, batch 100, on the first
    ``n_train`` training images. Returns the final validation error (the task's 10,000 validation
    images) and, with ``test=(x, y)``, the per-epoch error on it and on synthetic data generated from
    it (``SyntheticTestError``, a measurement callback of the run)."""
    from tfzoo.reversible.models import SyntheticTestError
    from trained import train

    dropout, uses_shadow = METHODS[method][0], METHODS[method][1] > 0
    tracker = SyntheticTestError(*test, seed=seed) if test is not None else None
    run = train(PRESET, seed=seed, epochs=epochs, limit_train=n_train,
                limit_eval=len(test[0]) if test is not None else None,
                overrides=dict(hidden_units=(width, width), dropout=dropout,
                               shadow_weight=shadow_weight if uses_shadow else 0.0, seed=seed),
                recipe_overrides=dict(learning_rate=learning_rate, batch_size=100),
                measure=[tracker] if tracker else [])
    record = {"method": method, "seed": seed, "learning_rate": learning_rate,
              "shadow_weight": shadow_weight if uses_shadow else 0.0,
              "seconds": round(run.spent["wall_seconds"], 1), "model": run.model,
              "validation_error": 1.0 - run.history["val_accuracy"][-1]}
    if tracker:
        record.update(test_error=tracker.history["test_error"],
                      synthetic_test_error=tracker.history["synthetic_test_error"])
    return record


def select_hyperparameters(n_train: int, width: int, epochs: int, quick: bool) -> dict:
    """The paper's selection (P614–616) through the trainer: per method, the (learning rate, SHADOW
    weight) on the grid with the lowest error at the end of training on the held-out validation split
    of the task (the last 10,000 of the official training images; the paper keeps out 10,000 random
    training points), after ``epochs`` epochs on the first ``n_train`` training images, seed 0."""
    a_values = (0,) if quick else LEARNING_RATE_EXPONENTS
    b_values = (0,) if quick else SHADOW_WEIGHT_EXPONENTS
    chosen = {}
    for method, (_, weight) in METHODS.items():
        grid = [(a, b) for a in a_values for b in (b_values if weight > 0 else (None,))]
        errors = {}
        for a, b in grid:
            record = train_one(method, 0, width, epochs, 4.0**a * 1e-3, 2.0**b if b is not None else 0.0, n_train)
            errors[f"a={a}" + (f", b={b}" if b is not None else "")] = round(record["validation_error"], 4)
            print(method, a, b, errors, flush=True)
        best = min(errors, key=errors.get)
        a, b = grid[list(errors).index(best)]
        chosen[method] = {"learning_rate": 4.0**a * 1e-3, "shadow_weight": 2.0**b if b is not None else 0.0,
                          "chosen": best, "validation_error": errors}
    return chosen


def run(quick: bool) -> dict:
    import keras

    import tfzoo
    from tfzoo.reversible.random_likeness import random_likeness_report
    from trained import task_splits

    n_train, n_test, width, epochs, seeds = (1000, 500, 128, 2, [0]) if quick else (10000, 5000, 512, 6, [0, 1, 2])
    selection_train, selection_epochs = (1000, 1) if quick else (5000, 3)
    test = tuple(a[:n_test] for a in task_splits(PRESET)["test"])
    chosen = select_hyperparameters(selection_train, width, selection_epochs, quick)
    results = {"setup": {"n_train": n_train, "n_test": n_test, "width": width, "epochs": epochs, "seeds": seeds,
                         "batch_size": 100, "optimizer": "adam", "selection_epochs": selection_epochs,
                         "selection_train": selection_train, "preset": PRESET,
                         "selection_validation": "the task's validation split (10,000 held-out training images)",
                         "learning_rate_exponents": LEARNING_RATE_EXPONENTS,
                         "shadow_weight_exponents": SHADOW_WEIGHT_EXPONENTS,
                         "paper": "5000 units, full MNIST, a in -2..2, b in -3..3 chosen on 10,000 validation points"},
               "selection": chosen, "theorems": theorem_measurements(quick), "training": []}
    for seed in seeds:
        for method in METHODS:
            record = train_one(method, seed, width, epochs, chosen[method]["learning_rate"],
                               chosen[method]["shadow_weight"], n_train, test=test)
            model = record.pop("model")
            if method == "SHADOW + dropout" and seed == seeds[0]:
                layers = {"trained": model.stage_fc2_preact}
            results["training"].append(record)
    keras.utils.set_random_seed(seeds[0])  # the initial weights of the trained net above (as tfzoo.train)
    initial = tfzoo.create_model(PRESET, compile=False, hidden_units=(width, width), seed=seeds[0])
    layers["initial"] = initial.stage_fc2_preact
    for name, layer in sorted(layers.items()):
        report = random_likeness_report(layer)
        results[f"random_likeness_{name}"] = {
            "entries": {k: v for k, v in report["entries"].items() if not k.startswith("histogram")},
            "bias": {k: v for k, v in report["bias"].items() if not k.startswith("histogram")},
            "spectrum_ks": report["spectrum"]["ks_distance"], "verdict": report["verdict"],
            "reversibility": report["reversibility"]}
    return results


def _mean_sd(values) -> str:
    values = np.asarray(values, float) * 100
    return f"{values.mean():.2f}" + (f" ± {values.std(ddof=1):.2f}" if len(values) > 1 else "")


def _ratio(value) -> str:
    return "constant" if value is None else f"{value:.2f}"


def summary(results: dict) -> str:
    setup, theorems = results["setup"], results["theorems"]
    lines = ["**Theorem 2.3** (Gaussian W, m = 1000, k = 40, ρ = 0.5, one calibrated scalar offset): "
             "the paper claims error Õ(k/t) for k < t < k²; baseline: linear read-out Wᵀx.", "",
             "| n | t | k/t | in regime | relative error | error/(k/t) | linear read-out |", "|---|---|---|---|---|---|---|"]
    for r in theorems["sweep"]:
        lines.append(f"| {r['n']} | {r['t']:.0f} | {r['k_over_t']:.4f} | {r['in_regime']} | {r['relative_error']:.3f} "
                     f"| {r['relative_error_over_k_over_t']:.1f} | {r['linear_relative_error']:.2f} |")
    d, t2 = theorems["dropout"], theorems["two_layer"]
    lines += ["", f"**Theorem 2.4** (n = 4000, k = 50, t = 2000): no drop {d['no_drop']:.3f}; drop ½ with factor 2 "
              f"{d['drop_half_factor_2']:.3f} (Theorem 2.3 at t/2: {d['no_drop_half_t']:.3f}, as the proof at P319 "
              f"says); without the factor 2 {d['drop_half_factor_1']:.3f}.", "",
              f"**Theorem 3.1** (sizes {t2['sizes']}, sparsities {t2['ks']}; outside the proof's k₀ < k₂² regime): "
              f"layer-1 error {t2['layer1_relative_error']:.3f}, layer-2 error {t2['layer2_relative_error']:.3f} vs "
              f"{t2['layer2_from_true_h1_relative_error']:.3f} when layer 2 gets the true h⁽¹⁾; linear read-out "
              f"{t2['linear_layer2_relative_error']:.1f}.", "",
              f"**SHADOW on MNIST** ({setup['n_train']} training / {setup['n_test']} test images, widths "
              f"{setup['width']}, {setup['epochs']} epochs, batch 100, Adam, seeds {setup['seeds']}; learning rate "
              f"4^a·0.001 and SHADOW weight 2^b chosen per method on 10,000 held-out training points after "
              f"{setup['selection_epochs']} epochs on {setup['selection_train']} other training "
              f"images, a ∈ {list(setup['learning_rate_exponents'])}, "
              f"b ∈ {list(setup['shadow_weight_exponents'])}; test error in %, mean ± sd over seeds):", "",
              "| method | chosen (validation error) | after epoch 1 | after epoch " + str(setup["epochs"]) +
              " | best epoch | synthetic test error (last) | s / run | paper's claim |",
              "|---|---|---|---|---|---|---|---|"]
    for method in METHODS:
        runs = [r for r in results["training"] if r["method"] == method]
        chosen = results["selection"][method]
        lines.append(
            f"| {method} | {chosen['chosen']} ({100 * chosen['validation_error'][chosen['chosen']]:.2f}) "
            f"| {_mean_sd([r['test_error'][0] for r in runs])} | {_mean_sd([r['test_error'][-1] for r in runs])} "
            f"| {_mean_sd([min(r['test_error']) for r in runs])} | {_mean_sd([r['synthetic_test_error'][-1] for r in runs])} "
            f"| {np.mean([r['seconds'] for r in runs]):.0f} | {CLAIMS.get(method, 'baseline')} |")
    lines += ["", "Synthetic-data error 'tracks that on the real data' (P234, P624): per-epoch curves are in "
              "`benchmarks/results/reversible.json`.", "",
              "**Random-likeness** of the 2nd hidden layer's kernel (paper, AlexNet fc2: Gaussian histogram, "
              "near-constant bias, quarter-circle singular values, P596–610):", "",
              "| kernel | excess kurtosis | entry KS to Gaussian | spectrum KS | bias mean/std ratio | "
              "reversal error (k/t) | verdict |", "|---|---|---|---|---|---|---|"]
    for name in ("initial", "trained"):
        r = results[f"random_likeness_{name}"]
        rev = r["reversibility"]
        lines.append(f"| {name} | {r['entries']['excess_kurtosis']:+.2f} | {r['entries']['ks_to_gaussian']:.3f} "
                     f"| {r['spectrum_ks']:.3f} | {_ratio(r['bias']['mean_to_std_ratio'])} | "
                     f"{rev['relative_error']:.3f} ({rev['k_over_t']:.3f}) | "
                     f"{'random-like' if r['verdict']['random_like'] else 'spectrum only' if r['verdict']['spectrum_random_like'] else 'not random-like'} |")
    return "\n".join(lines)
