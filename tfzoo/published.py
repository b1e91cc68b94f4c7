"""The published trained models: release assets made by ``tfzoo pretrained pack`` from
``savedmodels/`` (generated; do not edit). The registry attaches each to its preset.
"""

from tfzoo.registry import Artifact

ARTIFACTS = {
    'convnet-mnist': Artifact('{base}/convnet-mnist.tar.gz', '77776a2d0db12279f939b07c8bddde263ee2180a796fbabd1d94b6e86c77c950', 6138283),
    'gan-mnist': Artifact('{base}/gan-mnist.tar.gz', '6450b27d431eb93c5f3195b0799f65dc60711233dd24ab0af22dae08cd11c56b', 4029452),
    'gsn-mnist': Artifact('{base}/gsn-mnist.tar.gz', '5047649fb24c0a7e08580621dca5c2214690555cb2576f25b26a570628d90169', 6669900),
    'issgd-mnist-small': Artifact('{base}/issgd-mnist-small.tar.gz', '3b1f6e8f4d7990ba6915a97ce65798b8c6b29965a5ac2d0f538c929a11f6ab8d', 1489253),
    'lenet-mnist': Artifact('{base}/lenet-mnist.tar.gz', '008f99fec7d4162c0d64d37f633e7805ba3635ea6d174598509bf0da06d9502b', 90854),
    'lista-gaussian-m100': Artifact('{base}/lista-gaussian-m100.tar.gz', 'c159776cb486343361ac9fde35270e88195f06a79c280f9fbadc13911b6ee722', 95331),
    'lista-mnist-patches-m100': Artifact('{base}/lista-mnist-patches-m100.tar.gz', '6f9b5b91c372e067d8ff769ac4f3d57a0e5094402f0ca0e45e0020ecb14e80f7', 95400),
    'made-mnist': Artifact('{base}/made-mnist.tar.gz', '2d6e6c6eaa8a5423d154fe30135fdeb3c98fa79bc36d8b5d5caa0e6472f462e8', 2948556),
    'mlp-mnist': Artifact('{base}/mlp-mnist.tar.gz', '44336bb55cad12889e97b88f56f63de1053cf88fd08ed082eb5a3c4fbade0b54', 6918507),
    'mog-2d': Artifact('{base}/mog-2d.tar.gz', '4dae068faa2f43529082eb76c2d801fb7c20c899d1ee6a71b69eb412f5bc5887', 22229),
    'nice-mnist-small': Artifact('{base}/nice-mnist-small.tar.gz', '449aaf8845de10b4d1ce3be66dbaab0bbdf243f013a321f9c63074d13af9f527', 4109307),
    'realnvp-mnist': Artifact('{base}/realnvp-mnist.tar.gz', '1c4789c425871c44fb0f6f852b9120424f9581849ca463812eba272f98433f22', 1354616),
    'realnvp-moons': Artifact('{base}/realnvp-moons.tar.gz', '9de0c4d7ac94692698b91bbb4e28c3754ea02c32a36e7606b8f0224eae37bd65', 195601),
    'shadownet-mnist-small': Artifact('{base}/shadownet-mnist-small.tar.gz', 'fdb732d79536b6224d9bbaf7a2017483dc1ce1b7ff61e883dd37a9dbf049d233', 2490404),
    'sparseae-mnist': Artifact('{base}/sparseae-mnist.tar.gz', '4692aa036e113e467039318012ea66de76e351a5e0ba99205bfd8077428e22d4', 1134048),
    'vae-mnist': Artifact('{base}/vae-mnist.tar.gz', '42513c5894a0fec0d6d7a1fc5369b3fc22078b6566a93b5752df9b78cc84cd89', 1622550),
}
