"""A tiny shapes dataset for the engine tests (helpers in tiny_runs.py)."""
import pytest

from ppattn.data import make_shapes_dataset


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """16 train, 8 val and 2 test images of 96 px."""
    root = tmp_path_factory.mktemp("shapes")
    make_shapes_dataset(str(root), num_train=16, num_val=8, num_test=2, size=96, seed=1)
    return root
