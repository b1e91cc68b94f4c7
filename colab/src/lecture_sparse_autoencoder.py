# %% [markdown]
# # Sparse auto-encoder (Lecture 3, L532–578)
#
# $J_{sparse} = J + \beta\sum_j KL(\rho\|\hat\rho_j)$ with $\rho = 0.05$, and the inputs that maximally activate each hidden unit (L572).

# %%
import os
import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np
import tfzoo
SMOKE = os.environ.get("TFZOO_NOTEBOOK_SMOKE") == "1"   # tiny sizes for the test suite
RUNS = tempfile.mkdtemp(prefix="tfzoo-runs-")
keras.utils.set_random_seed(0)

# %%
from tfzoo.datasets import load_task
n = 512 if SMOKE else 20000
run = tfzoo.train("sparseae-mnist", os.path.join(RUNS, "sparseae-mnist"), epochs=1 if SMOKE else 20,
                  overrides=dict(hidden_units=100) if SMOKE else None, limit_train=n, limit_eval=200 if SMOKE else 1000,
                  artifacts=False, verbose=0)
model = run.model
print({k: round(v[-1], 4) for k, v in run.history.items()})
x = load_task("mnist", limit=1000)["train"][0]
print("mean hidden activation:", float(np.mean(model.encode(x))), "target rho =", model.rho)

# %%
filters = model.max_activating_inputs()[:100]
fig, axes = plt.subplots(10, 10, figsize=(7, 7))
for ax, f in zip(axes.ravel(), filters):
    ax.imshow(f.reshape(28, 28), cmap="gray"); ax.axis("off")
plt.show()
