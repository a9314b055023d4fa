"""Measure what each attention block really costs: latency, memory and FLOPs, blocks and models.

    python tools/benchmark.py                     # everything; on 1 CPU thread, an hour or more
    python tools/benchmark.py --shape_sets ppyoloe_s --repeats 3 --model_input_size 320 \
        --model_repeats 3                         # a quick look (minutes)

Models are built from configs/ (each block's config next to the stock one). Writes
benchmark.md, benchmark.json and benchmark.png to --output_dir and prints the table.
"""
import argparse
import os


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", default="output/benchmark")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for Paddle")
    parser.add_argument("--blocks", nargs="+", help="registry names (default: all)")
    parser.add_argument("--shape_sets", nargs="+", default=["ppyoloe_s", "resnet50"],
                        choices=["ppyoloe_s", "resnet50"])
    parser.add_argument("--input_size", type=int, default=640,
                        help="input side the block shapes are derived from")
    parser.add_argument("--batch_sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min_sample_ms", type=float, default=10.0,
                        help="repeat fast calls so one timing sample lasts at least this long")
    parser.add_argument("--no_backward", action="store_true", help="skip forward+backward")
    parser.add_argument("--models", nargs="*", default=["ppyoloe_s", "faster_rcnn_r50"],
                        choices=["ppyoloe_s", "faster_rcnn_r50"],
                        help="whole models to compare (none: give the flag with no names)")
    parser.add_argument("--model_input_size", type=int, default=640)
    parser.add_argument("--model_batch", type=int, default=1)
    parser.add_argument("--model_repeats", type=int, default=7)
    parser.add_argument("--model_warmup", type=int, default=2)
    parser.add_argument("--devices", nargs="+", choices=["cpu", "gpu"],
                        help="default: cpu, and gpu when one is present")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # OpenMP reads this once, when Paddle loads, so set it before importing Paddle
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import ppattn
    from ppattn.benchmark import BenchConfig, TimingPlan, markdown, run, write_outputs

    config = BenchConfig(
        blocks=tuple(args.blocks or sorted(ppattn.ATTENTIONS)), shape_sets=tuple(args.shape_sets),
        input_size=args.input_size, batch_sizes=tuple(args.batch_sizes),
        plan=TimingPlan(args.repeats, args.warmup, args.min_sample_ms / 1e3, not args.no_backward),
        models=tuple(args.models), model_input_size=args.model_input_size,
        model_batch=args.model_batch, model_repeats=args.model_repeats,
        model_warmup=args.model_warmup, threads=args.threads,
        devices=tuple(args.devices) if args.devices else None)
    result = run(config)
    paths = write_outputs(result, args.output_dir)
    print(markdown(result))
    print("wrote " + ", ".join(paths.values()))


if __name__ == "__main__":
    main()
