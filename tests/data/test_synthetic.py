"""ppattn.data.synthetic: a deterministic COCO-format shapes dataset."""
import json
import os

from PIL import Image

from ppattn.data import SHAPES, make_shapes_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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


def test_coco_layout_has_coco_folders_names_and_the_chosen_size(tmp_path):
    paths = make_shapes_dataset(str(tmp_path), num_train=3, num_val=2, num_test=1, size=64,
                                height=48, layout="coco")
    assert paths["train"] == str(tmp_path / "annotations" / "instances_train2017.json")
    train, val = json.load(open(paths["train"])), json.load(open(paths["val"]))
    assert [i["file_name"] for i in train["images"]] == [
        "000000000001.jpg", "000000000002.jpg", "000000000003.jpg"]
    assert [i["id"] for i in val["images"]] == [4, 5]   # ids run on across the splits
    assert {(i["width"], i["height"]) for i in train["images"] + val["images"]} == {(64, 48)}
    for folder, data in (("train2017", train), ("val2017", val)):
        for image in data["images"]:
            assert Image.open(tmp_path / folder / image["file_name"]).size == (64, 48)
    assert [p.name for p in (tmp_path / "test2017").iterdir()] == ["000000000006.jpg"]
    for ann in train["annotations"] + val["annotations"]:
        x, y, w, h = ann["bbox"]
        assert x + w <= 64 and y + h <= 48


def test_the_coco_layout_loads_with_the_coco_dataset_config(tmp_path):
    from ppattn.engine import check_config, load_config, parse_overrides
    make_shapes_dataset(str(tmp_path), num_train=2, num_val=1, num_test=1, size=64,
                        layout="coco")
    cfg = load_config(os.path.join(ROOT, "configs/ppyoloe/ppyoloe_crn_s_eca_300e_coco.yml"),
                      parse_overrides([
                          f"TrainDataset.dataset_dir={tmp_path}",
                          f"EvalDataset.dataset_dir={tmp_path}", "num_classes=3"]))
    check_config(cfg, ["TrainDataset", "EvalDataset"])
