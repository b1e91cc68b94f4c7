"""Writes the Lecture 3 notebooks ``colab/lecture_*.ipynb``.

Run ``python colab/make_lecture_notebooks.py`` for all of them, or name some:
``python colab/make_lecture_notebooks.py lecture_lista``.
"""

import os
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))

INSTALL = """try:
    import tfzoo
except ImportError:  # on Colab
    %pip install -q "tfzoo @ git+https://github.com/tfzoo/tfzoo"
    import tfzoo"""

SETUP = """import os
import numpy as np
import matplotlib.pyplot as plt
import keras
SMOKE = os.environ.get("TFZOO_NOTEBOOK_SMOKE") == "1"   # tiny sizes for the test suite
keras.utils.set_random_seed(0)"""

NOTEBOOKS = {
    "lecture_stochastic_depth": [
        ("# Stochastic depth (Huang et al. 2016, cited in Lecture 3 L33)\n\nThe lecture only cites the paper; "
        "the model follows the paper's eqs. (2), (4), (5): each residual branch survives a minibatch with "
        "probability $p_\\ell = 1 - \\frac{\\ell}{L}(1 - p_L)$, $p_L = 0.5$, and is scaled by $p_\\ell$ at test time."),
        """from tfzoo.datasets import load_mnist
from tfzoo.lecture.stochastic_depth import linear_decay_survival
print(np.round(linear_decay_survival(9), 3))
data = load_mnist()
n = 128 if SMOKE else 4096
x, y, x_test, y_test = data.x_train[:n], data.y_train[:n], data.x_test[:1000], data.y_test[:1000]""",
        """import time
results = {}
for name, p_last in [("stochastic depth", 0.5), ("constant depth", 1.0)]:
    model = tfzoo.create_model("sdresnet-mnist", final_survival_probability=p_last,
                               **({"blocks_per_stage": 1} if SMOKE else {}))
    model.fit(x[:128], y[:128], batch_size=128, epochs=1, verbose=0)   # warm-up (tracing)
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=128, epochs=1 if SMOKE else 3, verbose=0)
    seconds = time.perf_counter() - start
    results[name] = (seconds, 1 - model.evaluate(x_test, y_test, verbose=0)[1])
    print(f"{name}: {seconds:.1f} s, test error {results[name][1]:.3f}, expected depth {model.expected_depth():.2f}")
print("time ratio:", results["stochastic depth"][0] / results["constant depth"][0], "(paper: about 0.75)")""",
    ],
    "lecture_gan": [
        ("# GAN with k discriminator steps per generator step (Lecture 3, L391–500)\n\nA 2-D Gaussian mixture, "
        "the non-saturating generator loss (L455) and the optimal discriminator of Theorem 1."),
        """from tfzoo.datasets import gaussian_mixture_nd
from tfzoo.lecture.gan import SampleGrid
from tfzoo.lecture.plotting import plot_samples
mixture = gaussian_mixture_nd(dim=2, n_components=4, spread=1.0, std=0.1, seed=0)
data = mixture.sample(2000 if SMOKE else 20000, seed=1)
gan = tfzoo.create_model("gan-mixture2d", k=2)
grid = SampleGrid("gan_samples", every=5, real=data)
history = gan.fit(data, batch_size=128, epochs=2 if SMOKE else 40, verbose=0, callbacks=[grid])
print("D steps", int(gan.d_optimizer.iterations), "G steps", int(gan.g_optimizer.iterations))""",
        """fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
plot_samples(a, gan, data, n=500)
b.plot(history.history["d_loss"], label="D loss"); b.plot(history.history["g_loss"], label="G loss"); b.legend()
plt.show()""",
        "#### Sampling is also a SavedModel endpoint with an explicit integer seed",
        """tfzoo.export(gan, "gan_savedmodel")
import tensorflow as tf
loaded = tf.saved_model.load("gan_savedmodel")
print(loaded.sample(tf.constant(3), tf.constant(7)).numpy())""",
    ],
    "lecture_sparse_autoencoder": [
        ("# Sparse auto-encoder (Lecture 3, L532–578)\n\n$J_{sparse} = J + \\beta\\sum_j KL(\\rho\\|\\hat\\rho_j)$ "
        "with $\\rho = 0.05$, and the inputs that maximally activate each hidden unit (L572)."),
        """from tfzoo.datasets import load_mnist
x = load_mnist().x_train[:1000 if SMOKE else 20000]
model = tfzoo.create_model("sparseae-mnist", **({"hidden_units": 100} if SMOKE else {}))
history = model.fit(x, batch_size=256, epochs=2 if SMOKE else 20, verbose=0)
print({k: round(v[-1], 4) for k, v in history.history.items()})
print("mean hidden activation:", float(np.mean(model.encode(x[:1000]))), "target rho =", model.rho)""",
        """filters = model.max_activating_inputs()[:100]
fig, axes = plt.subplots(10, 10, figsize=(7, 7))
for ax, f in zip(axes.ravel(), filters):
    ax.imshow(f.reshape(28, 28), cmap="gray"); ax.axis("off")
plt.show()""",
    ],
    "lecture_lista": [
        ("# ISTA, FISTA and LISTA (Lecture 3, L582–636)\n\nLISTA initialised from ISTA's matrices equals ISTA; "
        "after training, one unrolled step beats many ISTA/FISTA iterations (lecture: 18 FISTA iterations "
        "to match one LISTA iteration for m = 100). Then the restricted `S` of L616 (sparse or low-rank) and "
        "8×8 patches of real MNIST digits."),
        """from tfzoo.lecture import sparse_coding as sc

def code_error(encoder, x, z_star):
    return float(np.mean(np.sum((encoder(x) - z_star) ** 2, 1)))

def iterations_to_match(errors, target):
    hits = np.nonzero(np.asarray(errors) <= target)[0]
    return int(hits[0]) if len(hits) else f"> {len(errors) - 1}"

d = sc.random_dictionary(64, 100, seed=0)
x = sc.sparse_signals(d, 600 if SMOKE else 5000, seed=1)
x_train, x_test = x[:-200], x[-200:]
z_test = sc.fista(x_test, d, 0.1, 1000).codes
ista_run = sc.ista(x_test, d, 0.1, 100, reference=z_test)
fista_run = sc.fista(x_test, d, 0.1, 100, reference=z_test)
model = tfzoo.create_model("lista-gaussian-m100")
print("untrained LISTA = ISTA(2):", np.abs(model(x_test) - sc.ista(x_test, d, 0.1, 2).codes).max())""",
        """z_train = model.optimal_codes(x_train)
model.compile_from_recipe(Recipe(optimizer="adam", learning_rate=1e-2, jit_compile=False))
model.fit(x_train, z_train, batch_size=50, epochs=2 if SMOKE else 20, verbose=0)
lista_error = code_error(model, x_test, z_test)
plt.loglog(np.arange(1, 101), ista_run.code_errors[1:], label="ISTA")
plt.loglog(np.arange(1, 101), fista_run.code_errors[1:], label="FISTA")
plt.axhline(lista_error, color="k", ls="--", label="LISTA, T = 1")
plt.xlabel("iterations"); plt.ylabel("code prediction error"); plt.legend(); plt.show()
print("FISTA iterations to match:", iterations_to_match(fista_run.code_errors, lista_error))""",
        ("#### A restricted S (L616: \"keeping many terms at 0, or using a low-rank factorized form\")\n\n"
        "`s_structure=\"sparse\"` keeps the fraction `s_density` of ISTA's S of largest magnitude and holds the "
        "rest at exactly 0; `s_structure=\"low_rank\"` trains `S = U Vᵀ` of rank `s_rank`, initialised by the "
        "truncated SVD of ISTA's S (2·m·r parameters instead of m²)."),
        """for name, options in [("dense", {}), ("sparse, 10% of S", {"s_structure": "sparse", "s_density": 0.1}),
                      ("low rank, r = 10", {"s_structure": "low_rank", "s_rank": 10})]:
    keras.utils.set_random_seed(0)
    variant = tfzoo.create_model("lista-gaussian-m100", **options)
    weights = variant.inhibition_weights   # {"S"}, {"S", "S_mask"} or {"S_U", "S_V"}
    free = (int(weights["S_mask"].numpy().sum()) if "S_mask" in weights
            else sum(int(np.prod(w.shape)) for w in weights.values()))
    variant.compile_from_recipe(Recipe(optimizer="adam", learning_rate=1e-2, jit_compile=False))
    variant.fit(x_train, z_train, batch_size=50, epochs=2 if SMOKE else 20, verbose=0)
    error = code_error(variant, x_test, z_test)
    print(f"{name:17s} free S parameters {free:6d}  code error {error:.3f}  "
          f"FISTA iterations to match {iterations_to_match(fista_run.code_errors, error)}")""",
        ("#### 8×8 patches of real MNIST digits (`lista-mnist-patches-m100`)\n\nThe dictionary is learned from the "
        "patches by SGD on $\\min_z E_{W_d}(x, z)$ (L588) and installed with `set_dictionary`."),
        """from tfzoo.datasets import load_mnist
patches = sc.mnist_patches(load_mnist().x_train[:20000], 800 if SMOKE else 3000, seed=0)
p_train, p_test = patches[:-200], patches[-200:]
mnist_lista = tfzoo.create_model("lista-mnist-patches-m100")
mnist_lista.set_dictionary(sc.learn_dictionary(p_train, 100, alpha=0.1, steps=5 if SMOKE else 30))
mnist_lista.fit(p_train, mnist_lista.optimal_codes(p_train), batch_size=50, epochs=2 if SMOKE else 15, verbose=0)
zp_test = mnist_lista.optimal_codes(p_test)
error = code_error(mnist_lista, p_test, zp_test)
fista_errors = sc.fista(p_test, mnist_lista.dictionary, 0.1, 100, reference=zp_test).code_errors
print(f"LISTA T = 1 code error {error:.3f}; FISTA iterations to match {iterations_to_match(fista_errors, error)} "
      "(lecture, natural-image patches: 18)")
fig, axes = plt.subplots(5, 20, figsize=(10, 2.6))
for ax, atom in zip(axes.ravel(), mnist_lista.dictionary.numpy().T):
    ax.imshow(atom.reshape(8, 8), cmap="gray"); ax.axis("off")
plt.show()""",
    ],
    "lecture_entropy_sgd": [
        ("# Entropy-SGD (Lecture 3, L680–751; inner loop from Chaudhari et al. 2016)\n\nFor $f(x) = "
        "\\frac a2 x^2$ the local-entropy gradient is $-\\nabla F = \\frac{a\\gamma}{a+\\gamma}x$; the SGLD "
        "inner loop estimates it. Then Entropy-SGD against SGD with momentum at equal gradient evaluations."),
        """import tensorflow as tf
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
print("SGLD estimate", x0 - float(v.numpy()[0]), "closed form", a * gamma * x0 / (a + gamma))""",
        """from tfzoo.datasets import load_mnist
from tfzoo.classifiers.models import MLPClassifier
data = load_mnist()
n = 1000 if SMOKE else 5000
x, y, x_test, y_test = data.x_train[:n], data.y_train[:n], data.x_test[:2000], data.y_test[:2000]
for name, optimizer in [("SGD momentum", keras.optimizers.SGD(0.1, momentum=0.9)),
                        ("Entropy-SGD L=5", EntropySGD(learning_rate=1 / 0.03, sgld_learning_rate=0.1,
                                                       langevin_steps=5, gamma0=0.03, gamma1=1e-3))]:
    keras.utils.set_random_seed(0)
    model = MLPClassifier(hidden_units=(100,), dropout=0.0)
    model.build_from_preset()
    model.compile_from_recipe(None, optimizer=optimizer)
    model.fit(x, y, batch_size=100, epochs=1 if SMOKE else 10, verbose=0)
    print(name, "gradient evaluations", int(optimizer.iterations),
          "test error", round(1 - model.evaluate(x_test, y_test, verbose=0)[1], 4))""",
    ],
}


def main(names=None):
    """Writes the notebooks ``names`` (default: all of :data:`NOTEBOOKS`)."""
    unknown = set(names or ()) - set(NOTEBOOKS)
    if unknown:
        raise SystemExit(f"unknown notebook(s) {sorted(unknown)}; known: {', '.join(NOTEBOOKS)}")
    for name in names or NOTEBOOKS:
        cells = NOTEBOOKS[name]
        notebook = new_notebook(cells=[new_code_cell(INSTALL), new_code_cell(SETUP)] + [
            new_markdown_cell(c) if c.startswith("#") else new_code_cell(c)
            for c in cells])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, os.path.join(HERE, f"{name}.ipynb"))


if __name__ == "__main__":
    main(sys.argv[1:])
