# %% [markdown]
# # GAN with k discriminator steps per generator step (Lecture 3, L391–500)
#
# A 2-D Gaussian mixture, the non-saturating generator loss (L455) and the optimal discriminator of Theorem 1.

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
# `tfzoo.train` fits `gan-mixture2d` (with `k = 2` discriminator steps per generator step, a constructor
# override) on the task `gaussian-mixture-2d`; `SampleGrid` observes the training (`callbacks=`) and
# saves the generator's samples every 5 epochs.

# %%
from tfzoo.datasets import load_task
from tfzoo.lecture.gan import SampleGrid
from tfzoo.lecture.plotting import plot_samples
data = load_task("gaussian-mixture-2d", limit=2000)["train"][0]
grid = SampleGrid(os.path.join(RUNS, "gan_samples"), every=5, real=data)
run = tfzoo.train("gan-mixture2d", os.path.join(RUNS, "gan-mixture2d"), overrides=dict(k=2),
                  epochs=1 if SMOKE else 40, limit_train=1024 if SMOKE else None, limit_eval=256 if SMOKE else None,
                  callbacks=[grid], verbose=0)
gan = run.model
print("D steps", int(gan.d_optimizer.iterations), "G steps", int(gan.g_optimizer.iterations))

# %%
fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
plot_samples(a, gan, data, n=500)
b.plot(run.history["d_loss"], label="D loss"); b.plot(run.history["g_loss"], label="G loss"); b.legend()
plt.show()

# %% [markdown]
# #### Sampling is also a SavedModel endpoint with an explicit integer seed
# `tfzoo.train` exported the run's SavedModel (`run.paths["savedmodel"]`); it loads without tfzoo.

# %%
import tensorflow as tf
loaded = tf.saved_model.load(run.paths["savedmodel"])
print(loaded.sample(tf.constant(3), tf.constant(7)).numpy())
