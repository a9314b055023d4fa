"""Command-line plumbing shared by tools/: PaddleDetection's `-c`/`-o` conventions.

`python tools/train.py -c configs/x.yml -o epoch=3 TrainReader.batch_size=4` loads x.yml with its
`_BASE_` chain, applies the overrides (nested keys with dots, values read as YAML), falls back
to the CPU where Paddle has no CUDA, and checks the result before anything is built.
"""
import argparse
import glob
import math
import os
import sys
from typing import Callable, Iterable, List, Optional, Sequence

from ppdet.engine import init_parallel_env
from ppdet.utils.cli import merge_args

from ..detection.safe_loading import UnsafeFileError
from .checks import ConfigError, check_config
from .checkpoints import CheckpointError
from .config import load_config, parse_overrides, select_device
from .data_checks import DataError, check_images
from .pretrained import DownloadError
from .weights import WeightsMismatchError

# what a user can fix from the message alone: shown without a traceback
USER_ERRORS = (ConfigError, CheckpointError, DataError, DownloadError, WeightsMismatchError,
               UnsafeFileError, FileNotFoundError, FileExistsError)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


class ArgsParser(argparse.ArgumentParser):
    """`-c CONFIG` and `-o key=value ...`, as in PaddleDetection's tools.

    After `parse_args`, `args.opt` is the nested dict of overrides.
    """

    def __init__(self, description: str = "", config_required: bool = True):
        super().__init__(description=description,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
        self.config_required = config_required
        self.add_argument("-c", "--config", help="YAML config file (its _BASE_ files are read too)")
        self.add_argument("-o", "--opt", nargs="*", default=[], metavar="KEY=VALUE",
                          help="override config keys, e.g. -o epoch=3 TrainReader.batch_size=4")

    def parse_args(self, args: Optional[List[str]] = None, namespace=None):
        parsed = super().parse_args(args, namespace)
        if self.config_required and not parsed.config:
            self.error("-c/--config is required")
        try:
            parsed.opt = parse_overrides(parsed.opt)
        except ValueError as error:
            self.error(str(error))
        return parsed


def int_in(low: int, high: Optional[int] = None) -> Callable[[str], int]:
    """An argparse `type`: an integer from `low` to `high` (no upper bound if None)."""
    accepted = f"an integer from {low} to {high}" if high is not None else \
        f"an integer >= {low}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {accepted}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {accepted}, got {value}")
        return value
    return parse


def float_in(low: float, high: float) -> Callable[[str], float]:
    """An argparse `type`: a number from `low` to `high` (so not nan or inf)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not low <= value <= high:  # false for nan
            raise argparse.ArgumentTypeError(f"must be a number from {low} to {high}, got "
                                             f"{text!r}")
        return value
    return parse


def prepare_config(args: argparse.Namespace, datasets: Iterable[str] = ()):
    """Load and check `args.config` with `args.opt`, merge the other flags, pick the device.

    Flags land in the config under their own names (`amp`, `use_vdl`, ...) where ppdet's
    Trainer reads them, as PaddleDetection's tools do.
    """
    cfg = load_config(args.config, args.opt)
    check_config(cfg, datasets)
    merge_args(cfg, args, exclude_args=["config", "opt"])
    select_device(cfg)
    return cfg


def image_paths(infer_img: Optional[str] = None, infer_dir: Optional[str] = None) -> List[str]:
    """The images named by --infer_img (preferred) or found in --infer_dir, sorted; a file
    that is not an image raises DataError naming it (ppdet's reader would hang on it)."""
    if infer_img:
        if not os.path.isfile(infer_img):
            raise FileNotFoundError(f"--infer_img {infer_img!r} is not a file")
        check_images([infer_img], "--infer_img")
        return [infer_img]
    if not infer_dir:
        raise ValueError("give --infer_img IMAGE or --infer_dir FOLDER")
    if not os.path.isdir(infer_dir):
        raise FileNotFoundError(f"--infer_dir {infer_dir!r} is not a folder")
    paths = sorted(p for p in glob.glob(os.path.join(infer_dir, "*"))
                   if p.lower().endswith(IMAGE_EXTENSIONS))
    if not paths:
        raise FileNotFoundError(f"--infer_dir {infer_dir!r} has no {'/'.join(IMAGE_EXTENSIONS)} "
                                f"images")
    check_images(paths, "--infer_dir")
    return paths


def infer_output_dir(config: Optional[str] = None, model_dir: Optional[str] = None) -> str:
    """tools/infer.py's default --output_dir, named after the model so that runs of two models,
    or of one model's trained weights and its export, keep their pictures apart:
    output/infer/<config name> or output/infer/<exported folder name>_paddle_inference."""
    if model_dir:
        name = os.path.basename(os.path.normpath(model_dir)) + "_paddle_inference"
    else:
        name = os.path.splitext(os.path.basename(config or "model"))[0]
    return os.path.join("output", "infer", name)


def check_output_dir(images: Sequence[str], output_dir: str) -> None:
    """Refuse an --output_dir where a picture with boxes would overwrite an input image."""
    clashes = [path for path in images if os.path.realpath(path) ==
               os.path.realpath(os.path.join(output_dir, os.path.basename(path)))]
    if clashes:
        names = ", ".join(os.path.basename(p) for p in clashes[:5])
        more = f" and {len(clashes) - 5} more" if len(clashes) > 5 else ""
        raise FileExistsError(f"--output_dir {output_dir!r} holds the input images: the pictures "
                              f"with boxes would overwrite {names}{more}; choose another "
                              f"--output_dir")


def init_parallel() -> None:
    """ppdet's `init_parallel_env`, in a distributed run only (paddle.distributed.launch sets
    PADDLE_TRAINERS_NUM): in one process it sets nothing up and prints Paddle's three-line
    'Modified FLAGS detected' block."""
    if int(os.environ.get("PADDLE_TRAINERS_NUM", "1")) > 1:
        init_parallel_env()


def run_main(main: Callable[[], None]) -> None:
    """Run a tool's `main`; a problem the user can fix ends it with the message and status 1."""
    try:
        main()
    except USER_ERRORS as error:
        sys.exit(f"error: {error}")
