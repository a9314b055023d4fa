"""ppattn.engine.config: -o overrides, clean loading, device fallback."""
import os

import paddle
import pytest
from ppdet.core.workspace import global_config

import ppattn  # noqa: F401  (registers the backbones the configs name)
from ppattn.engine import ConfigError, load_config, parse_overrides, reset_workspace, \
    select_device

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STOCK = os.path.join(ROOT, "configs/ppyoloe/ppyoloe_crn_s_300e_coco.yml")
ECA = os.path.join(ROOT, "configs/ppyoloe/ppyoloe_crn_s_eca_300e_coco.yml")


def test_overrides_nest_dotted_keys_and_read_values_as_yaml():
    got = parse_overrides(["epoch=3", "TrainReader.batch_size=2", "LearningRate.base_lr=0.1",
                           "LearningRate.schedulers=[]", "A.b.c.d=true", "A.b.e=x"])
    assert got == {"epoch": 3, "TrainReader": {"batch_size": 2},
                   "LearningRate": {"base_lr": 0.1, "schedulers": []},
                   "A": {"b": {"c": {"d": True}, "e": "x"}}}


def test_override_value_may_contain_equals_sign():
    assert parse_overrides(["weights=a=b"]) == {"weights": "a=b"}


@pytest.mark.parametrize("option", ["epoch", "=3", ""])
def test_override_without_key_or_value_is_an_error(option):
    with pytest.raises(ValueError, match="key=value"):
        parse_overrides([option])


def test_override_cannot_nest_under_a_plain_value():
    with pytest.raises(ValueError, match="nests under 'epoch'"):
        parse_overrides(["epoch=3", "epoch.x=1"])


def test_base_chain_is_resolved_and_leaf_wins():
    cfg = load_config(ECA)
    assert cfg.architecture == "YOLOv3"                      # from _base_/ppyoloe_crn.yml
    assert cfg.epoch == 300                                  # from _base_/optimizer_300e.yml
    assert cfg.depth_mult == 0.33 and cfg.width_mult == 0.5  # from the stock s leaf
    assert cfg.AttnCSPResNet["attn"] == {"name": "eca", "gamma": 2, "b": 1}
    assert cfg.AttnCSPResNet["layers"] == [3, 6, 6, 3]       # base keys kept beside the leaf's


def test_overrides_merge_into_nested_sections():
    cfg = load_config(STOCK, parse_overrides(["TrainReader.batch_size=2", "epoch=1"]))
    assert cfg.TrainReader["batch_size"] == 2
    assert cfg.TrainReader["shuffle"] is True
    assert cfg.epoch == 1


def test_loading_a_second_config_forgets_the_first():
    load_config(ECA, {"only_in_first": 1})
    cfg = load_config(STOCK)
    assert "only_in_first" not in cfg
    assert cfg.AttnCSPResNet["attn"] == "ese"


def test_reset_keeps_registered_components():
    load_config(STOCK)
    reset_workspace()
    assert "AttnCSPResNet" in global_config and not global_config["AttnCSPResNet"]
    assert "epoch" not in global_config


def test_missing_config_file_is_named():
    with pytest.raises(FileNotFoundError, match="nope.yml"):
        load_config("nope.yml")


def test_use_gpu_falls_back_to_cpu_without_cuda():
    cfg = load_config(STOCK)
    assert cfg.use_gpu is True
    device = select_device(cfg)
    assert cfg.use_gpu == paddle.is_compiled_with_cuda()
    assert str(device).startswith("gpu" if cfg.use_gpu else "cpu") or "Place" in str(device)


def test_a_doubled_equals_sign_names_the_option():
    with pytest.raises(ValueError, match=r"option 'epoch==3': the value '=3' starts with '='; "
                                         r"write epoch=3"):
        parse_overrides(["epoch==3"])


def test_an_unclosed_bracket_names_the_option_and_key():
    with pytest.raises(ValueError, match=r"option 'x=\[1,': x's value '\[1,' is not valid YAML "
                                         r"\(expected the node content"):
        parse_overrides(["x=[1,"])


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n"])
def test_an_empty_config_is_a_config_error(tmp_path, text):
    path = tmp_path / "empty.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"config '{path}' is empty"):
        load_config(str(path))


def _leaf(tmp_path, body):
    path = tmp_path / "leaf.yml"
    path.write_text(f"_BASE_: ['{ECA}']\n{body}")
    return str(path)


def test_a_partial_spec_over_the_base_names_the_keys_it_keeps(tmp_path):
    path = _leaf(tmp_path, "AttnCSPResNet:\n  attn: {name: se}\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (
        f"AttnCSPResNet.attn: {path} sets {{'name': 'se'}}, which ppdet merges key by key into "
        f"the spec from its _BASE_ files, keeping 'gamma', 'b'; SELayer does not take them "
        f"(accepted: reduction, rd_channels, act, gate, fc). A dict cannot drop a base key: "
        f"give the name alone (attn: se) or a list with one full spec per stage, which "
        f"replaces the base's value")


def test_a_partial_spec_in_an_override_is_named_too():
    with pytest.raises(ConfigError, match=r"AttnCSPResNet.attn: -o sets \{'name': 'ge'\}, .* "
                                          r"from .*eca_300e_coco.yml, keeping 'gamma', 'b'"):
        load_config(ECA, parse_overrides(["AttnCSPResNet.attn.name=ge"]))


@pytest.mark.parametrize("body, attn", [
    ("AttnCSPResNet:\n  attn: se\n", "se"),
    ("AttnCSPResNet:\n  attn: {name: eca, gamma: 3}\n", {"name": "eca", "gamma": 3, "b": 1}),
])
def test_a_name_alone_or_a_spec_of_the_same_block_loads(tmp_path, body, attn):
    assert load_config(_leaf(tmp_path, body)).AttnCSPResNet["attn"] == attn
