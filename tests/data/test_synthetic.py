"""ppattn.data.synthetic: a deterministic COCO-format shapes dataset."""
import json

from ppattn.data import SHAPES, make_shapes_dataset


def _dataset(root, seed=0):
    return make_shapes_dataset(str(root), num_train=6, num_val=3, num_test=2, size=96, seed=seed)


def test_writes_coco_layout_with_three_classes(tmp_path):
    paths = _dataset(tmp_path)
    train = json.load(open(paths["train"]))
    assert [c["name"] for c in train["categories"]] == list(SHAPES) and len(SHAPES) >= 3
    assert len(train["images"]) == 6
    assert len(json.load(open(paths["val"]))["images"]) == 3
    assert sorted(p.name for p in (tmp_path / "test").iterdir()) == ["test_0000.jpg",
                                                                     "test_0001.jpg"]
    for image in train["images"]:
        assert (tmp_path / "images" / image["file_name"]).is_file()


def test_boxes_lie_inside_the_image_and_are_valid_coco(tmp_path):
    train = json.load(open(_dataset(tmp_path)["train"]))
    ids = {image["id"] for image in train["images"]}
    for ann in train["annotations"]:
        x, y, w, h = ann["bbox"]
        assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= 96 and y + h <= 96
        assert ann["image_id"] in ids and ann["category_id"] in (1, 2, 3)
        assert ann["area"] == w * h and ann["iscrowd"] == 0


def test_same_seed_writes_same_dataset_and_other_seed_differs(tmp_path):
    a = json.load(open(_dataset(tmp_path / "a")["train"]))
    b = json.load(open(_dataset(tmp_path / "b")["train"]))
    c = json.load(open(_dataset(tmp_path / "c", seed=1)["train"]))
    assert a == b and a != c


def test_existing_dataset_is_kept_unless_overwrite(tmp_path):
    paths = _dataset(tmp_path)
    with open(paths["train"], "w") as f:
        f.write("{}")
    _dataset(tmp_path)
    assert open(paths["train"]).read() == "{}"
