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
"""

from __future__ import annotations

import time

import numpy as np

LISTA_PAPER_FISTA_ITERATIONS = {100: 18, 400: 35}  # L636, for T = 1 ("one iteration")


def _mnist(n_train, n_test):
    from tfzoo.datasets import load_mnist

    data = load_mnist()
    return data.x_train[:n_train], data.y_train[:n_train], data.x_test[:n_test], data.y_test[:n_test]


def stochastic_depth(quick: bool) -> dict:
    import keras

    from tfzoo.lecture.stochastic_depth import StochasticDepthResNet

    n_train, n_test, epochs = (256, 256, 2) if quick else (6000, 2000, 4)
    x, y, x_test, y_test = _mnist(n_train, n_test)
    models = {}
    for name, p_last in (("stochastic_depth", 0.5), ("constant_depth", 1.0)):
        keras.utils.set_random_seed(0)
        model = StochasticDepthResNet(blocks_per_stage=3, final_survival_probability=p_last)
        model.build_from_preset()
        model.compile_from_recipe({"optimizer": "sgd", "learning_rate": 0.1, "optimizer_args": {"momentum": 0.9},
                                   "jit_compile": False})
        model.fit(x, y, batch_size=128, epochs=1, verbose=0)  # warm-up epoch (tracing), not timed
        models[name] = model
    # The machine is shared: alternate the two models' epochs and keep each one's fastest epoch.
    seconds = {name: [] for name in models}
    for epoch in range(1, epochs):
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(x, y, batch_size=128, epochs=epoch + 1, initial_epoch=epoch, verbose=0)
            seconds[name].append(time.perf_counter() - start)
    rows = {}
    for name, model in models.items():
        _, accuracy = model.evaluate(x_test, y_test, verbose=0)
        rows[name] = {"seconds_per_epoch_fastest": min(seconds[name]), "seconds_per_epoch_all": seconds[name],
                      "test_error": 1.0 - float(accuracy), "expected_depth": model.expected_depth(),
                      "blocks": len(model.blocks)}
    rows["time_ratio_stochastic_over_constant"] = (rows["stochastic_depth"]["seconds_per_epoch_fastest"]
                                                   / rows["constant_depth"]["seconds_per_epoch_fastest"])
    rows["setting"] = (f"ResNet-20 (9 blocks), MNIST first {n_train} train / {n_test} test, {epochs} epochs "
                       "(1 warm-up + alternating timed epochs, fastest kept), batch 128")
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
    import keras

    from tfzoo.lecture import sparse_coding as sc

    # 2,000 training codes over-fit the m = 400 encoders (train 0.16 vs test 1.31 summed squared error,
    # and T = 3 then scored worse than T = 1); 20,000 examples keep the test error near the training error.
    n_train, n_test, epochs, max_iterations = (1000, 200, 2, 200) if quick else (20000, 1000, 6, 500)
    alpha, learning_rate = 0.1, 1e-3
    results = {}
    for source in ("gaussian", "mnist_patches"):
        if source == "mnist_patches":
            x_all = sc.mnist_patches(_mnist(60000, 1)[0], n_train + n_test, seed=0)
        for m in (100, 400):
            if source == "gaussian":
                dictionary = sc.random_dictionary(64, m, seed=0)
                x_all = sc.sparse_signals(dictionary, n_train + n_test, seed=1)
            else:
                dictionary = sc.learn_dictionary(x_all[:n_train], m, alpha, steps=5 if quick else 30)
            x_train, x_test = x_all[:n_train], x_all[n_train:]
            z_train = sc.fista(x_train, dictionary, alpha, 1000).codes.numpy()
            z_test = sc.fista(x_test, dictionary, alpha, 1000).codes.numpy()
            ista_errors = sc.ista(x_test, dictionary, alpha, max_iterations, reference=z_test).code_errors.numpy()
            fista_errors = sc.fista(x_test, dictionary, alpha, max_iterations, reference=z_test).code_errors.numpy()
            row = {"optimal_code_mean_nonzeros": float(np.mean(np.sum(z_test != 0, 1))),
                   "optimal_code_mean_squared_norm": float(np.mean(np.sum(z_test**2, 1)))}
            for label, steps, structure_for in LISTA_VARIANTS:
                structure = structure_for(m)
                keras.utils.set_random_seed(0)
                model = sc.LISTA(n_inputs=64, n_codes=m, num_steps=steps, alpha=alpha, **structure)
                model.set_dictionary(dictionary)
                model.compile_from_recipe({"optimizer": "adam", "learning_rate": learning_rate, "jit_compile": False})
                model.fit(x_train, z_train, batch_size=50, epochs=epochs, verbose=0)
                error = float(np.mean(np.sum((model(x_test).numpy() - z_test) ** 2, 1)))
                row[f"lista_{label}"] = {
                    "steps": steps, **structure,
                    "trainable_params": _free_parameters(model),
                    "code_error": error,
                    "ista_same_shrinkages_error": float(ista_errors[steps + 1]),
                    "ista_iterations_to_match": _iterations_to_match(ista_errors, error),
                    "fista_iterations_to_match": _iterations_to_match(fista_errors, error),
                }
            results[f"{source}_m{m}"] = row
    results["setting"] = (f"n = 64, alpha = {alpha}, {n_train} train / {n_test} test, Adam {learning_rate}, batch 50, "
                          f"{epochs} epochs; codes by 1000 FISTA iterations; search up to {max_iterations} "
                          "iterations (None: not reached); errors are mean ||z* - z||^2")
    return results


def entropy_sgd_vs_sgd(quick: bool) -> dict:
    import keras

    from tfzoo.classifiers.models import MLPClassifier
    from tfzoo.lecture.entropy_sgd import EntropySGD

    n_train, n_test, evaluations = (1000, 500, 100) if quick else (5000, 5000, 1000)
    x, y, x_test, y_test = _mnist(n_train, n_test)
    batch = 100
    epochs = evaluations * batch // n_train
    gamma0 = 0.03
    optimizers = {
        "sgd_momentum": lambda: keras.optimizers.SGD(0.1, momentum=0.9),
        "entropy_sgd_L5": lambda: EntropySGD(learning_rate=1.0 / gamma0, sgld_learning_rate=0.1, langevin_steps=5,
                                             gamma0=gamma0, gamma1=1e-3, thermal_noise=1e-4, averaging=0.75),
        "entropy_sgd_L20": lambda: EntropySGD(learning_rate=1.0 / gamma0, sgld_learning_rate=0.1, langevin_steps=20,
                                              gamma0=gamma0, gamma1=1e-3, thermal_noise=1e-4, averaging=0.75),
    }
    results = {}
    for name, make in optimizers.items():
        keras.utils.set_random_seed(0)
        model = MLPClassifier(hidden_units=(100,), dropout=0.0)
        model.build_from_preset()
        model.compile_from_recipe({}, optimizer=make(), jit_compile=False)
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
        seconds = time.perf_counter() - start
        train_loss, train_accuracy = model.evaluate(x, y, verbose=0)
        _, accuracy = model.evaluate(x_test, y_test, verbose=0)
        results[name] = {"gradient_evaluations": int(model.optimizer.iterations), "test_error": 1 - float(accuracy),
                         "train_loss": float(train_loss), "seconds": seconds}
    results["setting"] = (f"MLP 784-100-10 on MNIST first {n_train} train / {n_test} test, batch {batch}, "
                          f"{evaluations} gradient evaluations each; Entropy-SGD eta = 1/gamma0, gamma0 = {gamma0}, "
                          "gamma1 = 1e-3, eta' = 0.1, alpha = 0.75, eps = 1e-4 [hyper-parameters not in the lecture]")
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
