# %% [markdown]
# # NICE and Real NVP with tfzoo
#
# Dinh's thesis, chapter 5 (`004_6b1d8905d771edf8.txt`, lines 1310–1740): normalising flows built from
# coupling layers, trained by exact maximum likelihood. This notebook
#
# * loads the Real NVP trained on **two moons** shipped with tfzoo (`tfzoo.load_pretrained`) and shows
#   its density and the map to the Gaussian latent space (Fig. 5.1);
# * trains NICE on **MNIST** with `tfzoo.train`: samples, bits/dim, **Langevin inpainting** with the
#   ten masks of Fig. 5.7, the **four-point manifold** of Fig. 5.14 and the latent sphere (Fig. 5.6);
# * loads the trained convolutional **multi-scale Real NVP**: samples, bits/dim, batch-independent
#   densities (exact batch-norm statistics) and **conceptual compression** (Figs. 5.15–5.16).
#
# Set `TFZOO_NOTEBOOK_SMOKE=1` for a tiny run; the sizes below are small anyway (CPU minutes).

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import tfzoo
from tfzoo.datasets import load_task, mnist_splits
from tfzoo.flows import inpainting_masks

SMOKE = bool(os.environ.get("TFZOO_NOTEBOOK_SMOKE"))
RUNS = tempfile.mkdtemp(prefix="tfzoo-runs-")

# %% [markdown]
# ## Two moons (Fig. 5.1)
# log p(x) in nats is the prior's log-density of z = f(x) plus the log-determinant of every coupling
# (eq. L1338). The shipped `realnvp-moons` was trained by `tfzoo.train("realnvp-moons", run_dir)` (the
# command `tfzoo train realnvp-moons`, about a minute on a CPU; its model card has the details); its
# SavedModel's endpoints `log_prob`, `encode` and `sample` need no tfzoo.

# %%
moons = load_task("moons")
x_test = moons["test"][0]
flow = tfzoo.load_pretrained("realnvp-moons")
print("test mean log p (nats):", float(np.mean(flow.log_prob(tf.constant(x_test)))))

# %%
step = 0.05
axis = np.arange(-2.5, 3.5, step) + step / 2
grid = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2).astype("float32")
density = np.exp(flow.log_prob(tf.constant(grid)).numpy()).reshape(len(axis), len(axis))
print("probability mass on the grid:", density.sum() * step**2)
z = flow.encode(tf.constant(x_test)).numpy()
samples = flow.sample(tf.constant(1000), tf.constant(1)).numpy()
fig, ax = plt.subplots(1, 3, figsize=(13, 4))
ax[0].contourf(axis, axis, density, levels=30); ax[0].set_title("model density p(x)")
ax[1].scatter(z[:, 0], z[:, 1], s=2, c=moons["test"][1], cmap="coolwarm"); ax[1].set_title("z = f(x) (latent)")
ax[2].scatter(samples[:, 0], samples[:, 1], s=2); ax[2].set_title("samples g(z), z ~ N(0, I)")
plt.show()

# %% [markdown]
# ## NICE on MNIST
# `nice-mnist-small` (4 additive couplings, 2×256 ReLU, logistic prior; the paper's `nice-mnist` is
# 5×1000). Inputs are raw 8-bit pixels; training adds U[0, 1) dequantisation noise and bits/dim count
# the x/256 rescaling Jacobian, so they compare with Table 5.1's 4.36.

# %%
x_mnist_test = mnist_splits()["test"][0].astype("float32")
nice_run = tfzoo.train("nice-mnist-small", os.path.join(RUNS, "nice-mnist-small"), epochs=1 if SMOKE else 3,
                       limit_train=300 if SMOKE else 20000, limit_eval=100 if SMOKE else 500, artifacts=False, verbose=0)
nice = nice_run.model
print("test bits/dim:", float(np.mean(nice.bits_per_dim(x_mnist_test[:500], seed=0))))
samples = nice.sample(16, seed=0, temperature=0.8).numpy()
plt.figure(figsize=(8, 2))
plt.imshow(np.concatenate(list(samples[..., 0]), 1), cmap="gray"); plt.axis("off"); plt.title("samples (T = 0.8)")
plt.show()

# %% [markdown]
# ### Inpainting (Fig. 5.7)
# Hidden pixels follow Langevin dynamics on log p with the visible ones clamped; visible pixels are
# returned unchanged.

# %%
masks = inpainting_masks(28, 28)
digit = x_mnist_test[:1]
rows = []
for name, mask in masks.items():
    filled = nice.inpaint(digit, mask[None], steps=3 if SMOKE else 200, seed=0).numpy()
    rows.append(np.concatenate([digit[0, ..., 0] * mask[..., 0], filled[0, ..., 0]], 1))
plt.figure(figsize=(3, 12))
plt.imshow(np.concatenate(rows, 0), cmap="gray"); plt.axis("off")
plt.title("masked input | completion\n" + ", ".join(masks), fontsize=6)
plt.show()

# %% [markdown]
# ### The four-point manifold (Fig. 5.14)

# %%
grid = nice.interpolate_manifold(x_mnist_test[:4] + 0.5, num=4 if SMOKE else 8)
n = grid.shape[0]
plt.figure(figsize=(5, 5))
plt.imshow(np.concatenate([np.concatenate(list(grid[i, ..., 0]), 1) for i in range(n)], 0), cmap="gray")
plt.axis("off"); plt.show()

# %% [markdown]
# ### The sphere in the latent space (Fig. 5.6)
# A random three-dimensional subspace of the latent space, the unit sphere centred at 0 in it, an
# even grid in angle space (polar angle down, azimuth across), decoded by g = f⁻¹ (L1523).

# %%
sphere = nice.latent_sphere(num_polar=4 if SMOKE else 8, num_azimuth=4 if SMOKE else 8, seed=0)
plt.figure(figsize=(5, 5))
plt.imshow(np.concatenate([np.concatenate(list(row[..., 0]), 1) for row in sphere], 0), cmap="gray")
plt.axis("off"); plt.show()

# %% [markdown]
# ## The trained multi-scale Real NVP (`realnvp-mnist`)
# Convolutional couplings with checkerboard and channel masks, two scales with factor-out, and
# batch-norm bijectors. `tfzoo.train("realnvp-mnist", run_dir)` (the command that produced the shipped
# model is on its card) runs the recipe's `BatchNormBijector` callback, which accumulates the exact
# statistics of the training data before every validation and when training ends (L1588): log p of an
# image then does not depend on the batch it is in. Rather than training it again here, load the
# shipped SavedModel (the checkout's `savedmodels/`, the cache, or a verified download).

# %%
shipped = tfzoo.load_pretrained("realnvp-mnist")
x = x_mnist_test[:128]
print("test bits/dim (128 test images):", float(np.mean(shipped.bits_per_dim(tf.constant(x), tf.constant(0)))))
alone = shipped.log_prob(tf.constant(x[:1]))[0]
in_batch = shipped.log_prob(tf.constant(x))[0]
print("log p of one image alone and in a batch of 128:", float(alone), float(in_batch))
samples = shipped.sample(tf.constant(16), tf.constant(0)).numpy()
plt.figure(figsize=(8, 2))
plt.imshow(np.concatenate(list(samples[..., 0]), 1), cmap="gray"); plt.axis("off"); plt.title("samples")
plt.show()

# %% [markdown]
# ### Conceptual compression (Figs. 5.15–5.16)
# The flat latent `z = f(x)` is the concatenation of the levels' latents, the finest (first
# factored-out) level first. Keep the coarse levels of a test image, draw the finer ones from the
# prior, decode. With the preset's two scales, the first level factors out half of the dimensions
# (14×14×2 of the squeezed 14×14×4) and the last level holds the other half.

# %%
assert tfzoo.get_preset("realnvp-mnist").config["num_scales"] == 2
original = x_mnist_test[:4] + 0.5
z = shipped.encode(tf.constant(original)).numpy()
sizes = [z.shape[1] // 2, z.shape[1] - z.shape[1] // 2]
print("latent sizes per level:", sizes)
rng = np.random.default_rng(0)
columns = [original]
for levels in (1, 2):
    resampled = z.copy()
    finest = sum(sizes[:levels])
    resampled[:, :finest] = rng.standard_normal((len(z), finest))
    columns.append(np.clip(shipped.decode(tf.constant(resampled, tf.float32)).numpy(), 0, 255))
plt.figure(figsize=(6, 4))
plt.imshow(np.concatenate([np.concatenate(list(c[..., 0]), 0) for c in columns], 1), cmap="gray")
plt.axis("off"); plt.title("original | finest level resampled | all levels resampled"); plt.show()
