# %% [markdown]
# # Linear classifier probes (Alain & Bengio)
#
# Thesis `003_a93095073811cc34.txt` chapter 9: a softmax regression on each layer's `stop_gradient` features measures how linearly separable the classes are there. We probe the MNIST convnet (`convnet-mnist`) on both sides of every convolution, activation and pooling, at initialisation and after a short training, then export a SavedModel returning the model's output and every probe's.

# %%
import os
import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np
import tfzoo
from tfzoo.analysis.probes import attach_probes, export_probed, fit_probes_posthoc, plot_error_by_depth
from tfzoo.datasets import mnist_splits

SMOKE = os.environ.get("TFZOO_NOTEBOOK_SMOKE") == "1"
RUNS = tempfile.mkdtemp(prefix="tfzoo-runs-")
N_PROBE, N_MODEL, EPOCHS = (200, 256, 1) if SMOKE else (5000, 50000, 10)
data = mnist_splits()
train = tuple(a[:N_PROBE] for a in data["train"])
valid = tuple(a[:N_PROBE] for a in data["validation"])
test = tuple(a[:N_PROBE] for a in data["test"])

# %% [markdown]
# Probes at initialisation, trained post hoc on cached features of the frozen model (app. 9.B), early-stopped on validation. The seed gives the model the initial weights of the run below (`tfzoo.train` seeds with `seed=0`).

# %%
keras.utils.set_random_seed(0)
model = tfzoo.create_model("convnet-mnist")
layers = ["input", "conv1_preact", "conv1_relu", "pool1", "conv2_preact", "conv2_relu", "pool2",
          "fc1_preact", "fc1_relu", "logits"]
at_init = fit_probes_posthoc(attach_probes(model, layers=layers), train, valid, test, epochs=EPOCHS)
{k: round(v["test_error"], 3) for k, v in at_init.items()}

# %% [markdown]
# Train the model with `tfzoo.train` and the preset's recipe (one epoch of SGD with momentum on the first `N_MODEL` images here; the thesis trains 10), then probe again.

# %%
run = tfzoo.train("convnet-mnist", os.path.join(RUNS, "convnet-mnist"), epochs=1, limit_train=N_MODEL,
                  limit_eval=N_PROBE, artifacts=False, verbose=0)
print("test metrics of the trained model:", run.metrics)
probed = attach_probes(run.model, layers=layers)
trained = fit_probes_posthoc(probed, train, valid, test, epochs=EPOCHS)
plot_error_by_depth([at_init, trained], os.path.join(RUNS, "probes.png"), labels=["at init", "after training"])
plt.imshow(plt.imread(os.path.join(RUNS, "probes.png"))); plt.axis("off");

# %% [markdown]
# The thesis (line 3112): at init the error goes from 8% (input) to 2% with random features; after training it falls at every layer except a kink at `fc1_preact`.

# %% [markdown]
# Probes can also train alongside the model with their own optimiser; `ProbeMonitor` records every probe's error per epoch. The model's weights are exactly those of training without probes.
#
# The probed model is your own Keras model (the preset wrapped by `attach_probes`), not a preset, so this cell is a plain `model.fit` script using tfzoo's probe layers and `ProbeMonitor` callback.

# %%
from tfzoo.analysis.probes import ProbeMonitor
keras.utils.set_random_seed(1)
fresh = tfzoo.create_model("convnet-mnist")
alongside = attach_probes(fresh, layers=["input", "pool1", "pool2", "fc1_relu"], reduction="random_subset", n_features=1000)
alongside.compile(probe_optimizer="adam")
monitor = ProbeMonitor({"validation": valid, "test": test}, measure_at_start=True)
# plain model.fit: probes trained alongside a user's model with tfzoo's ProbeMonitor callback
alongside.fit(*[a[:N_MODEL // 5] for a in data["train"]], batch_size=64, epochs=2, verbose=0, callbacks=[monitor])
monitor.table()

# %% [markdown]
# Export: one SavedModel whose `serve` returns the model's logits and every probe's class probabilities (loadable without tfzoo).

# %%
import tensorflow as tf
path = export_probed(probed, os.path.join(RUNS, "probed_convnet"))
loaded = tf.saved_model.load(path)
outputs = loaded.serve(tf.constant(test[0][:4], tf.float32))
{k: np.argmax(v, -1).tolist() for k, v in outputs.items()}
