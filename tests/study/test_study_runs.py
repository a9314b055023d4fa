"""ppattn.study.runs: a run's hash, its saved state, and what a restarted study does with it."""
import json
import os

from ppattn.study.runs import DONE, FAILED, Run

CFG = {"epoch": 2, "use_ema": True, "AttnCSPResNet": {"attn": "eca"}}


def _run(tmp_path, cfg=CFG, seed=0, nproc=1):
    return Run("eca", seed, cfg, str(tmp_path), nproc)


def _touch(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").close()


def test_hash_covers_config_seed_and_processes(tmp_path):
    base = _run(tmp_path).hash
    assert _run(tmp_path).hash == base
    assert _run(tmp_path, seed=1).hash != base
    assert _run(tmp_path, nproc=2).hash != base
    assert _run(tmp_path, {**CFG, "AttnCSPResNet": {"attn": "se"}}).hash != base


def test_finished_run_with_the_same_hash_is_done(tmp_path):
    run = _run(tmp_path)
    run.prepare("header")
    assert not run.is_done()
    run.save_state(DONE, AP50=0.5)
    assert _run(tmp_path).is_done()
    run.save_state(FAILED, error="boom")
    assert not _run(tmp_path).is_done()


def test_changed_config_removes_the_old_files_and_is_not_done(tmp_path):
    old = _run(tmp_path)
    old.prepare("header")
    old.save_state(DONE, AP50=0.5)
    _touch(os.path.join(old.checkpoints, "0.pdparams"))
    new = _run(tmp_path, {**CFG, "AttnCSPResNet": {"attn": {"name": "eca", "kernel_size": 3}}})
    assert not new.is_done()
    assert new.prepare("header") == old.hash
    assert not os.path.exists(os.path.join(new.checkpoints, "0.pdparams"))
    assert os.path.isfile(new.config_path)


def test_unchanged_config_keeps_the_checkpoints(tmp_path):
    run = _run(tmp_path)
    run.prepare("header")
    run.save_state("running")
    _touch(os.path.join(run.checkpoints, "0.pdparams"))
    assert _run(tmp_path).prepare("header") is None
    assert os.path.exists(os.path.join(run.checkpoints, "0.pdparams"))


def test_resume_point_is_the_last_complete_numbered_snapshot(tmp_path):
    run = _run(tmp_path)
    for name, suffixes in (("0", ".pdparams .pdopt .pdema"), ("1", ".pdparams .pdopt .pdema"),
                           ("2", ".pdparams .pdopt"), ("best_model", ".pdparams .pdopt .pdema")):
        for suffix in suffixes.split():
            _touch(os.path.join(run.checkpoints, name + suffix))
    assert run.resume_point() == os.path.join(run.checkpoints, "1")  # 2 lacks its .pdema


def test_final_metrics_need_the_last_epoch_and_model_final(tmp_path):
    run = _run(tmp_path)
    os.makedirs(run.checkpoints)
    with open(os.path.join(run.checkpoints, "metrics.json"), "w") as f:
        json.dump([{"epoch": 0, "bbox": {"AP50": 0.1}}, {"epoch": 1, "bbox": {"AP50": 0.2}}], f)
    assert run.final_metrics() is None
    _touch(os.path.join(run.checkpoints, "model_final.pdparams"))
    assert run.final_metrics()["bbox"]["AP50"] == 0.2


def test_written_config_points_weights_at_the_runs_checkpoint(tmp_path):
    run = _run(tmp_path)
    run.prepare("line one")
    text = open(run.config_path).read()
    assert text.startswith("# line one\n")
    assert f"weights: {os.path.join(run.checkpoints, 'model_final')}" in text
