# %% [markdown]
# # tfzoo quick start
#
# Train a registered preset with `tfzoo.train` (the one training loop of tfzoo, the same as the
# command `tfzoo train PRESET`), read its metrics and history, reload the SavedModel it exported with
# TensorFlow alone and serve it; then the lecture's LeNet on MNIST. Trained models shipped with tfzoo
# load with `tfzoo.load_pretrained(name)` (see the flows notebook).

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import tfzoo
from tfzoo.datasets import load_task

SMOKE = os.environ.get("TFZOO_NOTEBOOK_SMOKE") == "1"  # the test suite runs this notebook small
RUNS = tempfile.mkdtemp(prefix="tfzoo-runs-")           # run directories: checkpoints, logs, SavedModels
print(len(tfzoo.list_models()), "registered models, e.g.", tfzoo.list_models("*-mnist")[:5])

# %% [markdown]
# ## A preset holds the paper's recipe and citation

# %%
preset = tfzoo.get_preset("lenet-mnist")
print(preset.description)
print("paper:", preset.citation, "| parameters:", preset.expected_params)
print("recipe:", preset.recipe.optimizer, preset.recipe.learning_rate, "batch", preset.recipe.batch_size,
      "epochs", preset.recipe.epochs)

# %% [markdown]
# ## Train, evaluate (two moons: no download needed)
#
# `tfzoo.train(preset, run_dir)` builds the model, fits it with the preset's recipe under a budget
# (`epochs`, `steps`, `time_budget`, `cpu_budget`), evaluates it on the test split and writes a
# checkpoint, TensorBoard logs, a SavedModel, a `.keras` file and a picture into `run_dir`. Run again
# with the same arguments, it resumes (or says the run has finished).

# %%
run = tfzoo.train("mlp-moons", os.path.join(RUNS, "mlp-moons"), epochs=2 if SMOKE else 10,
                  limit_train=1000 if SMOKE else None, limit_eval=500 if SMOKE else None, verbose=0)
model = run.model
print("test metrics:", run.metrics)
print("validation accuracy per epoch:", np.round(run.history["val_accuracy"], 4))
print("spent:", run.spent)

# %%
data = load_task("moons", seed=0)
x, y = data["test"]
gx, gy = np.meshgrid(np.linspace(-1.5, 2.5, 150), np.linspace(-1, 1.5, 150))
grid = np.stack([gx.ravel(), gy.ravel()], 1).astype("float32")
p1 = tf.nn.softmax(model.predict(grid, verbose=0))[:, 1].numpy().reshape(gx.shape)
plt.contourf(gx, gy, p1, levels=20, cmap="RdBu_r", alpha=0.6)
plt.scatter(x[:400, 0], x[:400, 1], c=y[:400], s=5, cmap="RdBu_r")
plt.title("P(class 1) on two moons"); plt.show()

# %% [markdown]
# ## The run's SavedModel: reload it with TensorFlow alone, serve
#
# `tfzoo.publish(run.run_dir, destination)` (the command `tfzoo export`) adds a model card to it.

# %%
loaded = tf.saved_model.load(run.paths["savedmodel"])   # no tfzoo or Keras needed from here
served = loaded.serve(tf.constant(x[:5]))
np.testing.assert_allclose(served, model(x[:5]), rtol=1e-5, atol=1e-5)
print("served logits equal the in-memory model:", served.numpy().round(3))

# %% [markdown]
# ## The lecture's LeNet on MNIST
#
# Uses `TFZOO_MNIST_DIR` (four IDX files) when set, otherwise downloads through TFDS. `limit_train`
# and `limit_eval` keep the first examples of the splits.

# %%
lenet_run = tfzoo.train("lenet-mnist", os.path.join(RUNS, "lenet-mnist"), epochs=1 if SMOKE else 5,
                        limit_train=1024 if SMOKE else None, limit_eval=256 if SMOKE else None,
                        artifacts=False, verbose=0)
lenet = lenet_run.model
print(f"LeNet ({lenet.count_params():,} parameters) test error: {100 * (1 - lenet_run.metrics['accuracy']):.2f}%")
xt = load_task("mnist", limit=8)["test"][0]
plt.figure(figsize=(8, 1.4))
for i, (img, p) in enumerate(zip(xt, np.argmax(lenet.predict(xt, verbose=0), -1))):
    plt.subplot(1, 8, i + 1); plt.imshow(img[..., 0], cmap="gray"); plt.title(str(p)); plt.axis("off")
plt.show()
