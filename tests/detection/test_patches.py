"""ppattn.detection.patches: the one list of ppattn's changes to ppdet and Paddle, and the one
mechanism that applies them."""
import importlib
import types

import ppdet.engine.trainer as trainer
import ppdet.modeling.ops as ops
import ppdet.utils.checkpoint as checkpoint
import pytest

from ppattn.detection import PATCHES, apply_patches
from ppattn.detection.patching import ORIGINALS, Patch, original

# everything ppattn replaces in ppdet or Paddle; a new patch joins this list with its test
EXPECTED = ["ATSSAssigner.forward", "BBoxPostProcess.get_pred", "RPNHead._gen_proposal",
            "TaskAlignedAssigner.forward", "_load_config_with_base", "generate_proposal_target",
            "load_pretrain_weight", "multiclass_nms", "paddle.load", "save_model"]


def test_every_change_is_in_the_list_and_installed():
    assert sorted(p.key for p in PATCHES) == EXPECTED
    assert all(p.installed() for p in PATCHES)
    assert all(p.reason for p in PATCHES)


def test_each_original_is_ppdets_own():
    for patch in PATCHES:
        kept = original(patch.key)
        assert kept.__module__.startswith(("ppdet.", "paddle.")), (patch.key, kept.__module__)
        assert getattr(patch._owner_objects()[0], patch.name) is not kept


def test_applying_twice_or_reloading_changes_nothing():
    before = {p.key: getattr(p._owner_objects()[0], p.name) for p in PATCHES}
    originals = dict(ORIGINALS)
    apply_patches()
    importlib.reload(importlib.import_module("ppattn.detection.patches")).apply_patches()
    assert {p.key: getattr(p._owner_objects()[0], p.name) for p in PATCHES} == before
    assert dict(ORIGINALS) == originals


def test_every_owner_of_a_name_gets_the_same_replacement():
    assert trainer.load_pretrain_weight is checkpoint.load_pretrain_weight
    assert original("load_pretrain_weight") is checkpoint.load_pretrain_weight.__wrapped__


def test_remove_gives_the_original_back_and_install_restores():
    nms = next(p for p in PATCHES if p.key == "multiclass_nms")
    patched = ops.multiclass_nms
    nms.remove()
    try:
        assert ops.multiclass_nms is original("multiclass_nms") and not nms.installed()
    finally:
        nms.install()
    assert nms.installed() and ops.multiclass_nms is not patched   # a fresh wrapper


def test_a_patch_on_a_module_of_our_own_keeps_and_restores_its_original(monkeypatch):
    module = types.ModuleType("ppattn_test_owner")
    module.double = lambda x: 2 * x
    monkeypatch.setitem(__import__("sys").modules, "ppattn_test_owner", module)
    patch = Patch("double", ("ppattn_test_owner",), "double",
                  lambda old: (lambda x: old(x) + 1), "test")
    patch.install()
    patch.install()
    assert module.double(3) == 7 and original("double")(3) == 6
    patch.remove()
    assert module.double(3) == 6
    ORIGINALS.pop("double")


def test_an_unknown_patch_is_named():
    with pytest.raises(KeyError, match="patch 'nope' is not installed; known: "):
        original("nope")
