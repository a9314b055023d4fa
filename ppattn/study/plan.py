"""What a study runs: the plan (base config, variants, seeds, processes) and its runs, each
variant's whole config checked before anything trains."""
import contextlib
import os
from typing import Dict, List, Mapping, NamedTuple, Sequence

from ..engine import load_config
from ..engine.checks import check_config
from .config_files import merge_into, read_merged, write_config
from .runs import Run
from .variants import Variant, apply_variant


class StudyPlan(NamedTuple):
    """What a study runs: `variants` (the first is the baseline) of the base `config` with
    `overrides` (nested, as -o gives them) merged in, each trained once per seed in `nproc`
    processes, `jobs` runs at once, into `output_dir`; each exported model timed
    `latency_repeats` times on `cpu_threads` threads."""
    config: str
    variants: Sequence[Variant]
    seeds: Sequence[int]
    output_dir: str
    nproc: int = 1
    latency_repeats: int = 30
    cpu_threads: int = 1
    overrides: Mapping = {}
    jobs: int = 1


def run_header(plan: StudyPlan, variant: Variant, run: Run) -> str:
    """The comment at the top of a run's config: where it comes from and how to train it alone."""
    keys = ", ".join(f"{k} = {v}" for k, v in variant.keys.items())
    launch = (f"python -m paddle.distributed.launch --nproc_per_node {plan.nproc} "
              if plan.nproc > 1 else "python ")
    return (f"Ablation study variant {variant.name!r} of {plan.config} (tools/ablate.py): the\n"
            f"whole base config with {keys}; every other value is the base's.\n"
            f"Train it alone as the study did (seed {run.seed}):\n"
            f"  {launch}tools/train.py -c {run.config_path} --seed {run.seed} --eval")


def check_variant(cfg: Dict, name: str, folder: str) -> None:
    """Load a variant's whole config as the tools will and check it (keys, values, datasets,
    the backbone built), so that a mistake stops the study before anything trains."""
    path = write_config(cfg, os.path.join(folder, f"{name}.yml"))
    try:
        check_config(load_config(path), ["TrainDataset", "EvalDataset"])
    except ValueError as error:  # check_config names the file, which is named after the variant
        message = str(error)
        message = message[len(name) + 2:] if message.startswith(f"{name}: ") else message
        raise type(error)(f"variant {name!r}: {message}") from error
    finally:
        os.remove(path)


def plan_runs(plan: StudyPlan) -> List[Run]:
    """Every run of the study, variants in order and seeds within each; each variant's config
    is checked first (a ValueError names the variant and every problem)."""
    base = merge_into(read_merged(plan.config), plan.overrides)
    checks = os.path.join(plan.output_dir, ".checks")
    runs = []
    for variant in plan.variants:
        cfg = apply_variant(variant, base)
        check_variant(cfg, variant.name, checks)
        runs += [Run(variant.name, seed, cfg, plan.output_dir, plan.nproc)
                 for seed in plan.seeds]
    with contextlib.suppress(OSError):
        os.rmdir(checks)
    return runs
