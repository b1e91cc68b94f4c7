# %% [markdown]
# # Sharp minima can generalize (Dinh, Pascanu, Bengio, Bengio)
#
# Thesis `004_6b1d8905d771edf8.txt` chapter 3: the α-scale transformation T_α(θ₁, θ₂) = (αθ₁, θ₂/α) of a rectified network leaves its function unchanged, but moves every sharpness measure: Hessian spectral norm and trace (Theorems 4–5) and ε-sharpness (§3.4.3).

# %%
import os
import numpy as np
import keras
import matplotlib.pyplot as plt
from tfzoo.datasets import two_moons
from tfzoo.analysis.hessian import HessianOperator
from tfzoo.analysis.sharpness import alpha_scale, spectral_norm, hutchinson_trace, epsilon_sharpness

SMOKE = os.environ.get("TFZOO_NOTEBOOK_SMOKE") == "1"
x, y = two_moons(500, noise=0.1, seed=0)
x = x.astype("float32")

# %% [markdown]
# The network is not a tfzoo preset: the theorems are about any rectified network, so this is a plain Keras two-layer ReLU net trained by its own `model.fit`; the sharpness tools take any Keras model.

# %%
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(2)])
model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
# plain model.fit: a user's Keras network (not a preset), the non-tfzoo baseline the theorems are about
model.fit(x, y, batch_size=100, epochs=10 if SMOKE else 100, verbose=0);

# %%
alphas = [0.1, 1.0, 10.0] if SMOKE else [0.01, 0.1, 1.0, 10.0, 100.0]
rows = []
for alpha in alphas:
    scaled = alpha_scale(model, [alpha, 1 / alpha])
    op = HessianOperator(scaled, x, y)
    rows.append(dict(alpha=alpha, output_diff=float(np.abs(np.asarray(scaled(x)) - np.asarray(model(x))).max()),
                     loss=op.loss(), spectral=spectral_norm(op, tol=1e-4), trace=hutchinson_trace(op, 20)[0],
                     eps_ball=epsilon_sharpness(op, 0.1, "ball", steps=20).value,
                     eps_box=epsilon_sharpness(op, 1e-3, "box", steps=20).value))
rows

# %%
fig, ax = plt.subplots()
for key in ("spectral", "trace", "eps_ball", "eps_box"):
    ax.loglog(alphas, [r[key] for r in rows], marker="o", label=key)
ax.set_xlabel("α"); ax.set_title("one function, many sharpnesses"); ax.legend();

# %% [markdown]
# Theorem 5: for any M there is an α with ‖∇²L(T_α θ)‖₂ ≥ M; `theorem5_alpha` follows the proof's construction.

# %%
from tfzoo.analysis.sharpness import theorem5_alpha
op = HessianOperator(model, x, y)
first_layer = slice(0, int(np.prod(model.layers[0].kernel.shape)))
alpha = theorem5_alpha(op, first_layer, M=1e4)
print(alpha, spectral_norm(HessianOperator(alpha_scale(model, [alpha, 1 / alpha]), x, y), tol=1e-3))
