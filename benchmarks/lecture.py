"""Lecture 3 benchmarks (``shared/papers/002_e592b05206285d1e.txt``), reduced to a few CPU minutes.

1. **Stochastic depth vs constant depth** (Huang et al. 2016, EXTERNAL; cited L33): the same
   ResNet-20 with survival probabilities decaying to 0.5 and at constant depth (p = 1); wall-clock
   per training epoch (after a warm-up epoch) and test error on an MNIST subset. The cited paper
   reports about 25% less training time (110 layers, CIFAR-10, GPU).
2. **ISTA/FISTA iterations to match LISTA** (L636: "It takes 18 iterations of FISTA to reach the error
   of LISTA with just one iteration for m = 100, and 35 iteration for m = 400"): LISTA with T = 1 and 3
   unrolled steps trained on FISTA codes; the smallest number of ISTA and FISTA iterations whose
   test code error is at most LISTA's; on the notes' Gaussian setting (random unit-norm dictionary,
   5-sparse codes + 0.01 noise) and on 8×8 patches of real MNIST digits with a dictionary learned by
   SGD (L588). "LISTA with one iteration" is taken as T = 1 (two shrinkages; T = 0 is the L636
   "iter = 0" baseline encoder).
3. **Entropy-SGD vs SGD with momentum** at an equal number of gradient evaluations (minibatches) on
   an MNIST subset, MLP 784-100-10 (the lecture gives no numbers; Chaudhari et al. report parity with
   SGD on MNIST, and the independent reproduction in the anchors found SGD better).
4. ``lecture_exports``' measurements of trained ``gan-mnist``, ``sparseae-mnist`` and
   ``lista-mnist-patches-m100`` runs live in ``benchmarks/lecture_exports.py``.

Every model is trained by ``tfzoo.train`` (``benchmarks/trained.py``): the presets with constructor
``overrides`` and ``recipe_overrides`` for each arm, in temporary run directories.
"""

from __future__ import annotations

import numpy as np

LISTA_PAPER_FISTA_ITERATIONS = {100: 18, 400: 35}  # L636, for T = 1 ("one iteration")


def _mnist(n_train, n_test):
    from tfzoo.datasets import load_task

    data = load_task("mnist")
    (x, y), (x_test, y_test) = data["train"], data["test"]
    return x[:n_train], y[:n_train], x_test[:n_test], y_test[:n_test]


def stochastic_depth(quick: bool) -> dict:
    """``sdresnet-mnist`` by ``tfzoo.train`` (its recipe without XLA) with survival probabilities
    decaying to 0.5 and at constant depth (``overrides={"final_survival_probability": 1.0}``), on the
    first ``n_train`` training images; the training steps' seconds of each epoch after the first
    (tracing), fastest kept; test error on the first ``n_test`` test images."""
    from trained import train

    n_train, n_test, epochs = (256, 256, 2) if quick else (6000, 2000, 4)
    rows = {}
    for name, p_last in (("stochastic_depth", 0.5), ("constant_depth", 1.0)):
        run = train("sdresnet-mnist", overrides=dict(final_survival_probability=p_last), epochs=epochs,
                    limit_train=n_train, limit_eval=n_test, recipe_overrides=dict(jit_compile=False))
        seconds = run.history["fit_wall_seconds"][1:]
        rows[name] = {"seconds_per_epoch_fastest": min(seconds), "seconds_per_epoch_all": seconds,
                      "test_error": 1.0 - run.metrics["accuracy"], "expected_depth": run.model.expected_depth(),
                      "blocks": len(run.model.blocks)}
    rows["time_ratio_stochastic_over_constant"] = (rows["stochastic_depth"]["seconds_per_epoch_fastest"]
                                                   / rows["constant_depth"]["seconds_per_epoch_fastest"])
    rows["setting"] = (f"ResNet-20 (9 blocks, sdresnet-mnist), MNIST first {n_train} train / {n_test} test, {epochs} "
                       "epochs by tfzoo.train (the first untimed, training steps of the others timed, fastest kept; "
                       "the two runs one after the other), batch 128")
    return rows


def _iterations_to_match(errors, target):
    hits = np.nonzero(np.asarray(errors) <= target)[0]
    return int(hits[0]) if len(hits) else None


LISTA_VARIANTS = (  # (label, unrolled steps T, m -> constructor options of the structured S, L616)
    ("T1", 1, lambda m: {}), ("T3", 3, lambda m: {}),
    ("T1_sparse_S_10pct", 1, lambda m: {"s_structure": "sparse", "s_density": 0.1}),
    ("T1_low_rank_S_m/10", 1, lambda m: {"s_structure": "low_rank", "s_rank": m // 10}),
)


def _free_parameters(model) -> int:
    """Trainable LISTA parameters, counting a sparse ``S`` by the entries its 0/1 pattern leaves free."""
    count = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    if model.s_structure == "sparse" and model.num_steps:
        s, mask = model.inhibition_weights["S"], model.inhibition_weights["S_mask"]
        count -= int(np.prod(s.shape)) - int(np.count_nonzero(mask)) * s.shape[0]
    return count


def lista_vs_fista(quick: bool) -> dict:
    """The LISTA variants trained by ``tfzoo.train``: the presets ``lista-gaussian-m{m}`` (the task's
    random dictionary) and ``lista-mnist-patches-m{m}`` (the dictionary learned from the training
    patches, L588, in ``LISTA.prepare_training_data``) with ``num_steps`` and the structure of ``S`` as
    constructor overrides, Adam 1e-3, batch 50; targets and test codes by 1000 FISTA iterations for the
    trained model's dictionary. The tasks' splits bound the sizes: 2,000 training signals for the
    Gaussian setting (the 2026-11-22 run used 20,000: m = 400 over-fits 2,000), 10,000 patches."""
    from tfzoo.lecture import sparse_coding as sc
    from trained import task_splits, train

    n_train, n_test, epochs, max_iterations = (1000, 200, 2, 200) if quick else (None, None, 6, 500)
    alpha, learning_rate = 0.1, 1e-3
    results = {}
    for source in ("gaussian", "mnist_patches"):
        for m in (100, 400):
            preset = f"lista-gaussian-m{m}" if source == "gaussian" else f"lista-mnist-patches-m{m}"
            splits = task_splits(preset, limit=max(n_train or 0, n_test or 0) or None)
            x_test = splits["test"][0][:n_test]
            extra = dict(learn_steps=5) if quick and source == "mnist_patches" else {}
            row, reference = {}, None
            for label, steps, structure_for in LISTA_VARIANTS:
                structure = structure_for(m)
                run = train(preset, overrides=dict(num_steps=steps, alpha=alpha, **structure, **extra), epochs=epochs,
                            limit_train=n_train, limit_eval=n_test,
                            recipe_overrides=dict(learning_rate=learning_rate, batch_size=50, jit_compile=False))
                model = run.model
                if reference is None:  # every variant of a preset has the same dictionary (seeded)
                    dictionary = model.dictionary
                    z_test = sc.fista(x_test, dictionary, alpha, 1000).codes.numpy()
                    ista_errors = sc.ista(x_test, dictionary, alpha, max_iterations, reference=z_test).code_errors.numpy()
                    fista_errors = sc.fista(x_test, dictionary, alpha, max_iterations,
                                            reference=z_test).code_errors.numpy()
                    reference = dict(train_examples=len(splits["train"][0][:n_train]))
                    row.update(optimal_code_mean_nonzeros=float(np.mean(np.sum(z_test != 0, 1))),
                               optimal_code_mean_squared_norm=float(np.mean(np.sum(z_test**2, 1))))
                error = float(np.mean(np.sum((model(x_test).numpy() - z_test) ** 2, 1)))
                row[f"lista_{label}"] = {
                    "steps": steps, **structure,
                    "trainable_params": _free_parameters(model),
                    "code_error": error,
                    "ista_same_shrinkages_error": float(ista_errors[steps + 1]),
                    "ista_iterations_to_match": _iterations_to_match(ista_errors, error),
                    "fista_iterations_to_match": _iterations_to_match(fista_errors, error),
                }
            row.update(preset=preset, **reference, test_examples=len(x_test))
            results[f"{source}_m{m}"] = row
    results["setting"] = (f"n = 64, alpha = {alpha}, the presets' tasks ({'first 1000 train / 200 test' if quick else 'all'} "
                          f"examples), tfzoo.train with Adam {learning_rate}, batch 50, {epochs} epochs; codes by 1000 "
                          f"FISTA iterations; search up to {max_iterations} iterations (None: not reached); errors "
                          "are mean ||z* - z||^2")
    return results


def entropy_sgd_vs_sgd(quick: bool) -> dict:
    """``mlp-mnist`` made 784-100-10 without dropout (constructor overrides), trained by ``tfzoo.train``
    with SGD + momentum or Entropy-SGD (``recipe_overrides``: the optimiser ``tfzoo>EntropySGD`` and its
    arguments) for the same number of minibatches."""
    from tfzoo.lecture import entropy_sgd  # noqa: F401  (registers tfzoo>EntropySGD with Keras)
    from trained import train

    n_train, n_test, evaluations = (1000, 500, 100) if quick else (5000, 5000, 1000)
    x, y, _, _ = _mnist(n_train, n_test)
    batch = 100
    epochs = evaluations * batch // n_train
    gamma0 = 0.03

    def entropy(langevin_steps):
        return dict(optimizer="tfzoo>EntropySGD", learning_rate=1.0 / gamma0,
                    optimizer_args=dict(sgld_learning_rate=0.1, langevin_steps=langevin_steps, gamma0=gamma0,
                                        gamma1=1e-3, thermal_noise=1e-4, averaging=0.75))

    optimizers = {"sgd_momentum": dict(optimizer="sgd", learning_rate=0.1, optimizer_args=dict(momentum=0.9)),
                  "entropy_sgd_L5": entropy(5), "entropy_sgd_L20": entropy(20)}
    results = {}
    for name, recipe in optimizers.items():
        run = train("mlp-mnist", overrides=dict(hidden_units=(100,), dropout=0.0), epochs=epochs,
                    limit_train=n_train, limit_eval=n_test,
                    recipe_overrides=dict(recipe, batch_size=batch, jit_compile=False))
        train_scores = run.model.evaluate(x, y, verbose=0, return_dict=True)
        results[name] = {"gradient_evaluations": int(run.model.optimizer.iterations),
                         "test_error": 1 - run.metrics["accuracy"], "train_loss": float(train_scores["loss"]),
                         "seconds": float(sum(run.history["fit_wall_seconds"]))}
    results["setting"] = (f"MLP 784-100-10 (mlp-mnist with overrides) on MNIST first {n_train} train / {n_test} test, "
                          f"batch {batch}, {evaluations} gradient evaluations each, tfzoo.train; Entropy-SGD eta = "
                          f"1/gamma0, gamma0 = {gamma0}, gamma1 = 1e-3, eta' = 0.1, alpha = 0.75, eps = 1e-4 "
                          "[hyper-parameters not in the lecture]")
    return results


def run(quick: bool, only: list | None = None) -> dict:
    parts = {"stochastic_depth": stochastic_depth, "lista": lista_vs_fista, "entropy_sgd": entropy_sgd_vs_sgd}
    unknown = set(only or ()) - set(parts)
    if unknown:
        raise SystemExit(f"unknown lecture parts {sorted(unknown)}; expected some of {sorted(parts)}")
    return {name: part(quick) for name, part in parts.items() if not only or name in only}


def summary(results) -> str:
    sd = results["stochastic_depth"]
    lines = [f"**Stochastic depth** ({sd['setting']})", "",
             "| model | s/epoch | test error | expected depth | paper |", "|---|---|---|---|---|"]
    for name in ("stochastic_depth", "constant_depth"):
        row = sd[name]
        paper = "≈25% faster than constant depth (CIFAR-10, 110 layers)" if name == "stochastic_depth" else "baseline"
        lines.append(f"| {name} | {row['seconds_per_epoch_fastest']:.2f} | {row['test_error']:.4f} | "
                     f"{row['expected_depth']:.2f} / {row['blocks']} | {paper} |")
    lines += ["", f"time ratio stochastic/constant: **{sd['time_ratio_stochastic_over_constant']:.2f}** "
              "(paper: ≈0.75)", "", f"**ISTA/FISTA iterations to match LISTA** ({results['lista']['setting']})", "",
              "| data | m | LISTA variant | LISTA error | ISTA(T+1) error | ISTA its | FISTA its | paper FISTA its |",
              "|---|---|---|---|---|---|---|---|"]
    for key, row in results["lista"].items():
        if key == "setting":
            continue
        source, m = key.rsplit("_m", 1)
        for label, steps, _ in LISTA_VARIANTS:
            r = row[f"lista_{label}"]
            paper = LISTA_PAPER_FISTA_ITERATIONS[int(m)] if label == "T1" else "—"
            lines.append(f"| {source} | {m} | {label.replace('_', ' ')} ({r['trainable_params']:,} free params) | "
                         f"{r['code_error']:.4f} | {r['ista_same_shrinkages_error']:.4f} | "
                         f"{r['ista_iterations_to_match']} | {r['fista_iterations_to_match']} | {paper} |")
    es = results["entropy_sgd"]
    lines += ["", f"**Entropy-SGD vs SGD + momentum** ({es['setting']})", "",
              "| optimiser | gradient evaluations | test error | train loss | s |", "|---|---|---|---|---|"]
    for name, row in es.items():
        if name != "setting":
            lines.append(f"| {name} | {row['gradient_evaluations']} | {row['test_error']:.4f} | "
                         f"{row['train_loss']:.4f} | {row['seconds']:.1f} |")
    return "\n".join(lines)
