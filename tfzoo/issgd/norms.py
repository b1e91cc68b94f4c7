"""Per-example gradient norms ``‖∇_θ L_n‖₂``: Proposition 3 for dense layers, and a general path.

Paper: ``shared/papers/003_a93095073811cc34.txt`` section 7.3.3, Proposition 3 (lines 2487–2521,
proof 7.A.2 lines 2775–2824, after Goodfellow 2015). For a dense layer ``Y = XW + b`` in a batch
whose loss is the *sum* ``L = L_1 + … + L_N``, the gradient of example ``n`` alone is the rank-1
outer product ``∂L_n/∂W = X[n,:]ᵀ ∂L/∂Y[n,:]`` and ``∂L_n/∂b = ∂L/∂Y[n,:]`` (eq. 7.18; the paper's
statement writes ``∂L_n/∂W`` on the bias line, a typo), so

    ‖∂L_n/∂W‖_F² = ‖X[n,:]‖² · ‖∂L/∂Y[n,:]‖²,      ‖∂L_n/∂b‖² = ‖∂L/∂Y[n,:]‖²

and the norm of the whole flattened per-example gradient (line 2822) is

    ‖g(x_n)‖² = Σ_layers (‖X_ℓ[n,:]‖² + 1) · ‖∂L/∂Y_ℓ[n,:]‖²

with ``Y_ℓ`` the *pre-activation* of layer ℓ: one forward and one backward pass of the batch give
all ``N`` norms. With a mean loss ``L/N`` the backpropagated ``∂/∂Y`` is ``N`` times smaller, and
:func:`dense_grad_norms` rescales it (``loss_reduction="mean"``). The identity needs unshared dense
weights (line 2517): it does not hold for convolutions (line 2519), for which
:func:`vectorized_grad_norms` forms the per-example gradients themselves (a Jacobian of the
per-example losses, vectorised with ``pfor``); it is exact for any model and serves as the check.

Example:
    >>> import numpy as np, tfzoo
    >>> from tfzoo import testing
    >>> from tfzoo.issgd import norms
    >>> model = tfzoo.create_model("issgd-mnist-small")                                # doctest: +SKIP
    >>> x, y = testing.example_fit_data(model, 4)                                   # doctest: +SKIP
    >>> loss = norms.per_example_loss(model)                                         # doctest: +SKIP
    >>> np.allclose(norms.dense_grad_norms(model, x, y, loss),
    ...             norms.vectorized_grad_norms(model, x, y, loss), rtol=1e-5)      # doctest: +SKIP
    True
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfzoo.classifiers.models import StagedClassifier


class NotDenseChainError(TypeError):
    """The model is not a chain of dense layers and parameter-free layers; Prop. 3 does not apply."""


def per_example_loss(model, loss=None):
    """The unreduced loss ``(y, logits) -> (N,)`` of ``loss`` or, by default, of the compiled model."""
    loss = model.loss if loss is None else loss
    if loss is None:
        raise ValueError("the model is not compiled with a loss; pass loss= (e.g. a keras.losses.Loss)")
    if isinstance(loss, keras.losses.Loss):
        return loss.call
    if isinstance(loss, (str, dict)):
        loss = keras.losses.get(loss)
        return loss.call if isinstance(loss, keras.losses.Loss) else loss
    if callable(loss):
        return loss
    raise ValueError(f"cannot use {loss!r} as a per-example loss; expected a keras loss or a callable")


def dense_chain(model):
    """``(preprocess, layers)``: the input transform and the layers applied one after another.

    Accepts a :class:`tfzoo.classifiers.models.StagedClassifier` (its stages) or a
    ``keras.Sequential``; every layer with trainable weights must be a ``keras.layers.Dense``.
    """
    if isinstance(model, StagedClassifier):
        def preprocess(x):
            return model.check_input(x) * model.input_scale + model.input_offset

        layers = [layer for _, layer in model.stages]
    elif isinstance(model, keras.Sequential):
        def preprocess(x):
            return tf.convert_to_tensor(x, model.compute_dtype)

        layers = list(model.layers)
    else:
        raise NotDenseChainError(
            f"{type(model).__name__}: Proposition 3 needs the model's layers in order; pass a "
            "StagedClassifier or keras.Sequential, or use vectorized_grad_norms")
    for layer in layers:
        if layer.trainable_weights and not isinstance(layer, keras.layers.Dense):
            raise NotDenseChainError(
                f"layer {layer.name} ({type(layer).__name__}) has parameters but is not Dense: "
                "Proposition 3 does not apply to it (003 line 2519); use vectorized_grad_norms")
    return preprocess, layers


def dense_grad_norms(model, x, y, loss_fn, loss_reduction: str = "sum", parameters=None):
    """Per-example gradient norms of a dense chain by Proposition 3 (one forward + backward pass).

    Args:
        model: a :class:`StagedClassifier` or ``keras.Sequential`` whose parameters are all in
            ``Dense`` layers (with or without a fused activation; biases optional).
        x, y: a batch of ``N`` inputs and targets.
        loss_fn: ``(y, logits) -> (N,)`` per-example losses (see :func:`per_example_loss`).
        loss_reduction: ``"sum"`` backpropagates ``Σ_n L_n`` (the paper's setting); ``"mean"``
            backpropagates ``1/N Σ_n L_n`` and multiplies ``∂/∂Y`` by ``N``. Both return the norms
            of ``∇_θ L_n``.
        parameters: optional ``[(kernel, bias or None), ...]``, one pair per Dense layer in order,
            used instead of the layers' own variables (e.g. parameters published by the master on a
            parameter server, read by a norm worker).

    Returns:
        float32 ``(N,)``: ``‖∇_θ L_n‖₂`` over all trainable parameters.
    """
    if loss_reduction not in ("sum", "mean"):
        raise ValueError(f"loss_reduction must be 'sum' or 'mean', got {loss_reduction!r}")
    preprocess, layers = dense_chain(model)
    dense_layers = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
    if parameters is None:
        parameters = [(layer.kernel, layer.bias if layer.use_bias else None) for layer in dense_layers]
    if len(parameters) != len(dense_layers):
        raise ValueError(f"parameters has {len(parameters)} (kernel, bias) pairs, the model "
                         f"{len(dense_layers)} Dense layers")
    weights = dict(zip(map(id, dense_layers), parameters))
    inputs, preacts, has_bias = [], [], []
    with tf.GradientTape() as tape:
        h = preprocess(x)
        for layer in layers:
            if isinstance(layer, keras.layers.Dense):
                if h.shape.rank != 2:
                    raise NotDenseChainError(
                        f"Dense layer {layer.name} gets a rank-{h.shape.rank} input: its weights are "
                        "shared across positions, so Proposition 3 does not apply")
                kernel, bias = weights[id(layer)]
                inputs.append(h)
                has_bias.append(bias is not None)
                y_pre = tf.matmul(h, kernel)
                if bias is not None:
                    y_pre = y_pre + bias
                tape.watch(y_pre)
                preacts.append(y_pre)
                h = layer.activation(y_pre)
            else:
                h = layer(h, training=False)
        losses = loss_fn(y, h)
        total = tf.reduce_sum(losses) if loss_reduction == "sum" else tf.reduce_mean(losses)
    deltas = tape.gradient(total, preacts)
    scale = 1.0 if loss_reduction == "sum" else tf.cast(tf.shape(losses)[0], deltas[0].dtype)
    squared = 0.0
    for bias, inp, delta in zip(has_bias, inputs, deltas):
        input_sq = tf.reduce_sum(tf.square(inp), axis=-1) + (1.0 if bias else 0.0)
        squared += input_sq * tf.reduce_sum(tf.square(delta * scale), axis=-1)
    return tf.sqrt(squared)


def vectorized_grad_norms(model, x, y, loss_fn):
    """Per-example gradient norms of any model: the Jacobian of the ``N`` per-example losses.

    ``GradientTape.jacobian(..., experimental_use_pfor=True)`` vectorises the ``N`` backward passes;
    row ``n`` of the Jacobian is ``∇_θ L_n`` exactly (layers run with ``training=False``, so no
    example's loss depends on another's). Memory grows as ``N ×`` (number of parameters).
    """
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        losses = loss_fn(y, model(x, training=False))
    jacobians = tape.jacobian(losses, variables, experimental_use_pfor=True)
    squared = tf.add_n([tf.reduce_sum(tf.reshape(tf.square(j), (tf.shape(j)[0], -1)), axis=-1)
                        for j in jacobians])
    return tf.sqrt(squared)


def grad_norm_function(model, method: str = "auto", loss=None):
    """A ``tf.function`` ``(x, y) -> ‖∇_θ L_n‖₂`` with ``method`` ``"dense"`` (Prop. 3),
    ``"vectorized"`` or ``"auto"`` (Prop. 3 when the model is a dense chain)."""
    loss_fn = per_example_loss(model, loss)
    if method == "auto":
        try:
            dense_chain(model)
            method = "dense"
        except NotDenseChainError:
            method = "vectorized"
    if method == "dense":
        dense_chain(model)  # raises a clear error for non-dense models
        return tf.function(lambda x, y: dense_grad_norms(model, x, y, loss_fn))
    if method == "vectorized":
        return tf.function(lambda x, y: vectorized_grad_norms(model, x, y, loss_fn))
    raise ValueError(f"method must be 'auto', 'dense' or 'vectorized', got {method!r}")
