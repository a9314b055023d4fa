"""Show what the attention blocks of a trained detector do on images: every block's spatial maps
over the image, its channel gates, and their summary numbers (ppattn.analysis).

    python tools/attention_maps.py -c CONFIG -o weights=output/NAME/model_final \\
        --infer_img dataset/shapes/test/test_0000.jpg --output_dir output/attention

Writes per image <stem>_spatial.png, <stem>_channel.png and <stem>_summary.json. A block that
gives no maps is listed, and the run ends with status 1 unless --allow_missing_maps is given.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import ppattn.detection  # noqa: E402,F401  (registers ppattn with ppdet, applies its fixes)
from ppattn.analysis import AttentionMapsError, analyse_images  # noqa: E402
from ppattn.engine import ArgsParser, build_trainer, image_paths, load_weights_strictly, \
    prepare_config, run_main  # noqa: E402


def parse_args():
    parser = ArgsParser(__doc__)
    parser.add_argument("--infer_img", default=None, help="one image")
    parser.add_argument("--infer_dir", default=None, help="a folder of images")
    parser.add_argument("--output_dir", default="output/attention",
                        help="where the pictures and summaries go")
    parser.add_argument("--allow_missing_maps", action="store_true",
                        help="end with status 0 even where some blocks give no maps")
    return parser.parse_args()


def report(summaries) -> dict:
    """Print what was written per image; return the blocks without maps, name -> reason."""
    missing = {}
    for summary in summaries:
        written = [p for p in (*summary["pictures"].values(), summary["summary"]) if p]
        print(f"{summary['image']}: {len(summary['blocks'])} blocks -> {', '.join(written)}")
        if not summary["pictures"]["spatial"]:
            print("  no spatial maps: the blocks gate channels only")
        for name, entry in summary["no_maps"].items():
            missing[name] = f"{entry['block']}: {entry['reason']}"
    return missing


def main():
    args = parse_args()
    images = image_paths(args.infer_img, args.infer_dir)
    cfg = prepare_config(args)
    trainer = build_trainer(cfg, "test")
    load_weights_strictly(trainer.model, cfg.get("weights"))
    try:
        missing = report(analyse_images(trainer, images, args.output_dir))
    except AttentionMapsError as error:
        sys.exit(f"error: {error}")
    for name, reason in missing.items():
        print(f"no maps: {name} ({reason})")
    if missing and not args.allow_missing_maps:
        sys.exit(f"error: {len(missing)} block(s) gave no attention maps, so the pictures and "
                 f"summaries leave them out: {', '.join(missing)}. Give the block an "
                 f"attention_maps(x) method (ppattn.layers.protocol), or pass "
                 f"--allow_missing_maps to accept the partial result")


if __name__ == "__main__":
    run_main(main)
