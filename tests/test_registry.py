"""The registry: names, specs, errors, third-party blocks and PaddleDetection's workspace."""
import importlib

import paddle
import paddle.nn as nn
import pytest

import ppattn
from ppattn.registry import ATTENTIONS, build_attention, register_attention

BUILTIN = {"se": ppattn.SELayer, "ese": ppattn.EffectiveSELayer, "eca": ppattn.ECALayer,
           "ge": ppattn.GatherExcite, "psa": ppattn.PSAModule}


@pytest.fixture
def toy_block():
    """A third-party block registered as 'toy' for one test, then removed."""
    @register_attention("toy")
    class ToyGate(nn.Layer):
        def __init__(self, channels: int, scale: float = 2.0):
            super().__init__()
            self.scale = scale

        def forward(self, x):
            return x * self.scale

    yield ToyGate
    del ATTENTIONS["toy"]


def test_builtin_names_map_to_their_classes():
    assert {name: ATTENTIONS[name] for name in BUILTIN} == BUILTIN


@pytest.mark.parametrize("spec", [None, "none", "None", {"name": "none"}])
def test_no_attention_specs_build_nothing(spec):
    assert build_attention(spec, 16) is None


def test_name_builds_block_with_defaults():
    block = build_attention("eca", 256)
    assert isinstance(block, ppattn.ECALayer) and block.kernel_size == 5


def test_dict_spec_passes_arguments():
    block = build_attention({"name": "se", "reduction": 4, "act": "swish"}, 32)
    assert block.rd_channels == 8


def test_dict_spec_is_not_mutated():
    spec = {"name": "eca", "kernel_size": 3}
    build_attention(spec, 16)
    assert spec == {"name": "eca", "kernel_size": 3}


def test_unknown_name_lists_known_names():
    known = ", ".join(sorted([*ATTENTIONS, "none"]))
    assert known.startswith("ca, cbam, eca, ") and ", none, psa, " in known   # sorted
    with pytest.raises(ValueError, match=f"unknown attention 'sse'; known: {known}$"):
        build_attention("sse", 16)


def test_unknown_argument_lists_accepted_ones():
    message = ("SELayer got unexpected argument 'ratio'; accepted: reduction, rd_channels, act, "
               "gate, fc")
    with pytest.raises(TypeError, match=message):
        build_attention({"name": "se", "ratio": 4}, 16)


def test_channels_cannot_be_given_in_the_spec():
    with pytest.raises(TypeError, match="unexpected argument 'channels'"):
        build_attention({"name": "ese", "channels": 16}, 16)


def test_dict_without_name_is_an_error():
    with pytest.raises(ValueError, match="has no 'name'; known: "):
        build_attention({"reduction": 4}, 16)


def test_none_with_arguments_is_an_error():
    with pytest.raises(TypeError, match="'none' takes no arguments"):
        build_attention({"name": "none", "reduction": 4}, 16)


@pytest.mark.parametrize("spec", [3, ["se"], 1.5])
def test_spec_of_wrong_type_is_an_error(spec):
    with pytest.raises(TypeError, match="attention spec must be None, a name or a dict"):
        build_attention(spec, 16)


def test_third_party_block_is_buildable_by_name(toy_block):
    block = build_attention({"name": "toy", "scale": 3.0}, 8)
    assert isinstance(block, toy_block)
    assert float(block(paddle.ones([1, 8, 2, 2])).mean()) == 3.0


def test_registering_a_taken_name_for_another_class_is_an_error(toy_block):
    with pytest.raises(ValueError, match="'toy' is already registered"):
        register_attention("toy")(type("Other", (nn.Layer,), {}))


def test_registering_the_same_class_again_is_harmless(toy_block):
    assert register_attention("toy")(toy_block) is toy_block


@pytest.mark.parametrize("name", ["", "none", None])
def test_reserved_or_empty_names_cannot_be_registered(name):
    with pytest.raises(ValueError, match="attention name must be a non-empty string"):
        register_attention(name)


def test_blocks_are_in_paddledetection_workspace():
    from ppdet.core.workspace import create, global_config, load_config  # noqa: F401

    for cls in BUILTIN.values():
        assert global_config[cls.__name__].pymodule.__name__ == cls.__module__
    global_config["ECALayer"]["channels"] = 64
    assert create("ECALayer").kernel_size == 3


def test_importing_ppattn_again_is_harmless():
    importlib.reload(importlib.import_module("ppattn.detection.workspace"))
    importlib.reload(ppattn)
    assert sorted(BUILTIN) == sorted(name for name in ppattn.ATTENTIONS if name in BUILTIN)


def test_a_spec_whose_name_is_a_list_is_named():
    with pytest.raises(TypeError, match=r"'name' must be one block name, got list \['se'\]; "
                                        r"known: "):
        build_attention({"name": ["se"]}, 16)


def test_a_block_taking_kwargs_cannot_be_registered():
    class Loose(nn.Layer):
        def __init__(self, channels: int, **kwargs):
            super().__init__()

    with pytest.raises(TypeError, match=r"attention 'loose': .*Loose.__init__ takes \*\*kwargs; "
                                        r"a block takes named arguments only"):
        register_attention("loose")(Loose)
    assert "loose" not in ATTENTIONS
