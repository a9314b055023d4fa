"""Helpers for the backbone tests: inputs, weight copying, eval outputs, ppdet's global config."""
import copy
from types import SimpleNamespace

import paddle
import pytest
from ppdet.core.config.schema import SchemaDict
from ppdet.core.workspace import global_config

SIZE = 64


def image(rng, size: int = SIZE, batch: int = 1) -> paddle.Tensor:
    """A [batch, 3, size, size] float32 input."""
    return paddle.to_tensor(rng.normal(size=(batch, 3, size, size)).astype("float32"))


def randomize_bn_stats(model: paddle.nn.Layer, rng) -> None:
    """Give every BN running mean/variance random values, so eval-mode BN is not the identity."""
    for key, value in model.state_dict().items():
        if key.endswith("_variance"):
            value.set_value(rng.uniform(0.5, 2.0, value.shape).astype("float32"))
        elif key.endswith("_mean"):
            value.set_value(rng.normal(0, 0.1, value.shape).astype("float32"))


def outputs(model: paddle.nn.Layer, x: paddle.Tensor) -> list:
    """The model's eval-mode outputs for {'image': x}, as NumPy arrays."""
    model.eval()
    with paddle.no_grad():
        return [y.numpy() for y in model({"image": x})]


def assert_state_dicts_match(model, reference) -> None:
    """Same keys in the same order, same shapes."""
    ours, theirs = model.state_dict(), reference.state_dict()
    assert list(ours) == list(theirs), (
        f"only ours: {sorted(set(ours) - set(theirs))}; only reference: "
        f"{sorted(set(theirs) - set(ours))}")
    bad = {k: (ours[k].shape, theirs[k].shape) for k in ours if ours[k].shape != theirs[k].shape}
    assert not bad, f"shape mismatches (ours, reference): {bad}"


def assert_same_outputs(model, reference, x, parity, rtol: float = 1e-5) -> None:
    """Copy `reference`'s weights into `model` and compare the eval outputs."""
    model.set_state_dict(reference.state_dict())
    want, got = outputs(reference, x), outputs(model, x)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        parity.assert_close(g, w, f"output {i}", rtol=rtol)


@pytest.fixture(scope="session")
def bb() -> SimpleNamespace:
    """The helpers above, for test modules."""
    return SimpleNamespace(image=image, randomize_bn_stats=randomize_bn_stats, outputs=outputs,
                           assert_state_dicts_match=assert_state_dicts_match,
                           assert_same_outputs=assert_same_outputs)


@pytest.fixture
def clean_workspace():
    """Undo what `load_config` merges into ppdet's global config during one test."""
    saved = {}
    for key, value in global_config.items():
        if isinstance(value, SchemaDict):
            saved[key] = (value, {k: copy.deepcopy(v) for k, v in value.items()})
        else:
            saved[key] = (value, None)
    yield
    for key in list(global_config):
        if key not in saved:
            del global_config[key]
    for key, (value, items) in saved.items():
        global_config[key] = value
        if items is not None:
            dict.clear(value)
            dict.update(value, items)
