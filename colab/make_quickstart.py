"""Writes colab/quickstart.ipynb (run: python colab/make_quickstart.py)."""

import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

INSTALL = '''# Install tfzoo when it is not importable (Colab); skipped where it already is.
try:
    import tfzoo
except ImportError:
    import os, subprocess, sys
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",
                           os.environ.get("TFZOO_PIP_SPEC", "tfzoo @ git+https://github.com/tfzoo/tfzoo")])
    import tfzoo'''

cells = [
    new_markdown_cell("# tfzoo quick start\n\nCreate a registered model, fit it, evaluate it, export a "
                      "SavedModel, reload it without tfzoo and serve it."),
    new_code_cell(INSTALL),
    new_code_cell('''import os
import numpy as np
import matplotlib.pyplot as plt
import tensorflow as tf
import keras
import tfzoo
from tfzoo.datasets import load_task, make_dataset

SMOKE = os.environ.get("TFZOO_NOTEBOOK_SMOKE") == "1"  # the test suite runs this notebook small
print(len(tfzoo.list_models()), "registered models, e.g.", tfzoo.list_models("*-mnist")[:5])'''),
    new_markdown_cell("## A preset holds the paper's recipe and citation"),
    new_code_cell('''preset = tfzoo.get_preset("lenet-mnist")
print(preset.description)
print("paper:", preset.citation, "| recipe:", preset.training, "| parameters:", preset.expected_params)'''),
    new_markdown_cell("## Create, fit, evaluate (two moons: no download needed)"),
    new_code_cell('''keras.utils.set_random_seed(0)
data = load_task("moons", seed=0)
model = tfzoo.create_model("mlp-moons")          # compiled with the preset's optimiser and loss
history = model.fit(make_dataset(*data["train"], batch_size=100, shuffle_seed=0, epochs=None),
                    steps_per_epoch=100, epochs=2 if SMOKE else 10,
                    validation_data=make_dataset(*data["validation"], batch_size=500), verbose=0)
print(model.evaluate(*data["test"], verbose=0, return_dict=True))'''),
    new_code_cell('''x, y = data["test"]
gx, gy = np.meshgrid(np.linspace(-1.5, 2.5, 150), np.linspace(-1, 1.5, 150))
grid = np.stack([gx.ravel(), gy.ravel()], 1).astype("float32")
p1 = tf.nn.softmax(model.predict(grid, verbose=0))[:, 1].numpy().reshape(gx.shape)
plt.contourf(gx, gy, p1, levels=20, cmap="RdBu_r", alpha=0.6)
plt.scatter(x[:400, 0], x[:400, 1], c=y[:400], s=5, cmap="RdBu_r")
plt.title("P(class 1) on two moons"); plt.show()'''),
    new_markdown_cell("## Export a SavedModel, reload it with TensorFlow alone, serve"),
    new_code_cell('''import tempfile
path = os.path.join(tempfile.mkdtemp(), "mlp-moons")
tfzoo.export(model, path)
loaded = tf.saved_model.load(path)                 # no tfzoo or Keras needed from here
served = loaded.serve(tf.constant(x[:5]))
np.testing.assert_allclose(served, model(x[:5]), rtol=1e-5, atol=1e-5)
print("served logits equal the in-memory model:", served.numpy().round(3))'''),
    new_markdown_cell("## The lecture's LeNet on MNIST\n\nUses `TFZOO_MNIST_DIR` (four IDX files) when set, "
                      "otherwise downloads through TFDS."),
    new_code_cell('''mnist = load_task("mnist")
xtr, ytr = mnist["train"]
n = 2000 if SMOKE else len(xtr)
keras.utils.set_random_seed(0)
lenet = tfzoo.create_model("lenet-mnist")
lenet.fit(make_dataset(xtr[:n], ytr[:n], batch_size=128, shuffle_seed=0, epochs=None),
          steps_per_epoch=n // 128, epochs=1 if SMOKE else 5, verbose=0)
result = lenet.evaluate(*mnist["test"], verbose=0, return_dict=True)
print(f"LeNet ({lenet.count_params():,} parameters) test error: {100 * (1 - result['accuracy']):.2f}%")
xt = mnist["test"][0][:8]
plt.figure(figsize=(8, 1.4))
for i, (img, p) in enumerate(zip(xt, np.argmax(lenet.predict(xt, verbose=0), -1))):
    plt.subplot(1, 8, i + 1); plt.imshow(img[..., 0], cmap="gray"); plt.title(str(p)); plt.axis("off")
plt.show()'''),
]
notebook = new_notebook(cells=cells, metadata={
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "colab": {"provenance": []}})
nbformat.write(notebook, os.path.join(os.path.dirname(os.path.abspath(__file__)), "quickstart.ipynb"))
