# %% [markdown]
# # Why are deep nets reversible? The shadow distribution and SHADOW training
#
# Arora, Liang, Ma (`shared/papers/001_ba50c8426a439536.txt`). This notebook checks the reversibility theorem numerically (Theorem 2.3: error ∝ k/t), shows synthetic images from a random and from a trained net (the paper's Figure 2, on MNIST), trains with SHADOW while tracking the error on synthetic test data, and draws the random-likeness panels of Figure 4 for a trained layer. Set `TFZOO_NOTEBOOK_SMOKE=1` for a fast run.

# %%
import os
import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np
import tfzoo

from tfzoo.datasets import mnist_splits
from tfzoo.reversible import shadow
from tfzoo.reversible.models import ShadowNet, SyntheticTestError
from tfzoo.reversible.random_likeness import plot_random_likeness, random_likeness_report

SMOKE = os.environ.get("TFZOO_NOTEBOOK_SMOKE") == "1"
RUNS = tempfile.mkdtemp(prefix="tfzoo-runs-")
N_TRAIN, N_TEST, WIDTH, EPOCHS = (200, 200, 64, 1) if SMOKE else (10000, 2000, 512, 3)
SWEEP_N = [500, 1000] if SMOKE else [1000, 2000, 4000, 8000]

# %% [markdown]
# ## Theorem 2.3: a Gaussian layer is reversible, error ∝ k/t
#
# x = s_t(r(αWh)) (eq. 6) with α = 2/t; the read-out r(Wᵀx + b) with one calibrated scalar offset b recovers the k-sparse h with relative error Õ(k/t) (eq. 9). The linear read-out Wᵀx (no ReLU, no offset) is far worse: the ReLU and the offset denoise (P143).

# %%
sweep = shadow.reversal_sweep(SWEEP_N, m=500, k=30, keep_prob=0.5, seed=0)
for r in sweep:
    print(f"n={r['n']:5d} t={r['t']:6.0f} k/t={r['k_over_t']:.4f} error={r['relative_error']:.3f} "
          f"error/(k/t)={r['relative_error_over_k_over_t']:.1f} linear={r['linear_relative_error']:.2f}")
plt.loglog([r['k_over_t'] for r in sweep], [r['relative_error'] for r in sweep], 'o-', label='r(Wᵀx+b)')
plt.loglog([r['k_over_t'] for r in sweep], [r['linear_relative_error'] for r in sweep], 's--', label='Wᵀx')
plt.xlabel('k/t'); plt.ylabel('relative error'); plt.legend(); plt.show()

# %% [markdown]
# ## Synthetic images from a random and from a trained net (Figure 2)
#
# x′ = r(W₁ r(W₂ h̃₂)) (P618): the net run backwards from its highest hidden layer, without biases.
# `shadownet-mnist-small` at width `WIDTH` (a constructor override); the seed gives the untrained net
# the initial weights of the runs below.

# %%
x_test, y_test = (a[:N_TEST] for a in mnist_splits()['test'])
OVERRIDES = dict(hidden_units=(WIDTH, WIDTH))
keras.utils.set_random_seed(0)
random_samples = np.asarray(tfzoo.create_model('shadownet-mnist-small', **OVERRIDES).shadow_sample(x_test[:8]))

# %% [markdown]
# ## SHADOW against backprop
#
# Two `tfzoo.train` runs of the preset on the first `N_TRAIN` training images, the same initial weights
# and minibatches: SHADOW (the preset's `shadow_weight=1.0`: each step also trains on one synthetic image
# per real one) and plain backprop with dropout (`shadow_weight=0.0`). `SyntheticTestError` observes both
# (`callbacks=`): the error on the test images and on synthetic images generated from them (P642).
# The smoke test (`TFZOO_NOTEBOOK_SMOKE=1`) trains the SHADOW arm only.

# %%
ARMS = [('SHADOW', 1.0)] + ([] if SMOKE else [('backprop', 0.0)])
trackers, runs = {}, {}
for name, shadow_weight in ARMS:
    trackers[name] = SyntheticTestError(x_test, y_test)
    runs[name] = tfzoo.train('shadownet-mnist-small', os.path.join(RUNS, name), epochs=EPOCHS,
                             overrides=dict(OVERRIDES, shadow_weight=shadow_weight), limit_train=N_TRAIN,
                             limit_eval=N_TEST, callbacks=[trackers[name]], artifacts=False, verbose=0)
    print(f"{name:9s} test error per epoch:          ", np.round(trackers[name].history['test_error'], 4))
    print(f"{name:9s} synthetic test error per epoch:", np.round(trackers[name].history['synthetic_test_error'], 4))
model = runs['SHADOW'].model

# %%
variants = {
    'random net': random_samples,
    'trained net': np.asarray(model.shadow_sample(x_test[:8])),
}
for name, options in {'sampling 0.5 (eq. 27)': dict(sampling_keep_prob=0.5),
                      '3x3 smoothing (eq. 28)': dict(smooth=True),
                      'from the logits h̃₃ (P626)': dict(shadow_from='logits')}.items():
    variant = ShadowNet(hidden_units=(WIDTH, WIDTH), **options)
    variant.build_from_preset()
    variant.set_weights(model.get_weights())
    variants[name] = np.asarray(variant.shadow_sample(x_test[:8], seed=1))
variants['original'] = x_test[:8]
fig, axes = plt.subplots(len(variants), 1, figsize=(8, 1.3 * len(variants)))
for axis, (name, images) in zip(axes, variants.items()):
    axis.imshow(np.concatenate(list(np.asarray(images, float)[..., 0]), 1), cmap='gray')
    axis.set_title(name, fontsize=8); axis.axis('off')
plt.tight_layout(); plt.show()

# %% [markdown]
# ## Is the trained layer random-like? (Figure 4)
#
# Entries vs a Gaussian, bias uniformity, singular values vs the quarter-circle law, and the empirical reversibility of the layer's own kernel. Keras initialises with Glorot-*uniform* entries: spectrally random-like, but not Gaussian until training changes the histogram.

# %%
report = random_likeness_report(model.stage_fc2_preact)
print({k: v for k, v in report['verdict'].items()})
print('reversal error', round(report['reversibility']['relative_error'], 3),
      'at k/t =', round(report['reversibility']['k_over_t'], 3))
plot_random_likeness(report, title='ShadowNet fc2 after SHADOW training'); plt.show()
