"""Export trained weights for Paddle Inference: <output_dir>/<config name>/{model.json,
model.pdiparams, infer_cfg.yml} (Paddle 3's format), then verify that Paddle Inference gives
the dygraph model's detections (exit 1 if not).

    python tools/export_model.py -c configs/ppyoloe/ppyoloe_crn_s_eca_300e_coco.yml \
        -o weights=output/ppyoloe_crn_s_eca_300e_coco/model_final --output_dir output_inference
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppattn.console import quiet_known_noise  # noqa: E402

quiet_known_noise()  # before ppdet prints at import
import ppattn.detection  # noqa: E402,F401  (registers ppattn with ppdet, applies its fixes)
from ppattn.engine import ArgsParser, ExportMismatchError, build_trainer, export_model, \
    load_weights_strictly, prepare_config, run_main  # noqa: E402
from ppdet.utils.logger import setup_logger  # noqa: E402

logger = setup_logger("ppattn.export_model")


def parse_args():
    parser = ArgsParser(__doc__)
    parser.add_argument("--output_dir", default="output_inference",
                        help="the model goes to OUTPUT_DIR/<config name>/")
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = prepare_config(args)
    trainer = build_trainer(cfg, "test")
    load_weights_strictly(trainer.model, cfg.get("weights"))
    logger.info(f"exporting {cfg.filename} to {os.path.join(args.output_dir, cfg.filename)}: "
                f"trace, save, then verify with Paddle Inference (minutes for a large model "
                f"on a CPU)")
    try:
        export_model(trainer, args.output_dir)
    except ExportMismatchError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    run_main(main)
