"""One run of a study (a variant and a seed): its folder, its config and hash, its saved state,
and where it stands when a study starts again.

    <output_dir>/<variant>/seed<seed>/
        <variant>.yml      the variant's whole config (no _BASE_): tools/train.py -c it --seed S
        run.json           state: the hash, 'running' / 'done' / 'failed', results or the error
        train.log          the training's output (and launch_log/ with several processes)
        <variant>/         checkpoints, metrics.json (evaluation at each snapshot), bbox.json
        inference/<variant>/   the exported model

The hash covers the whole config, the seed and the process count. A run whose run.json says
'done' with the same hash is finished; a different hash means the old files belong to another
config, and they are removed before the run starts again. A run cut short resumes from its
last complete snapshot.
"""
import json
import os
import shutil
from typing import Dict, List, Mapping, Optional

from ..engine.checkpoints import complete_snapshots
from ..engine.evaluation import TRAINING_METRICS, read_history, write_json_atomically
from .config_files import config_hash, config_text, write_config

STATE_FILE = "run.json"
LOG_FILE = "train.log"
FINAL = "model_final"
DONE, FAILED, RUNNING = "done", "failed", "running"


class Run:
    """A variant trained with one seed, in `<output_dir>/<variant>/seed<seed>/`.

    Args:
        variant: the variant's name (it names the folders and the config file).
        seed: passed to tools/train.py --seed.
        cfg: the variant's whole merged config (ppattn.study.variants.apply_variant).
        output_dir: the study's folder.
        nproc: training processes (part of the hash: it changes the global batch).
    """

    def __init__(self, variant: str, seed: int, cfg: Mapping, output_dir: str, nproc: int):
        self.variant, self.seed, self.nproc = variant, seed, nproc
        self.folder = os.path.join(output_dir, variant, f"seed{seed}")
        self.config_path = os.path.join(self.folder, f"{variant}.yml")
        self.checkpoints = os.path.join(self.folder, variant)
        self.log_path = os.path.join(self.folder, LOG_FILE)
        self.export_dir = os.path.join(self.folder, "inference")
        self.epochs = int(cfg.get("epoch", 0))
        self.ema = bool(cfg.get("use_ema"))
        self.hash = config_hash(f"{config_text(cfg)}\nseed: {seed}\nnproc: {nproc}\n")
        self.cfg = {**cfg, "weights": os.path.join(self.checkpoints, FINAL)}

    @property
    def label(self) -> str:
        return f"{self.variant}, seed {self.seed}"

    def state(self) -> Dict:
        """run.json's content, or {} when there is none or it cannot be read."""
        path = os.path.join(self.folder, STATE_FILE)
        try:
            with open(path, encoding="utf-8") as f:
                state = json.load(f)
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def save_state(self, status: str, **fields) -> Dict:
        state = {"variant": self.variant, "seed": self.seed, "hash": self.hash,
                 "status": status, "config": self.config_path, **fields}
        write_json_atomically(state, os.path.join(self.folder, STATE_FILE))
        return state

    def is_done(self) -> bool:
        state = self.state()
        return state.get("status") == DONE and state.get("hash") == self.hash

    def prepare(self, header: str) -> Optional[str]:
        """Write the config; remove the files of a run with another hash first. Returns the
        old hash when files were removed, else None."""
        old = self.state().get("hash")
        removed = None
        if os.path.isdir(self.folder) and old != self.hash:
            shutil.rmtree(self.folder)
            removed = old or "unknown"
        write_config(self.cfg, self.config_path, header)
        return removed

    def metrics(self) -> List[Dict]:
        """The evaluation records of training (metrics.json), oldest first."""
        return read_history(os.path.join(self.checkpoints, TRAINING_METRICS))

    def final_metrics(self) -> Optional[Dict]:
        """The last epoch's evaluation record, if training got there and saved its weights."""
        records = [r for r in self.metrics() if r.get("epoch") == self.epochs - 1]
        if records and os.path.isfile(os.path.join(self.checkpoints, FINAL + ".pdparams")):
            return records[-1]
        return None

    def resume_point(self) -> Optional[str]:
        """The last complete numbered snapshot to resume from (path without suffix), or None."""
        if not os.path.isdir(self.checkpoints):
            return None
        numbered = [n for n in complete_snapshots(self.checkpoints, self.ema) if n.isdigit()]
        return os.path.join(self.checkpoints, numbered[-1]) if numbered else None
