"""Benchmark of the analysis toolkit: probes (003 ch. 9), Hessian (003 ch. 11), sharpness (004 ch. 3).

``run(quick)`` measures, on this machine, in one run:

1. HVP time over gradient time on the 3.3M ReLU LeNet (``relu-lenet-mnist``), the baseline being
   the gradient of the same loss on the same batch (target ≤ 3×), and forward-over-reverse against
   reverse-over-reverse; the wall clock of ``LA(10)`` on a fixed subset.
2. Probes on the MNIST convnet (``convnet-mnist``) at initialisation and after a short training,
   fitted post hoc on cached features (paper: random features take the test error from 8% to 2%).
3. The pathological 128-layer MLP with a long skip over its first half (a functional Keras model):
   probes along depth after training.
4. The Hessian of a CPU-sized ReLU CNN trained by RMSProp (batch 32): LA(5)/SA(3) during training
   (stabilisation, Fig. 11.5), the eq. (11.1) line search (1/α* against λ, Fig. 11.4) and a
   stochastic-Lanczos spectral density at the end (lecture ``002`` lines 644–650).
5. Sharpness of one function under α-scaling (004 ch. 3).

The tfzoo models trained here (``convnet-mnist``, the small ``relu-lenet-mnist`` CNN of the Hessian
parts) are ``tfzoo.train`` runs (``benchmarks/trained.py``); the pathological MLP and the two-moons
network of the sharpness part are plain Keras models built here, trained by their own ``fit``.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

PAPER = {
    "probe_error_input_at_init": 0.08,
    "probe_error_best_at_init": 0.02,
    "hvp_over_gradient_target": 3.0,
    "lambda_1_mnist": 4.0,
    "lecture_fraction_small": 0.94,
    "lecture_largest": 40.0,
    "lecture_most_negative": -0.46,
}


def _mnist(n_train, n_valid, n_test):
    from tfzoo.datasets import mnist_splits

    data = mnist_splits()
    return ((data["train"][0][:n_train], data["train"][1][:n_train]),
            (data["validation"][0][:n_valid], data["validation"][1][:n_valid]),
            (data["test"][0][:n_test], data["test"][1][:n_test]))


def hvp_cost(quick: bool) -> dict:
    import keras
    import tensorflow as tf

    import tfzoo
    from tfzoo.analysis.hessian import HessianOperator, sparse_softmax_cross_entropy

    keras.utils.set_random_seed(0)
    model = tfzoo.create_model("relu-lenet-mnist", compile=False)
    (x, y), _, _ = _mnist(2500, 1, 1)
    batch = 32 if quick else 128
    op = HessianOperator(model, x[:batch], y[:batch], batch_size=batch)
    v = np.random.default_rng(0).normal(size=op.dimension)
    xb, yb = op._batches[0]
    variables = op.variables

    @tf.function
    def reverse_over_reverse(xb, yb, tangents):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                loss = tf.reduce_sum(sparse_softmax_cross_entropy(yb, model(xb, training=False)))
            grads = inner.gradient(loss, variables)
            dot = tf.add_n([tf.reduce_sum(g * t) for g, t in zip(grads, tangents)])
        return outer.gradient(dot, variables)

    tangents = op.unflatten(v)

    def best_of(fn, repeat):
        fn()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    repeat = 3 if quick else 5
    t_grad = best_of(lambda: [t.numpy() for t in op._grad_batch(xb, yb)[1]], repeat)
    t_fwd_rev = best_of(lambda: [t.numpy() for t in op._hvp_batch(xb, yb, tangents)], repeat)
    t_rev_rev = best_of(lambda: [t.numpy() for t in reverse_over_reverse(xb, yb, tangents)], repeat)
    return {
        "parameters": op.dimension, "batch": batch,
        "gradient_s": t_grad, "hvp_forward_over_reverse_s": t_fwd_rev,
        "hvp_reverse_over_reverse_s": t_rev_rev,
        "hvp_over_gradient": t_fwd_rev / t_grad, "reverse_over_reverse_over_gradient": t_rev_rev / t_grad,
    }


def la10_on_5pct(quick: bool) -> dict:
    """``LA(10)`` of the 3.3M ReLU LeNet's Hessian at initialisation on 5% of the 50,000 training images
    (the paper's subset size for its LeNet, 003 line 3407-3420), with wall clock, CPU time and HVP calls."""
    import keras

    import tfzoo
    from tfzoo.analysis.hessian import HessianOperator, extreme_eigenpairs

    keras.utils.set_random_seed(0)
    model = tfzoo.create_model("relu-lenet-mnist", compile=False)
    subset = 100 if quick else 2500
    (x, y), _, _ = _mnist(subset, 1, 1)
    op = HessianOperator(model, x, y, batch_size=250)
    cpu = time.process_time()
    pairs = extreme_eigenpairs(op, 2 if quick else 10, "LA", tol=1e-3)
    return {"parameters": op.dimension, "k": len(pairs.values), "subset_examples": subset,
            "subset_fraction_of_50k": subset / 50000, "wall_s": pairs.seconds,
            "cpu_s": time.process_time() - cpu, "hvp_calls": pairs.num_hvp_calls,
            "wall_s_per_hvp": pairs.seconds / pairs.num_hvp_calls, "values": pairs.values.tolist()}


def convnet_probes(quick: bool) -> dict:
    import keras

    import tfzoo
    import trained
    from tfzoo.analysis.probes import attach_probes, fit_probes_posthoc

    # The paper's probes use the whole training set; 10,000 images keep the cached conv features ~1 GB.
    n_train, n_valid, n_test = (500, 500, 500) if quick else (10000, 2000, 5000)
    train, valid, test = _mnist(n_train, n_valid, n_test)
    layers = ["input", "conv1_preact", "conv1_relu", "pool1", "conv2_preact", "conv2_relu", "pool2",
              "fc1_preact", "fc1_relu", "logits"]
    keras.utils.set_random_seed(0)  # the initial weights of the run below (tfzoo.train seeds the same way)
    model = tfzoo.create_model("convnet-mnist")
    epochs = 20 if quick else 30
    results = {}
    probed = attach_probes(model, layers=layers, reduction="flatten")
    results["init"] = fit_probes_posthoc(probed, train, valid, test, epochs=epochs, batch_size=64)
    n_model_train = 10000 if quick else 50000
    run = trained.train("convnet-mnist", epochs=1, limit_train=n_model_train)  # its recipe, batch 64
    model, train_seconds = run.model, run.spent["wall_seconds"]
    probed = attach_probes(model, layers=layers, reduction="flatten")
    results["trained"] = fit_probes_posthoc(probed, train, valid, test, epochs=epochs, batch_size=64)
    test_x, test_y = test
    model_error = float(np.mean(np.argmax(model.predict(test_x, verbose=0), -1) != test_y))
    return {"layers": layers, "probe_train_examples": n_train, "model_train_examples": n_model_train,
            "model_train_seconds": train_seconds, "model_test_error": model_error,
            "init": {k: v["test_error"] for k, v in results["init"].items()},
            "trained": {k: v["test_error"] for k, v in results["trained"].items()}}


def pathological_mlp(depth: int, width: int, skip: bool):
    """``depth`` ReLU Dense layers of ``width`` units; with ``skip`` the flattened input is concatenated
    to the input of layer ``depth/2 + 1``, bypassing the first half (003 lines 3191–3193; the merge,
    activation and initialisation are not stated [gap]: concatenation, ReLU and He-normal here). With
    Keras' default Glorot-uniform kernels the signal of a 64-layer ReLU stack shrinks by ~2⁻⁶⁴ and
    neither variant moved off log 10 in our runs; with He-normal the plain 128-layer MLP still does not
    train (loss 2.302 after 2 epochs on 10k images) and the skip version does (2.27 → 2.05), as the
    thesis describes (L3194–3196)."""
    import keras

    L = keras.layers
    inputs = keras.Input((28, 28, 1))
    x = L.Rescaling(1 / 255, name="scale")(inputs)
    flat = L.Flatten(name="flat")(x)
    h = flat
    for k in range(1, depth + 1):
        if skip and k == depth // 2 + 1:
            h = L.Concatenate(name="skip_merge")([h, flat])
        h = L.Dense(width, activation="relu", kernel_initializer="he_normal", name=f"fc{k}")(h)
    return keras.Model(inputs, L.Dense(10, name="logits")(h))


def mlp_probes(quick: bool) -> dict:
    import keras

    from tfzoo.analysis.probes import attach_probes, fit_probes_posthoc

    depth = 128
    n_train = 5000 if quick else 20000
    train, valid, test = _mnist(n_train, 1000, 1000)
    out = {"depth": depth, "width": 128, "train_examples": n_train}
    probe_layers = ["flat", "fc1", "fc8", "fc16", "fc32", "fc48", "fc64", "fc65", "fc80", "fc96", "fc112", "fc128"]
    for skip in (False, True):
        keras.utils.set_random_seed(0)
        model = pathological_mlp(depth, 128, skip)
        # SGD lr 0.01 (momentum 0.9) made the skip model's loss fall to 1.63 and then blow up to a constant
        # prediction (test error 0.874 after 3 epochs); lr 0.001 trains steadily [optimiser not in paper].
        model.compile(optimizer=keras.optimizers.SGD(0.001, momentum=0.9),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        losses, errors = [], []
        for epoch in range(1 if quick else 4):
            # a plain Keras functional model built here, not a tfzoo preset: the baseline's own fit
            history = model.fit(*train, batch_size=64, epochs=epoch + 1, initial_epoch=epoch, verbose=0)  # baseline
            losses.append(float(history.history["loss"][-1]))
            errors.append(float(np.mean(np.argmax(model.predict(test[0], verbose=0), -1) != test[1])))
        key = "with_skip" if skip else "without_skip"
        out[key] = {"final_train_loss": losses[-1], "test_error": errors[-1], "train_loss_per_epoch": losses,
                    "test_error_per_epoch": errors}
        if skip:
            probed = attach_probes(model, layers=probe_layers)
            probe_results = fit_probes_posthoc(probed, (train[0][:5000], train[1][:5000]), valid, test,
                                               epochs=5, batch_size=64)
            out[key]["probe_test_error"] = {k: v["test_error"] for k, v in probe_results.items()}
    return out


def resnet50_wiring(quick: bool) -> dict:
    """ResNet-50 from keras.applications (no weights offline) with 17 global-pooled probes."""
    import keras
    import tensorflow as tf

    from tfzoo.analysis.probes import attach_probes, resnet_block_outputs

    keras.utils.set_random_seed(0)
    model = keras.applications.ResNet50(weights=None)
    names = resnet_block_outputs(model)
    probed = attach_probes(model, layers=names, reduction="global_pool")
    x = tf.random.stateless_uniform([4 if quick else 8, 224, 224, 3], seed=[0, 0], maxval=255.0)
    forward = tf.function(lambda x: probed(x))
    forward(x)
    start = time.perf_counter()
    forward(x)
    seconds = time.perf_counter() - start
    return {"probes": names,
            "topology": [list(model.inputs[0].shape[1:])] + [list(model.get_layer(n).output.shape[1:]) for n in names[1:]],
            "probe_features": [int(p.kernel.shape[0]) for p in probed.probes],
            "forward_with_probes_images_per_s": int(x.shape[0]) / seconds}


#: the CPU-sized ReLU CNN of the Hessian parts: relu-lenet-mnist (ConvNet, no dropout, no L2) made small
SMALL_CNN = dict(filters=(4, 8), dense_units=32)


def hessian_training(quick: bool) -> dict:
    """``relu-lenet-mnist`` with :data:`SMALL_CNN` trained by ``tfzoo.train`` with its recipe (RMSProp
    1e-3, batch 32) for ``steps`` steps on the first ``n_train`` training images, the
    ``HessianSpectrum`` callback (a measurement callback of the run) recording LA(5)/SA(3) on a fixed
    5% subset of them; then Lanczos, line searches and SLQ at the end."""
    import trained
    from tfzoo.analysis.hessian import (HessianOperator, HessianSpectrum, eigendirection_line_search,
                                        extreme_eigenpairs, fraction_below, spectral_density, subset)

    n_train = 5000 if quick else 20000
    (x, y), _, _ = _mnist(n_train, 1, 1)
    fx, fy = subset(x, y, fraction=0.05, seed=0)
    spectrum = HessianSpectrum(fx, fy, k_largest=5, k_smallest=3, every_n_batches=50 if quick else 100, tol=1e-3)
    steps = 150 if quick else 600
    run = trained.train("relu-lenet-mnist", overrides=SMALL_CNN, epochs=1, steps=steps, limit_train=n_train,
                        limit_eval=1000, measure=[spectrum])
    op = HessianOperator(run.model, fx, fy)
    la = extreme_eigenpairs(op, 3, "LA", tol=1e-4)
    sa = extreme_eigenpairs(op, 3, "SA", tol=1e-4)
    grid = np.geomspace(1e-3, 1e3, 13 if quick else 25)
    searches = []
    for lam, v in list(zip(la.values, la.vectors.T)) + list(zip(sa.values, sa.vectors.T)):
        search = eigendirection_line_search(op, v, np.concatenate([-grid[::-1], grid]), curvature=lam)
        searches.append({"lambda": float(lam), "best_alpha": search.best_alpha,
                         "one_over_best_alpha": 1 / search.best_alpha,
                         "loss_decrease": search.loss_at_zero - search.best_loss})
    nodes, weights = spectral_density(op, num_steps=30 if quick else 80, num_probes=2 if quick else 4)
    return {
        "parameters": op.dimension, "subset_examples": len(fx), "steps": steps,
        "records": spectrum.records, "line_search": searches,
        "slq_fraction_below_1e-4": fraction_below(nodes, weights, 1e-4),
        "slq_fraction_below_1e-2": fraction_below(nodes, weights, 1e-2),
        "largest": float(la.values[0]), "most_negative": float(sa.values[0]),
    }


def minimum_spectrum(quick: bool) -> dict:
    """The lecture's spectrum at a minimum (``002`` lines 640–650: ≈94% of |λ| < 1e-4, largest ≈ 40, most
    negative −0.46) on the CPU-sized CNN of :func:`hessian_training`, trained by Adam on a fixed subset
    until its training loss is near 0 (a minimum of that loss): LA(1) and SA(1) by Lanczos, and the
    stochastic-Lanczos density of the same loss. SLQ resolves eigenvalues near 0 only to about λ_max/m²
    (m quadrature nodes), so the fractions below 1e-3 and 1e-2 are given too."""
    import trained
    from tfzoo.analysis.hessian import HessianOperator, extreme_eigenpairs, fraction_below, spectral_density

    n, epochs = (250, 60) if quick else (1000, 300)
    (x, y), _, _ = _mnist(n, 1, 1)
    run = trained.train("relu-lenet-mnist", overrides=SMALL_CNN, epochs=epochs, limit_train=n, limit_eval=1000,
                        recipe_overrides=dict(optimizer="adam", learning_rate=1e-3, batch_size=50))
    op = HessianOperator(run.model, x, y)
    la = extreme_eigenpairs(op, 1, "LA", tol=1e-4)
    sa = extreme_eigenpairs(op, 1, "SA", tol=1e-4)
    nodes, weights = spectral_density(op, num_steps=40 if quick else 100, num_probes=2 if quick else 4)
    return {"parameters": op.dimension, "examples": n, "epochs": epochs, "train_loss": op.loss(),
            "largest": float(la.values[0]), "most_negative": float(sa.values[0]),
            "slq_fraction_below_1e-4": fraction_below(nodes, weights, 1e-4),
            "slq_fraction_below_1e-3": fraction_below(nodes, weights, 1e-3),
            "slq_fraction_below_1e-2": fraction_below(nodes, weights, 1e-2),
            "slq_fraction_negative": float(np.sum(np.asarray(weights)[np.asarray(nodes) < -1e-3]) / len(nodes))}


def sharpness_under_alpha_scale(quick: bool) -> dict:
    import keras

    from tfzoo.analysis.hessian import HessianOperator
    from tfzoo.analysis.sharpness import alpha_scale, epsilon_sharpness, hutchinson_trace, spectral_norm
    from tfzoo.datasets import two_moons

    x, y = two_moons(500, noise=0.1, seed=0)
    x = x.astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    # a plain keras.Sequential built here, not a tfzoo preset: the subject of the sharpness measures,
    # trained by its own fit (the baseline's fit)
    model.fit(x, y, batch_size=100, epochs=100 if not quick else 30, verbose=0)  # baseline
    rows = []
    for alpha in ([0.1, 1.0, 10.0] if quick else [0.01, 0.1, 1.0, 10.0, 100.0]):
        scaled = alpha_scale(model, [alpha, 1 / alpha])
        op = HessianOperator(scaled, x, y)
        rows.append({
            "alpha": alpha,
            "max_output_difference": float(np.max(np.abs(np.asarray(scaled(x)) - np.asarray(model(x))))),
            "loss": op.loss(), "spectral_norm": spectral_norm(op, tol=1e-4),
            "hutchinson_trace": hutchinson_trace(op, 30)[0],
            "eps_sharpness_ball": epsilon_sharpness(op, 0.1, "ball", steps=30).value,
            "eps_sharpness_box": epsilon_sharpness(op, 1e-3, "box", steps=30).value,
            "eps_sharpness_random_subspace": epsilon_sharpness(op, 0.1, "ball", steps=30, subspace_dim=10).value,
        })
    return {"rows": rows}


def run(quick: bool, only: list | None = None) -> dict:
    """Every part, or those named in ``only`` (see ``benchmarks/run.py --only``)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    jobs = {"hvp_cost": hvp_cost, "la10_5pct": la10_on_5pct, "sharpness": sharpness_under_alpha_scale, "hessian_training": hessian_training,
            "minimum_spectrum": minimum_spectrum,
            "convnet_probes": convnet_probes, "pathological_mlp": mlp_probes, "resnet50": resnet50_wiring}
    unknown = set(only or ()) - set(jobs)
    if unknown:
        raise SystemExit(f"unknown analysis parts {sorted(unknown)}; expected some of {sorted(jobs)}")
    parts = {}
    for name, fn in jobs.items():
        if only and name not in only:
            continue
        start = time.perf_counter()
        parts[name] = fn(quick)
        parts[name]["seconds"] = round(time.perf_counter() - start, 1)
        print(f"analysis benchmark: {name} done in {parts[name]['seconds']} s", file=sys.stderr, flush=True)
    parts["paper"] = PAPER
    return parts


def _fmt(v, digits=3):
    return f"{v:.{digits}g}" if isinstance(v, float) else str(v)


def summary(results) -> str:
    lines = []
    h, la = results["hvp_cost"], results["la10_5pct"]
    lines += ["**Hessian-vector products** on `relu-lenet-mnist` "
              f"({h['parameters']:,} parameters, batch {h['batch']}; baseline: the gradient, same batch)", "",
              "| measure | paper / target | tfzoo |", "|---|---|---|",
              f"| HVP (forward-over-reverse) / gradient time | ≤ 3× (issue target; 003 line 3479 quotes \"4×\") | {h['hvp_over_gradient']:.2f}× |",
              f"| HVP (reverse-over-reverse) / gradient time | — | {h['reverse_over_reverse_over_gradient']:.2f}× |",
              f"| LA({la['k']}) on a {la['subset_fraction_of_50k']:.0%} subset ({la['subset_examples']:,} images) | "
              f"not reported | {la['wall_s']:.0f} s wall, {la['cpu_s']:.0f} s CPU, {la['hvp_calls']} HVPs; "
              f"λ1 = {la['values'][0]:.3g}, λ{la['k']} = {la['values'][-1]:.3g} |", ""]
    t = results["hessian_training"]
    lines += [f"**Spectrum during RMSProp training** (CPU-sized ReLU CNN, {t['parameters']:,} parameters, "
              f"{t['subset_examples']}-example fixed subset, batch 32, {t['steps']} steps)", "",
              "| step | loss | LA(5) | SA(3) |", "|---|---|---|---|"]
    for r in t["records"]:
        lines.append(f"| {r['step']} | {r['loss']:.3f} | {', '.join(f'{v:.3g}' for v in r['LA'])} | "
                     f"{', '.join(f'{v:.3g}' for v in r['SA'])} |")
    lines += ["", "Line search (eq. 11.1) at the end of training; the paper: 1/α* ≈ λ for λ > 0, α* ≫ 1/|λ| for λ < 0 "
              "(Figs. 11.3–11.4):", "", "| λ | α* | 1/α* | 1/|λ| | loss decrease |", "|---|---|---|---|---|"]
    for s in t["line_search"]:
        lines.append(f"| {s['lambda']:.4g} | {s['best_alpha']:.4g} | {s['one_over_best_alpha']:.4g} | "
                     f"{1 / abs(s['lambda']):.4g} | {s['loss_decrease']:.3g} |")
    lines += ["", "| spectrum (SLQ + Lanczos) | lecture, at a minimum (002 lines 644–650) | end of the run above |",
              "|---|---|---|",
              f"| fraction of eigenvalues with \\|λ\\| < 1e-4 | ≈ 0.94 | {t['slq_fraction_below_1e-4']:.2f} |",
              f"| largest eigenvalue | ≈ 40 | {t['largest']:.3g} |",
              f"| most negative eigenvalue | −0.46 | {t['most_negative']:.3g} |", ""]
    ms = results.get("minimum_spectrum")
    if ms:
        lines += [f"**At a minimum**: the same CNN trained by Adam for {ms['epochs']} epochs on {ms['examples']:,} images "
                  f"(training loss {ms['train_loss']:.1e}); Hessian of that loss:", "",
                  "| | lecture (CNN on MNIST, at a minimum) | tfzoo |", "|---|---|---|",
                  f"| fraction with \\|λ\\| < 1e-4 (SLQ) | ≈ 0.94 | {ms['slq_fraction_below_1e-4']:.3f} |",
                  f"| fraction with \\|λ\\| < 1e-3 / < 1e-2 | — | {ms['slq_fraction_below_1e-3']:.2f} / "
                  f"{ms['slq_fraction_below_1e-2']:.2f} |",
                  f"| largest | ≈ 40 | {ms['largest']:.3g} |",
                  f"| most negative | −0.46 | {ms['most_negative']:.3g} (SLQ mass below −1e-3: "
                  f"{ms['slq_fraction_negative']:.2f}) |", ""]
    p = results["convnet_probes"]
    lines += [f"**Probes on `convnet-mnist`** (test error; probes fitted post hoc on {p['probe_train_examples']} "
              f"training images, early-stopped on validation; model trained 1 epoch on {p['model_train_examples']} "
              f"images, its own test error {p['model_test_error']:.3f})", "",
              "| probe | at init | after training |", "|---|---|---|"]
    for layer in p["layers"]:
        lines.append(f"| {layer} | {p['init'][layer]:.3f} | {p['trained'][layer]:.3f} |")
    best_init = min(p["init"], key=p["init"].get)
    lines += ["", f"At init the best probe is `{best_init}` ({p['init'][best_init]:.3f}) against {p['init']['input']:.3f} "
              "at the input."]
    lines += ["", f"Paper (003 line 3112): at init the error goes from {PAPER['probe_error_input_at_init']} (input) to "
              f"{PAPER['probe_error_best_at_init']} (best random layer, 50k training images); after 10 epochs it falls "
              "at every layer except a kink at `fc1_preact`.", ""]
    m = results["pathological_mlp"]
    lines += [f"**Pathological {m['depth']}-layer MLP** (width {m['width']}, SGD+momentum, {m['train_examples']} images)", "",
              "| model | final train loss | test error |", "|---|---|---|",
              f"| without skip | {m['without_skip']['final_train_loss']:.3f} | {m['without_skip']['test_error']:.3f} |",
              f"| with long skip | {m['with_skip']['final_train_loss']:.3f} | {m['with_skip']['test_error']:.3f} |", "",
              "| probe (with skip) | test error |", "|---|---|"]
    depth_order = sorted(m["with_skip"]["probe_test_error"], key=lambda k: int(k[2:]) if k.startswith("fc") else 0)
    for k in depth_order:
        lines.append(f"| {k} | {m['with_skip']['probe_test_error'][k]:.3f} |")
    r = results.get("resnet50")
    lines += [] if r is None else ["", f"**ResNet-50** (`keras.applications`, random weights offline): {len(r['probes'])} probes "
              "(input + 16 block outputs, global average pooling), features per probe "
              f"{r['probe_features']}; forward pass with probes {r['forward_with_probes_images_per_s']:.1f} images/s "
              "on this CPU (thesis app. 9.B: ≈100 images/s forward vs 6000/s from cached features). "
              f"Block-output shapes {r['topology'][1][:2]} … {r['topology'][-1][:2]} (Table 9.4a prints 28×28 for "
              "add_1–3; the 224-pixel network gives 56×56). Probe errors on ImageNet (Table 9.4a: 0.99 → 0.31) are not "
              "reproduced: no ImageNet or pretrained weights offline."]
    s = results["sharpness"]
    lines += ["", "**Same function, different sharpness** (one-hidden-layer ReLU net on two moons, T_α)", "",
              "| α | max output diff | loss | ‖H‖₂ | tr H (Hutchinson) | ε-sharpness ball ε=0.1 | box ε=1e-3 | random 10-d subspace |",
              "|---|---|---|---|---|---|---|---|"]
    for r in s["rows"]:
        lines.append(f"| {r['alpha']:g} | {r['max_output_difference']:.1e} | {r['loss']:.4f} | {r['spectral_norm']:.3g} | "
                     f"{r['hutchinson_trace']:.3g} | {r['eps_sharpness_ball']:.3g} | {r['eps_sharpness_box']:.3g} | "
                     f"{r['eps_sharpness_random_subspace']:.3g} |")
    return "\n".join(lines)
