"""Running ppdet's Trainer from ppattn's tools: config loading and checks, Paddle 3 export and
inference fixes, and evaluation records. The only ppattn code besides the backbones that
imports ppdet."""
from .checks import ConfigError, check_config
from .cli import ArgsParser, image_paths, prepare_config
from .config import load_config, parse_overrides, reset_workspace, select_device
from .evaluation import MetricsRecorder, named_stats
from .export import export_model, patch_multiclass_nms
from .predict import detect_images, draw_boxes, predict_with_trainer, save_detections

__all__ = ["ArgsParser", "ConfigError", "MetricsRecorder", "check_config",
           "detect_images", "draw_boxes", "export_model", "image_paths", "load_config",
           "named_stats", "parse_overrides", "patch_multiclass_nms", "predict_with_trainer", "prepare_config",
           "reset_workspace", "save_detections", "select_device"]
