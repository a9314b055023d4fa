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


def outputs(model: paddle.nn.Layer, x: paddle.Tensor) -> list:
    """The model's eval-mode outputs for {'image': x}, as NumPy arrays."""
    model.eval()
    with paddle.no_grad():
        return [y.numpy() for y in model({"image": x})]


def assert_same_outputs(model, reference, x, parity, rtol: float = 1e-5) -> None:
    """Copy `reference`'s weights into `model` and compare the eval outputs."""
    model.set_state_dict(reference.state_dict())
    want, got = outputs(reference, x), outputs(model, x)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        parity.assert_close(g, w, f"output {i}", rtol=rtol)


@pytest.fixture(scope="session")
def bb(parity) -> SimpleNamespace:
    """The helpers above, and tests/conftest.py's BN and state-dict helpers, for test modules."""
    return SimpleNamespace(image=image, randomize_bn_stats=parity.randomize_bn_stats,
                           outputs=outputs,
                           assert_state_dicts_match=parity.assert_same_keys_and_shapes,
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
