"""CPU-sized reproductions of Alain's thesis Ch. 3 and Ch. 5 (notes §8.8, R1-R7), with baselines measured
in the same run.

* R1 (Fig. 3.4): 1-D grid DAE (3.3) and RCAE (3.11) score estimates vs the true score; baseline: the
  score RMS (an estimator that predicts 0).
* R2 (Fig. 3.5): spiral DAE (1000 tanh, linear decoder, sigma = 0.01) by full-batch L-BFGS on a fixed
  corrupted set; metric: cosine between r(x) - x and the direction to the nearest data point, for grid
  points 0.005-0.02 from the data (the region the sigma = 0.01 noise reaches); baseline: the same model trained by Adam for the same wall clock.
* R3 (Fig. 3.6): DAE on a 1-D curve in R^10 (sigma_train = sigma_MH = 0.1), score-based MH; metric: mean
  distance of MH samples to the nearest training point; baseline: the data plus N(0, 0.1^2) noise (the
  smoothed density the chain targets, L1075).
* R4 (Fig. 5.3, discrete): counting P(X|X~) on 5000 examples of a 10-value variable, 5000 chain samples;
  and the notes' continuous R^10 version (500 points, Parzen P(X|X~), 5000 chain samples, three noise levels);
  total-variation distance of the chain histogram to the empirical distribution; baseline: TV between
  two empirical samples of 5000.
* R5 (Sec. 5.5.1): generative DAE on binarized MNIST (subset) with and without walkback (5 fixed steps);
  the reconstruction-mixture estimator on consecutive chain states (paper: -116 vs -142).
* R6/R7 (Table 5.1, Sec. 5.5.3): GSN-2 784-1000-1000 (the gsn-mnist preset) trained briefly, Parzen
  log-likelihood from consecutive mean-field samples, sigma chosen on validation, binarized protocol;
  baseline: Parzen with MNIST training images as centres (the "MNIST" column, 24 +- 1.6). R7: learned
  alpha_k of gsn-mnist-scaled (expected decreasing in k for binary data, L1715). A reduced protocol
  (2,000 centres, 1,000 test images) that compares the two presets; the paper's full protocol on a
  longer ``tfzoo train`` run is ``benchmarks/gsn_mnist_parzen.py``.
* DN (Prop. 6): the dependency-network GSN ``dngsn-toy`` on its 4-variable task.

Every trained tfzoo model here is a ``tfzoo.train`` run (``benchmarks/trained.py``: temporary run
directories, the presets with constructor ``overrides`` and recipe overrides such as ``ADAM``), except
R2's L-BFGS arms, which call the model's full-batch ``fit_lbfgs`` (the trainer has no quasi-Newton
optimiser). The shipped ``savedmodels/`` come from ``tfzoo train`` and ``tfzoo export``.
"""

from __future__ import annotations

import time

import numpy as np

PAPER = "003_a93095073811cc34.txt"
# The CPU runs use Adam (a deviation: the paper's GSN uses SGD with minibatch 1 for 100-600 epochs,
# and the DAE's optimiser is not given); the same optimiser for a model and its baseline. Recipe
# overrides of tfzoo.train (the presets' momentum argument and per-epoch decay do not apply to Adam).
ADAM = dict(optimizer="adam", learning_rate=1e-3, optimizer_args={}, batch_size=100,
            schedule={"kind": "constant"})


def _data_scaled_start(x) -> dict:
    """Constructor arguments that start a ScoreAutoencoder as ``initialize_from_data(x)`` does (the
    data's mean and per-coordinate standard deviation as ``init_center`` / ``init_scale``)."""
    x = np.asarray(x, np.float64)
    return dict(init="data_scaled", init_center=x.mean(0).tolist(), init_scale=np.maximum(x.std(0), 1e-12).tolist())


def _clock():
    return time.perf_counter(), time.process_time()


def _since(start):
    return round(time.perf_counter() - start[0], 1), round(time.process_time() - start[1], 1)


def r1_grid_scores() -> dict:
    from tfzoo.datasets.toy import gaussian_mixture_1d
    from tfzoo.gsn import theory

    gmm = gaussian_mixture_1d()
    grid = np.linspace(-1.5, 1.5, 1000)
    p = np.exp(gmm.log_prob(grid[:, None]))
    interior = (grid > -1.2) & (grid < 1.2)
    score = gmm.score(grid[:, None])[:, 0][interior]
    rows = []
    for sigma in (1.0, 0.31, 0.16, 0.06):
        dae = ((theory.dae_grid_solution(grid, p, sigma) - grid) / sigma**2)[interior]
        rcae = ((theory.rcae_grid_solution(grid, p, sigma) - grid) / sigma**2)[interior]
        rows.append(dict(sigma=sigma, dae_rmse=float(np.sqrt(np.mean((dae - score) ** 2))),
                         rcae_rmse=float(np.sqrt(np.mean((rcae - score) ** 2)))))
    return dict(rows=rows, score_rms=float(np.sqrt(np.mean(score**2))))


def _field_alignment(model, data):
    from scipy.spatial import cKDTree

    lo, hi = data.min(0) - 0.1, data.max(0) + 0.1
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 60), np.linspace(lo[1], hi[1], 60))
    grid = np.stack([gx.ravel(), gy.ravel()], 1).astype("float32")
    distance, index = cKDTree(data).query(grid)
    band = (distance > 0.005) & (distance < 0.02)
    field = np.asarray(model.reconstruct(grid[band])) - grid[band]
    toward = data[index[band]] - grid[band]
    cos = np.sum(field * toward, 1) / (np.linalg.norm(field, axis=1) * np.linalg.norm(toward, axis=1) + 1e-12)
    return float(np.mean(cos))


def _validation_loss(model, x, seed=5):
    """The DAE criterion on held-out points with a fixed noise draw (reported beside the training loss)."""
    import tensorflow as tf

    x = np.asarray(x, model.compute_dtype)
    noise = np.random.default_rng(seed).standard_normal(x.shape).astype(model.compute_dtype)
    return float(model.criterion_loss(tf.constant(x), tf.constant(noise)))


def r2_spiral(quick: bool) -> dict:
    """Fig. 3.5. The encoder starts from ``initialize_from_data`` (data-scaled, [not in paper]): from Keras's
    Glorot start every tanh pre-activation on the spiral is about 0.04, the network is nearly affine and
    L-BFGS stays at the identity map's loss d sigma^2 (the ablation below, and the 2026-11-22 run: 300
    float64 iterations, 2.0019e-4, cosine 0.04). An optimal denoiser removes only the normal component of
    the noise: loss about sigma^2.

    The L-BFGS arms call ``ScoreAutoencoder.fit_lbfgs`` (the thesis' full-batch BFGS, L960): ``tfzoo.train``
    has no full-batch quasi-Newton optimiser. The Adam baseline is a ``tfzoo.train`` run."""
    import keras

    import tfzoo
    from tfzoo.datasets import load_task
    from trained import train

    task = load_task("spiral")
    data, validation = task["train"][0], task["validation"][0]
    if quick:
        data = data[:2000]
    iterations = 100 if quick else 300
    sigma = 0.01

    def lbfgs(init, num_iterations):
        keras.utils.set_random_seed(0)
        model = tfzoo.create_model("dae-spiral", dtype="float64", init="glorot")
        if init == "data_scaled":
            model.initialize_from_data(data)
        start = _clock()
        result = model.fit_lbfgs(data, num_iterations=num_iterations, seed=0)
        wall, cpu = _since(start)
        return model, dict(init=init, iterations=result["iterations"], train_loss=result["loss"],
                           validation_loss=_validation_loss(model, validation), wall_s=wall, cpu_s=cpu,
                           cosine=_field_alignment(model, data))

    model, main = lbfgs("data_scaled", iterations)
    # the same Glorot start as the 2026-11-22 run, shorter: it does not leave d sigma^2 (identity) anyway
    _, glorot = lbfgs("glorot", max(iterations // 3, 10))
    # The Adam baseline: tfzoo.train with the preset's Adam recipe (batch 1000) from the same data-scaled
    # start, on the same training points, for L-BFGS's wall clock (the trainer's time budget, which also
    # counts the trainer's per-epoch validation and checkpoint: with 2-10 steps per epoch that is most
    # of it; training_steps_wall_s is the steps alone).
    adam = train("dae-spiral", overrides=_data_scaled_start(data), limit_train=len(data), limit_eval=200,
                 epochs=10**6, time_budget=max(main["wall_s"], 1.0))
    return dict(points=len(data), sigma=sigma, identity_loss=2 * sigma**2, denoised_loss=sigma**2,
                lbfgs=main, lbfgs_glorot_start=glorot,
                adam_same_wall_clock=dict(epochs=adam.spent["epochs"], steps=adam.spent["steps"],
                                          wall_s=round(adam.spent["wall_seconds"], 1),
                                          training_steps_wall_s=round(sum(adam.history["fit_wall_seconds"]), 1),
                                          cpu_s=round(adam.spent["cpu_seconds"], 1),
                                          validation_loss=_validation_loss(adam.model, validation),
                                          cosine=_field_alignment(adam.model, data)))


def r3_curve_mh(quick: bool) -> dict:
    """Fig. 3.6. The DAE starts from the data-scaled weights of ``initialize_from_data`` [not in paper] and
    is trained by ``tfzoo.train`` with the preset's Adam recipe; the ablation trains the Glorot start the
    same way. The optimal DAE's ``(r(x) - x) / sigma^2`` is the score of the data convolved with
    N(0, sigma^2 I), so the chain's ideal target is the smoothed data (the baseline)."""
    import tensorflow as tf
    from scipy.spatial import cKDTree

    from tfzoo.datasets import load_task
    from trained import train

    task = load_task("curve10d")
    data, validation = task["train"][0], task["validation"][0]
    epochs = 20 if quick else 100  # the preset's recipe: 100 epochs, batch 500
    steps = 100 if quick else 300
    x0 = validation[:200]
    tree = cKDTree(data)

    def train_and_sample(init):
        overrides = _data_scaled_start(data) if init == "data_scaled" else dict(init="glorot")
        run = train("dae-curve10d", overrides=overrides, epochs=epochs)
        model = run.model
        wall, cpu = round(run.spent["wall_seconds"], 1), round(run.spent["cpu_seconds"], 1)
        samples, acceptance = tf.function(model.mh_sample)(x0, steps, np.array([1, 2], np.int32))
        final = np.asarray(samples[-1])
        return dict(init=init, train_wall_s=wall, train_cpu_s=cpu,
                    validation_loss=_validation_loss(model, validation[200:]),
                    acceptance_rate=float(np.mean(acceptance)),
                    mh_distance_to_data=float(tree.query(final)[0].mean()),
                    mh_distance_to_data_halfway=float(tree.query(np.asarray(samples[steps // 2]))[0].mean()),
                    chain_displacement=float(np.linalg.norm(final - x0, axis=1).mean()))

    rng = np.random.default_rng(0)
    smoothed = task["test"][0][:200] + 0.1 * rng.standard_normal((200, 10)).astype("float32")
    return dict(epochs=epochs, mh_steps=steps, chains=len(x0), sigma=0.1, identity_loss=10 * 0.1**2,
                dae=train_and_sample("data_scaled"), dae_glorot_start=train_and_sample("glorot"),
                smoothed_data_distance_to_data=float(tree.query(smoothed)[0].mean()),
                start_distance_to_data=float(tree.query(x0)[0].mean()))


def r4_discrete() -> dict:
    from tfzoo.gsn import theory

    rng = np.random.default_rng(0)
    true = rng.dirichlet(np.ones(10))
    train = rng.choice(10, size=5000, p=true)
    empirical = np.bincount(train, minlength=10) / 5000
    corruption = 0.6 * np.eye(10) + 0.2 * (np.roll(np.eye(10), 1, 1) + np.roll(np.eye(10), -1, 1))
    chain = corruption @ theory.denoising_reconstruction(empirical, corruption)
    state, visits = train[0], np.zeros(10)
    for _ in range(5000):
        state = rng.choice(10, p=chain[state])
        visits[state] += 1
    other = np.bincount(rng.choice(10, size=5000, p=true), minlength=10) / 5000
    return dict(tv_chain_vs_empirical=float(0.5 * np.abs(visits / 5000 - empirical).sum()),
                tv_two_samples_of_5000=float(0.5 * np.abs(other - empirical).sum()),
                exact_stationary_error=float(np.abs(theory.stationary_distribution(chain) - empirical).max()),
                continuous=[_r4_continuous(np.random.default_rng(1), sigma=sigma) for sigma in (0.5, 1.0, 2.0)])


def _energy_distance(a, b):
    def mean_distance(u, v):
        return float(np.mean(np.sqrt(np.maximum(
            np.sum(u**2, 1)[:, None] + np.sum(v**2, 1)[None] - 2 * u @ v.T, 0.0))))
    return 2 * mean_distance(a, b) - mean_distance(a, a) - mean_distance(b, b)


def _r4_continuous(rng, n_train=500, dim=10, samples=5000, sigma=0.5, h=0.2):
    """The continuous R^10 version of Fig. 5.3 (notes §8.8 R4): a 500-point training set, Gaussian
    corruption X~ = X + N(0, sigma^2 I) and the Parzen reconstruction P(X | X~), the exact posterior of the
    Parzen density p_h = mean_i N(x_i, h^2 I) [h, sigma and the data: not in paper]: the chain X -> X~ -> X
    is a Gibbs sampler of p_h, so its samples should be indistinguishable from fresh draws of p_h.
    Measured: energy distance between 5000 chain states and 5000 draws of p_h, against two fresh samples
    of p_h and against the training points themselves (h = 0); mean log p_h of chain states vs fresh draws."""
    centres = rng.normal(size=(5, dim)) * 2.0
    train = centres[rng.integers(5, size=n_train)] + 0.3 * rng.normal(size=(n_train, dim))

    def log_parzen(x):
        d2 = np.sum((x[:, None] - train[None]) ** 2, -1)
        a = -d2 / (2 * h**2)
        m = a.max(1, keepdims=True)
        return (m[:, 0] + np.log(np.mean(np.exp(a - m), 1)) - dim / 2 * np.log(2 * np.pi * h**2))

    def parzen_draws(n):
        return train[rng.integers(n_train, size=n)] + h * rng.normal(size=(n, dim))

    x, states = train[0].copy(), np.empty((samples, dim))
    shrink, spread = sigma**2 / (sigma**2 + h**2), np.sqrt(h**2 * sigma**2 / (sigma**2 + h**2))
    for t in range(samples):
        noisy = x + sigma * rng.normal(size=dim)
        logits = -np.sum((noisy - train) ** 2, 1) / (2 * (sigma**2 + h**2))
        w = np.exp(logits - logits.max())
        i = rng.choice(n_train, p=w / w.sum())
        x = shrink * train[i] + (1 - shrink) * noisy + spread * rng.normal(size=dim)
        states[t] = x
    fresh, fresh2 = parzen_draws(samples), parzen_draws(samples)
    sub = slice(0, 2000)
    return dict(n_train=n_train, dim=dim, samples=samples, sigma=sigma, h=h,
                energy_distance_chain_vs_parzen=_energy_distance(states[sub], fresh[sub]),
                energy_distance_two_parzen_samples=_energy_distance(fresh2[sub], fresh[sub]),
                energy_distance_training_points_vs_parzen=_energy_distance(train, fresh[:n_train]),
                mean_log_parzen_chain=float(log_parzen(states).mean()),
                mean_log_parzen_fresh=float(log_parzen(fresh).mean()),
                log_parzen_standard_error=float(log_parzen(fresh).std() / np.sqrt(samples)))


def _chain_logits(model, x0, steps, seed):
    """One chain of ``steps`` consecutive transitions from ``x0`` (one image): X~_t = C(X_t), then
    X_{t+1} ~ P(X | X~_t) (binary samples, as ``sample_chain``). Returns the Bernoulli logits of
    P(X | X~_t) for every t (the mixture components of Sec. 5.5.1, L2099) and the states X_{t+1}."""
    import tensorflow as tf

    @tf.function
    def run(x0, seed):
        def body(t, x, logits, states):
            seeds = tf.random.experimental.stateless_split(tf.random.experimental.stateless_fold_in(seed, t), 2)
            _, a = model.transition(model.corrupt(x, seeds[0]), (), None, 0, stochastic=False)
            dist = model.reconstruction_distribution(a, 0)
            x_new = dist.sample(seed=seeds[1])
            return t + 1, x_new, logits.write(t, dist.distribution.logits[0]), states.write(t, x_new[0])

        arrays = [tf.TensorArray(tf.float32, size=steps) for _ in range(2)]
        _, _, logits, states = tf.while_loop(lambda t, *_: t < steps, body, (0, x0, *arrays))
        return logits.stack(), states.stack()

    logits, states = run(tf.constant(x0[:1], tf.float32), tf.constant(seed, tf.int32))
    return logits.numpy(), states.numpy()


def _chain_diagnostics(logits, states, x_ref, y_ref):
    """Mixing / spuriousness of a chain, on every 5th state: digit classes visited (label of the nearest
    reference image, Hamming distance, to the thresholded reconstruction), mean Hamming distance of the
    reconstruction to that nearest image, and mean Hamming distance between consecutive binary states."""
    recon = (logits[::5] > 0).astype(np.float32)
    dist = recon.sum(1)[:, None] + x_ref.sum(1)[None] - 2.0 * recon @ x_ref.T
    counts = np.bincount(y_ref[dist.argmin(1)], minlength=10)
    return dict(classes_visited=int((counts > 0).sum()), class_counts=counts.tolist(),
                nearest_train_hamming=float(dist.min(1).mean()),
                step_hamming=float(np.abs(np.diff(states, axis=0)).sum(1).mean()))


def _walkback_step_nll(model, x0, steps=5, seed=3):
    """Mean -log P(x0 | X~_j), j = 1..steps, along a chain started at x0 (the walkback pairs, L1665)."""
    import tensorflow as tf

    x, x0, out = tf.constant(x0), tf.constant(x0), []
    for j in range(steps):
        seeds = tf.random.experimental.stateless_split(tf.constant([seed, j]), 2)
        _, a = model.transition(model.corrupt(x, seeds[0]), (), None, 0, stochastic=False)
        dist = model.reconstruction_distribution(a, 0)
        out.append(round(float(-tf.reduce_mean(dist.log_prob(x0))), 1))
        x = dist.sample(seed=seeds[1])
    return out


def r5_walkback(quick: bool, splits) -> dict:
    """Sec. 5.5.1 (L2087-2101) in miniature (notes R5): 784-500-784 tanh DAEs, salt-and-pepper 0.5, with
    and without walkback (5 fixed steps), from the same initial weights and for the same optimiser steps
    (as the paper: both 200 epochs). The estimator uses 10,000 consecutive states of one chain (as the
    paper) and the test set; a second chain (another start and seed) shows the chain-to-chain spread.

    Epochs: the walkback DAE needs far more than a few epochs (after 3 epochs on 5000 images its
    one-step validation NLL was 198 against 152 without walkback and its chain stayed on "1"s); on
    validation images (10,000 states) walkback went -159 / -148 / -145 at 10 / 20 / 30 epochs while the
    plain DAE stayed at -144 / -144 / -147 (-147 after 105 epochs, the walkback DAE's CPU time). 30 epochs
    on 10,000 images is what fits the CPU budget. Both are ``tfzoo.train`` runs of the presets (their
    ``Walkback`` recipe callback) with 500 hidden units and the Adam overrides ``ADAM``."""
    from tfzoo.gsn.evaluation import mean_and_standard_error, reconstruction_mixture_log_likelihood
    from trained import train

    n_train, epochs, states = (2000, 2, 1000) if quick else (10000, 30, 10000)
    x_valid = splits["validation"][0]
    x_test = splits["test"][0][:1000] if quick else splits["test"][0]
    ref_x, ref_y = splits["train"][0][:10000].astype(np.float32), splits["train"][1][:10000]
    starts = ((x_valid[-1:], (0, 1)), (x_valid[-2:-1], (0, 2)))
    out, per_example = {}, {}
    for name in ("gdae-mnist", "gdae-mnist-walkback"):
        run = train(name, overrides=dict(hidden_units=500), recipe_overrides=ADAM, epochs=epochs,
                    limit_train=n_train, limit_eval=1000)
        model = run.model
        record = dict(train_wall_s=round(run.spent["wall_seconds"], 1), train_cpu_s=round(run.spent["cpu_seconds"], 1),
                      final_loss=float(run.history["loss"][-1]),
                      validation_step_nll=_walkback_step_nll(model, x_valid[:500]), chain_states=states)
        chain_lls = []
        for i, (x0, seed) in enumerate(starts):
            logits, samples = _chain_logits(model, x0, states, seed)
            ll = reconstruction_mixture_log_likelihood(logits, x_test)
            chain_lls.append(mean_and_standard_error(ll)[0])
            if i == 0:
                per_example[name] = ll
                record["mixture_ll"], record["standard_error"] = mean_and_standard_error(ll)
                record.update(_chain_diagnostics(logits, samples, ref_x, ref_y))
        record["second_chain_mixture_ll"] = chain_lls[1]
        out[name] = record
    diff = mean_and_standard_error(per_example["gdae-mnist-walkback"] - per_example["gdae-mnist"])
    out.update(hidden_units=500, train_examples=n_train, epochs=epochs, test_examples=len(x_test),
               walkback_minus_plain=diff[0], walkback_minus_plain_standard_error=diff[1])
    return out


def dependency_network_prop6(quick: bool) -> dict:
    """Prop. 6 (L2044) with the neural dependency network: ``dngsn-toy`` trained by pseudo-likelihood on
    samples of a known 4-variable joint; the exact stationary distribution of its random-scan chain against
    the true joint (total variation), beside the training sample's own empirical distribution, the product
    of its marginals and the untrained network. The thesis has no such experiment: this checks its claim."""
    import keras

    import tfzoo
    from tfzoo.datasets import load_task
    from tfzoo.datasets.generated import BINARY_TOY4_JOINT
    from tfzoo.gsn import dependency_network as dn
    from trained import train

    n, epochs = (5000 if quick else 20000), (3 if quick else 10)
    p = dn.toy_binary_joint(**BINARY_TOY4_JOINT)
    d = BINARY_TOY4_JOINT["dim"]
    x = load_task("binary-toy4", limit=n)["train"][0]  # the run's training sample
    states = dn.binary_states(d)
    index = (x @ 2.0 ** np.arange(d - 1, -1, -1)).astype(int)  # C-order state index, as binary_states
    empirical = np.bincount(index, minlength=2**d) / n
    marginals = x.mean(0)
    independent = np.prod(np.where(states == 1, marginals, 1 - marginals), axis=1)
    keras.utils.set_random_seed(0)  # the initial weights of the run below (tfzoo.train seeds the same way)
    untrained = dn.exact_stationary_distribution(tfzoo.create_model("dngsn-toy", compile=False))[1]
    # The preset's Adam 1e-2, batch 200, with the trainer's per-epoch cosine decay (the 2026-11-22 run
    # used Keras' per-step CosineDecay to 1% of the rate, which a recipe cannot express).
    run = train("dngsn-toy", epochs=epochs, limit_train=n, recipe_overrides={"schedule": {"kind": "cosine"}})
    model = run.model
    train_s = [round(run.spent["wall_seconds"], 1), round(run.spent["cpu_seconds"], 1)]
    learned, random_scan = dn.exact_stationary_distribution(model, "random")
    true_conditionals = np.stack([c[..., 1].reshape(-1) for c in dn.joint_conditionals(p)], 1)

    def tv(a):
        return float(0.5 * np.abs(np.asarray(a) - p).sum())

    return dict(samples=n, epochs=epochs, train_wall_cpu_s=train_s, schedule="cosine per epoch (tfzoo recipe)",
                max_conditional_error=float(np.abs(learned - true_conditionals).max()),
                tv_random_scan=tv(random_scan), tv_ordered_scan=tv(dn.exact_stationary_distribution(model, "ordered")[1]),
                tv_empirical=tv(empirical), tv_independent=tv(independent), tv_untrained=tv(untrained))


def _parzen(centres, splits, n_valid, n_test):
    """The Parzen protocol of ``gsn_mnist_parzen.parzen`` on the first ``n_valid`` / ``n_test`` images."""
    from gsn_mnist_parzen import parzen

    return parzen(centres, splits["validation"][0][:n_valid], splits["test"][0][:n_test])


def r6_r7_gsn(quick: bool, splits) -> dict:
    """``tfzoo.train`` runs of the two presets with the Adam overrides ``ADAM`` on the first training
    images; the Parzen protocol of ``gsn_mnist_parzen`` reduced (see the module docstring)."""
    import tensorflow as tf

    from trained import train

    n_train = 2000 if quick else 5000
    epochs = 1 if quick else 2
    n_samples = 1000 if quick else 2000
    n_valid, n_test = (200, 200) if quick else (500, 1000)
    out = dict(train_examples=n_train, epochs=epochs, parzen_samples=n_samples, valid=n_valid, test=n_test)
    for name in ("gsn-mnist", "gsn-mnist-scaled"):
        overrides = dict(layer_sizes=(784, 200, 200)) if quick else {}
        run = train(name, overrides=overrides, recipe_overrides=ADAM, epochs=epochs, limit_train=n_train,
                    limit_eval=1000)
        model = run.model
        wall, cpu = round(run.spent["wall_seconds"], 1), round(run.spent["cpu_seconds"], 1)
        _, means = tf.function(model.sample_chain)(splits["validation"][0][-1:], n_samples, np.array([5, 6], np.int32))
        centres = np.asarray(means)[:, 0]
        record = dict(train_wall_s=wall, train_cpu_s=cpu, final_loss=float(run.history["loss"][-1]),
                      parzen=_parzen(centres, splits, n_valid, n_test))
        if model.log_alpha is not None:
            record["alpha"] = [float(a) for a in np.exp(model.log_alpha.numpy())]
        out[name] = record
    out["mnist_train_centres"] = _parzen(splits["train"][0][:n_samples], splits, n_valid, n_test)
    return out


def run(quick: bool, only: list | None = None) -> dict:
    """Every reproduction, or those named in ``only`` (see ``benchmarks/run.py --only``)."""
    from tfzoo.datasets import mnist_splits

    splits = {}

    def mnist():
        if not splits:
            splits.update({k: (x.reshape(len(x), -1), y) for k, (x, y) in mnist_splits(binarized=True).items()})
        return splits

    jobs = {"R1": r1_grid_scores, "R4": r4_discrete, "R2": lambda: r2_spiral(quick), "R3": lambda: r3_curve_mh(quick),
            "R5": lambda: r5_walkback(quick, mnist()), "R6_R7": lambda: r6_r7_gsn(quick, mnist()),
            "DN": lambda: dependency_network_prop6(quick)}
    unknown = set(only or ()) - set(jobs)
    if unknown:
        raise SystemExit(f"unknown gsn parts {sorted(unknown)}; expected some of {sorted(jobs)}")
    results = {}
    for name, job in jobs.items():
        if not only or name in only:
            start = _clock()
            results[name] = dict(job(), wall_cpu_s=_since(start))
    return results


def summary(results) -> str:
    r1, r2, r3, r4, r5, r6 = (results[k] for k in ("R1", "R2", "R3", "R4", "R5", "R6_R7"))
    lines = ["| reproduction | paper | tfzoo (this run) | baseline (same run) |", "|---|---|---|---|"]
    for row in r1["rows"]:
        lines.append(f"| R1 Fig. 3.4 score RMSE, sigma = {row['sigma']} | qualitative: error -> 0 as sigma -> 0 "
                     f"({PAPER}:944) | DAE {row['dae_rmse']:.2f}, RCAE {row['rcae_rmse']:.2f} | "
                     f"score RMS {r1['score_rms']:.2f} |")
    lb, gl, ad = r2["lbfgs"], r2["lbfgs_glorot_start"], r2["adam_same_wall_clock"]
    lines.append(f"| R2 Fig. 3.5 spiral, cos(r(x)-x, to data) | qualitative: arrows point to the spiral "
                 f"({PAPER}:960-976) | L-BFGS {lb['iterations']} it, data-scaled start: {lb['cosine']:.3f} "
                 f"({lb['cpu_s']} CPU s) | Adam, same wall clock: {ad['cosine']:.3f}; L-BFGS {gl['iterations']} "
                 f"it from Glorot: {gl['cosine']:.3f} |")
    lines.append(f"| R2 spiral validation loss (identity {r2['identity_loss']:.1e}, optimum ~sigma^2 = "
                 f"{r2['denoised_loss']:.0e}) | — | {lb['validation_loss']:.3e} (train {lb['train_loss']:.3e}) | "
                 f"Adam {ad['validation_loss']:.3e}; Glorot start {gl['validation_loss']:.3e} |")
    dae, glo = r3["dae"], r3["dae_glorot_start"]
    lines.append(f"| R3 Fig. 3.6 MH on 10-D curve, distance to data | qualitative ({PAPER}:1064-1079) | "
                 f"{dae['mh_distance_to_data']:.3f} (accept {dae['acceptance_rate']:.2f}; data-scaled start, "
                 f"{r3['epochs']} Adam epochs) | data + N(0, 0.1^2): {r3['smoothed_data_distance_to_data']:.3f}; "
                 f"Glorot start {glo['mh_distance_to_data']:.3f} (accept {glo['acceptance_rate']:.2f}); "
                 f"start {r3['start_distance_to_data']:.3f} |")
    lines.append(f"| R4 Fig. 5.3 discrete chain, TV to empirical | qualitative ({PAPER}:2085) | "
                 f"{r4['tv_chain_vs_empirical']:.3f} | two samples of 5000: {r4['tv_two_samples_of_5000']:.3f} |")
    for c in r4.get("continuous", []):
        lines.append(f"| R4 continuous R^10 (500 points, Parzen P(X given X~), sigma = {c['sigma']:g}), energy distance of "
                     f"{c['samples']} chain states to p_h | qualitative ({PAPER}:2085) | "
                     f"{c['energy_distance_chain_vs_parzen']:.4f} (mean log p_h {c['mean_log_parzen_chain']:.3f}) | "
                     f"two samples of p_h: {c['energy_distance_two_parzen_samples']:.4f} "
                     f"(mean log p_h {c['mean_log_parzen_fresh']:.3f} ± {c['log_parzen_standard_error']:.3f}) |")
    wb, plain = r5["gdae-mnist-walkback"], r5["gdae-mnist"]
    lines.append(f"| R5 Sec. 5.5.1 mixture LL, walkback vs none (nats) | -116 vs -142 ({PAPER}:2099-2101) | "
                 f"{wb['mixture_ll']:.1f} ± {wb['standard_error']:.1f} (second chain {wb['second_chain_mixture_ll']:.1f});"
                 f" walkback - none {r5['walkback_minus_plain']:+.1f} ± {r5['walkback_minus_plain_standard_error']:.1f}"
                 f" | no walkback {plain['mixture_ll']:.1f} ± {plain['standard_error']:.1f} (second chain "
                 f"{plain['second_chain_mixture_ll']:.1f}) |")
    for name, paper in (("gsn-mnist", "214 ± 1.1 (Table 5.1)"), ("gsn-mnist-scaled", "237.44 (Sec. 5.5.3)")):
        p = r6[name]["parzen"]
        lines.append(f"| R6/R7 {name} Parzen LL, binarized (nats) | {paper} | {p['ll']:.1f} ± "
                     f"{p['standard_error']:.1f} (sigma {p['sigma']:.3f}) | MNIST train centres "
                     f"{r6['mnist_train_centres']['ll']:.1f} ± {r6['mnist_train_centres']['standard_error']:.1f} "
                     f"(paper 24 ± 1.6) |")
    if "alpha" in r6["gsn-mnist-scaled"]:
        lines.append(f"| R7 learned alpha_1..alpha_4 | decreasing in k for binary data (Fig. 5.9) | "
                     f"{', '.join(f'{a:.3f}' for a in r6['gsn-mnist-scaled']['alpha'])} | — |")
    dn = results.get("DN")
    if dn:
        lines.append(f"| Prop. 6 dependency network (dngsn-toy, 4 binary variables), TV of the random-scan chain's "
                     f"stationary law to the true joint | consistent conditionals give the true joint "
                     f"({PAPER}:2044) | {dn['tv_random_scan']:.4f} (ordered scan {dn['tv_ordered_scan']:.4f}; "
                     f"max conditional error {dn['max_conditional_error']:.3f}) | training sample's empirical law "
                     f"{dn['tv_empirical']:.4f}; product of marginals {dn['tv_independent']:.3f}; untrained "
                     f"{dn['tv_untrained']:.3f} |")
    lines.append("")
    lines.append(f"Sizes: R5 {r5['train_examples']} training images, {r5['epochs']} epochs, 500 hidden units, "
                 f"{wb['chain_states']} chain states, {r5['test_examples']} test images; R6/R7 "
                 f"{r6['train_examples']} images x {r6['epochs']} epochs, {r6['parzen_samples']} consecutive "
                 f"samples, {r6['test']} test images. The paper: 50,000 images, 200-600 epochs, 10,000 samples.")
    return "\n".join(lines)
