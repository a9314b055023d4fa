"""Print the registered attention blocks with their papers, parameters and FLOPs.

    python tools/list_blocks.py --channels 256 --size 40

FLOPs are each block's own count: multiply-adds plus pooling, gates and the scale
(ppattn.layers.flop_count states the rules).
"""
import argparse

from ppattn.summary import block_rows, markdown_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=256, help="input channels C")
    parser.add_argument("--size", type=int, default=40, help="input height and width")
    args = parser.parse_args()
    rows = block_rows(args.channels, args.size, args.size)
    print(f"Blocks for a [1, {args.channels}, {args.size}, {args.size}] input:\n")
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
