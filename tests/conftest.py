"""Shared test setup: one seed for the session, and the `parity` helpers for NumPy references."""
from types import SimpleNamespace

import numpy as np
import paddle
import pytest

import ppattn.detection  # noqa: F401  (the tests build ppdet models from ppattn's components)

SEED = 2024

paddle.seed(SEED)
np.random.seed(SEED)
_RNG = np.random.default_rng(SEED)

# Float32 blocks against float64 references: max |a - b| / max |b| must stay below this.
PARITY_RTOL = 1e-5


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "paddle_inference: runs an exported model in Paddle Inference on the CPU; "
                   "tests/deploy/test_paddle_inference.py runs these again under "
                   "ONEDNN_MAX_CPU_ISA=AVX2")


@pytest.fixture
def rng() -> np.random.Generator:
    """The session's NumPy generator (seeded once above)."""
    return _RNG


def relative_error(actual, expected) -> float:
    """max |actual - expected| / max |expected| (with a tiny floor so zero outputs don't divide)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    return float(np.abs(actual - expected).max() / max(np.abs(expected).max(), 1e-30))


def assert_close(actual, expected, what: str = "output", rtol: float = PARITY_RTOL) -> None:
    """Assert equal shapes and relative_error < rtol; the message carries the max difference."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    err = relative_error(actual, expected)
    where = np.unravel_index(int(diff.argmax()), diff.shape)
    assert err < rtol, (f"{what}: relative error {err:.3e} >= {rtol:.0e}; max |diff| "
                        f"{diff.max():.3e} at {where} (got {actual[where]!r}, "
                        f"want {expected[where]!r}); max |want| {np.abs(expected).max():.3e}")


def float32_exact(array) -> np.ndarray:
    """`array` rounded to float32 and returned as float64, so both sides see the same numbers."""
    return np.asarray(array, np.float32).astype(np.float64)


def random_input(rng, shape) -> np.ndarray:
    """N(0, 1) noise plus a per-channel N(0, 1) offset, so channel means (what SE-style blocks
    pool) spread over O(1) instead of clustering near 0."""
    n, c = shape[:2]
    return float32_exact(rng.normal(size=shape) + rng.normal(size=(n, c, 1, 1)))


def random_weights(block, rng, gain: float = 1.5) -> dict:
    """Random float32-exact weights for every state-dict entry of `block`, keyed like it.

    Multi-dimensional weights are N(0, gain^2 / fan_in) (fan_in = in-channel dims x kernel, or
    rows for Paddle's [in, out] Linear weights); biases N(0, 0.5^2); BN `_variance` U(0.5, 2),
    `_mean` N(0, 0.5^2) and `weight` N(1, 0.5^2) so eval-mode BN is far from the identity.
    """
    weights = {}
    for key, value in block.state_dict().items():
        shape = list(value.shape)
        if key.endswith("_variance"):
            w = rng.uniform(0.5, 2.0, size=shape)
        elif ".norm" in key and key.endswith(".weight"):
            w = rng.normal(loc=1.0, scale=0.5, size=shape)
        elif len(shape) == 1:
            w = rng.normal(scale=0.5, size=shape)
        elif len(shape) == 2:                         # Paddle Linear: [in, out]
            w = rng.normal(scale=gain / np.sqrt(shape[0]), size=shape)
        else:
            w = rng.normal(scale=gain / np.sqrt(np.prod(shape[1:])), size=shape)
        weights[key] = float32_exact(w)
    return weights


def load_weights(block, weights: dict) -> None:
    """Load NumPy `weights` into `block`, checking that every key is used and none is missing."""
    state = block.state_dict()
    assert sorted(state) == sorted(weights), f"keys {sorted(state)} != {sorted(weights)}"
    block.set_state_dict({k: paddle.to_tensor(v.astype(state[k].numpy().dtype))
                          for k, v in weights.items()})
    for key, value in block.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), weights[key].astype(value.numpy().dtype))


def central_difference_grad(fn, x, r, eps: float = 1e-6, chunk: int = 256) -> np.ndarray:
    """d sum(fn(x) * r) / dx by central differences in float64.

    `fn` must treat samples independently (every reference does; BN is in eval mode), so each
    sample's perturbed
copies are stacked along N and evaluated together, `chunk` copies at a time.
    """
    x = np.asarray(x, dtype=np.float64)
    grad = np.empty((x.shape[0], x[0].size))
    size = x[0].size
    for n in range(x.shape[0]):
        flat = grad[n]
        for start in range(0, size, chunk):
            idx = np.arange(start, min(start + chunk, size))
            bump = np.zeros((idx.size, size))
            bump[np.arange(idx.size), idx] = eps
            base = x[n].reshape(1, -1)
            plus = fn((base + bump).reshape((-1,) + x.shape[1:]))
            minus = fn((base - bump).reshape((-1,) + x.shape[1:]))
            flat[idx] = ((plus - minus) * r[n]).reshape(idx.size, -1).sum(axis=1) / (2 * eps)
    return grad.reshape(x.shape)


def forward_backward(block, x, r):
    """Run `block` on float32 `x`; return (y, d sum(y * r) / dx) as NumPy arrays."""
    xt = paddle.to_tensor(np.asarray(x, np.float32), stop_gradient=False)
    y = block(xt)
    (y * paddle.to_tensor(np.asarray(r, np.float32))).sum().backward()
    return y.numpy(), xt.grad.numpy()


def assert_matches_reference(block, reference, shape, rng, **reference_kwargs) -> dict:
    """Give `block` random weights, run it on a random `shape` input, and compare the output and
    d sum(y * R) / dx (R random, fixed) with `reference(x, weights, **reference_kwargs)` in float64.

    Returns the weights so a caller can reuse them.
    """
    weights = random_weights(block, rng)
    load_weights(block, weights)
    x = random_input(rng, shape)

    def ref(z):
        return reference(z, weights, **reference_kwargs)

    want = ref(x)
    r = float32_exact(rng.normal(size=want.shape))
    y, dx = forward_backward(block, x, r)
    assert_close(y, want, "output")
    assert_close(dx, central_difference_grad(ref, x, r), "input gradient")
    return weights


_FLOAT16_PROBES = {
    "conv2d": lambda: paddle.nn.functional.conv2d(paddle.ones([1, 1, 3, 3], "float16"),
                                                  paddle.ones([1, 1, 1, 1], "float16")),
    "linear": lambda: paddle.nn.functional.linear(paddle.ones([1, 2], "float16"),
                                                  paddle.ones([2, 2], "float16")),
    "sigmoid": lambda: paddle.nn.functional.sigmoid(paddle.ones([2], "float16")),
    "softmax": lambda: paddle.nn.functional.softmax(paddle.ones([2], "float16")),
}


def skip_without_float16(*ops: str) -> None:
    """Skip the test when Paddle on this device lacks a float16 kernel for one of `ops`.

    Paddle's CPU build registers no float16 conv2d/matmul/sigmoid kernels; on GPU these run.
    """
    for op in ops:
        try:
            _FLOAT16_PROBES[op]()
        except (RuntimeError, ValueError) as err:
            first_line = str(err).strip().splitlines()[0]
            pytest.skip(f"Paddle on {paddle.device.get_device()} has no float16 {op} kernel "
                        f"({first_line[:120]})")


def assert_float16_matches(block, reference, shape, rng, ops, **reference_kwargs) -> None:
    """Run `block` in float16 with random weights; compare with the float64 reference at 1e-2.

    Skips where Paddle lacks a float16 kernel for one of `ops`.
    """
    skip_without_float16(*ops)
    weights = random_weights(block, rng)
    load_weights(block, weights)
    block.float16()
    x = random_input(rng, shape).astype(np.float16)
    y = block(paddle.to_tensor(x))
    assert y.dtype == paddle.float16
    assert_close(y.numpy(), reference(x.astype(np.float64), weights, **reference_kwargs),
                 rtol=1e-2)


def randomize_bn_stats(model: paddle.nn.Layer, rng) -> None:
    """Give every BN running mean/variance random values, so eval-mode BN is not the identity."""
    for key, value in model.state_dict().items():
        if key.endswith("_variance"):
            value.set_value(rng.uniform(0.5, 2.0, value.shape).astype("float32"))
        elif key.endswith("_mean"):
            value.set_value(rng.normal(0, 0.1, value.shape).astype("float32"))


def assert_same_keys_and_shapes(model, reference) -> None:
    """Same state-dict keys in the same order, same shapes."""
    ours, theirs = model.state_dict(), reference.state_dict()
    assert list(ours) == list(theirs), (
        f"only ours: {sorted(set(ours) - set(theirs))}; only reference: "
        f"{sorted(set(theirs) - set(ours))}")
    bad = {k: (ours[k].shape, theirs[k].shape) for k in ours if ours[k].shape != theirs[k].shape}
    assert not bad, f"shape mismatches (ours, reference): {bad}"


@pytest.fixture(scope="session")
def parity() -> SimpleNamespace:
    """The helpers above, for test modules (conftest itself is not importable by name)."""
    return SimpleNamespace(
        assert_close=assert_close, relative_error=relative_error, float32_exact=float32_exact,
        random_input=random_input, random_weights=random_weights, load_weights=load_weights,
        forward_backward=forward_backward, central_difference_grad=central_difference_grad,
        assert_matches_reference=assert_matches_reference,
        skip_without_float16=skip_without_float16, assert_float16_matches=assert_float16_matches,
        randomize_bn_stats=randomize_bn_stats,
        assert_same_keys_and_shapes=assert_same_keys_and_shapes, rtol=PARITY_RTOL)
