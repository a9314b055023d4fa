"""Attention maps of a ppdet detector on image files: what tools/attention_maps.py writes.

Images go through the config's TestReader, exactly as in ppdet's `Trainer.predict`, and the model
runs in dygraph. For each image `<stem>` in `output_dir`:

- `<stem>_spatial.png`: the image with each spatial map over it (when the model has any);
- `<stem>_channel.png`: the channel gates, heatmap and histogram (when the model has any);
- `<stem>_summary.json`: per block its maps' numbers (ppattn.analysis.statistics) and the
  blocks without maps, with the reason.
"""
import json
import os
from typing import Dict, Iterator, List, Sequence, Tuple

import cv2
import numpy as np
import paddle

from .attention_maps import AttentionMapsError, BlockMaps, collect_maps
from .plots import plot_channel_gates, plot_spatial_maps
from .statistics import SPATIAL, map_kind, spatial_profile, summarize_blocks


def output_stems(images: Sequence[str]) -> Dict[str, str]:
    """Image path -> the file stem its outputs are named after; two images of one stem
    (a.jpg and a.png) would overwrite each other's outputs, so that is an error."""
    stems: Dict[str, str] = {}
    for path in images:
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem in stems.values():
            other = next(p for p, s in stems.items() if s == stem)
            raise AttentionMapsError(f"images {other!r} and {path!r} share the name {stem!r}, so "
                                     f"their outputs would overwrite each other; rename one")
        stems[path] = stem
    return stems


def read_image(path: str) -> np.ndarray:
    """The image file as RGB uint8 [H, W, 3]."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise AttentionMapsError(f"cannot read image {path!r}: OpenCV cannot decode it; remove "
                                 f"it from the input or convert it to JPEG or PNG")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def reader_batches(trainer, images: Sequence[str]) -> Iterator[Tuple[Dict, List[str]]]:
    """The TestReader's batches of `images` with the image path of each sample."""
    from ppdet.core.workspace import create

    trainer.dataset.set_images(list(images))
    loader = create("TestReader")(trainer.dataset, 0)
    imid2path = trainer.dataset.get_imid2path()
    for data in loader:
        ids = _numpy(data["im_id"]).reshape(-1)
        yield data, [imid2path[int(i)] for i in ids]


def _numpy(value) -> np.ndarray:
    return value.numpy() if isinstance(value, paddle.Tensor) else np.asarray(value)


def visible_part(spatial: np.ndarray, image_hw: Sequence[float],
                 input_hw: Sequence[int]) -> np.ndarray:
    """The part of an [h, w] map over the image: the model input is the resized image
    (`image_hw`, ppdet's im_shape) padded to `input_hw`; the map covers the padded input."""
    h, w = spatial.shape
    rows = max(1, int(round(h * float(image_hw[0]) / input_hw[0])))
    cols = max(1, int(round(w * float(image_hw[1]) / input_hw[1])))
    return spatial[:rows, :cols]


def picture_panels(blocks: Sequence[BlockMaps], sample: int, image_hw, input_hw):
    """(spatial panels, channel panels) of one sample: (title, part of the [h, w] mean map over
    the image) per spatial map and (title, [K] gates) per channel gate, in block order."""
    spatial, channel = [], []
    for entry in blocks:
        for key, value in entry.maps.items():
            one = value[sample]
            if map_kind(one) == SPATIAL:
                mean = f", mean of {one.shape[0]}" if one.shape[0] > 1 else ""
                title = f"{entry.name}\n{key} ({entry.block}{mean})"
                spatial.append((title, visible_part(spatial_profile(one), image_hw, input_hw)))
            else:
                channel.append((f"{entry.name} {key} ({entry.block})", one.ravel()))
    return spatial, channel


def write_image_outputs(path: str, stem: str, blocks: Sequence[BlockMaps], sample: int,
                        image_hw, input_hw, output_dir: str) -> Dict:
    """Write the pictures and the summary of sample `sample` (the image at `path`); return the
    summary, which names the files written."""
    spatial, channel = picture_panels(blocks, sample, image_hw, input_hw)
    base = os.path.join(output_dir, stem)
    pictures = {
        "spatial": (plot_spatial_maps(read_image(path), spatial, f"{base}_spatial.png")
                    if spatial else None),
        "channel": plot_channel_gates(channel, f"{base}_channel.png") if channel else None}
    summary = {"image": path, "input_size": [int(d) for d in input_hw], "pictures": pictures,
               **summarize_blocks(blocks, sample)}
    summary["summary"] = f"{base}_summary.json"
    with open(summary["summary"], "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    return summary


def analyse_images(trainer, images: Sequence[str], output_dir: str) -> List[Dict]:
    """Run `trainer.model` (dygraph, eval mode) on every image and write its outputs (module
    docstring) to `output_dir`. Returns the per-image summaries, in the TestReader's order.

    Raises:
        AttentionMapsError: the model has no attention block, an image cannot be read, two
            images share a name, or a block's maps do not read as per-sample gates.
    """
    stems = output_stems(images)
    for path in images:
        read_image(path)
    os.makedirs(output_dir, exist_ok=True)
    model = trainer.model
    model.eval()
    summaries = []
    for data, paths in reader_batches(trainer, images):
        blocks = collect_maps(model, lambda: model(data))
        input_hw = [int(d) for d in data["image"].shape[2:]]
        image_hw = _numpy(data["im_shape"])
        for sample, path in enumerate(paths):
            summaries.append(write_image_outputs(path, stems[path], blocks, sample,
                                                 image_hw[sample], input_hw, output_dir))
    return summaries
