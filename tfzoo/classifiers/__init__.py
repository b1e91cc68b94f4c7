"""Classic classifiers: MLP with dropout, the lecture's LeNet, the probes and Hessian papers' convnets.

Example:
    >>> import tfzoo
    >>> model = tfzoo.create_model("lenet-mnist")          # doctest: +SKIP
    >>> model.count_params()                               # doctest: +SKIP
    21328
"""
