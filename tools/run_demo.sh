#!/usr/bin/env bash
# ppattn demo, no COCO needed: make a synthetic shapes dataset, train a small PP-YOLOE with ECA
# attention from configs/demo/ on the CPU (312 steps; about 4 min end to end on a 2-core machine),
# evaluate it, export it, and run the exported model with Paddle Inference on held-out images.
#   tools/run_demo.sh                 # NPROC=1 tools/run_demo.sh trains in one process instead of two
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"   # one intra-op thread per process
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}"
NPROC="${NPROC:-2}"                               # data-parallel CPU processes (gloo)
CONFIG=configs/demo/ppyoloe_crn_t_eca_shapes.yml
NAME=ppyoloe_crn_t_eca_shapes
OUT="${OUT:-output/demo}"
START=$(date +%s)

echo "== [1/5] synthetic dataset -> dataset/shapes"
"$PYTHON" tools/make_shapes_dataset.py --out dataset/shapes

echo "== [2/5] train $CONFIG ($NPROC process(es))"
if [ "$NPROC" -gt 1 ]; then
  "$PYTHON" -m paddle.distributed.launch --nproc_per_node "$NPROC" --log_dir "$OUT/launch_log" \
    tools/train.py -c "$CONFIG" --output_dir "$OUT" --seed 0
else   # one process, batch 16: the same 312 steps of batch 16
  "$PYTHON" tools/train.py -c "$CONFIG" --output_dir "$OUT" --seed 0 -o TrainReader.batch_size=16
fi
WEIGHTS="$OUT/$NAME/model_final"

echo "== [3/5] evaluate"
"$PYTHON" tools/eval.py -c "$CONFIG" -o weights="$WEIGHTS" --output_eval "$OUT/$NAME"

echo "== [4/5] export for Paddle Inference"
"$PYTHON" tools/export_model.py -c "$CONFIG" -o weights="$WEIGHTS" --output_dir "$OUT/inference"

echo "== [5/5] Paddle Inference on held-out images"
"$PYTHON" tools/infer.py --model_dir "$OUT/inference/$NAME" --infer_dir dataset/shapes/test \
  --output_dir "$OUT/pictures" --draw_threshold 0.5 --save_results

"$PYTHON" - "$OUT/$NAME/eval_metrics.json" "$(( $(date +%s) - START ))" <<'PY'
import json, sys
bbox = json.load(open(sys.argv[1]))[-1]["bbox"]
print(f"\nDemo done in {int(sys.argv[2]) // 60} min {int(sys.argv[2]) % 60} s: "
      f"AP {bbox['AP']:.3f}, AP50 {bbox['AP50']:.3f} on 50 validation images")
PY
echo "  metrics:        $OUT/$NAME/eval_metrics.json (and bbox.json)"
echo "  checkpoint:     $WEIGHTS.pdparams"
echo "  exported model: $OUT/inference/$NAME/ (model.json, model.pdiparams, infer_cfg.yml)"
echo "  pictures:       $OUT/pictures/ (e.g. $OUT/pictures/test_0000.jpg), boxes in $OUT/pictures/bbox.json"
