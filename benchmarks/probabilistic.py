"""Chapter-4 models of Dinh's thesis on real data, in a reduced CPU budget. Every model is trained by
``tfzoo.train`` (``benchmarks/trained.py``); the shipped ``savedmodels/`` come from ``tfzoo train`` and
``tfzoo export``, not from here.

* ``mog-2d`` on two moons: its recipe (EM, then Adam epochs) against the same recipe without the EM
  callback (gradient descent alone); test NLL right after EM, after the Adam epochs, and CPU time.
* ``made-mnist`` on binarized MNIST: test NLL (nats) after a few epochs, against the named baseline
  measured in the same run: independent Bernoulli pixels fitted by maximum likelihood.
* ``vae-mnist`` on binarized MNIST: test ELBO on the whole test set, IWAE-K bounds on a subset of
  test images (IWAE-5000 on all 10,000 images is ``benchmarks/probabilistic_iwae.py``), and the
  gradient-variance ratio REINFORCE / reparametrization of the encoder gradient at each epoch end
  (a measurement callback of the run).

The papers' numbers (Germain et al. 2015; Burda et al. 2016) are for models trained for hundreds
or thousands of epochs; ours train for a few, so they are far from them, and say so.
"""

from __future__ import annotations

import time

import numpy as np

BASELINE = "independent Bernoulli pixels (ML fit on the training set)"


def _independent_bernoulli_nll(x_train, x_test) -> float:
    """Mean test NLL (nats) of a factorised Bernoulli model with ML marginals (clipped to [1e-3, 1-1e-3])."""
    p = np.clip(x_train.reshape(len(x_train), -1).mean(0), 1e-3, 1 - 1e-3)
    x = x_test.reshape(len(x_test), -1)
    return float(-np.mean(x @ np.log(p) + (1 - x) @ np.log(1 - p)))


def _mark():
    """A callback that remembers the wall clock and CPU time when training begins (put it first)."""
    import keras

    class Mark(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.clock = (time.perf_counter(), time.process_time())

    return Mark()


def _after_em(mark, x_test):
    """An observer of the recipe's ``ExpectationMaximization``: at the start of the first epoch (EM done
    in ``on_train_begin``, no gradient step yet) it records the test NLL of the EM fit and the time
    since ``mark``."""
    import keras

    class AfterEM(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch > 0:
                return
            self.wall_s = time.perf_counter() - mark.clock[0]
            self.cpu_s = time.process_time() - mark.clock[1]
            self.test_nll = -float(np.mean(self.model.log_prob(x_test)))

    return AfterEM()


def bench_mog(quick: bool) -> dict:
    """``mog-2d`` by ``tfzoo.train``: its recipe (100 EM iterations from data points in
    ``on_train_begin``, then Adam epochs), scored right after EM and at the end, against the same
    recipe without the EM callback (gradient descent alone from the constructor's start)."""
    import tfzoo
    from trained import task_splits, train

    x_test = task_splits("mog-2d")["test"][0]
    epochs = 3 if quick else tfzoo.get_preset("mog-2d").recipe.epochs
    mark = _mark()
    after = _after_em(mark, x_test)
    em_run = train("mog-2d", epochs=epochs, measure=[mark, after])
    em = em_run.callbacks[0]
    gd_run = train("mog-2d", epochs=epochs, recipe_overrides={"callbacks": []})
    history = list(em.log_likelihoods)
    return {
        "em": {"test_nll_nats": after.test_nll, "iterations": len(history) - 1,
               "train_log_likelihood_first_last": [float(history[0]), float(history[-1])],
               "monotone": bool(np.all(np.diff(history) >= -1e-10)), "cpu_s": after.cpu_s, "wall_s": after.wall_s},
        "em_then_adam": {"test_nll_nats": -float(np.mean(em_run.model.log_prob(x_test))), "epochs": epochs,
                         "cpu_s": em_run.spent["cpu_seconds"]},
        "gradient_descent": {"test_nll_nats": -float(np.mean(gd_run.model.log_prob(x_test))), "epochs": epochs,
                             "cpu_s": gd_run.spent["cpu_seconds"], "wall_s": gd_run.spent["wall_seconds"]},
    }


def bench_made(x_train, x_test, quick: bool) -> dict:
    """``made-mnist`` by ``tfzoo.train`` (its recipe, 1 or 10 epochs, on ``len(x_train)`` training
    images); test NLL on ``x_test``."""
    import tfzoo
    from trained import train

    preset = tfzoo.get_preset("made-mnist")
    epochs = 1 if quick else 10
    run = train("made-mnist", epochs=epochs, limit_train=len(x_train), limit_eval=len(x_test))
    model = run.model
    test_nll = -float(np.mean(model.predict(x_test, batch_size=1000, verbose=0)))
    baseline = _independent_bernoulli_nll(x_train, x_test)
    return {"test_nll_nats": test_nll, "baseline_test_nll_nats": baseline, "baseline": BASELINE,
            "nll_ratio_to_baseline": test_nll / baseline, "epochs": epochs, "train_examples": len(x_train),
            "train_nll_per_epoch": [float(v) for v in run.history["loss"]], "train_cpu_s": run.spent["cpu_seconds"],
            "train_wall_s": run.spent["wall_seconds"], "paper_test_nll_nats": preset.reported["test_nll"].value,
            "paper_source": preset.reported["test_nll"].source}


def gradient_variance(model, x, draws: int, seed: int) -> dict:
    """Total variance (sum over encoder parameters) of the two estimators of d L_ELBO / d lambda."""
    out = {}
    for estimator in ("reinforce", "reparametrization"):
        grads = model.encoder_gradient_draws(x, estimator, draws, seed)
        out[estimator] = float(sum(g.var(0).sum() for g in grads))
    out["ratio_reinforce_to_reparametrization"] = out["reinforce"] / out["reparametrization"]
    return out


def _variance_probe(x, draws: int):
    """A callback recording :func:`gradient_variance` on ``x`` before training (epoch 0) and after each
    epoch (seed = epoch), outside the trainer's clock of the training steps."""
    import keras

    class VarianceProbe(keras.callbacks.Callback):
        records: list = []

        def on_train_begin(self, logs=None):
            self.records = [{"epoch": 0, **gradient_variance(self.model, x, draws, seed=0)}]

        def on_epoch_end(self, epoch, logs=None):
            self.records.append({"epoch": epoch + 1, **gradient_variance(self.model, x, draws, seed=epoch + 1)})

    return VarianceProbe()


def bench_vae(x_train, x_test, quick: bool) -> dict:
    """``vae-mnist`` by ``tfzoo.train`` (its recipe with batch 100, 1 or 10 epochs, on ``len(x_train)``
    images); the gradient-variance ratio at each epoch end, then ELBO and IWAE-K on the test images."""
    import tfzoo
    from trained import train

    batch_size, epochs = 100, (1 if quick else 10)
    variance_batch, draws = x_test[:20], (10 if quick else 30)
    probe = _variance_probe(variance_batch, draws)
    run = train("vae-mnist", epochs=epochs, batch_size=batch_size, limit_train=len(x_train),
                limit_eval=len(x_test), measure=[probe])
    model = run.model
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
    return {
        "test_elbo_nats": float(np.mean(elbo)), "test_images": len(x_test), "test_elbo_subset_nats": elbo_subset,
        "iwae_subset_nats": iwae, "iwae_subset_size": n_subset, "epochs": epochs, "batch_size": batch_size,
        "train_negative_elbo_per_epoch": [float(v) for v in run.history["loss"]],
        "train_cpu_s": float(sum(run.history["fit_cpu_seconds"])),
        "train_wall_s": float(sum(run.history["fit_wall_seconds"])),
        "gradient_variance": probe.records, "gradient_variance_batch": len(variance_batch),
        "gradient_variance_draws": draws,
        "baseline_test_nll_nats": _independent_bernoulli_nll(x_train, x_test), "baseline": BASELINE,
        "paper_test_nll_nats": preset.reported["test_nll_vae"].value,
        "paper_source": preset.reported["test_nll_vae"].source,
    }


def run(quick: bool) -> dict:
    from tfzoo.datasets import load_task

    data = load_task("mnist-binarized", limit=2000 if quick else None)
    x_train, x_test = data["train"][0], data["test"][0]
    if quick:  # the runs use the same prefixes (limit_train / limit_eval)
        x_test = x_test[:1000]
    return {"mog_2d": bench_mog(quick), "made_mnist": bench_made(x_train, x_test, quick),
            "vae_mnist": bench_vae(x_train, x_test, quick)}


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
        *([f"| mog-2d, EM then {mog['em_then_adam']['epochs']} Adam epochs (the recipe) | two-moons test NLL | "
           f"{mog['em_then_adam']['test_nll_nats']:.3f} nats | — | |"] if "em_then_adam" in mog else []),
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
