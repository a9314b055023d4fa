"""Ablation study over attention blocks: train every variant of a base config with every seed
(tools/train.py), evaluate, export and time each, and report AP, AP50, parameters, FLOPs and
latency against the first variant, with the seed spread in view (ppattn.study).

    python tools/ablate.py -c configs/demo/ppyoloe_crn_t_eca_shapes_study.yml \\
        --variants none ese eca se cbam ca simam --seeds 0 1 --jobs 2 --output_dir output/study
    python tools/ablate.py -c CONFIG --study my_study.yml     # variants with any attention keys
    python tools/ablate.py -c CONFIG --variants none eca -o TrainDataset.dataset_dir=data/x ...

-o changes the base config for every variant alike. The demo data comes from
`python tools/make_shapes_dataset.py --out dataset/shapes` (or tools/run_demo.sh).

Writes OUTPUT_DIR/study.md, study.csv, study.json and study.png, and per run
OUTPUT_DIR/<variant>/seed<seed>/ (config, logs, checkpoints, metrics, exported model). Stopped
(Ctrl-C, kill, a crash), the same command carries on: finished runs are skipped, a run cut
short resumes from its last snapshot, a failed run is tried again.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppattn.console import quiet_known_noise  # noqa: E402

quiet_known_noise()  # before ppdet prints at import
from ppattn.engine import ArgsParser, run_main  # noqa: E402
from ppattn.engine.cli import int_in  # noqa: E402
from ppattn.study import Study, StudyPlan, read_study, variants_from_names  # noqa: E402
from ppattn.study.lock import StudyLockedError  # noqa: E402


def parse_args():
    parser = ArgsParser(__doc__)
    chosen = parser.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--variants", nargs="+", metavar="BLOCK",
                        help="block names ('none' included), each in the backbone's attn slot; "
                             "the first is the baseline")
    chosen.add_argument("--study", metavar="FILE",
                        help="a YAML file mapping variant names to attention keys")
    parser.add_argument("--seeds", nargs="+", type=int_in(0), default=[0, 1],
                        help="train every variant once per seed (default: 0 1)")
    parser.add_argument("--nproc", type=int_in(1), default=1,
                        help="training processes per run (paddle.distributed.launch)")
    parser.add_argument("--jobs", type=int_in(1), default=1,
                        help="runs trained at once (default 1); jobs x nproc processes share "
                             "the CPU cores, so keep it at most the number of cores")
    parser.add_argument("--output_dir", default="output/study")
    parser.add_argument("--latency_repeats", type=int_in(1), default=30,
                        help="timed runs per exported model (default 30)")
    args = parser.parse_args()
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f"--seeds repeats a seed: {args.seeds}")
    return args


def main():
    args = parse_args()
    variants = read_study(args.study) if args.study else variants_from_names(args.variants)
    plan = StudyPlan(args.config, variants, args.seeds, args.output_dir, args.nproc,
                     args.latency_repeats, overrides=args.opt, jobs=args.jobs)
    try:
        paths = Study(plan).run()
    except KeyboardInterrupt:
        sys.exit(f"\ninterrupted; run the same command again to carry on (finished runs are "
                 f"kept, a run cut short resumes from its last snapshot)")
    except (StudyLockedError, ValueError) as error:
        sys.exit(f"error: {error}")
    print("study: " + ", ".join(paths[key] for key in ("md", "csv", "json", "png")
                                if key in paths))


if __name__ == "__main__":
    run_main(main)
