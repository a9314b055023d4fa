"""Detect objects in image files and draw them: with an exported model (the deploy side's
`DeployPredictor`, Paddle Inference) or with ppdet's Trainer on trained weights.
"""
import json
import os
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw

from ..deploy import DeployPredictor, read_infer_cfg
from .checks import ConfigError

_COLOURS = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
            (70, 240, 240), (240, 50, 230), (210, 245, 60)]


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


def check_infer_cfg(model_dir: str) -> None:
    """Raise ConfigError unless `model_dir`'s infer_cfg.yml is a mapping with a `Preprocess`
    list of `{type: ...}` steps and a `label_list` (what tools/export_model.py writes)."""
    cfg = read_infer_cfg(model_dir)
    path = os.path.join(model_dir, "infer_cfg.yml")
    expected = ("expected a mapping with 'Preprocess' (a list of steps such as {type: Resize, "
                "target_size: [640, 640]}) and 'label_list', as tools/export_model.py writes it; "
                "export the model again")
    if not isinstance(cfg, dict):
        raise ConfigError(f"{path} is {'empty' if cfg is None else type(cfg).__name__}; "
                          f"{expected}")
    if "Preprocess" not in cfg:
        raise ConfigError(f"{path} has no 'Preprocess'; {expected}")
    steps = cfg["Preprocess"]
    if not isinstance(steps, list) or not all(isinstance(s, dict) and "type" in s
                                              for s in steps):
        raise ConfigError(f"{path}: 'Preprocess' is {steps!r}; {expected}")
    if not isinstance(cfg.get("label_list"), list):
        raise ConfigError(f"{path}: 'label_list' is {cfg.get('label_list')!r}; {expected}")


def detect_images(model_dir: str, images: Sequence[str], output_dir: str,
                  threshold: Optional[float] = None, onednn: str = "auto",
                  cpu_threads: int = 1) -> List[Dict]:
    """Detect in every image file with Paddle Inference (oneDNN mode `onednn`, see
    `ppattn.deploy.paddle_inference.create_predictor`); save a picture with boxes for each in `output_dir`.

    Returns one record per image: its path, the picture written and the [N, 6] boxes.
    """
    check_infer_cfg(model_dir)
    detector = DeployPredictor(model_dir, "paddle", cpu_threads=cpu_threads, onednn=onednn)
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
