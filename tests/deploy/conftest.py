"""Fixtures for the deploy tests: a tiny shapes dataset (for the label list) and exported tiny
detectors, each exported once per session (ppattn.engine's export; ~10 s each on one core)."""
import pytest

from ppattn.data import make_shapes_dataset

from detectors import export_block


@pytest.fixture(scope="session")
def shapes_data(tmp_path_factory):
    """One train, val and test image of 96 px; the exports read their class names."""
    root = tmp_path_factory.mktemp("shapes")
    make_shapes_dataset(str(root), num_train=1, num_val=1, num_test=1, size=96, seed=1)
    return root


@pytest.fixture(scope="session")
def exported(shapes_data, tmp_path_factory):
    """exported(block, *options) -> (trainer, model folder), built and exported once."""
    cache = {}

    def get(block: str, *options: str):
        key = (block, *options)
        if key not in cache:
            out = tmp_path_factory.mktemp("export_" + "_".join(key).replace("=", "-"))
            cache[key] = export_block(str(shapes_data), str(out), block, *options)
        return cache[key]
    return get
