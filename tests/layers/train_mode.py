"""Float64 helpers for blocks whose batch norm mixes the samples of a batch (training mode).

`tests/conftest.py`'s `central_difference_grad` evaluates perturbed copies of one sample stacked
along N, which is only right when samples are independent. In training mode a BN normalises with
the statistics of the whole batch, so here every perturbation is evaluated on the whole batch.
"""
import numpy as np

from numpy_reference import BN_EPS, batch_norm_eval


def batch_norm(x, w, prefix, training, eps=BN_EPS):
    """BN with the keys `{prefix}.weight` etc. of `w`: running statistics when not training,
    else the batch's mean and biased variance over N, H, W, as Paddle normalises in training."""
    weight, bias = w[f"{prefix}.weight"], w[f"{prefix}.bias"]
    if not training:
        return batch_norm_eval(x, weight, bias, w[f"{prefix}._mean"], w[f"{prefix}._variance"],
                               eps)
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight.reshape(1, -1, 1, 1) + bias.reshape(1, -1, 1, 1)


def whole_batch_difference_grad(fn, x, r, eps=1e-6):
    """d sum(fn(x) * r) / dx by central differences in float64, each perturbation of one
    element evaluated on the whole batch."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.empty(x.size)
    flat = x.reshape(-1)
    for i in range(x.size):
        bumped = flat.copy()
        bumped[i] += eps
        plus = (fn(bumped.reshape(x.shape)) * r).sum()
        bumped[i] -= 2 * eps
        minus = (fn(bumped.reshape(x.shape)) * r).sum()
        grad[i] = (plus - minus) / (2 * eps)
    return grad.reshape(x.shape)


def assert_matches_reference_in_training(parity, block, reference, shape, rng, **kwargs):
    """Random weights, `block.train()`, then output and d sum(y * R) / dx against
    `reference(x, weights, training=True, **kwargs)`, differenced over the whole batch."""
    weights = parity.random_weights(block, rng)
    parity.load_weights(block, weights)
    block.train()
    x = parity.random_input(rng, shape)

    def ref(z):
        return reference(z, weights, training=True, **kwargs)

    want = ref(x)
    r = parity.float32_exact(rng.normal(size=want.shape))
    y, dx = parity.forward_backward(block, x, r)
    parity.assert_close(y, want, "output")
    parity.assert_close(dx, whole_batch_difference_grad(ref, x, r), "input gradient")
