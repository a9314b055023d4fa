"""Write the synthetic shapes dataset (COCO format) that configs/demo/ trains on, or the same
images in COCO 2017's layout, which the configs for COCO read as they are.

    python tools/make_shapes_dataset.py --out dataset/shapes
    python tools/make_shapes_dataset.py --layout coco --width 640 --height 480 --out dataset/coco
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppattn.data import make_shapes_dataset  # noqa: E402
from ppattn.data.synthetic import LAYOUTS  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="dataset/shapes")
    parser.add_argument("--num_train", type=int, default=200)
    parser.add_argument("--num_val", type=int, default=50)
    parser.add_argument("--num_test", type=int, default=8)
    parser.add_argument("--size", type=int, default=160,
                        help="image side in pixels (square images)")
    parser.add_argument("--width", type=int, default=None, help="image width (default --size)")
    parser.add_argument("--height", type=int, default=None,
                        help="image height (default --size)")
    parser.add_argument("--layout", default="shapes", choices=LAYOUTS,
                        help="shapes: images/, annotations/{train,val}.json, test/ (the demo's); "
                             "coco: train2017/, val2017/, test2017/, "
                             "annotations/instances_{train,val}2017.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    paths = make_shapes_dataset(args.out, args.num_train, args.num_val, args.num_test,
                                args.width or args.size, args.seed, args.overwrite,
                                layout=args.layout, height=args.height or args.size)
    print(f"dataset in {args.out}: {paths['train']}, {paths['val']}, test images {paths['test']}")


if __name__ == "__main__":
    main()
