"""Detect objects in images and save them with boxes drawn.

With trained weights (dygraph, as PaddleDetection's tools/infer.py):
    python tools/infer.py -c CONFIG -o weights=output/NAME/model_final --infer_img demo.jpg
With an exported model through Paddle Inference (the deployment runtime):
    python tools/infer.py --model_dir output_inference/NAME --infer_dir images/
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppattn.console import quiet_known_noise  # noqa: E402

quiet_known_noise()  # before ppdet prints at import
import ppattn.detection  # noqa: E402,F401  (registers ppattn with ppdet, applies its fixes)
from ppattn.engine import ArgsParser, build_trainer, check_output_dir, detect_images, \
    image_paths, load_weights_strictly, predict_with_trainer, prepare_config, run_main, \
    save_detections  # noqa: E402
from ppattn.engine.cli import float_in, infer_output_dir, int_in  # noqa: E402
from ppattn.deploy.paddle_inference import ONEDNN_MODES  # noqa: E402


def parse_args():
    parser = ArgsParser(__doc__, config_required=False)
    parser.add_argument("--infer_img", default=None, help="one image")
    parser.add_argument("--infer_dir", default=None, help="a folder of images")
    parser.add_argument("--output_dir", default=None,
                        help="where pictures and results go (default: output/infer/<config "
                             "name>, or output/infer/<model_dir name>_paddle_inference)")
    parser.add_argument("--draw_threshold", type=float_in(0, 1), default=0.5,
                        help="draw boxes scoring at least this")
    parser.add_argument("--save_results", action="store_true",
                        help="also save the boxes as JSON (bbox.json)")
    parser.add_argument("--model_dir", default=None,
                        help="an exported model folder: run it with Paddle Inference, no -c")
    parser.add_argument("--onednn", default="auto", choices=ONEDNN_MODES,
                        help="with --model_dir: oneDNN mode (see ppattn.deploy.paddle_inference)")
    parser.add_argument("--cpu_threads", type=int_in(1), default=1, help="with --model_dir")
    args = parser.parse_args()
    if bool(args.config) == bool(args.model_dir):
        parser.error("give -c CONFIG (trained weights) or --model_dir (exported model), not both")
    return args


def main():
    args = parse_args()
    args.output_dir = args.output_dir or infer_output_dir(args.config, args.model_dir)
    images = image_paths(args.infer_img, args.infer_dir)
    check_output_dir(images, args.output_dir)
    if args.model_dir:
        records = detect_images(args.model_dir, images, args.output_dir, args.draw_threshold,
                                args.onednn, args.cpu_threads)
        if args.save_results:
            save_detections(records, os.path.join(args.output_dir, "bbox.json"))
        for record in records:
            shown = int((record["boxes"][:, 1] >= args.draw_threshold).sum())
            print(f"{record['image']}: {shown} boxes >= {args.draw_threshold} -> "
                  f"{record['picture']}")
        return
    cfg = prepare_config(args)
    trainer = build_trainer(cfg, "test")
    load_weights_strictly(trainer.model, cfg.get("weights"))
    for picture in predict_with_trainer(trainer, images, args.output_dir, args.draw_threshold,
                                        args.save_results):
        print(f"picture with boxes: {picture}")


if __name__ == "__main__":
    run_main(main)
