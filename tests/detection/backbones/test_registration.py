"""Workspace registration: idempotent on reload, and YAML configs build every block."""
import importlib

import pytest
import yaml
from ppdet.core.workspace import create, global_config, load_config, register

import ppattn
import ppattn.detection.backbones.cspresnet
import ppattn.detection.backbones.resnet
from ppattn import ATTENTIONS
from ppattn.detection.backbones.registration import register_backbone

CSP_SPECS = {name: {"name": name} for name in ATTENTIONS}
CSP_SPECS["psa"] = {"name": "psa", "conv_groups": [1, 2, 3, 6], "reduction": 2}
# the tiny model's 24 to 192 channels: defaults that need C divisible by 32 or 128 don't fit
CSP_SPECS["ema"] = {"name": "ema", "factor": 4}
CSP_SPECS["sa"] = {"name": "sa", "groups": 2}


def _write(tmp_path, config: dict) -> str:
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_reloading_ppattn_registers_again_and_keeps_loaded_yaml(tmp_path, clean_workspace):
    load_config(_write(tmp_path, {"AttnCSPResNet": {"width_mult": 0.25, "depth_mult": 0.33,
                                                    "attn": "eca"}}))
    for module in (ppattn.detection.backbones.cspresnet, ppattn.detection.backbones.resnet, ppattn.detection.backbones,
                   ppattn):
        importlib.reload(module)
    assert global_config["AttnResNet"].pymodule is ppattn.detection.backbones.resnet
    model = create("AttnCSPResNet")
    assert type(model) is ppattn.detection.backbones.cspresnet.AttnCSPResNet     # the reloaded class
    assert type(model.stages[0].attn).__name__ == "ECALayer"


def test_a_foreign_class_of_the_same_name_is_refused():
    class AttnResNet:   # noqa: D401 - a stand-in from another module
        def __init__(self, depth: int = 50):
            self.depth = depth
    with pytest.raises(ValueError, match="already has a module named 'AttnResNet'"):
        register_backbone(AttnResNet)


def test_ppdet_itself_still_refuses_duplicates():
    with pytest.raises(ValueError, match="already registered"):
        register(type("AttnResNet", (), {"__init__": lambda self: None}))


@pytest.mark.parametrize("name", sorted(ATTENTIONS))
def test_yaml_builds_attncspresnet_with_each_block(name, tmp_path, clean_workspace):
    config = {"width_mult": 0.25, "depth_mult": 0.33,
              "AttnCSPResNet": {"return_idx": [1, 2, 3], "use_large_stem": True,
                                "attn": CSP_SPECS[name],
                                "block_attn": ["none", CSP_SPECS[name], "none", "none"]}}
    load_config(_write(tmp_path, config))
    model = create("AttnCSPResNet")
    assert type(model.stages[0].attn).__name__ == ATTENTIONS[name].__name__
    assert model.stages[1].blocks[0].attn is not None and model.stages[0].blocks[0].attn is None
    assert model._out_channels == [32, 64, 128, 256]                # width_mult is shared


@pytest.mark.parametrize("name", sorted(ATTENTIONS))
def test_yaml_builds_attnresnet_with_each_block(name, tmp_path, clean_workspace):
    position = "replace_conv2" if name == "psa" else "before_add"
    config = {"norm_type": "bn",
              "AttnResNet": {"depth": 18, "num_stages": 2, "return_idx": [1], "freeze_at": -1,
                             "plugins": [{"attn": {"name": name}, "position": position,
                                          "stages": [False, True]}]}}
    load_config(_write(tmp_path, config))
    model = create("AttnResNet")
    slot = model.res3.res3a.branch2b.conv if name == "psa" else model.res3.res3a.se
    assert type(slot).__name__ == ATTENTIONS[name].__name__


def test_yaml_epsanet50(tmp_path, clean_workspace):
    config = {"AttnResNet": {"depth": 50, "variant": "b", "num_stages": 1, "return_idx": [0],
                             "freeze_at": -1,
                             "plugins": [{"attn": "psa", "position": "replace_conv2"}]}}
    load_config(_write(tmp_path, config))
    assert type(create("AttnResNet").res2.res2a.branch2b.conv).__name__ == "PSAModule"


def test_yaml_with_a_misspelled_key_fails_naming_it(tmp_path, clean_workspace):
    load_config(_write(tmp_path, {"AttnCSPResNet": {"atn": "eca"}}))
    with pytest.raises(TypeError, match="atn"):
        create("AttnCSPResNet")
