# %% [markdown]
# # Entropy-SGD (Lecture 3, L680–751; inner loop from Chaudhari et al. 2016)
#
# For $f(x) = \frac a2 x^2$ the local-entropy gradient is $-\nabla F = \frac{a\gamma}{a+\gamma}x$; the SGLD inner loop estimates it. Then Entropy-SGD against SGD with momentum at equal gradient evaluations.

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
import tensorflow as tf
from tfzoo.lecture.entropy_sgd import EntropySGD
a, x0, gamma, steps = 4.0, 3.0, 1.0, 4000
v = keras.Variable(np.array([x0], "float32"))
opt = EntropySGD(learning_rate=1.0, sgld_learning_rate=0.05, langevin_steps=steps, gamma0=gamma, gamma1=0.0,
                 thermal_noise=np.sqrt(2.0), averaging=0.002)
opt.build([v])
@tf.function
def outer_step():
    for _ in tf.range(steps):
        opt.apply([a * v.value], [v])
outer_step()
print("SGLD estimate", x0 - float(v.numpy()[0]), "closed form", a * gamma * x0 / (a + gamma))

# %% [markdown]
# An MLP 784-100-10 without dropout (`mlp-mnist` with constructor `overrides`), trained by `tfzoo.train`
# with each optimiser given as recipe fields (`recipe_overrides`): SGD with momentum, or Entropy-SGD
# registered with Keras as `tfzoo>EntropySGD`, with its arguments in `optimizer_args`. Both runs take the
# same number of minibatches; `optimizer.iterations` counts the gradient evaluations.

# %%
n = 500 if SMOKE else 5000
optimizers = {
    "SGD momentum": dict(optimizer="sgd", learning_rate=0.1, optimizer_args=dict(momentum=0.9)),
    "Entropy-SGD L=5": dict(optimizer="tfzoo>EntropySGD", learning_rate=1 / 0.03,
                            optimizer_args=dict(sgld_learning_rate=0.1, langevin_steps=5, gamma0=0.03, gamma1=1e-3)),
}
for name, optimizer in optimizers.items():
    run = tfzoo.train("mlp-mnist", os.path.join(RUNS, name.split()[0].lower()), epochs=1 if SMOKE else 10,
                      overrides=dict(hidden_units=(100,), dropout=0.0), limit_train=n, limit_eval=200 if SMOKE else 2000,
                      recipe_overrides=dict(optimizer, batch_size=100), artifacts=False, verbose=0)
    print(name, "gradient evaluations", int(run.model.optimizer.iterations),
          "test error", round(1 - run.metrics["accuracy"], 4))
