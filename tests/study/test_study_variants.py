"""ppattn.study.variants: variants by name and from a study file, applied to a base config."""
import os

import pytest

from ppattn.study.config_files import read_merged
from ppattn.study.variants import Variant, apply_variant, attention_keys, overrides, \
    read_study, variants_from_names

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "configs/demo/ppyoloe_crn_t_eca_shapes.yml")
NECK = os.path.join(ROOT, "configs/demo/ppyoloe_crn_t_eca_neck_eca_pan_shapes.yml")
RCNN = os.path.join(ROOT, "configs/faster_rcnn/faster_rcnn_r50_vd_se_fpn_1x_coco.yml")


def _study(tmp_path, text):
    path = tmp_path / "study.yml"
    path.write_text(text)
    return str(path)


def test_names_fill_the_backbone_attn_slot():
    variants = variants_from_names(["none", "eca", "cbam"])
    assert variants == [Variant("none", {"attn": "none"}), Variant("eca", {"attn": "eca"}),
                        Variant("cbam", {"attn": "cbam"})]


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown attention 'sse' in --variants; known: .*eca"):
        variants_from_names(["none", "sse"])


def test_a_name_given_twice_is_refused():
    with pytest.raises(ValueError, match="variant 'eca' is given twice"):
        variants_from_names(["eca", "eca"])


def test_study_file_gives_keys_per_variant_in_order(tmp_path):
    path = _study(tmp_path, "variants:\n  none: {attn: none}\n"
                            "  eca_blocks: {attn: eca, block_attn: [none, eca, eca]}\n")
    assert read_study(path) == [Variant("none", {"attn": "none"}),
                                Variant("eca_blocks", {"attn": "eca",
                                                       "block_attn": ["none", "eca", "eca"]})]


@pytest.mark.parametrize("text, message", [
    ("variants:\n  a: {attn: se}\n  a: {attn: eca}\n", "key 'a' is given twice"),
    ("variant:\n  a: {attn: se}\n", "must hold one key, 'variants'"),
    ("variants: [se, eca]\n", "'variants' must map variant names"),
    ("variants:\n  a: se\n", "variant 'a' must map attention keys"),
    ("variants:\n  a/b: {attn: se}\n", "variant name 'a/b' must start"),
    ("variants: {a: [\n", "is not valid YAML"),
])
def test_bad_study_file_is_named(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        read_study(_study(tmp_path, text))


def test_attention_keys_come_from_backbone_and_neck():
    assert attention_keys(read_merged(DEMO)) == {"attn": "AttnCSPResNet",
                                                 "block_attn": "AttnCSPResNet"}
    keys = attention_keys(read_merged(NECK))
    assert keys["pan_attn"] == keys["input_attn"] == "AttnCustomCSPPAN"
    assert set(attention_keys(read_merged(RCNN))) == {"plugins", "std_senet"}


def test_unknown_key_lists_the_configs_keys_and_how_to_get_neck_slots():
    with pytest.raises(ValueError, match=r"'pan_attn' is not an attention key of this config "
                                         r"\(backbone AttnCSPResNet, neck CustomCSPPAN\); its "
                                         r"attention keys: attn, block_attn\. Neck keys need"):
        overrides(Variant("eca_pan", {"pan_attn": "eca"}), read_merged(DEMO))


def test_names_on_a_plugin_backbone_point_to_a_study_file():
    with pytest.raises(ValueError, match="its attention keys: std_senet, plugins. --variants "
                                         "fills 'attn'"):
        overrides(Variant("se", {"attn": "se"}), read_merged(RCNN))


def test_variant_replaces_the_whole_spec_and_leaves_the_base_alone():
    base = read_merged(DEMO)
    cfg = apply_variant(Variant("se", {"attn": {"name": "se", "reduction": 8}}), base)
    assert cfg["AttnCSPResNet"]["attn"] == {"name": "se", "reduction": 8}  # no ECA gamma kept
    assert base["AttnCSPResNet"]["attn"] == {"name": "eca", "gamma": 2, "b": 1}
    assert {k: v for k, v in cfg.items() if k != "AttnCSPResNet"} == \
        {k: v for k, v in base.items() if k != "AttnCSPResNet"}


def test_neck_keys_go_to_the_neck():
    cfg = apply_variant(Variant("x", {"attn": "none", "input_attn": "se"}), read_merged(NECK))
    assert cfg["AttnCSPResNet"]["attn"] == "none"
    assert cfg["AttnCustomCSPPAN"]["input_attn"] == "se"
    assert cfg["AttnCustomCSPPAN"]["pan_attn"] == {"name": "eca", "gamma": 2, "b": 1}
