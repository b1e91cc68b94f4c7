"""Chapter-4 models of Dinh's thesis on real data, in a reduced CPU budget.

* ``mog-2d`` on two moons: EM against gradient descent (``fit``), test NLL and CPU time.
* ``made-mnist`` on binarized MNIST: test NLL (nats) after a few epochs, against the named baseline
  measured in the same run: independent Bernoulli pixels fitted by maximum likelihood.
* ``vae-mnist`` on binarized MNIST: test ELBO on the whole test set, IWAE-K bounds on a subset of
  test images (IWAE-5000 on all 10,000 images is out of a CPU budget), and the gradient-variance
  ratio REINFORCE / reparametrization of the encoder gradient at several points of training.

The papers' numbers (Germain et al. 2015; Burda et al. 2016) are for models trained for hundreds
or thousands of epochs; ours train for a few, so they are far from them, and say so.

``run(quick, export_dir=None)``: with ``export_dir``, the trained models are also exported there
(``<export_dir>/<preset>/``) with a model card.
"""

from __future__ import annotations

import os
import time

import numpy as np

BASELINE = "independent Bernoulli pixels (ML fit on the training set)"


def _cpu_timed(function, *args, **kwargs):
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.process_time() - start_cpu, time.perf_counter() - start_wall


def _independent_bernoulli_nll(x_train, x_test) -> float:
    """Mean test NLL (nats) of a factorised Bernoulli model with ML marginals (clipped to [1e-3, 1-1e-3])."""
    p = np.clip(x_train.reshape(len(x_train), -1).mean(0), 1e-3, 1 - 1e-3)
    x = x_test.reshape(len(x_test), -1)
    return float(-np.mean(x @ np.log(p) + (1 - x) @ np.log(1 - p)))


def _export(model, export_dir, preset_name, metrics, command, data):
    import tfzoo
    from tfzoo.savedmodel import write_model_card

    path = os.path.join(export_dir, preset_name)
    tfzoo.export(model, path)
    write_model_card(path, preset=tfzoo.get_preset(preset_name), metrics=metrics, training_command=command,
                     data=data, endpoints=model.export_endpoints(),
                     notes="\nTrained in the reduced CPU budget of `benchmarks/probabilistic.py`; see "
                           "`docs/probabilistic.md` for how far this is from the papers.\n")


def bench_mog(quick: bool, export_dir=None) -> dict:
    import keras

    import tfzoo
    from tfzoo.datasets import load_task

    data = load_task("moons", seed=0)
    x_train, x_test = data["train"][0], data["test"][0]
    preset = tfzoo.get_preset("mog-2d")
    em_model = tfzoo.create_model("mog-2d")
    history, em_cpu, em_wall = _cpu_timed(em_model.fit_em, x_train, iterations=preset.training["em_iterations"],
                                          init="data", seed=0)
    keras.utils.set_random_seed(0)
    sgd_model = tfzoo.create_model("mog-2d")
    epochs = 3 if quick else preset.training["epochs"]
    _, sgd_cpu, sgd_wall = _cpu_timed(sgd_model.fit, x_train, batch_size=preset.training["batch_size"],
                                      epochs=epochs, verbose=0)
    result = {
        "em": {"test_nll_nats": -float(np.mean(em_model.log_prob(x_test))), "iterations": len(history) - 1,
               "train_log_likelihood_first_last": [history[0], history[-1]],
               "monotone": bool(np.all(np.diff(history) >= -1e-10)), "cpu_s": em_cpu, "wall_s": em_wall},
        "gradient_descent": {"test_nll_nats": -float(np.mean(sgd_model.log_prob(x_test))), "epochs": epochs,
                             "cpu_s": sgd_cpu, "wall_s": sgd_wall},
    }
    if export_dir:
        _export(em_model, export_dir, "mog-2d", {"test NLL (nats), EM": round(result["em"]["test_nll_nats"], 4)},
                "benchmarks/probabilistic.py: model.fit_em(x_train, iterations=100, init='data', seed=0)",
                "two moons (tfzoo.datasets.load_task('moons', seed=0)), 10k training points")
    return result


def bench_made(x_train, x_test, quick: bool, export_dir=None) -> dict:
    import keras

    import tfzoo
    from tfzoo.datasets import make_dataset, steps_per_epoch

    preset = tfzoo.get_preset("made-mnist")
    batch_size, epochs = preset.training["batch_size"], (1 if quick else 10)
    keras.utils.set_random_seed(0)
    model = tfzoo.create_model("made-mnist")
    train_ds = make_dataset(x_train, batch_size=batch_size, shuffle_seed=0, epochs=epochs, drop_remainder=True)
    history, cpu, wall = _cpu_timed(model.fit, train_ds, epochs=epochs,
                                    steps_per_epoch=steps_per_epoch(len(x_train), batch_size, True), shuffle=False, verbose=0)
    test_nll = -float(np.mean(model.predict(x_test, batch_size=1000, verbose=0)))
    baseline = _independent_bernoulli_nll(x_train, x_test)
    result = {"test_nll_nats": test_nll, "baseline_test_nll_nats": baseline, "baseline": BASELINE,
              "nll_ratio_to_baseline": test_nll / baseline, "epochs": epochs, "train_examples": len(x_train),
              "train_nll_per_epoch": [float(v) for v in history.history["loss"]], "train_cpu_s": cpu,
              "train_wall_s": wall, "paper_test_nll_nats": preset.reported["test_nll"].value,
              "paper_source": preset.reported["test_nll"].source}
    if export_dir:
        _export(model, export_dir, "made-mnist", {"test NLL (nats)": round(test_nll, 2), "epochs": epochs},
                f"benchmarks/probabilistic.py: fit {epochs} epochs, Adam 1e-3, batch {batch_size}",
                "MNIST binarized at 0.5 (tfzoo.datasets.mnist_splits(binarized=True)), 50k train / 10k test")
    return result


def gradient_variance(model, x, draws: int, seed: int) -> dict:
    """Total variance (sum over encoder parameters) of the two estimators of d L_ELBO / d lambda."""
    out = {}
    for estimator in ("reinforce", "reparametrization"):
        grads = model.encoder_gradient_draws(x, estimator, draws, seed)
        out[estimator] = float(sum(g.var(0).sum() for g in grads))
    out["ratio_reinforce_to_reparametrization"] = out["reinforce"] / out["reparametrization"]
    return out


def bench_vae(x_train, x_test, quick: bool, export_dir=None) -> dict:
    import keras

    import tfzoo
    from tfzoo.datasets import make_dataset, steps_per_epoch

    batch_size, epochs = 100, (1 if quick else 10)
    keras.utils.set_random_seed(0)
    model = tfzoo.create_model("vae-mnist")
    variance_batch, draws = x_test[:20], (10 if quick else 30)
    variances = [{"epoch": 0, **gradient_variance(model, variance_batch, draws, seed=0)}]
    history, cpu, wall = [], 0.0, 0.0
    for epoch in range(epochs):
        train_ds = make_dataset(x_train, batch_size=batch_size, shuffle_seed=0, epochs=epoch + 1,
                                initial_epoch=epoch, drop_remainder=True)
        fitted, c, w = _cpu_timed(model.fit, train_ds, epochs=1,
                                  steps_per_epoch=steps_per_epoch(len(x_train), batch_size, True), shuffle=False,
                                  verbose=0)
        history.append(float(fitted.history["loss"][0]))
        cpu, wall = cpu + c, wall + w
        variances.append({"epoch": epoch + 1, **gradient_variance(model, variance_batch, draws, seed=epoch + 1)})
    elbo = np.concatenate([model.elbo(x_test[i:i + 1000], 1, i).numpy() for i in range(0, len(x_test), 1000)])
    n_subset = 20 if quick else 100
    subset = x_test[:n_subset]
    iwae = {}
    for k in (1, 50, 1000, 5000) if not quick else (1, 50):
        chunk = max(1, 20000 // k)
        values = [model.iwae(subset[i:i + chunk], k, k).numpy() for i in range(0, n_subset, chunk)]
        iwae[str(k)] = float(np.mean(np.concatenate(values)))
    elbo_subset = float(np.mean(elbo[:n_subset]))
    preset = tfzoo.get_preset("vae-mnist")
    result = {
        "test_elbo_nats": float(np.mean(elbo)), "test_images": len(x_test), "test_elbo_subset_nats": elbo_subset,
        "iwae_subset_nats": iwae, "iwae_subset_size": n_subset, "epochs": epochs, "batch_size": batch_size,
        "train_negative_elbo_per_epoch": history, "train_cpu_s": cpu, "train_wall_s": wall,
        "gradient_variance": variances, "gradient_variance_batch": len(variance_batch),
        "gradient_variance_draws": draws,
        "baseline_test_nll_nats": _independent_bernoulli_nll(x_train, x_test), "baseline": BASELINE,
        "paper_test_nll_nats": preset.reported["test_nll_vae"].value,
        "paper_source": preset.reported["test_nll_vae"].source,
    }
    if export_dir:
        _export(model, export_dir, "vae-mnist",
                {"test ELBO (nats)": round(result["test_elbo_nats"], 2),
                 f"IWAE-5000 on {n_subset} test images (nats)": round(iwae.get("5000", float("nan")), 2),
                 "epochs": epochs},
                f"benchmarks/probabilistic.py: fit {epochs} epochs, Adam 1e-3, batch {batch_size}, reparametrization",
                "MNIST binarized at 0.5 (tfzoo.datasets.mnist_splits(binarized=True)), 50k train / 10k test")
    return result


def run(quick: bool, export_dir=None) -> dict:
    from tfzoo.datasets import load_task

    data = load_task("mnist-binarized")
    x_train, x_test = data["train"][0], data["test"][0]
    if quick:
        x_train, x_test = x_train[:2000], x_test[:1000]
    return {"mog_2d": bench_mog(quick, export_dir), "made_mnist": bench_made(x_train, x_test, quick, export_dir),
            "vae_mnist": bench_vae(x_train, x_test, quick, export_dir)}


def summary(results) -> str:
    mog, made, vae = results["mog_2d"], results["made_mnist"], results["vae_mnist"]
    iwae = vae["iwae_subset_nats"]
    k_max = max(iwae, key=int)
    lines = [
        "| model | measure | tfzoo (this run) | paper | baseline (same run) |",
        "|---|---|---|---|---|",
        f"| mog-2d, EM ({mog['em']['iterations']} it., {mog['em']['cpu_s']:.1f} s CPU) | two-moons test NLL "
        f"| {mog['em']['test_nll_nats']:.3f} nats | — (no numbers in the thesis) | gradient descent "
        f"{mog['gradient_descent']['epochs']} epochs: {mog['gradient_descent']['test_nll_nats']:.3f} nats "
        f"({mog['gradient_descent']['cpu_s']:.1f} s CPU) |",
        f"| made-mnist ({made['epochs']} epochs, {made['train_cpu_s']:.0f} s CPU) | test NLL "
        f"| {made['test_nll_nats']:.2f} nats | {made['paper_test_nll_nats']} nats (Germain et al. 2015) "
        f"| {made['baseline_test_nll_nats']:.2f} nats (ratio {made['nll_ratio_to_baseline']:.2f}) |",
        f"| vae-mnist ({vae['epochs']} epochs, {vae['train_cpu_s']:.0f} s CPU) | test ELBO ({vae['test_images']} images) "
        f"| {vae['test_elbo_nats']:.2f} nats | — | |",
        f"| vae-mnist | IWAE-{k_max} on {vae['iwae_subset_size']} test images (ELBO there: "
        f"{vae['test_elbo_subset_nats']:.2f}) | {iwae[k_max]:.2f} nats | −{vae['paper_test_nll_nats']} nats "
        f"(IWAE-5000, Burda et al. 2016) | {-vae['baseline_test_nll_nats']:.2f} nats |",
    ]
    ratios = ", ".join(f"epoch {v['epoch']}: {v['ratio_reinforce_to_reparametrization']:.0f}"
                       for v in vae["gradient_variance"])
    lines.append(f"\nGradient-variance ratio REINFORCE / reparametrization (encoder, "
                 f"{vae['gradient_variance_batch']} test images, {vae['gradient_variance_draws']} draws): {ratios}.")
    lines.append("IWAE-K on the subset: " + ", ".join(f"K={k}: {v:.2f}" for k, v in sorted(iwae.items(), key=lambda t: int(t[0]))) + " nats.")
    return "\n".join(lines)
