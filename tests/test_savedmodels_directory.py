"""The trained models shipped in ``savedmodels/``: each has a model card, loads without tfzoo, and
the classic classifiers reproduce the MNIST test error their cards state."""

import json
import os
import re

import numpy as np
import pytest

from tfzoo import testing

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = sorted(d for d in os.listdir(os.path.join(REPO, "savedmodels"))
                 if os.path.isdir(os.path.join(REPO, "savedmodels", d)))
CLASSIFIERS = [d for d in ("lenet-mnist", "mlp-mnist", "convnet-mnist") if d in SHIPPED]


@pytest.mark.parametrize("name", SHIPPED)
def test_model_card_names_every_endpoint_and_its_size(name):
    path = os.path.join(REPO, "savedmodels", name)
    card = open(os.path.join(path, "MODEL_CARD.md")).read()
    metadata = json.load(open(os.path.join(path, "tfzoo.json")))
    assert metadata["preset"] == name
    for endpoint in metadata["endpoints"]:
        assert f"`{endpoint}`" in card, f"{name}: card misses endpoint {endpoint}"
    assert "MiB" in card and "## Training command" in card
    size_mb = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs) / 2**20
    assert size_mb < 10.5, f"{name} is {size_mb:.1f} MiB"


def test_shipped_classifiers_reproduce_their_cards_test_error_without_tfzoo(mnist_dir, tmp_path):
    from tfzoo.datasets import load_mnist

    mnist = load_mnist(mnist_dir)
    np.save(tmp_path / "x.npy", mnist.x_test.astype("float32"))
    paths = {name: os.path.join(REPO, "savedmodels", name) for name in CLASSIFIERS}
    out = testing.run_in_fresh_python(f"""
        import json
        import numpy as np
        import tensorflow as tf
        x = np.load({str(tmp_path / "x.npy")!r})
        predictions = {{}}
        for name, path in {paths!r}.items():
            loaded = tf.saved_model.load(path)  # keep a reference: it owns the variables
            predictions[name] = np.concatenate(
                [np.argmax(loaded.serve(x[i:i + 1000]), -1) for i in range(0, 10000, 1000)]).tolist()
        print(json.dumps(predictions))
    """, block_tfzoo=True)
    predictions = json.loads(out.strip().splitlines()[-1])
    for name in CLASSIFIERS:
        card = open(os.path.join(paths[name], "MODEL_CARD.md")).read()
        stated = float(re.search(r"\| MNIST test error \| ([0-9.]+)% \|", card).group(1))
        error = 100 * np.mean(np.asarray(predictions[name]) != mnist.y_test)
        assert abs(error - stated) < 0.006, f"{name}: card says {stated}%, measured {error:.3f}%"
