"""Detect objects with an exported model (see `export.py`) through Paddle Inference.

Preprocessing follows the `infer_cfg.yml` that ppdet writes beside the model (Resize,
NormalizeImage, Permute, PadStride), as PaddleDetection's deploy/python/infer.py does.
"""
import json
import os
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import yaml
from PIL import Image, ImageDraw

import paddle.inference as paddle_infer

_INTERP = {0: cv2.INTER_NEAREST, 1: cv2.INTER_LINEAR, 2: cv2.INTER_CUBIC,
           3: cv2.INTER_AREA, 4: cv2.INTER_LANCZOS4}
_COLOURS = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
            (70, 240, 240), (240, 50, 230), (210, 245, 60)]


def _resize(image: np.ndarray, inputs: Dict, target_size: Sequence[int], keep_ratio: bool,
            interp: int = 1) -> np.ndarray:
    h, w = image.shape[:2]
    if keep_ratio:
        short, long = min(target_size), max(target_size)
        scale = min(short / min(h, w), long / max(h, w))
        scale_y = scale_x = scale
    else:
        scale_y, scale_x = target_size[0] / h, target_size[1] / w
    image = cv2.resize(image, None, fx=scale_x, fy=scale_y, interpolation=_INTERP[interp])
    inputs["scale_factor"] = np.array([scale_y, scale_x], np.float32)
    return image


def preprocess(image: np.ndarray, steps: List[Dict]) -> Dict[str, np.ndarray]:
    """Turn one RGB uint8 [H, W, 3] image into the exported model's inputs (batch of one)."""
    inputs = {"scale_factor": np.ones(2, np.float32)}
    x = image.astype(np.float32)
    for step in steps:
        step = dict(step)
        kind = step.pop("type")
        if kind == "Resize":
            x = _resize(x, inputs, step["target_size"], step.get("keep_ratio", True),
                        step.get("interp", 1))
        elif kind == "NormalizeImage":
            if step.get("is_scale", True):
                x = x / 255.0
            if step.get("norm_type", "mean_std") == "mean_std":
                x = (x - np.array(step["mean"])) / np.array(step["std"])
        elif kind == "Permute":
            x = x.transpose(2, 0, 1)
        elif kind == "PadStride":
            stride = step.get("stride", 0)
            if stride > 0:
                h, w = x.shape[1:]
                padded = np.zeros((x.shape[0], -(-h // stride) * stride, -(-w // stride) * stride),
                                  np.float32)
                padded[:, :h, :w] = x
                x = padded
        else:
            raise ValueError(f"infer_cfg.yml: preprocessing step {kind!r} is not supported; "
                             f"supported: NormalizeImage, PadStride, Permute, Resize")
    inputs["im_shape"] = np.array(image.shape[:2], np.float32) * inputs["scale_factor"]
    inputs["image"] = np.ascontiguousarray(x, np.float32)
    return {name: value[None] for name, value in inputs.items()}


ONEDNN_MODES = ("fused", "off", "on")


def create_predictor(model_dir: str, onednn: str = "fused",
                     cpu_threads: int = 1) -> paddle_infer.Predictor:
    """A CPU predictor for `<model_dir>/model.json` + `model.pdiparams` (Paddle 3's format).

    onednn:
        "on": Paddle's default CPU setup. Paddle 3.3.1 fails on every graph with `F.interpolate`
            (all PP-YOLOE and FPN necks): ``ConvertPirAttribute2RuntimeAttribute not support
            [pir::ArrayAttribute<pir::DoubleAttribute>]``, raised by oneDNN op placement.
        "off": no oneDNN; works, but 4x slower (PP-YOLOE-S backbone, 320 px, 1 thread:
            184 ms against 45 ms).
        "fused" (default): oneDNN with its op-placement pass removed; its conv/BN/activation
            fusions still apply. Works on every graph, same outputs as "off" (1e-7), fastest.
    """
    if onednn not in ONEDNN_MODES:
        raise ValueError(f"onednn must be one of {', '.join(ONEDNN_MODES)}, got {onednn!r}")
    prefix = os.path.join(model_dir, "model")
    for path in (prefix + ".json", prefix + ".pdiparams"):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no exported model file {path!r}; export with "
                                    f"tools/export_model.py (Paddle 3 writes model.json)")
    config = paddle_infer.Config(prefix + ".json", prefix + ".pdiparams")
    config.disable_glog_info()
    config.set_cpu_math_library_num_threads(cpu_threads)
    if onednn == "off":
        config.disable_onednn()
    else:
        config.enable_onednn()
        if onednn == "fused":
            config.delete_pass("onednn_placement_pass")
    return paddle_infer.create_predictor(config)


class Detector:
    """An exported detector run by Paddle Inference on the CPU.

    Args:
        model_dir: folder with model.json, model.pdiparams and infer_cfg.yml.
        onednn: "fused" (default), "off" or "on"; see `create_predictor`.
        cpu_threads: intra-op threads.
    """

    def __init__(self, model_dir: str, onednn: str = "fused", cpu_threads: int = 1):
        cfg_path = os.path.join(model_dir, "infer_cfg.yml")
        if not os.path.isfile(cfg_path):
            raise FileNotFoundError(f"no {cfg_path!r}; export the model with "
                                    f"tools/export_model.py first")
        with open(cfg_path, encoding="utf-8") as f:
            infer_cfg = yaml.safe_load(f)
        self.preprocess_steps = infer_cfg["Preprocess"]
        self.labels = infer_cfg.get("label_list", [])
        self.draw_threshold = infer_cfg.get("draw_threshold", 0.5)
        self.predictor = create_predictor(model_dir, onednn, cpu_threads)

    def predict(self, image: np.ndarray) -> np.ndarray:
        """Detect in one RGB uint8 image; return [N, 6] rows of (class, score, x1, y1, x2, y2)
        in the image's pixel coordinates, best first."""
        inputs = preprocess(image, self.preprocess_steps)
        for name in self.predictor.get_input_names():
            self.predictor.get_input_handle(name).copy_from_cpu(inputs[name])
        self.predictor.run()
        outputs = [self.predictor.get_output_handle(name).copy_to_cpu()
                   for name in self.predictor.get_output_names()]
        boxes, count = outputs[0], int(outputs[1][0])
        boxes = boxes[:count]
        return boxes[np.argsort(-boxes[:, 1])] if len(boxes) else boxes.reshape(0, 6)


def draw_boxes(image: np.ndarray, boxes: np.ndarray, labels: Sequence[str],
               threshold: float = 0.5) -> Image.Image:
    """Draw the boxes scoring at least `threshold` with their label and score."""
    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    for cls, score, x1, y1, x2, y2 in boxes:
        if score < threshold:
            continue
        colour = _COLOURS[int(cls) % len(_COLOURS)]
        name = labels[int(cls)] if int(cls) < len(labels) else str(int(cls))
        draw.rectangle([x1, y1, x2, y2], outline=colour, width=2)
        draw.text((x1 + 2, max(y1 - 11, 0)), f"{name} {score:.2f}", fill=colour)
    return picture


def read_rgb(path: str) -> np.ndarray:
    """Read an image file as RGB uint8 [H, W, 3]."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read image {path!r}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def detect_images(model_dir: str, images: Sequence[str], output_dir: str,
                  threshold: Optional[float] = None, onednn: str = "fused",
                  cpu_threads: int = 1) -> List[Dict]:
    """Detect in every image file, save a picture with boxes for each in `output_dir`.

    Returns one record per image: its path, the picture written and the [N, 6] boxes.
    """
    detector = Detector(model_dir, onednn=onednn, cpu_threads=cpu_threads)
    threshold = detector.draw_threshold if threshold is None else threshold
    os.makedirs(output_dir, exist_ok=True)
    records = []
    for path in images:
        image = read_rgb(path)
        boxes = detector.predict(image)
        picture_path = os.path.join(output_dir, os.path.basename(path))
        draw_boxes(image, boxes, detector.labels, threshold).save(picture_path)
        records.append({"image": path, "picture": picture_path, "boxes": boxes})
    return records


def save_detections(records: Sequence[Dict], path: str) -> None:
    """Write `detect_images` records as JSON: per image, boxes as {category, score, bbox}."""
    out = [{"image": r["image"],
            "detections": [{"category_id": int(b[0]), "score": float(b[1]),
                            "bbox": [float(b[2]), float(b[3]), float(b[4] - b[2]),
                                     float(b[5] - b[3])]} for b in r["boxes"]]}
           for r in records]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)


def predict_with_trainer(trainer, images: Sequence[str], output_dir: str,
                         threshold: float = 0.5, save_results: bool = False) -> List[str]:
    """Dygraph inference with ppdet's Trainer; draw the boxes ourselves and return the pictures.

    ppdet 2.6.0's own drawing calls `ImageDraw.textsize`, which Pillow 10 removed.
    """
    from ppdet.data.source.category import get_categories

    results = trainer.predict(list(images), draw_threshold=threshold, output_dir=output_dir,
                              save_results=save_results, visualize=False)
    clsid2catid, catid2name = get_categories(trainer.cfg.metric, trainer.dataset.get_anno())
    labels = [catid2name[clsid2catid[i]] for i in sorted(clsid2catid)]
    imid2path = trainer.dataset.get_imid2path()
    pictures = []
    for outs in results:
        start = 0
        for im_id, count in zip(outs["im_id"].reshape(-1), outs["bbox_num"]):
            path = imid2path[int(im_id)]
            boxes = outs["bbox"][start:start + int(count)]
            start += int(count)
            pictures.append(os.path.join(output_dir, os.path.basename(path)))
            draw_boxes(read_rgb(path), boxes, labels, threshold).save(pictures[-1])
    return pictures
