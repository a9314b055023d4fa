"""ppattn.study.plan: a study's runs, every variant's config checked before anything trains."""
import os

import pytest

from ppattn.data import make_shapes_dataset
from ppattn.study.plan import StudyPlan, plan_runs
from ppattn.study.variants import Variant

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STUDY_CONFIG = os.path.join(ROOT, "configs/demo/ppyoloe_crn_t_eca_shapes_study.yml")


@pytest.fixture(scope="module")
def data_options(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("shapes"))
    make_shapes_dataset(root, num_train=2, num_val=2, num_test=1, size=64, seed=1)
    return {name: {"dataset_dir": root} for name in ("TrainDataset", "EvalDataset",
                                                      "TestDataset")}


def _plan(tmp_path, variants, overrides):
    return StudyPlan(STUDY_CONFIG, variants, [0, 1], str(tmp_path / "out"),
                     overrides=overrides)


def test_runs_are_variants_by_seeds_with_the_overrides(tmp_path, data_options):
    runs = plan_runs(_plan(tmp_path, [Variant("none", {"attn": "none"}),
                                      Variant("se", {"attn": "se"})],
                           {**data_options, "epoch": 3}))
    assert [(r.variant, r.seed) for r in runs] == [("none", 0), ("none", 1), ("se", 0),
                                                   ("se", 1)]
    assert all(r.epochs == 3 for r in runs)
    assert runs[2].cfg["AttnCSPResNet"]["attn"] == "se"
    assert not os.path.exists(runs[0].folder)   # nothing written before the study runs


def test_a_bad_argument_names_the_variant_before_anything_trains(tmp_path, data_options):
    variants = [Variant("none", {"attn": "none"}),
                Variant("eca3", {"attn": {"name": "eca", "kernel_size": 4}})]
    with pytest.raises(ValueError,
                       match="(?s)variant 'eca3': 1 problem.*kernel_size must be odd, got 4"):
        plan_runs(_plan(tmp_path, variants, data_options))


def test_missing_data_is_named(tmp_path):
    with pytest.raises(ValueError, match="(?s)variant 'none': .*dataset_dir '/nowhere' does not "
                                         "exist"):
        plan_runs(_plan(tmp_path, [Variant("none", {"attn": "none"})],
                        {"TrainDataset": {"dataset_dir": "/nowhere"}}))
