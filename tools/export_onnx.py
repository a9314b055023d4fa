"""Convert a model exported by tools/export_model.py to ONNX (needs `pip install ppattn[export]`),
and optionally check it against Paddle Inference and time both runtimes.

    python tools/export_model.py -c CONFIG -o weights=W --output_dir output_inference
    python tools/export_onnx.py --model_dir output_inference/NAME --check --latency

The model keeps ppdet's NMS, which makes the ONNX model batch-size-1. For batched deployment
export without NMS (outputs: boxes [N, A, 4], scores [N, classes, A]) and run NMS yourself:
    python tools/export_model.py -c CONFIG -o weights=W exclude_nms=True --output_dir raw
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppattn.console import quiet_known_noise  # noqa: E402

quiet_known_noise()  # before ppdet (imported by ppattn.engine) prints at import
from ppattn.deploy import compare_runtimes, convert_to_onnx, latency_table, \
    onnx_operators, sample_inputs  # noqa: E402
from ppattn.deploy.onnx_export import DEFAULT_OPSET  # noqa: E402
from ppattn.engine.cli import int_in  # noqa: E402

OPSETS = (7, 21)  # what paddle2onnx 2.1 writes; 22 ends the process with SIGABRT


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model_dir", required=True,
                        help="folder with model.json, model.pdiparams and infer_cfg.yml")
    parser.add_argument("--save_file", default="",
                        help="where the ONNX model goes (default MODEL_DIR/model.onnx)")
    parser.add_argument("--opset", type=int_in(*OPSETS), default=DEFAULT_OPSET,
                        help=f"ONNX opset version, {OPSETS[0]} to {OPSETS[1]} (paddle2onnx "
                             f"aborts the process on a later one)")
    parser.add_argument("--no_hardsigmoid", action="store_true",
                        help="write ESE's HardSigmoid gate as Mul, Add and Clip, for ONNX "
                             "consumers without HardSigmoid")
    parser.add_argument("--check", action="store_true",
                        help="run ONNX Runtime and Paddle Inference on the same random image, "
                             "match their detections and print PASS or FAIL (exit 1 on FAIL)")
    parser.add_argument("--batch", type=int_in(1), default=1,
                        help="images per check (more than 1 needs an exclude_nms=True export)")
    parser.add_argument("--latency", action="store_true",
                        help="print the median ms per run of each CPU runtime, 1 thread")
    parser.add_argument("--repeats", type=int_in(1), default=20, help="timed runs for --latency")
    args = parser.parse_args()
    if args.save_file and (args.check or args.latency):
        parser.error("--check and --latency read MODEL_DIR/model.onnx; leave out --save_file")
    return args


def main():
    args = parse_args()
    try:
        onnx_file = convert_to_onnx(args.model_dir, args.save_file, args.opset,
                                    keep_hardsigmoid=not args.no_hardsigmoid)
    except (FileNotFoundError, ImportError, RuntimeError) as error:
        sys.exit(f"error: {error}")
    print(f"ONNX model: {onnx_file}")
    print("operators: " + ", ".join(f"{k} x{v}" for k, v in onnx_operators(onnx_file).items()))
    if not (args.check or args.latency):
        return
    feeds = sample_inputs(args.model_dir, batch=args.batch)
    if args.check:
        result = compare_runtimes(args.model_dir, feeds)
        print(f"ONNX Runtime vs Paddle Inference: {result.summary()}")
        if not result.passed:
            sys.exit("error: ONNX Runtime's outputs differ from Paddle Inference's; do not "
                     "deploy this ONNX file")
    if args.latency:
        for label, ms in latency_table(args.model_dir, feeds, repeats=args.repeats).items():
            print(f"{label}: {ms if isinstance(ms, str) else f'{ms:.1f} ms (median)'}")


if __name__ == "__main__":
    main()
