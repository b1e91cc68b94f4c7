"""The published trained models: release assets made by ``tfzoo pretrained pack`` from
``savedmodels/`` (generated; do not edit). The registry attaches each to its preset.
"""

from tfzoo.registry import Artifact

ARTIFACTS = {
    'convnet-mnist': Artifact('{base}/convnet-mnist.tar.gz', 'f99b484dde2d213421d78a4b6c0e7664b90bf9041fdbb67200b952551afc6b5b', 6138252),
    'gan-mnist': Artifact('{base}/gan-mnist.tar.gz', '0628f0109fe6af85d44774135713a116c1b88d444029be8fc0f6d3f5322c8a55', 4029621),
    'gsn-mnist': Artifact('{base}/gsn-mnist.tar.gz', '203dc63cc4af24c2ba855eb3c8b794af3ceea272d18de232c668a12c27fb8611', 6650702),
    'issgd-mnist-small': Artifact('{base}/issgd-mnist-small.tar.gz', 'ebf7681ac15ba1fc3fdf908c7422559fdf1da52566b6e6e46a3e333895ad2ea2', 1489263),
    'lenet-mnist': Artifact('{base}/lenet-mnist.tar.gz', '3282e9f3ebf12313ddbed5ed74d39e919e2e3ec901a3e686098f01aa48ce3214', 90853),
    'lista-gaussian-m100': Artifact('{base}/lista-gaussian-m100.tar.gz', 'df1b6bd918fa89a71e47856d633910f896ce9f2aecee1e3ebbd2de02baf17816', 95328),
    'lista-mnist-patches-m100': Artifact('{base}/lista-mnist-patches-m100.tar.gz', 'b327314ece4dc7f6587024b59cef705ef8d6f093b412018ce6686ac0d66b4291', 95422),
    'made-mnist': Artifact('{base}/made-mnist.tar.gz', '126cf1cecac7bf572d90f3d0ca4d9bbd086644bde804d2fe604f55c5c0423673', 2948538),
    'mlp-mnist': Artifact('{base}/mlp-mnist.tar.gz', '2bdaa9462e23a2d54e55a525e18e1607dc9bdbbdbffdda367c4544daa104df75', 6918511),
    'mog-2d': Artifact('{base}/mog-2d.tar.gz', '7bb3eca810cc1c822925c137d27398e826c46583fb764e2d162db36d53a0b05f', 22230),
    'nice-mnist-small': Artifact('{base}/nice-mnist-small.tar.gz', 'ba301b9ffa0c773cfe1932fc2fd519ac7b18f8ecd955f29885480609e43cab58', 4109297),
    'realnvp-mnist': Artifact('{base}/realnvp-mnist.tar.gz', '6ca6811b18987da8f77f125edaccf6bce45f12a1cf40908f1d00c56d28a6330c', 1354595),
    'realnvp-moons': Artifact('{base}/realnvp-moons.tar.gz', 'a9f456585736565f5d12198b987c3956453f57661f8e9bf2ab7d9b02a177dba9', 195573),
    'shadownet-mnist-small': Artifact('{base}/shadownet-mnist-small.tar.gz', '86079d5ffa368a2b63bc0ab82aeecbc634aaaafc80b9a7d8f988b12dafbdf5e7', 2490406),
    'sparseae-mnist': Artifact('{base}/sparseae-mnist.tar.gz', 'f7aa7159a05979183202bf170bb3ab3a56e56349cfe886551728d39971602d03', 1134054),
    'vae-mnist': Artifact('{base}/vae-mnist.tar.gz', 'a1647ae3a89599810324da4eaedab1dd684403c1d4b9ba84d9b5709c4df6d2c1', 1622571),
}
