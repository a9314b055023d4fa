"""ppattn.engine.checkpoints: a snapshot that cannot be resumed from whole is refused, naming the
file, instead of training restarting at epoch 0 over the snapshots already there."""
import paddle
import pytest

from ppattn.engine import CheckpointError, check_snapshot, read_state
from ppattn.engine.checkpoints import complete_snapshots, strip_suffix

from tiny_runs import DEMO, NAME, TOOLS, run_failing_tool, tiny_options


def _snapshot(folder, name, epoch, ema=True, skip=()):
    """Write snapshot `name` as ppdet does: weights, optimizer state with epoch, raw weights."""
    files = {".pdparams": {"w": paddle.ones([2])}, ".pdopt": {"last_epoch": epoch},
             ".pdema": {"w": paddle.zeros([2])}}
    for suffix, state in files.items():
        if suffix not in skip and (ema or suffix != ".pdema"):
            paddle.save(state, str(folder / f"{name}{suffix}"))
    return str(folder / name)


def test_complete_snapshot_gives_the_epoch_to_resume_at(tmp_path):
    assert check_snapshot(_snapshot(tmp_path, "3", 4), ema=True) == 4
    assert check_snapshot(_snapshot(tmp_path, "5", 6, ema=False) + ".pdparams", ema=False) == 6


@pytest.mark.parametrize("missing, role", [(".pdopt", "the optimizer state and epoch"),
                                           (".pdema", "the raw weights beside the EMA ones"),
                                           (".pdparams", "the weights")])
def test_missing_file_is_named_with_the_complete_snapshots_beside_it(tmp_path, missing, role):
    _snapshot(tmp_path, "0", 1)
    _snapshot(tmp_path, "model_final", 3)
    path = _snapshot(tmp_path, "1", 2, skip=(missing,))
    with pytest.raises(CheckpointError) as error:
        check_snapshot(path, ema=True)
    message = str(error.value)
    assert f"'{path}{missing}' ({role}) is missing" in message
    assert "would restart at epoch 0" in message
    assert f"complete snapshots in '{tmp_path}': 0, model_final" in message


def test_without_ema_the_pdema_file_is_not_needed(tmp_path):
    assert check_snapshot(_snapshot(tmp_path, "1", 2, skip=(".pdema",)), ema=False) == 2


@pytest.mark.parametrize("suffix", [".pdparams", ".pdopt", ".pdema"])
def test_truncated_file_is_named(tmp_path, suffix):
    path = _snapshot(tmp_path, "1", 2)
    data = open(path + suffix, "rb").read()
    open(path + suffix, "wb").write(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match=rf"'{path}{suffix}' \(\d+ bytes\) cannot be read, "
                                              r"it is truncated"):
        check_snapshot(path, ema=True)


def test_empty_file_is_named(tmp_path):
    (tmp_path / "x.pdopt").write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"x.pdopt' \(0 bytes\) cannot be read.*EOFError"):
        read_state(str(tmp_path / "x.pdopt"))


def test_optimizer_state_without_an_epoch_is_refused(tmp_path):
    path = _snapshot(tmp_path, "1", None)
    with pytest.raises(CheckpointError, match="has no epoch to resume at"):
        check_snapshot(path, ema=True)


def test_complete_snapshots_are_listed_by_epoch(tmp_path):
    for name in ("10", "2", "best_model"):
        _snapshot(tmp_path, name, 1)
    _snapshot(tmp_path, "3", 4, skip=(".pdopt",))
    assert complete_snapshots(str(tmp_path), ema=True) == ["2", "10", "best_model"]


def test_strip_suffix_keeps_other_dots():
    assert strip_suffix("out/v1.2/9.pdparams") == "out/v1.2/9"
    assert strip_suffix("out/v1.2/9") == "out/v1.2/9"


def test_train_tool_refuses_to_resume_without_the_optimizer_state(tiny_data, tmp_path):
    run = tmp_path / "out" / NAME
    run.mkdir(parents=True)
    _snapshot(run, "0", 1)
    path = _snapshot(run, "1", 2, skip=(".pdopt",))
    result = run_failing_tool([f"{TOOLS}/train.py", "-c", DEMO, "-r", path, "--output_dir",
                               str(tmp_path / "out"), *tiny_options(tiny_data, "epoch=3")],
                              cwd=str(tmp_path))
    assert f"error: cannot resume from '{path}': '{path}.pdopt'" in result.stderr
    assert "complete snapshots in" in result.stderr and ": 0." in result.stderr
    assert sorted(p.name for p in run.iterdir()) == ["0.pdema", "0.pdopt", "0.pdparams",
                                                     "1.pdema", "1.pdparams"]
