# %% [markdown]
# # Stochastic depth (Huang et al. 2016, cited in Lecture 3 L33)
#
# The lecture only cites the paper; the model follows the paper's eqs. (2), (4), (5): each residual branch survives a minibatch with probability $p_\ell = 1 - \frac{\ell}{L}(1 - p_L)$, $p_L = 0.5$, and is scaled by $p_\ell$ at test time.

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
from tfzoo.lecture.stochastic_depth import linear_decay_survival
print(np.round(linear_decay_survival(9), 3))
n = 128 if SMOKE else 4096

# %% [markdown]
# Two `tfzoo.train` runs of `sdresnet-mnist`: survival probabilities decaying to 0.5, and constant depth
# (`final_survival_probability=1.0`, a constructor override). `EpochTimer` observes the training
# (`callbacks=`): the seconds of each epoch's training steps; the first epoch (tracing) is not counted.

# %%
import time

class EpochTimer(keras.callbacks.Callback):
    """Seconds of each epoch's training steps (up to its validation pass)."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start, self.stop = time.perf_counter(), None

    def on_test_begin(self, logs=None):
        self.stop = self.stop or time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append((self.stop or time.perf_counter()) - self.start)

results = {}
for name, p_last in [("stochastic depth", 0.5), ("constant depth", 1.0)]:
    timer = EpochTimer()
    run = tfzoo.train("sdresnet-mnist", os.path.join(RUNS, name.replace(" ", "-")), epochs=2 if SMOKE else 4,
                      overrides=dict(final_survival_probability=p_last, **({"blocks_per_stage": 1, "filters": (4, 8, 16)} if SMOKE else {})),
                      limit_train=n, limit_eval=128 if SMOKE else 1000, callbacks=[timer], artifacts=False, verbose=0)
    seconds = min(timer.seconds[1:])   # the fastest epoch after the first
    results[name] = (seconds, 1 - run.metrics["accuracy"])
    print(f"{name}: {seconds:.1f} s per epoch, test error {results[name][1]:.3f}, "
          f"expected depth {run.model.expected_depth():.2f}")
print("time ratio:", results["stochastic depth"][0] / results["constant depth"][0], "(paper: about 0.75)")
