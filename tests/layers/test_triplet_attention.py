"""TripletAttention against a float64 NumPy restatement of the authors' code, format, errors."""
import numpy as np
import paddle
import pytest

from numpy_reference import ACTIVATIONS, conv2d
from ppattn.layers import TripletAttention
from ppattn.layers.protocol import IDENTITY_GATE
from train_mode import assert_matches_reference_in_training, batch_norm

sigmoid = ACTIVATIONS["sigmoid"]


def triplet_attention(x, w, kernel_size=7, spatial=True, training=False):
    """Misra et al., WACV 2021, as landskape-ai/triplet-attention@096a043 computes it.

    Z-pool(t) = cat[max over axis 1, mean over axis 1];
    gate_b(t) = t * sigmoid(BN_b(conv_b(Z-pool(t)))), padding (k - 1) / 2, no conv bias;
    cw = gate_cw(x.permute(0, 2, 1, 3)).permute(0, 2, 1, 3);
    hc = gate_hc(x.permute(0, 3, 2, 1)).permute(0, 3, 2, 1);
    y = (gate_hw(x) + cw + hc) / 3, or (cw + hc) / 2 without the spatial branch.
    """
    def gate(t, branch):
        z = np.concatenate([t.max(axis=1, keepdims=True), t.mean(axis=1, keepdims=True)], axis=1)
        s = conv2d(z, w[f"{branch}.conv.weight"], padding=(kernel_size - 1) // 2)
        return t * sigmoid(batch_norm(s, w, f"{branch}.bn", training))

    cw = gate(x.transpose(0, 2, 1, 3), "cw").transpose(0, 2, 1, 3)
    hc = gate(x.transpose(0, 3, 2, 1), "hc").transpose(0, 3, 2, 1)
    if not spatial:
        return (cw + hc) / 2
    return (gate(x, "hw") + cw + hc) / 3


CASES = [(8, (1, 8, 7, 9), {}), (16, (3, 16, 13, 13), {}),
         (8, (3, 8, 7, 9), {"kernel_size": 3, "spatial": False}),
         (12, (1, 12, 13, 13), {"kernel_size": 5})]


@pytest.mark.parametrize("channels, shape, kwargs", CASES)
def test_triplet_attention_matches_numpy_reference_in_eval(parity, rng, channels, shape, kwargs):
    block = TripletAttention(channels, **kwargs)
    block.eval()
    parity.assert_matches_reference(block, triplet_attention, shape, rng, **kwargs)


@pytest.mark.parametrize("shape, kwargs", [((3, 4, 7, 9), {"kernel_size": 3}),
                                           ((1, 4, 7, 9), {"spatial": False})])
def test_triplet_attention_matches_numpy_reference_in_training(parity, rng, shape, kwargs):
    # each branch's BN normalises over the batch and its own plane
    assert_matches_reference_in_training(parity, TripletAttention(shape[1], **kwargs),
                                         triplet_attention, shape, rng, **kwargs)


def test_triplet_attention_weight_format():
    shapes = {k: list(v.shape) for k, v in TripletAttention(64).state_dict().items()}
    want = {}
    for branch in ("cw", "hc", "hw"):
        want.update({f"{branch}.conv.weight": [1, 2, 7, 7], f"{branch}.bn.weight": [1],
                     f"{branch}.bn.bias": [1], f"{branch}.bn._mean": [1],
                     f"{branch}.bn._variance": [1]})
    assert shapes == want
    assert {k.split(".")[0] for k in TripletAttention(64, spatial=False).state_dict()} == {
        "cw", "hc"}
    assert TripletAttention(64).cw.bn._momentum == pytest.approx(0.99)


def test_triplet_attention_maps_are_the_gates_of_the_forward_pass(parity, rng):
    block = TripletAttention(8)
    parity.load_weights(block, parity.random_weights(block, rng))
    block.eval()
    x = paddle.to_tensor(parity.random_input(rng, (3, 8, 7, 9)).astype("float32"))
    maps = block.attention_maps(x)
    assert {k: v.shape for k, v in maps.items()} == {"cw": [3, 8, 1, 9], "hc": [3, 8, 7, 1],
                                                     "hw": [3, 1, 7, 9]}
    want = (x * maps["hw"] + x * maps["cw"] + x * maps["hc"]) / 3
    parity.assert_close(block(x).numpy(), want.numpy())


@pytest.mark.parametrize("spatial", [True, False])
@pytest.mark.parametrize("training", [False, True])
def test_triplet_attention_init_identity_passes_the_input_through(parity, rng, spatial, training):
    block = TripletAttention(8, spatial=spatial)
    parity.load_weights(block, parity.random_weights(block, rng))
    block.init_identity()
    block.train() if training else block.eval()
    x = parity.random_input(rng, (3, 8, 7, 9))
    y = block(paddle.to_tensor(x.astype("float32"))).numpy()
    np.testing.assert_allclose(y, IDENTITY_GATE * x, rtol=1e-5, atol=1e-6)
    assert np.all(np.abs(y - x) <= (1 - IDENTITY_GATE) * np.abs(x) + 1e-5)


def test_triplet_attention_flops_follow_the_counting_rules():
    n, c, h, w, k = 2, 16, 5, 7, 7
    elements = n * c * h * w

    def branch(a, b):
        return 3 * elements + n * a * b * 2 * k * k + 3 * n * a * b

    full = branch(c, w) + branch(h, c) + branch(h, w) + 3 * elements
    assert TripletAttention(c).flops([n, c, h, w]) == full
    no_hw = branch(c, w) + branch(h, c) + 2 * elements
    assert TripletAttention(c, spatial=False).flops([n, c, h, w]) == no_hw


@pytest.mark.parametrize("kwargs, match", [
    ({"kernel_size": 6}, "TripletAttention: kernel_size must be odd, got 6"),
    ({"kernel_size": 0}, "TripletAttention: kernel_size must be a positive int, got 0"),
])
def test_triplet_attention_rejects_bad_kernel_size(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TripletAttention(8, **kwargs)


def test_triplet_attention_rejects_input_with_wrong_channel_count():
    with pytest.raises(ValueError, match="TripletAttention: input has 4 channels, but the block "
                                         "was built for 8"):
        TripletAttention(8)(paddle.zeros([1, 4, 5, 5]))
