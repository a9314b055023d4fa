"""Ablation studies over attention blocks (tools/ablate.py): the same base config with the
attention keys of each variant changed, trained with several seeds, evaluated, exported and
timed, then reported with the noise between seeds in view. One job a module:

- `config_files`: a config's `_BASE_` chain merged into one dict, written back as one file;
- `variants`: variants by block name or from a study file, applied to the base config;
- `runs`: one variant and seed: its folder, config hash, state, resume point;
- `training`: tools/train.py in a child process (paddle.distributed.launch for several);
- `progress`: how far a training is (from its log) and the study's ETA;
- `output`: the one-line status on the terminal, everything else into the runs' files;
- `measure`: export (verified), parameters and FLOPs of a trained run;
- `latency`: every exported model timed in one session, taking turns;
- `summary`: mean and spread over seeds, differences to the baseline, the Pareto front;
- `report`, `plot`: study.md, study.csv, study.json and study.png;
- `lock`: one study at a time in a folder;
- `plan`: the study's runs, each variant's config checked before anything trains;
- `study`: all of it in order, resuming where a stopped study left off.
"""
from .plan import StudyPlan
from .study import Study
from .summary import pareto_front, summarize
from .variants import Variant, read_study, variants_from_names

__all__ = ["Study", "StudyPlan", "Variant", "pareto_front", "read_study", "summarize",
           "variants_from_names"]
