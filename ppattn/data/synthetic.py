"""A small synthetic detection dataset in COCO format: coloured shapes on textured backgrounds.

The demo and the pipeline tests train on it where COCO is absent. Everything derives from one
seed, so a given (seed, counts, size) always writes the same pixels and boxes. Two layouts:

  "shapes" (the demo's configs/demo/shapes_detection.yml):
    <root>/images/{train,val}_NNNN.jpg   <root>/annotations/{train,val}.json
    <root>/test/test_NNNN.jpg            held-out images for inference, never trained on
  "coco" (COCO 2017's, which configs/datasets/coco_detection.yml reads; image ids run on
  across the splits and name the files, as in COCO):
    <root>/{train2017,val2017,test2017}/000000000001.jpg ...
    <root>/annotations/instances_{train,val}2017.json
"""
import json
import os
from typing import Dict, List, Optional, Tuple

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("ellipse", "rectangle", "triangle")
Box = Tuple[float, float, float, float]  # x, y, w, h as in COCO


def _background(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Return a textured RGB background: a colour gradient, stripes and noise."""
    size = min(width, height)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32) / size
    base = rng.uniform(40, 215, size=3)
    tilt = rng.uniform(-60, 60, size=(2, 3))
    period = rng.uniform(6, 24)
    angle = rng.uniform(0, np.pi)
    stripes = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * size * 2 * np.pi / period)
    image = (base + xx[..., None] * tilt[0] + yy[..., None] * tilt[1]
             + stripes[..., None] * rng.uniform(5, 25)
             + rng.normal(0, 8, size=(height, width, 3)))
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


def draw_sample(rng: np.random.Generator, size: int = 160, max_objects: int = 4,
                height: Optional[int] = None) -> Tuple[Image.Image, List[Tuple[int, Box]]]:
    """Draw one image `size` wide and `height` (default `size`) high; return it and its
    objects as (category index into SHAPES, box). Shapes scale with the shorter side."""
    width, height = size, height or size
    size = min(width, height)
    image = _background(rng, width, height)
    draw = ImageDraw.Draw(image)
    objects: List[Tuple[int, Box]] = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        for _attempt in range(20):
            side = float(rng.integers(size // 7, size // 2.5))
            aspect = rng.uniform(0.8, 1.25)
            w, h = round(side * aspect), round(side / aspect)
            x, y = float(rng.integers(0, width - w)), float(rng.integers(0, height - h))
            if all(_iou((x, y, w, h), other) < 0.1 for _, other in objects):
                break
        else:
            continue
        category = int(rng.integers(len(SHAPES)))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        _draw_shape(draw, SHAPES[category], (x, y, w, h), colour)
        objects.append((category, (x, y, float(w), float(h))))
    return image, objects


def _coco_json(records: List[Tuple[int, str, list]], width: int, height: int) -> Dict:
    images, annotations = [], []
    for image_id, file_name, objects in records:
        images.append({"id": image_id, "file_name": file_name, "width": width,
                       "height": height})
        for category, box in objects:
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": category + 1, "bbox": list(box),
                                "area": box[2] * box[3], "iscrowd": 0})
    categories = [{"id": i + 1, "name": name, "supercategory": "shape"}
                  for i, name in enumerate(SHAPES)]
    return {"images": images, "annotations": annotations, "categories": categories}


LAYOUTS = ("shapes", "coco")


def _layout_paths(root: str, layout: str) -> Dict[str, str]:
    """Annotation files, image folders and the test folder of a layout."""
    if layout == "coco":
        return {"train": os.path.join(root, "annotations", "instances_train2017.json"),
                "val": os.path.join(root, "annotations", "instances_val2017.json"),
                "test": os.path.join(root, "test2017"),
                "train_images": os.path.join(root, "train2017"),
                "val_images": os.path.join(root, "val2017")}
    return {"train": os.path.join(root, "annotations", "train.json"),
            "val": os.path.join(root, "annotations", "val.json"),
            "test": os.path.join(root, "test"),
            "train_images": os.path.join(root, "images"),
            "val_images": os.path.join(root, "images")}


def make_shapes_dataset(root: str, num_train: int = 200, num_val: int = 50, num_test: int = 8,
                        size: int = 160, seed: int = 0, overwrite: bool = False,
                        layout: str = "shapes", height: Optional[int] = None) -> Dict[str, str]:
    """Write the dataset under `root` unless a complete one is already there.

    Images are `size` wide and `height` (default `size`) high. `layout` is "shapes" or "coco"
    (see the module docstring). Returns the paths of the train/val annotation files, the test
    image folder and the train/val image folders.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    height = height or size
    paths = _layout_paths(root, layout)
    if not overwrite and all(os.path.exists(paths[k]) for k in ("train", "val", "test")):
        return paths
    for folder in {os.path.dirname(paths["train"]), *(paths[k] for k in
                                                      ("test", "train_images", "val_images"))}:
        os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    image_id = 0
    for split, count in (("train", num_train), ("val", num_val), ("test", num_test)):
        folder = paths["test" if split == "test" else f"{split}_images"]
        records = []
        for i in range(count):
            image, objects = draw_sample(rng, size, height=height)
            image_id += 1
            file_name = f"{image_id:012d}.jpg" if layout == "coco" else f"{split}_{i:04d}.jpg"
            image.save(os.path.join(folder, file_name), quality=95)
            records.append((image_id if layout == "coco" else i + 1, file_name, objects))
        if split != "test":
            with open(paths[split], "w", encoding="utf-8") as f:
                json.dump(_coco_json(records, size, height), f)
    return paths
