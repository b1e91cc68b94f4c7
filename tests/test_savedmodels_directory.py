"""The trained models shipped in ``savedmodels/``: each was produced by ``tfzoo train`` + ``tfzoo export``
with the command its card states (the one in ``savedmodels/reproduce.sh``), loads without tfzoo, and
the classic classifiers reproduce the test accuracy their cards state."""

import json
import os
import re
import shlex

import numpy as np
import pytest

from tfzoo import testing

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = sorted(d for d in os.listdir(os.path.join(REPO, "savedmodels"))
                 if os.path.isdir(os.path.join(REPO, "savedmodels", d)))
CLASSIFIERS = [d for d in ("lenet-mnist", "mlp-mnist", "convnet-mnist") if d in SHIPPED]


def _reproduce_lines() -> dict:
    text = open(os.path.join(REPO, "savedmodels", "reproduce.sh")).read()
    block = text.split("MODELS=(", 1)[1].split(")", 1)[0]
    lines = [shlex.split(line)[0] for line in block.strip().splitlines()]
    return {line.split()[0]: line for line in lines}


def test_every_shipped_model_is_in_the_reproduce_script_and_back():
    assert sorted(_reproduce_lines()) == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_model_card_gives_the_tfzoo_commands_that_produced_it(name):
    path = os.path.join(REPO, "savedmodels", name)
    card = open(os.path.join(path, "MODEL_CARD.md")).read()
    metadata = json.load(open(os.path.join(path, "tfzoo.json")))
    assert metadata["preset"] == name
    train = f"tfzoo train {_reproduce_lines()[name]}"
    assert metadata["training_commands"] == [train], "the card's command is the reproduce script's"
    assert metadata["export_command"] == f"tfzoo export runs/{name} savedmodels/{name}"
    commands = card.split("## How it was trained", 1)[1].split("```")[1].strip().splitlines()
    assert commands == [train, metadata["export_command"]]
    for endpoint, spec in metadata["endpoints"].items():
        assert f"`{endpoint}`" in card, f"{name}: card misses endpoint {endpoint}"
        for output in spec["outputs"]:
            assert f"`{output}`" in card
    for value in re.findall(r"(?<![\w.])/(?:work|tmp|home|root|Users)/\S*", card + json.dumps(metadata)):
        pytest.fail(f"{name}: absolute path {value} on the card")
    size_mb = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs) / 2**20
    assert size_mb < 10.5, f"{name} is {size_mb:.1f} MiB"
    assert f"{metadata['size_bytes'] / 2**20:.2f} MiB" in card


def test_shipped_classifiers_reproduce_their_cards_test_accuracy_without_tfzoo(mnist_dir, tmp_path):
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
        metadata = json.load(open(os.path.join(paths[name], "tfzoo.json")))
        assert metadata["examples"]["test"] == 10000
        accuracy = np.mean(np.asarray(predictions[name]) == mnist.y_test)
        assert abs(accuracy - metadata["metrics"]["accuracy"]) < 6e-5, \
            f"{name}: card says {metadata['metrics']['accuracy']}, measured {accuracy}"


@pytest.mark.parametrize("name", SHIPPED)
def test_published_artifact_is_the_packed_checkout_model(name, tmp_path):
    """``tfzoo pretrained download NAME`` serves exactly the checkout's model (the same SHA-256)."""
    import tfzoo
    from tfzoo.pretrained import pack

    artifact = tfzoo.get_preset(name).pretrained
    assert artifact is not None, f"{name}: run `tfzoo pretrained pack` to publish it"
    assert artifact.url == f"{{base}}/{name}.tar.gz"
    assert pack(os.path.join(REPO, "savedmodels", name), str(tmp_path / f"{name}.tar.gz")) == \
        (artifact.sha256, artifact.size_bytes)
