"""The published trained models: release assets made by ``tfzoo pretrained pack`` from
``savedmodels/`` (generated; do not edit). The registry attaches each to its preset.
"""

from tfzoo.registry import Artifact

ARTIFACTS = {
    'convnet-mnist': Artifact('{base}/convnet-mnist.tar.gz', 'bdd4785738f55390200e44dfb6a4f6b5381a4577f9bac5b9899f3604ed02e22f', 6138306),
    'gan-mnist': Artifact('{base}/gan-mnist.tar.gz', 'ee50666ee63e7041a4f7cf1f197c209582cf646a1d3e4bf94c1529fd043e4734', 4029474),
    'gsn-mnist': Artifact('{base}/gsn-mnist.tar.gz', '405f7c1145c66385186e8eac9f67f275404e77dced11ddad3231d8bd23dc25c1', 6669928),
    'issgd-mnist-small': Artifact('{base}/issgd-mnist-small.tar.gz', '8037dc615c846a4663c60b368b1686150dacf40cf095baae17274fc207952b2b', 1489263),
    'lenet-mnist': Artifact('{base}/lenet-mnist.tar.gz', '82e9add4e83f974e41dacabac9a97715d25adc314016c58a8a352c261f8dc300', 90871),
    'lista-gaussian-m100': Artifact('{base}/lista-gaussian-m100.tar.gz', 'b2be5b429dac4dfa815e9ff8419b9ef4da95b7db47899fcc30a9feb3d52edf3f', 95354),
    'lista-mnist-patches-m100': Artifact('{base}/lista-mnist-patches-m100.tar.gz', '178afeb5d108a2f2c46236dcc0e92f8d96843011517624bcc4c0b40ce8dcc96e', 95419),
    'made-mnist': Artifact('{base}/made-mnist.tar.gz', 'eb841e340162fda085bfc262b66ff944f03b8331c3b00606cbc28b459d67cc3b', 2948581),
    'mlp-mnist': Artifact('{base}/mlp-mnist.tar.gz', '634e2fac0b983684ec23d7885ac3a6e84243fe86534688e0c6cd2e1a4b1017d2', 6918535),
    'mog-2d': Artifact('{base}/mog-2d.tar.gz', 'cabbc7ac7c0f3bd1e931aa03480a983c874c714f7e2de77c3d7eb492d415a6f3', 22245),
    'nice-mnist-small': Artifact('{base}/nice-mnist-small.tar.gz', '03f9f6c07355b0e77f6707f5671b68d7650f4eedda480a96da665bab532bbf7c', 4109320),
    'realnvp-mnist': Artifact('{base}/realnvp-mnist.tar.gz', 'a137d50ccc6530dd9635f5252c4427b419246bdf86f40c9123c95a404b6511d2', 1354645),
    'realnvp-moons': Artifact('{base}/realnvp-moons.tar.gz', 'fed91371eb79ef28731a956514e9029e4cdf93c59775a56310d52a4bc98b77ad', 195619),
    'shadownet-mnist-small': Artifact('{base}/shadownet-mnist-small.tar.gz', 'cf72381330e0e930e776a06ed48cbc36e24418c67a0626764317e80a33bb2e2b', 2490423),
    'sparseae-mnist': Artifact('{base}/sparseae-mnist.tar.gz', '490b6f62a8e96fb3bf4be2aa22cffcc8b4863d16fe23c3df78ab02405735bfaa', 1134065),
    'vae-mnist': Artifact('{base}/vae-mnist.tar.gz', '55968dc94be8f30992c660c421e4c5ebeaa93a15e4f0d888715d7a2b355753b0', 1622578),
}
