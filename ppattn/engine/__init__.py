"""Running ppdet's Trainer from ppattn's tools: config loading and checks, Paddle 3 export and
inference fixes, and evaluation records. The only ppattn code besides the backbones that
imports ppdet."""
from .. import detection  # noqa: F401  (the tools' configs name ppattn's components)
from .checkpoints import CheckpointError, check_snapshot, read_state
from .checks import ConfigError, check_config, check_num_classes
from .cli import ArgsParser, check_output_dir, image_paths, prepare_config, run_main
from .config import load_config, parse_overrides, reset_workspace, select_device
from .data_checks import DataError, build_trainer
from .evaluation import MetricsRecorder, named_stats
from .export import ExportMismatchError, export_model, verify_export
from .predict import detect_images, draw_boxes, predict_with_trainer, save_detections
from .weights import WeightsMismatchError, check_weights_fit, load_weights_strictly

__all__ = ["ArgsParser", "CheckpointError", "ConfigError", "DataError", "ExportMismatchError",
           "MetricsRecorder", "WeightsMismatchError", "build_trainer", "check_config",
           "check_num_classes",
           "check_output_dir", "check_snapshot", "check_weights_fit", "detect_images",
           "draw_boxes", "export_model", "image_paths", "load_config", "load_weights_strictly",
           "named_stats", "parse_overrides", "predict_with_trainer",
           "prepare_config", "read_state", "reset_workspace", "run_main", "save_detections",
           "select_device", "verify_export"]
