"""The published trained models: release assets made by ``tfzoo pretrained pack`` from
``savedmodels/`` (generated; do not edit). The registry attaches each to its preset.
"""

from tfzoo.registry import Artifact  # noqa: F401  (the generated table uses it)

ARTIFACTS = {
}
