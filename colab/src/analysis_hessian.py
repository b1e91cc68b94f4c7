# %% [markdown]
# # Negative eigenvalues of the Hessian (Alain, Le Roux, Manzagol)
#
# Thesis `003_a93095073811cc34.txt` chapter 11: Hessian-vector products on a fixed data subset, the extreme eigenpairs LA(k)/SA(k) with `scipy.sparse.linalg.eigsh`, their evolution during RMSProp training (Fig. 11.5), the line search of eq. (11.1) along eigenvectors (Figs. 11.1–11.4) and a stochastic-Lanczos spectral density. A CPU-sized ReLU CNN stands in for the 3.3M-parameter LeNet (`relu-lenet-mnist`).

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import tfzoo
from tfzoo.analysis.hessian import (HessianOperator, HessianSpectrum, extreme_eigenpairs, eigendirection_line_search,
                                    spectral_density, density_on_grid, subset)
from tfzoo.datasets import load_task

SMOKE = os.environ.get("TFZOO_NOTEBOOK_SMOKE") == "1"
RUNS = tempfile.mkdtemp(prefix="tfzoo-runs-")
N_TRAIN, STEPS, EVERY, TOL = (400, 10, 10, 1e-2) if SMOKE else (20000, 600, 100, 1e-4)
x, y = load_task("mnist", limit=N_TRAIN)["train"]
fixed_x, fixed_y = subset(x, y, fraction=0.05, seed=0)   # always the same examples (003 lines 3468-3470)

# %% [markdown]
# `relu-lenet-mnist` made CPU-sized by constructor overrides (4 and 8 filters, 32 dense units), trained
# by `tfzoo.train` with its recipe (RMSProp, batch 32) for `STEPS` steps; `HessianSpectrum` observes
# the training (`callbacks=`) and records the extreme eigenvalues every `EVERY` steps.

# %%
spectrum = HessianSpectrum(fixed_x, fixed_y, k_largest=1 if SMOKE else 5, k_smallest=1 if SMOKE else 3,
                           every_n_batches=EVERY, tol=TOL)
run = tfzoo.train("relu-lenet-mnist", os.path.join(RUNS, "relu-lenet-mnist"),
                  overrides=dict(filters=(4, 8), dense_units=32), epochs=1, limit_train=STEPS * 32,
                  limit_eval=256 if SMOKE else 2000, callbacks=[spectrum], artifacts=False, verbose=0)
model = run.model
spectrum.plot(os.path.join(RUNS, "spectrum.png"))
plt.imshow(plt.imread(os.path.join(RUNS, "spectrum.png"))); plt.axis("off");

# %% [markdown]
# Eq. (11.1): the loss along the gradient's projection on the most negative eigenvector, with the quadratic model given by λ.

# %%
op = HessianOperator(model, fixed_x, fixed_y)
sa = extreme_eigenpairs(op, 2, "SA", tol=TOL)
la = extreme_eigenpairs(op, 2, "LA", tol=TOL)
alphas = np.linspace(-1, 1, 11 if SMOKE else 41)
search = eigendirection_line_search(op, sa.vectors[:, 0], alphas, curvature=sa.values[0])
plt.plot(alphas, search.losses, label="loss"); plt.plot(alphas, search.quadratic_prediction, label="quadratic model")
plt.xlabel("α"); plt.legend(); plt.title(f"λ = {sa.values[0]:.3g}");

# %% [markdown]
# Best steps α* along each eigenvector (Fig. 11.4): 1/α* ≈ λ for λ > 0; along negative curvature the best step is much larger than 1/|λ|.

# %%
grid = np.geomspace(1e-3, 1e3, 7 if SMOKE else 25)
rows = []
for lam, v in list(zip(la.values, la.vectors.T)) + list(zip(sa.values, sa.vectors.T)):
    s = eigendirection_line_search(op, v, np.concatenate([-grid[::-1], grid]), curvature=lam)
    rows.append((round(float(lam), 4), round(s.best_alpha, 4), round(1 / s.best_alpha, 4), round(s.loss_at_zero - s.best_loss, 5)))
rows  # (λ, α*, 1/α*, loss decrease)

# %% [markdown]
# Spectral density by stochastic Lanczos quadrature (compare the lecture, `002` lines 644–650: ≈94% of |λ| < 1e-4, largest ≈ 40, most negative −0.46 for a CNN at a minimum).

# %%
nodes, weights = spectral_density(op, num_steps=10 if SMOKE else 80, num_probes=1 if SMOKE else 4)
grid = np.linspace(nodes.min() - 1, nodes.max() + 1, 2000)
plt.semilogy(grid, density_on_grid(nodes, weights, grid, sigma=0.05) + 1e-8)
plt.xlabel("λ"); plt.ylabel("density");
