"""Evaluate trained weights on the config's EvalDataset; prints COCO AP (or VOC mAP).

    python tools/eval.py -c configs/ppyoloe/ppyoloe_crn_s_eca_300e_coco.yml \
        -o weights=output/ppyoloe_crn_s_eca_300e_coco/model_final
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppattn.console import quiet_known_noise  # noqa: E402

quiet_known_noise()  # before ppdet prints at import
import ppattn.detection  # noqa: E402,F401  (registers ppattn with ppdet, applies its fixes)
from ppattn.engine import ArgsParser, MetricsRecorder, build_trainer, check_num_classes, \
    load_weights_strictly, prepare_config, run_main  # noqa: E402
from ppattn.engine.cli import init_parallel  # noqa: E402
from ppattn.engine.progress import ProgressLogger  # noqa: E402
from ppattn.engine.evaluation import EVAL_METRICS, name_result_files  # noqa: E402


def parse_args():
    parser = ArgsParser(__doc__)
    parser.add_argument("--output_eval", "--output_dir", dest="output_eval", default=None,
                        help=f"folder for bbox.json and {EVAL_METRICS} (default: the weights' "
                             f"folder, beside training's metrics.json)")
    parser.add_argument("--classwise", action="store_true", help="also print AP per class")
    parser.add_argument("--amp", action="store_true", help="automatic mixed precision")
    parser.add_argument("--save_prediction_only", action="store_true",
                        help="save predictions, compute no AP")
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = prepare_config(args, ["EvalDataset"])
    args.output_eval = args.output_eval or os.path.dirname(cfg.get("weights") or "") or "."
    cfg.output_eval = args.output_eval
    os.makedirs(args.output_eval, exist_ok=True)
    init_parallel()
    trainer = build_trainer(cfg, "eval")
    name_result_files(cfg.output_eval)
    check_num_classes(cfg, trainer.dataset, "EvalDataset")
    load_weights_strictly(trainer.model, cfg.get("weights"))
    trainer.register_callbacks([ProgressLogger(trainer), MetricsRecorder(trainer, os.path.join(
        args.output_eval, EVAL_METRICS), extra={"weights": cfg.weights})])
    trainer.evaluate()


if __name__ == "__main__":
    run_main(main)
