"""Train a detector: PaddleDetection's tools/train.py conventions, with ppattn's blocks registered.

    python tools/train.py -c configs/ppyoloe/ppyoloe_crn_s_eca_300e_coco.yml --eval
    python tools/train.py -c CONFIG -r output/NAME/9          # resume from epoch 9's checkpoint
    python -m paddle.distributed.launch --gpus 0,1,2,3 tools/train.py -c CONFIG --eval
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppattn.console import quiet_known_noise  # noqa: E402

quiet_known_noise()  # before ppdet prints at import
import ppattn.detection  # noqa: E402,F401  (registers ppattn with ppdet, applies its fixes)
from ppattn.engine import ArgsParser, MetricsRecorder, build_trainer, check_num_classes, \
    check_snapshot, check_weights_fit, prepare_config, run_main  # noqa: E402
from ppattn.engine.cli import init_parallel  # noqa: E402
from ppattn.engine.pretrained import resolve_pretrain_weights  # noqa: E402
from ppattn.engine.progress import ProgressLogger  # noqa: E402
from ppattn.engine.checks import parsed_dataset  # noqa: E402
from ppattn.engine.evaluation import TRAINING_METRICS, name_result_files  # noqa: E402
from ppdet.engine import set_random_seed  # noqa: E402


def parse_args():
    parser = ArgsParser(__doc__)
    parser.add_argument("--eval", action="store_true", help="evaluate at every snapshot")
    parser.add_argument("-r", "--resume", default=None,
                        help="checkpoint to resume from (path without .pdparams)")
    parser.add_argument("--amp", action="store_true", help="automatic mixed precision")
    parser.add_argument("--output_dir", default=None,
                        help="checkpoint folder root (the config's save_dir; default output)")
    parser.add_argument("--use_vdl", action="store_true", help="log to VisualDL")
    parser.add_argument("--vdl_log_dir", default="vdl_log_dir/scalar")
    parser.add_argument("--save_prediction_only", action="store_true",
                        help="with --eval: save predictions, compute no AP")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed Python, NumPy and Paddle for a repeatable run")
    return parser.parse_args()


def main():
    args = parse_args()
    if args.output_dir:
        args.opt["save_dir"] = args.output_dir
    cfg = prepare_config(args, ["TrainDataset"] + (["EvalDataset"] if args.eval else []))
    cfg.setdefault("output_eval", os.path.join(cfg.save_dir, cfg.filename))  # bbox.json
    if args.resume:
        check_snapshot(args.resume, ema=bool(cfg.get("use_ema")))
    elif cfg.get("pretrain_weights"):
        cfg.pretrain_weights = resolve_pretrain_weights(cfg.pretrain_weights)
    init_parallel()
    if args.seed is not None:
        set_random_seed(args.seed)
    trainer = build_trainer(cfg, "train")
    name_result_files(cfg.output_eval)
    check_num_classes(cfg, trainer.dataset, "TrainDataset")
    trainer.register_callbacks([ProgressLogger(trainer)])
    if args.eval:
        check_num_classes(cfg, parsed_dataset("EvalDataset"), "EvalDataset")
        metrics = os.path.join(cfg.output_eval, TRAINING_METRICS)
        trainer.register_callbacks([MetricsRecorder(trainer, metrics)])
    if args.resume:
        check_weights_fit(trainer.model, args.resume)
        trainer.resume_weights(args.resume)
    elif cfg.get("pretrain_weights"):
        trainer.load_weights(cfg.pretrain_weights)
    trainer.train(args.eval)


if __name__ == "__main__":
    run_main(main)
