"""Export a trained detector for Paddle Inference under Paddle 3, where ppdet 2.6.0's fails.

`ppdet.engine.Trainer.export` stops twice under Paddle 3.3:
1. ``Can't call main_program when full_graph=False``: Paddle 3 traces with SOT (partial graphs)
   unless asked otherwise, and ppdet reads `main_program` of the traced function to prune the
   inputs. We trace with `full_graph=True`.
2. ``The type of '%BBoxes' in operator multiclass_nms3 should be one of [str, bytes, Variable]``:
   fixed by the `multiclass_nms` patch (`ppattn.detection.fixes`, fix 5).
3. `paddle.jit.save` refuses inputs the graph does not read (`used_inputs` drops them).
The neck's 2x nearest upsampling is traced without `interpolate`
(`ppattn.deploy.interpolate_free_upsampling`, same values), so that Paddle Inference can place
the whole detector on oneDNN (the "placed" mode, about twice as fast as "fused" on a CPU).
The result is Paddle 3's format: `model.json` (the PIR graph), `model.pdiparams` and ppdet's
`infer_cfg.yml` (preprocessing and labels) in `<output_dir>/<config name>/`.

Every export is then verified: the saved model runs in the runtime ppattn recommends (Paddle
Inference, oneDNN "auto") and in dygraph on the same input of the model's size, and the two
must agree (`ppattn.deploy.compare_outputs`). A Paddle pass once computed wrong detections on
AVX-512 CPUs only; this check is what catches such a machine-specific fault where it runs.
"""
import os

import numpy as np
import paddle
from ppdet.utils.logger import setup_logger

from ..deploy import Comparison, compare_outputs, interpolate_free_upsampling, onednn_mode_of, \
    open_runtime, sample_inputs

logger = setup_logger("ppattn.export")


class ExportMismatchError(RuntimeError):
    """The exported model, run in the recommended runtime, disagrees with the dygraph model."""


def used_inputs(static_model, input_spec):
    """Return `input_spec` without the inputs the traced graph never reads.

    PP-YOLOE ignores `im_shape`; `paddle.jit.save` under PIR refuses a feed that no output
    depends on, where ppdet pruned it with old-IR program calls that PIR lacks.
    """
    program = static_model.forward.concrete_program.main_program
    unused = {op.attrs()["name"] for op in program.global_block().ops
              if op.name() == "pd_op.data" and op.result(0).use_empty()}
    return [{name: spec for name, spec in specs.items() if name not in unused}
            for specs in input_spec]


def verify_export(model, save_dir: str) -> Comparison:
    """Compare the model saved in `save_dir`, run by Paddle Inference with ppattn's default
    oneDNN mode ("auto", `onednn_mode_of` says which it picks), with the dygraph `model` on one
    random image resized to the model's input."""
    feeds = sample_inputs(save_dir)
    exported = open_runtime(save_dir, "paddle").run(feeds)
    model.eval()
    with paddle.no_grad():
        outputs = model({name: paddle.to_tensor(value) for name, value in feeds.items()})
    # jit.save returns a dict's values sorted by key: bbox, then bbox_num
    dygraph = [np.asarray(outputs[key].numpy()) for key in sorted(outputs)]
    return compare_outputs(dygraph, exported)


def export_model(trainer, output_dir: str = "output_inference") -> str:
    """Export `trainer.model` (weights already loaded), verify it, and return the folder written.

    Does what `Trainer.export` does (deploy mode, infer_cfg.yml, dy2st, jit.save), with the
    Paddle 3 fixes above. The folder is named after the config file, as ppdet names it. Raises
    ExportMismatchError, with the largest differences, when the verification fails.
    """
    trainer.model.eval()
    save_dir = os.path.join(output_dir, trainer.cfg.filename)
    os.makedirs(save_dir, exist_ok=True)
    # ppdet sets deploy flags, dumps infer_cfg.yml and returns the input spec; with
    # prune_input=False it skips its own dy2st, which is the step that fails
    _, input_spec = trainer._get_infer_cfg_and_input_spec(save_dir, prune_input=False)
    with interpolate_free_upsampling():
        static_model = paddle.jit.to_static(trainer.model, input_spec=input_spec,
                                            full_graph=True)
        paddle.jit.save(static_model, os.path.join(save_dir, "model"),
                        input_spec=used_inputs(static_model, input_spec))
    logger.info(f"Exported model saved in {save_dir}")
    result = verify_export(trainer.model, save_dir)
    if not result.passed:
        raise ExportMismatchError(
            f"the exported model in {save_dir} gives other outputs in Paddle Inference than "
            f"the dygraph model: {result.summary()}. Do not deploy it; try "
            f"`tools/infer.py --model_dir {save_dir} --onednn off` and report the CPU")
    logger.info(f"Verified: Paddle Inference (oneDNN {onednn_mode_of(save_dir)}) vs dygraph: "
                f"{result.summary()}")
    return save_dir
