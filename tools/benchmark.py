"""Measure what each attention block really costs: latency, memory and FLOPs, blocks and models.

    python tools/benchmark.py                     # everything; on 1 CPU thread, an hour or more
    python tools/benchmark.py --shape_sets ppyoloe_s --repeats 3 --model_input_size 320 \
        --model_repeats 3                         # a quick look (minutes)

Models are built from configs/ (each block's config next to the stock one). Writes
benchmark.md, benchmark.json and benchmark.png to --output_dir and prints the table.

    python tools/benchmark.py --deployment        # exported detectors in Paddle Inference and
                                                  # ONNX Runtime, 1 and 2 threads (~10 min)

--deployment exports PP-YOLOE-s at 640 (without NMS) for each of --deploy_variants and the demo
detector at 128 px (with NMS), times every variant x runtime x threads interleaved, and writes
deployment.md and deployment.json instead.
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
    parser.add_argument("--deployment", action="store_true",
                        help="time exported detectors in the deployment runtimes instead")
    parser.add_argument("--deploy_models", nargs="+", default=["ppyoloe_s", "demo"],
                        choices=["ppyoloe_s", "demo"])
    parser.add_argument("--deploy_variants", nargs="+", default=["none", "stock", "eca", "se", "ge"],
                        help="PP-YOLOE-s variants (configs/ppyoloe/ppyoloe_crn_s_<name>_300e_coco.yml; "
                             "stock is ESE)")
    parser.add_argument("--deploy_threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--deploy_rounds", type=int, default=10)
    return parser.parse_args()


def deployment(args) -> None:
    os.environ["OMP_NUM_THREADS"] = str(max(args.deploy_threads))
    from ppattn.console import quiet_known_noise
    quiet_known_noise()
    import ppattn.detection  # noqa: F401  (registers what the configs name)
    from ppattn.benchmark.deployment import DeployPlan, run_deployment
    from ppattn.benchmark.deployment_report import deployment_markdown, write_deployment

    plan = DeployPlan(models=tuple(args.deploy_models), variants=tuple(args.deploy_variants),
                      threads=tuple(args.deploy_threads), rounds=args.deploy_rounds,
                      work_dir=os.path.join(args.output_dir, "deployment"))
    result = run_deployment(plan)
    paths = write_deployment(result, args.output_dir)
    print(deployment_markdown(result))
    print("wrote " + ", ".join(paths.values()))


def main() -> None:
    args = parse_args()
    if args.deployment:
        deployment(args)
        return
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
