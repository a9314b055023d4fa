"""ppattn/benchmark/torch_blocks.py: the torch mirrors compute what the ppattn blocks compute.

Skipped without torch (an optional extra). Tolerance: PARITY_RTOL of conftest (float32 both sides).
"""
import numpy as np
import paddle
import pytest

import ppattn

torch = pytest.importorskip("torch")
from ppattn.benchmark.torch_blocks import load_paddle_weights, mirror_of  # noqa: E402

SPECS = [("se", {}), ("ese", {}), ("eca", {}), ("ge", {}), ("ge", {"extent": 2}),
         ("ge", {"extent": 2, "add_maxpool": True, "use_mlp": False}), ("psa", {}),
         ("psa", {"stride": 2})]


@pytest.mark.parametrize("name,kwargs", SPECS)
def test_mirror_matches_block(name, kwargs, rng, parity):
    block = ppattn.build_attention({"name": name, **kwargs}, 64)
    block.eval()
    parity.load_weights(block, parity.random_weights(block, rng))
    mirror = mirror_of(block)
    load_paddle_weights(mirror, block)
    x = parity.random_input(rng, (2, 64, 8, 8)).astype(np.float32)
    with paddle.no_grad(), torch.no_grad():
        want = block(paddle.to_tensor(x)).numpy()
        got = mirror(torch.from_numpy(x)).numpy()
    parity.assert_close(got, want, f"torch mirror of {name} {kwargs}")


def test_learned_gather_has_no_mirror():
    block = ppattn.GatherExcite(16, extra_params=True, extent=2)
    assert mirror_of(block) is None
