# %% [markdown]
# # Deep probabilistic models (Dinh's thesis, chapter 4)
#
# Mixture of Gaussians with EM (§4.1.3), MADE (autoregressive masking, §4.2.1, following Germain et al.
# 2015 since the thesis only sketches it) and the VAE with the reparametrization trick, REINFORCE and the
# IWAE bound (§4.2.2). `TFZOO_NOTEBOOK_SMOKE=1` shrinks every size so the notebook runs in under a minute.

# %%
import itertools
import os
import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import tfzoo
from tfzoo.datasets import load_task
from tfzoo.probabilistic.made import MADE
from tfzoo.probabilistic.vae import VAE, standard_normal_entropy

SMOKE = os.environ.get("TFZOO_NOTEBOOK_SMOKE") == "1"
RUNS = tempfile.mkdtemp(prefix="tfzoo-runs-")
keras.utils.set_random_seed(0)

# %% [markdown]
# ## 1. Mixture of Gaussians fitted by EM (Fig. 4.1)
# E-step: responsibilities $p_\theta(z\mid x)$; M-step: closed-form weights, means and covariances. The
# log-likelihood never decreases. The `mog-2d` recipe runs EM as a method callback
# (`ExpectationMaximization`, before the first gradient step; `tfzoo.train` builds it from the recipe
# and returns it in `run.callbacks`), then fine-tunes by Adam; one epoch of it here.

# %%
em_iterations = 20 if SMOKE else 100
em = tfzoo.get_preset("mog-2d").recipe.callback("ExpectationMaximization")
run = tfzoo.train("mog-2d", os.path.join(RUNS, "mog-2d"), epochs=1, limit_train=500 if SMOKE else 5000,
                  limit_eval=500 if SMOKE else None,
                  recipe_overrides=dict(callbacks=[dict(target=em.target, kwargs={**em.kwargs, "iterations": em_iterations})]),
                  artifacts=False, verbose=0)
mog = run.model
history = run.callbacks[0].log_likelihoods
print("EM log-likelihood: first %.3f, last %.3f, monotone: %s" % (history[0], history[-1], np.all(np.diff(history) >= -1e-10)))
print("after the Adam epoch, test mean log-likelihood: %.3f" % -run.metrics["loss"])
g = np.linspace(-1.8, 2.8, 120)
gx, gy = np.meshgrid(g, np.linspace(-1.3, 1.8, 100))
log_density = mog.log_prob(np.stack([gx.ravel(), gy.ravel()], 1).astype("float32")).numpy().reshape(gx.shape)
samples = mog.sample(400, 1).numpy()
fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
a.contourf(gx, gy, np.maximum(log_density, -8), levels=30); a.scatter(samples[:, 0], samples[:, 1], s=3, c="w")
a.set_title("log p(x) of the mixture and its samples")
b.plot(history); b.set_xlabel("EM iteration"); b.set_ylabel("mean log-likelihood")
plt.show()

# %% [markdown]
# ## 2. MADE
# Exact normalisation on a tiny binary problem (sum over all $2^5$ states), then a MADE on binarized MNIST.

# %%
tiny = MADE(input_shape=(5,), hidden_units=(16,), ordering="random", seed=1)
states = np.array(list(itertools.product([0, 1], repeat=5)), "float32")
print("sum_x p(x) over all 32 states:", float(np.exp(tiny.log_prob(states)).sum()))

n_train = 500 if SMOKE else 50000
x_test = load_task("mnist-binarized", limit=1000)["test"][0]
made = tfzoo.train("made-mnist", os.path.join(RUNS, "made-mnist"), epochs=1 if SMOKE else 5,
                   overrides=dict(hidden_units=(64,)) if SMOKE else None, limit_train=n_train, limit_eval=200 if SMOKE else 1000,
                   artifacts=False, verbose=0).model
print("MADE test NLL on 1000 test images: %.2f nats" % -float(np.mean(made.log_prob(x_test))))
made_samples = made.sample(2 if SMOKE else 16, 0).numpy()[..., 0]
plt.imshow(np.concatenate(list(made_samples), 1), cmap="gray"); plt.axis("off"); plt.title("MADE samples"); plt.show()

# %% [markdown]
# ## 3. VAE on a linear-Gaussian model: ELBO ≤ IWAE-K ≤ log p(x), Observation 1, gradient variance
# With an affine Gaussian decoder $\log p(x)$ is exact. The REINFORCE and reparametrized estimators of
# the encoder gradient agree in mean; the reparametrized one has a much lower variance here.

# %%
toy = VAE(input_shape=(4,), hidden_units=(), latent_dim=2, likelihood="gaussian", seed=3)
toy.decoder_layers[0].kernel.assign([[2.0, 1.5, 1.0, -0.5], [1.8, 1.2, 1.3, -0.2]])
x = np.random.default_rng(0).normal(size=(1, 4)).astype("float32")
repeats = 100 if SMOKE else 1000
x_rep = np.repeat(x, repeats, 0)
print("log p(x) exact  : %.3f" % toy.linear_gaussian_log_prob(x)[0])
for k in (1, 5, 50):
    print("E[IWAE-%-3d]     : %.3f" % (k, float(np.mean(toy.iwae(x_rep, k, k)))))
eps = tf.random.stateless_normal([20000, 1, 2], seed=[0, 0])
print("E[log p(x, eps)] = %.3f ;  ELBO - H(N(0, I)) = %.3f" % (
    float(np.mean(toy.joint_log_prob_with_noise(x, eps))), float(toy.elbo(x, 20000, 0)[0]) - standard_normal_entropy(2)))
draws = 100 if SMOKE else 2000
var = {e: sum(g.var(0).sum() for g in toy.encoder_gradient_draws(x, e, draws, 0)) for e in ("reinforce", "reparametrization")}
print("gradient variance ratio REINFORCE / reparametrization: %.1f" % (var["reinforce"] / var["reparametrization"]))

# %% [markdown]
# ## 4. VAE on binarized MNIST
# The thesis's $-\mathcal{L}_{ELBO}$ and the tighter IWAE-K bound on test images.

# %%
vae = tfzoo.train("vae-mnist", os.path.join(RUNS, "vae-mnist"), epochs=1 if SMOKE else 5, batch_size=100,
                  overrides=dict(hidden_units=(64,), latent_dim=8) if SMOKE else None, limit_train=n_train,
                  limit_eval=200 if SMOKE else 1000, artifacts=False, verbose=0).model
subset = x_test[:20 if SMOKE else 200]
print("test ELBO: %.2f nats" % float(np.mean(vae.elbo(x_test, 1, 0))))
for k in (1, 10) if SMOKE else (1, 10, 100):
    print("IWAE-%d on %d test images: %.2f nats" % (k, len(subset), float(np.mean(vae.iwae(subset, k, 1)))))
means = vae.decode(tf.random.stateless_normal([8, vae.latent_dim], seed=[1, 1])).numpy()[..., 0]
plt.imshow(np.concatenate(list(means), 1), cmap="gray"); plt.axis("off"); plt.title("decoder means, z ~ N(0, I)"); plt.show()
