"""What a trained run costs: export it for Paddle Inference (verified against dygraph, as
tools/export_model.py does), count its parameters, and its FLOPs from the blocks' own counts
(`ppattn.benchmark.models.model_flops`) on the exported model's input."""
from typing import Dict

import paddle

from ..benchmark.models import model_flops
from ..deploy import sample_inputs
from ..engine import build_trainer, export_model, load_config, load_weights_strictly, \
    select_device


def export_and_count(config_path: str, weights: str, export_dir: str) -> Dict:
    """Build the detector of `config_path` with trained `weights`, export it into
    `export_dir`/<config name>/, and return {'export': folder, 'params': ..., 'flops': ...}.

    Raises ExportMismatchError when Paddle Inference disagrees with the dygraph model.
    """
    cfg = load_config(config_path, {"weights": weights})
    select_device(cfg)
    trainer = build_trainer(cfg, "test")
    load_weights_strictly(trainer.model, weights)
    model = trainer.model
    params = int(sum(p.size for p in model.parameters()))
    folder = export_model(trainer, export_dir)
    return {"export": folder, "params": params, "flops": _flops(config_path, weights, folder)}


def _flops(config_path: str, weights: str, folder: str) -> int:
    """FLOPs of one forward pass on the exported model's input, counted in a fresh dygraph
    model: export leaves the traced one running its static program, where no hook fires."""
    cfg = load_config(config_path, {"weights": weights})
    model = build_trainer(cfg, "test").model
    model.eval()
    inputs = {name: paddle.to_tensor(value) for name, value in sample_inputs(folder).items()}
    with paddle.no_grad():
        return int(model_flops(model, lambda: model(inputs)))
