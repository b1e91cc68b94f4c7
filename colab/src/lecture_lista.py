# %% [markdown]
# # ISTA, FISTA and LISTA (Lecture 3, L582–636)
#
# LISTA initialised from ISTA's matrices equals ISTA; after training, one unrolled step beats many ISTA/FISTA iterations (lecture: 18 FISTA iterations to match one LISTA iteration for m = 100). Then the restricted `S` of L616 (sparse or low-rank) and 8×8 patches of real MNIST digits.

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

# %% [markdown]
# The data is the task `sparse-gaussian-m100`: x = W_d z + 0.01 noise with 5-sparse codes z and the
# random unit-norm dictionary W_d of seed 0, the placeholder dictionary of `lista-gaussian-m100`.

# %%
from tfzoo.datasets import load_task
from tfzoo.lecture import sparse_coding as sc

def code_error(encoder, x, z_star):
    return float(np.mean(np.sum((encoder(x) - z_star) ** 2, 1)))

def iterations_to_match(errors, target):
    hits = np.nonzero(np.asarray(errors) <= target)[0]
    return int(hits[0]) if len(hits) else f"> {len(errors) - 1}"

N_TRAIN, N_TEST = (200, 200) if SMOKE else (None, 200)   # None: the task's 2,000 training signals
d = sc.random_dictionary(64, 100, seed=0)
x_test = load_task("sparse-gaussian-m100", limit=N_TEST)["test"][0]
z_test = sc.fista(x_test, d, 0.1, 1000).codes
ista_run = sc.ista(x_test, d, 0.1, 100, reference=z_test)
fista_run = sc.fista(x_test, d, 0.1, 100, reference=z_test)
model = tfzoo.create_model("lista-gaussian-m100")
print("untrained LISTA = ISTA(2):", np.abs(model(x_test) - sc.ista(x_test, d, 0.1, 2).codes).max())

# %% [markdown]
# `tfzoo.train` computes the targets (1000 FISTA iterations for the model's dictionary, L624, in
# `LISTA.prepare_training_data`) and fits; `recipe_overrides` sets Adam's learning rate and the batch size.

# %%
RECIPE = dict(learning_rate=1e-2, batch_size=50, jit_compile=False)
EPOCHS = 1 if SMOKE else 20

def train_lista(label, **options):
    return tfzoo.train("lista-gaussian-m100", os.path.join(RUNS, label), overrides=options, epochs=EPOCHS,
                       recipe_overrides=RECIPE, limit_train=N_TRAIN, limit_eval=N_TEST, artifacts=False,
                       verbose=0).model

model = train_lista("dense")
lista_error = code_error(model, x_test, z_test)
plt.loglog(np.arange(1, 101), ista_run.code_errors[1:], label="ISTA")
plt.loglog(np.arange(1, 101), fista_run.code_errors[1:], label="FISTA")
plt.axhline(lista_error, color="k", ls="--", label="LISTA, T = 1")
plt.xlabel("iterations"); plt.ylabel("code prediction error"); plt.legend(); plt.show()
print("FISTA iterations to match:", iterations_to_match(fista_run.code_errors, lista_error))

# %% [markdown]
# #### A restricted S (L616: "keeping many terms at 0, or using a low-rank factorized form")
#
# `s_structure="sparse"` keeps the fraction `s_density` of ISTA's S of largest magnitude and holds the rest at exactly 0; `s_structure="low_rank"` trains `S = U Vᵀ` of rank `s_rank`, initialised by the truncated SVD of ISTA's S (2·m·r parameters instead of m²). Each variant is a `tfzoo.train` run with those constructor overrides.

# %%
for name, options in [("sparse, 10% of S", {"s_structure": "sparse", "s_density": 0.1}),
                      ("low rank, r = 10", {"s_structure": "low_rank", "s_rank": 10})]:
    variant = train_lista(options["s_structure"], **options)
    weights = variant.inhibition_weights   # {"S", "S_mask"} or {"S_U", "S_V"}
    free = (int(weights["S_mask"].numpy().sum()) if "S_mask" in weights
            else sum(int(np.prod(w.shape)) for w in weights.values()))
    error = code_error(variant, x_test, z_test)
    print(f"{name:17s} free S parameters {free:6d}  code error {error:.3f}  "
          f"FISTA iterations to match {iterations_to_match(fista_run.code_errors, error)}")
print(f"{'dense':17s} free S parameters {100 * 100:6d}  code error {lista_error:.3f}")

# %% [markdown]
# #### 8×8 patches of real MNIST digits (`lista-mnist-patches-m100`)
#
# The task `mnist-patches-8x8`. The dictionary is learned from the training patches by SGD on $\min_z E_{W_d}(x, z)$ (L588) and installed with `set_dictionary`, both in `LISTA.prepare_training_data` when `tfzoo.train` starts (`learn_steps` SGD steps, a constructor override).

# %%
p_test = load_task("mnist-patches-8x8", limit=N_TEST)["test"][0]
patches_run = tfzoo.train("lista-mnist-patches-m100", os.path.join(RUNS, "mnist-patches"),
                          overrides=dict(learn_steps=5 if SMOKE else 30), epochs=1 if SMOKE else 15,
                          limit_train=300 if SMOKE else None, limit_eval=N_TEST, artifacts=False, verbose=0)
mnist_lista = patches_run.model
zp_test = mnist_lista.optimal_codes(p_test)
error = code_error(mnist_lista, p_test, zp_test)
fista_errors = sc.fista(p_test, mnist_lista.dictionary, 0.1, 100, reference=zp_test).code_errors
print(f"LISTA T = 1 code error {error:.3f}; FISTA iterations to match {iterations_to_match(fista_errors, error)} "
      "(lecture, natural-image patches: 18)")
fig, axes = plt.subplots(5, 20, figsize=(10, 2.6))
for ax, atom in zip(axes.ravel(), mnist_lista.dictionary.numpy().T):
    ax.imshow(atom.reshape(8, 8), cmap="gray"); ax.axis("off")
plt.show()
