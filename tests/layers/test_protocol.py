"""ppattn/layers/protocol.py: what every block answers, and the message when one can't."""
import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest

import ppattn
from ppattn.layers.protocol import IDENTITY_GATE, AttentionBlock, attention_maps, block_flops, \
    identity_bias, init_identity, replaces_conv
from ppattn.registry import ATTENTIONS, register_attention

CHANNELS = 128   # every default fits: ShuffleAttention needs C divisible by 128


@pytest.fixture
def bare_block():
    """A third-party block registered as 'bare' without any capability, removed afterwards."""
    @register_attention("bare")
    class BareGate(nn.Layer):
        def __init__(self, channels: int):
            super().__init__()

        def forward(self, x):
            return x * 2

    yield BareGate
    del ATTENTIONS["bare"]


@pytest.mark.parametrize("name", sorted(ppattn.ATTENTIONS))
def test_every_block_counts_positive_flops(name):
    block = ppattn.build_attention(name, CHANNELS)
    count = block_flops(block, [2, CHANNELS, 8, 8])
    assert isinstance(count, int) and count > 0


@pytest.mark.parametrize("name", sorted(ppattn.ATTENTIONS))
def test_every_block_says_whether_it_replaces_a_conv(name):
    assert isinstance(ATTENTIONS[name].replaces_conv, bool)


@pytest.mark.parametrize("name", sorted(ppattn.ATTENTIONS))
def test_every_block_shows_its_attention_maps(name):
    block = ppattn.build_attention(name, CHANNELS)
    maps = attention_maps(block, paddle.randn([2, CHANNELS, 8, 8]))
    assert maps and all(isinstance(m, paddle.Tensor) for m in maps.values())


@pytest.mark.parametrize("name", sorted(ppattn.ATTENTIONS))
def test_identity_init_works_or_says_why_not(name):
    block = ppattn.build_attention(name, CHANNELS)
    try:
        init_identity(block)
    except ValueError as error:
        assert "identity" in str(error)


@pytest.mark.parametrize("capability, call", [
    ("flops", lambda block: block_flops(block, [1, 8, 4, 4])),
    ("init_identity", init_identity),
    ("attention_maps", lambda block: attention_maps(block, paddle.ones([1, 8, 4, 4]))),
])
def test_a_block_without_a_capability_is_named_in_the_error(bare_block, capability, call):
    block = ppattn.build_attention("bare", 8)
    with pytest.raises(TypeError, match=f"BareGate lacks {capability}\\(\\), part of the ppattn "
                                        f"block protocol"):
        call(block)


def test_a_block_without_replaces_conv_keeps_the_shape(bare_block):
    assert replaces_conv(bare_block) is False
    assert replaces_conv(ppattn.PSAModule) is True and replaces_conv(ppattn.SELayer) is False


def test_subclass_defaults_name_the_block_and_the_capability():
    class Half(AttentionBlock):
        def forward(self, x):
            return x / 2

    with pytest.raises(TypeError, match="Half does not count its FLOPs"):
        block_flops(Half(), [1, 2, 2, 2])
    with pytest.raises(ValueError, match="Half has no identity initialisation"):
        init_identity(Half())


@pytest.mark.parametrize("gate", [F.sigmoid, F.hardsigmoid, F.relu, F.relu6])
def test_identity_bias_opens_the_gate_to_identity_gate(gate):
    bias = identity_bias(gate, "test")
    assert float(gate(paddle.to_tensor([bias]))) == pytest.approx(IDENTITY_GATE, rel=1e-6)


def test_identity_bias_refuses_a_gate_without_a_known_inverse():
    with pytest.raises(ValueError, match=r"test: init 'identity' needs a gate with a known "
                                         r"inverse \(sigmoid, hardsigmoid, relu, relu6\), got "
                                         r"'_?tanh'"):
        identity_bias(F.tanh, "test")


@pytest.mark.parametrize("spec", [{"name": "se"}, {"name": "ese"}, {"name": "ge"}])
def test_open_gate_gives_identity_gate_times_x(spec):
    block = ppattn.build_attention(spec, CHANNELS)
    init_identity(block)
    x = paddle.randn([2, CHANNELS, 5, 5])
    np.testing.assert_allclose(block(x).numpy(), IDENTITY_GATE * x.numpy(), rtol=1e-5, atol=1e-6)


def test_nothing_outside_layers_branches_on_a_block_class():
    import ast
    import pathlib
    package = pathlib.Path(ppattn.__file__).parent
    names = {cls.__name__ for cls in ATTENTIONS.values()}
    found = []
    for path in package.rglob("*.py"):
        if path.parent == package / "layers":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
                    "isinstance", "issubclass", "type") and len(node.args) == 2:
                used = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                found += [f"{path.relative_to(package)}:{node.lineno}" for _ in used & names]
    assert not found, f"branches on block classes outside ppattn/layers: {found}"
