"""GatherExcite against float64 NumPy (BN in eval mode), train mode, weight format and errors."""
import numpy as np
import paddle
import pytest

import numpy_reference as ref
from ppattn.layers import GatherExcite
from ppattn.layers.gather_excite import ge_rd_channels

# (channels, input shape, GatherExcite kwargs); the id names the gather mode.
GE_CASES = {
    "mean": (20, (3, 20, 7, 9), {}),
    "mean+max": (64, (1, 64, 7, 9), {"add_maxpool": True}),
    "mean-no-mlp": (4, (1, 4, 13, 13), {"use_mlp": False}),
    "avg-extent2": (12, (1, 12, 13, 13), {"extent": 2}),
    "avg+max-extent4": (20, (1, 20, 7, 9), {"extent": 4, "add_maxpool": True, "act": "swish"}),
    "avg+max-extent2-no-mlp": (4, (3, 4, 7, 9), {"extent": 2, "add_maxpool": True,
                                                 "use_mlp": False}),
    "conv-extent2-bn": (20, (3, 20, 7, 9), {"extent": 2, "extra_params": True}),
    "conv-extent4-bn": (12, (1, 12, 13, 13), {"extent": 4, "extra_params": True,
                                              "rd_channels": 6, "gate": "hardsigmoid"}),
    "conv-extent4-no-bn": (20, (1, 20, 7, 9), {"extent": 4, "extra_params": True, "norm": False,
                                               "act": "hardswish"}),
    "conv-extent2-no-bn-no-mlp": (4, (1, 4, 13, 13), {"extent": 2, "extra_params": True,
                                                      "norm": False, "use_mlp": False}),
    "conv-global-equal-bn": (20, (3, 20, 7, 7), {"feat_size": 7, "extra_params": True}),
    "conv-global-equal-no-bn": (64, (1, 64, 7, 7), {"feat_size": 7, "extra_params": True,
                                                    "norm": False, "rd_ratio": 1 / 4,
                                                    "rd_divisor": 8}),
    "conv-global-larger-bn": (8, (1, 8, 13, 13), {"feat_size": 7, "extra_params": True}),
    "conv-global-larger-7x9": (20, (3, 20, 7, 9), {"feat_size": 7, "extra_params": True,
                                                   "use_mlp": False}),
}


@pytest.mark.parametrize("channels, shape, kwargs", GE_CASES.values(), ids=GE_CASES.keys())
def test_gather_excite_matches_numpy_reference_in_eval_mode(parity, rng, channels, shape,
                                                            kwargs):
    block = GatherExcite(channels, **kwargs)
    block.eval()                                       # BN uses the random running statistics
    reference_kwargs = {k: v for k, v in kwargs.items()
                        if k not in ("rd_ratio", "rd_channels", "rd_divisor")}
    parity.assert_matches_reference(block, ref.gather_excite, shape, rng, **reference_kwargs)


@pytest.mark.parametrize("kwargs", [{"extent": 4, "extra_params": True},
                                    {"feat_size": 7, "extra_params": True}],
                         ids=["conv-extent4", "conv-global"])
def test_gather_excite_train_mode_keeps_shape_and_every_param_learns(kwargs):
    block = GatherExcite(20, **kwargs)
    block.train()
    x = paddle.randn([3, 20, 13, 13])
    x.stop_gradient = False
    y = block(x)
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and np.isfinite(x.grad.numpy()).all()
    # Paddle lists BN running statistics among parameters, with stop_gradient set
    assert all(p.grad is not None for p in block.parameters() if not p.stop_gradient)


@pytest.mark.parametrize("rd_ratio, rd_divisor", [(1 / 16, 1), (1 / 4, 8), (1 / 8, 4), (0.3, 3)])
def test_ge_rd_channels_rounds_to_the_divisor(rd_ratio, rd_divisor):
    for channels in range(1, 513):
        assert ge_rd_channels(channels, rd_ratio, rd_divisor) == ref.ge_rd_channels(
            channels, rd_ratio, rd_divisor), f"C={channels}"


def test_gather_excite_rd_channels_overrides_the_ratio():
    assert GatherExcite(64, rd_channels=6).state_dict()["mlp.fc1.bias"].shape == [6]


def _shapes(block):
    return {key: list(value.shape) for key, value in block.state_dict().items()}


def test_gather_excite_weight_format_learned_extent4_with_norm():
    bn = {f"gather.norm{i}.{name}": [64] for i in (1, 2)
          for name in ("weight", "bias", "_mean", "_variance")}
    assert _shapes(GatherExcite(64, extent=4, extra_params=True)) == {
        "gather.conv1.weight": [64, 1, 3, 3], "gather.conv2.weight": [64, 1, 3, 3], **bn,
        "mlp.fc1.weight": [4, 64, 1, 1], "mlp.fc1.bias": [4],
        "mlp.fc2.weight": [64, 4, 1, 1], "mlp.fc2.bias": [64]}


def test_gather_excite_weight_format_learned_global_without_norm_or_mlp():
    assert _shapes(GatherExcite(20, feat_size=7, extra_params=True, norm=False,
                                use_mlp=False)) == {"gather.conv1.weight": [20, 1, 7, 7]}


def test_gather_excite_weight_format_parameter_free():
    assert _shapes(GatherExcite(20, extent=2, use_mlp=False)) == {}


@pytest.mark.parametrize("extent", [3, 6, -2])
def test_gather_excite_rejects_extent_that_is_not_a_power_of_two(extent):
    with pytest.raises(ValueError, match=f"GatherExcite: extent must be 0 or a power of two, "
                                         f"got {extent}"):
        GatherExcite(16, extent=extent)


def test_gather_excite_rejects_add_maxpool_with_extra_params():
    with pytest.raises(ValueError, match="GatherExcite: add_maxpool works only without "
                                         "extra_params"):
        GatherExcite(16, extent=2, extra_params=True, add_maxpool=True)


def test_gather_excite_rejects_learned_global_gather_without_feat_size():
    with pytest.raises(ValueError, match="needs feat_size, got None"):
        GatherExcite(16, extra_params=True)


@pytest.mark.parametrize("height, width", [(5, 5), (7, 5), (5, 9)])
def test_gather_excite_rejects_input_smaller_than_feat_size(height, width):
    block = GatherExcite(16, feat_size=7, extra_params=True)
    with pytest.raises(ValueError, match=f"GatherExcite: input {height}x{width} is smaller than "
                                         f"feat_size 7"):
        block(paddle.zeros([1, 16, height, width]))


def test_gather_excite_rejects_input_with_wrong_channel_count():
    with pytest.raises(ValueError, match="input has 8 channels, but the block was built for 16"):
        GatherExcite(16, extent=2)(paddle.zeros([1, 8, 7, 7]))


@pytest.mark.parametrize("argument", ["act", "gate"])
def test_gather_excite_rejects_unknown_activation_names(argument):
    with pytest.raises(ValueError, match=f"GatherExcite: unknown {argument} 'relu7'; known: "):
        GatherExcite(16, **{argument: "relu7"})


@pytest.mark.parametrize("kwargs, ops", [
    ({"extent": 2}, ("conv2d", "sigmoid")),
    ({"extent": 2, "extra_params": True}, ("conv2d", "sigmoid")),
], ids=["avg-extent2", "conv-extent2"])
def test_gather_excite_accepts_float16_input(parity, rng, kwargs, ops):
    block = GatherExcite(20, **kwargs)
    block.eval()
    parity.assert_float16_matches(block, ref.gather_excite, (1, 20, 7, 9), rng, ops, **kwargs)


@pytest.mark.parametrize("kwargs, flops", [
    # 8x8 -> 4x4 context of 16 * 16 = 256 values, 3x3 windows: 9 adds each; the gate and the
    # scale on the resized 1024 values
    ({"extent": 2, "use_mlp": False}, 256 * 9 + 1024 + 1024),
    # the max over the same windows, then 0.5 * a + 0.5 * b (3 per context value)
    ({"extent": 2, "use_mlp": False, "add_maxpool": True}, 2 * 256 * 9 + 3 * 256 + 2048),
    # one depthwise 3x3 stride-2 conv (256 outputs x 9) and its BN (2 per output)
    ({"extent": 2, "use_mlp": False, "extra_params": True}, 256 * 9 + 2 * 256 + 2048),
])
def test_flops_by_hand_on_1x16x8x8(kwargs, flops):
    assert GatherExcite(16, **kwargs).flops([1, 16, 8, 8]) == flops


def test_identity_init_opens_the_learned_gather_norm():
    block = GatherExcite(16, extent=2, extra_params=True, use_mlp=False)
    block.init_identity()
    block.eval()
    x = paddle.randn([1, 16, 8, 8])
    np.testing.assert_allclose(block(x).numpy(), 0.9975 * x.numpy(), rtol=1e-5, atol=1e-6)


def test_strided_gather_shows_its_gate_at_every_position():
    maps = GatherExcite(16, extent=2).attention_maps(paddle.randn([2, 16, 8, 6]))
    assert list(maps) == ["context"] and maps["context"].shape == [2, 16, 8, 6]


@pytest.mark.parametrize("rd_ratio", [0, -0.5, float("nan")])
def test_a_reduction_ratio_not_above_zero_is_refused(rd_ratio):
    with pytest.raises(ValueError, match="GatherExcite: rd_ratio must be a finite number > 0"):
        GatherExcite(64, rd_ratio=rd_ratio)


def test_rd_channels_zero_is_refused_not_replaced_by_the_default():
    with pytest.raises(ValueError, match=r"GatherExcite: rd_channels must be a positive int, "
                                         r"got 0 \(int\)"):
        GatherExcite(64, rd_channels=0)
