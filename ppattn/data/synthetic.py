"""A small synthetic detection dataset in COCO format: coloured shapes on textured backgrounds.

The demo and the pipeline tests train on it where COCO is absent. Everything derives from one
seed, so a given (seed, counts, size) always writes the same pixels and boxes. Layout:

    <root>/images/{train,val}_NNNN.jpg   <root>/annotations/{train,val}.json
    <root>/test/test_NNNN.jpg            held-out images for inference, never trained on
"""
import json
import os
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("ellipse", "rectangle", "triangle")
Box = Tuple[float, float, float, float]  # x, y, w, h as in COCO


def _background(rng: np.random.Generator, size: int) -> Image.Image:
    """Return a textured RGB background: a colour gradient, stripes and noise."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = rng.uniform(40, 215, size=3)
    tilt = rng.uniform(-60, 60, size=(2, 3))
    period = rng.uniform(6, 24)
    angle = rng.uniform(0, np.pi)
    stripes = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * size * 2 * np.pi / period)
    image = (base + xx[..., None] * tilt[0] + yy[..., None] * tilt[1]
             + stripes[..., None] * rng.uniform(5, 25)
             + rng.normal(0, 8, size=(size, size, 3)))
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))


def _iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, box: Box, colour: Tuple[int, ...]) -> None:
    x, y, w, h = box
    if shape == "ellipse":
        draw.ellipse([x, y, x + w - 1, y + h - 1], fill=colour)
    elif shape == "rectangle":
        draw.rectangle([x, y, x + w - 1, y + h - 1], fill=colour)
    else:
        draw.polygon([(x + w / 2, y), (x + w - 1, y + h - 1), (x, y + h - 1)], fill=colour)


def draw_sample(rng: np.random.Generator, size: int = 160,
                max_objects: int = 4) -> Tuple[Image.Image, List[Tuple[int, Box]]]:
    """Draw one image; return it and its objects as (category index into SHAPES, box)."""
    image = _background(rng, size)
    draw = ImageDraw.Draw(image)
    objects: List[Tuple[int, Box]] = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        for _attempt in range(20):
            side = float(rng.integers(size // 7, size // 2.5))
            aspect = rng.uniform(0.8, 1.25)
            w, h = round(side * aspect), round(side / aspect)
            x, y = float(rng.integers(0, size - w)), float(rng.integers(0, size - h))
            if all(_iou((x, y, w, h), other) < 0.1 for _, other in objects):
                break
        else:
            continue
        category = int(rng.integers(len(SHAPES)))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        _draw_shape(draw, SHAPES[category], (x, y, w, h), colour)
        objects.append((category, (x, y, float(w), float(h))))
    return image, objects


def _coco_json(records: List[Dict], size: int) -> Dict:
    images, annotations = [], []
    for image_id, (file_name, objects) in enumerate(records, start=1):
        images.append({"id": image_id, "file_name": file_name, "width": size, "height": size})
        for category, box in objects:
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": category + 1, "bbox": list(box),
                                "area": box[2] * box[3], "iscrowd": 0})
    categories = [{"id": i + 1, "name": name, "supercategory": "shape"}
                  for i, name in enumerate(SHAPES)]
    return {"images": images, "annotations": annotations, "categories": categories}


def make_shapes_dataset(root: str, num_train: int = 200, num_val: int = 50, num_test: int = 8,
                        size: int = 160, seed: int = 0, overwrite: bool = False) -> Dict[str, str]:
    """Write the dataset under `root` unless a complete one is already there.

    Returns the paths of the train/val annotation files and the test image folder.
    """
    paths = {"train": os.path.join(root, "annotations", "train.json"),
             "val": os.path.join(root, "annotations", "val.json"),
             "test": os.path.join(root, "test")}
    if not overwrite and all(os.path.exists(p) for p in paths.values()):
        return paths
    for sub in ("images", "annotations", "test"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, count in (("train", num_train), ("val", num_val), ("test", num_test)):
        records = []
        for i in range(count):
            image, objects = draw_sample(rng, size)
            file_name = f"{split}_{i:04d}.jpg"
            folder = "test" if split == "test" else "images"
            image.save(os.path.join(root, folder, file_name), quality=95)
            records.append((file_name, objects))
        if split != "test":
            with open(paths[split], "w", encoding="utf-8") as f:
                json.dump(_coco_json(records, size), f)
    return paths
