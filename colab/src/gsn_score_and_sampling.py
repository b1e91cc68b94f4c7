# %% [markdown]
# # Score-estimating auto-encoders and GSNs (tfzoo `gsn` family)
#
# Alain's thesis (`003_a93095073811cc34.txt`), Ch. 3: a denoising auto-encoder's `r(x) - x` estimates
# `sigma^2 * d log p / dx` (Theorem 1, eq. 3.3-3.5); Ch. 5: DAEs and deep GSNs as generative Markov chains.
# This notebook shows the 1-D score estimates of Fig. 3.4, the spiral vector field (Fig. 3.5), score-based
# Metropolis-Hastings samples (Fig. 3.6), and GSN sample chains and inpainting (Fig. 5.6).
# Set `TFZOO_NOTEBOOK_SMOKE=1` for a tiny, fast run.

# %%
import os
import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import tfzoo
from tfzoo.datasets import load_task, mnist_splits
from tfzoo.datasets.toy import gaussian_mixture_1d
from tfzoo.gsn import theory

SMOKE = os.environ.get("TFZOO_NOTEBOOK_SMOKE") == "1"
RUNS = tempfile.mkdtemp(prefix="tfzoo-runs-")
keras.utils.set_random_seed(0)

# %% [markdown]
# ## Fig. 3.4: exact 1-D DAE (3.3) and RCAE (3.11) solutions on a grid
# Both `(r(x) - x) / sigma^2` approach the true score as sigma shrinks.

# %%
gmm = gaussian_mixture_1d()
grid = np.linspace(-1.5, 1.5, 1000)
p = np.exp(gmm.log_prob(grid[:, None]))
fig, axes = plt.subplots(1, 4, figsize=(16, 3), sharey=True)
for ax, sigma in zip(axes, (1.0, 0.31, 0.16, 0.06)):
    ax.plot(grid, gmm.score(grid[:, None])[:, 0], "k", label="score")
    ax.plot(grid, (theory.dae_grid_solution(grid, p, sigma) - grid) / sigma**2, label="DAE (3.3)")
    ax.plot(grid, (theory.rcae_grid_solution(grid, p, sigma) - grid) / sigma**2, "--", label="RCAE (3.11)")
    ax.set_title(f"sigma = {sigma}"); ax.set_ylim(-30, 30)
axes[0].legend(); plt.show()

# %% [markdown]
# ## Fig. 3.5: the spiral DAE's vector field
# 1000 tanh units, untied linear decoder, sigma = 0.01, full-batch L-BFGS on a fixed corrupted set
# (`fit_lbfgs`: the thesis's optimiser, a full-batch method of the model rather than a training loop).

# %%
spiral = load_task("spiral")["train"][0][: 1000 if SMOKE else 10000]
dae = tfzoo.create_model("dae-spiral")
print(dae.fit_lbfgs(spiral, num_iterations=10 if SMOKE else 1000, seed=0))
gx, gy = np.meshgrid(np.linspace(-0.55, 0.55, 30), np.linspace(-0.55, 0.55, 30))
points = np.stack([gx.ravel(), gy.ravel()], 1).astype("float32")
field = np.asarray(dae.reconstruct(points)) - points
plt.figure(figsize=(6, 6))
plt.scatter(spiral[:, 0], spiral[:, 1], s=1, c="violet")
plt.quiver(points[:, 0], points[:, 1], field[:, 0], field[:, 1], angles="xy")
plt.title("r(x) - x"); plt.show()

# %% [markdown]
# ## Fig. 3.6: Metropolis-Hastings with energy differences (3.14) on a curve in R^10
# sigma_train = sigma_MH = 0.1; the kernel is a `tfp.mcmc.TransitionKernel` (`ScoreMetropolisHastings`).
# The DAE is trained by `tfzoo.train` on the task `curve10d` with the preset's recipe.

# %%
curve = load_task("curve10d")
run = tfzoo.train("dae-curve10d", os.path.join(RUNS, "dae-curve10d"), epochs=1 if SMOKE else 60,
                  overrides=dict(hidden_units=64 if SMOKE else 1000), limit_train=1000 if SMOKE else None,
                  limit_eval=500 if SMOKE else None, artifacts=False, verbose=0)
model = run.model
samples, acceptance = model.mh_sample(curve["validation"][0][:200], 10 if SMOKE else 500, 1)
final = np.asarray(samples[-1])
print("acceptance rate", float(np.mean(acceptance)))
fig, axes = plt.subplots(1, 3, figsize=(12, 4))
for ax, (i, j) in zip(axes, [(0, 1), (2, 3), (4, 5)]):
    ax.scatter(curve["train"][0][:2000, i], curve["train"][0][:2000, j], s=1, c="gray", label="data")
    ax.scatter(final[:, i], final[:, j], s=4, c="red", label="MH samples")
axes[0].legend(); plt.show()

# %% [markdown]
# ## Fig. 5.6: a GSN-2's sample chain and inpainting (right half clamped)
# The GSN-2 shipped with tfzoo (`tfzoo.load_pretrained("gsn-mnist")`, trained by
# `tfzoo.train("gsn-mnist", ...)` with walkback, as its model card says) on binarized MNIST; every state
# of the chain is the mean-field reconstruction `P(X | H_t)` with H_0 = 0. The SavedModel's
# `sample_chain` and `inpaint` take an explicit integer seed.

# %%
gsn = tfzoo.load_pretrained("gsn-mnist")
x_test = mnist_splits(binarized=True)["test"][0].reshape(-1, 784)[:4].astype("float32")
_, chain = gsn.sample_chain(tf.constant(x_test[:1]), tf.constant(40), tf.constant(0))
mask = np.zeros_like(x_test); mask.reshape(4, 28, 28)[:, :, 14:] = 1.0
_, filled = gsn.inpaint(tf.constant(x_test), tf.constant(mask), tf.constant(20), tf.constant(2))
fig, axes = plt.subplots(5, 10, figsize=(10, 5))
for t in range(10):
    axes[0, t].imshow(np.asarray(chain[4 * t, 0]).reshape(28, 28), cmap="gray")
    for i in range(4):
        axes[i + 1, t].imshow(np.asarray(filled[2 * t, i]).reshape(28, 28), cmap="gray")
for ax in axes.ravel(): ax.axis("off")
plt.suptitle("row 1: every 4th chain state; rows 2-5: inpainting, right half clamped"); plt.show()

# %% [markdown]
# ## Sec. 5.3.7: a dependency network as a GSN (Prop. 6)
#
# One masked MLP gives every conditional P(x_s | x_-s) (`dngsn-toy`: 4 binary variables). Trained by pseudo-likelihood (`tfzoo.train` on the task `binary-toy4`: samples of a known joint), the stationary distribution of its random-scan chain (computed exactly on the 16 states) approaches the true joint; `sample_chain` draws from that chain and `inpaint` keeps clamped variables fixed.

# %%
from tfzoo.datasets.generated import BINARY_TOY4_JOINT
from tfzoo.gsn import dependency_network as dn

p = dn.toy_binary_joint(**BINARY_TOY4_JOINT)   # the joint the task binary-toy4 samples
untrained = dn.exact_stationary_distribution(tfzoo.create_model("dngsn-toy", seed=0))[1]
net_run = tfzoo.train("dngsn-toy", os.path.join(RUNS, "dngsn-toy"), epochs=1 if SMOKE else 10,
                      limit_train=1000 if SMOKE else None, limit_eval=400 if SMOKE else None,
                      artifacts=False, verbose=0)
net = net_run.model
_, stationary = dn.exact_stationary_distribution(net)
print("TV to the true joint: untrained", 0.5 * abs(untrained - p).sum(), "trained", 0.5 * abs(stationary - p).sum())
samples, _ = net.sample_chain(np.zeros((1000, 4), np.float32), 200, 0)
states = (samples[-1].numpy() @ 2.0 ** np.arange(3, -1, -1)).astype(int)
plt.figure(figsize=(8, 3))
plt.bar(np.arange(16) - 0.2, p, 0.4, label="true joint")
plt.bar(np.arange(16) + 0.2, np.bincount(states, minlength=16) / len(states), 0.4, label="1000 chains, step 200")
plt.xlabel("state"); plt.legend(); plt.show()
