"""ppattn.analysis.attention_maps: finding the blocks, catching their inputs, reading their maps."""
import numpy as np
import paddle
import paddle.nn as nn
import pytest

from ppattn import ATTENTIONS, build_attention
from ppattn.analysis import AttentionMapsError, collect_maps, find_blocks
from ppattn.analysis.attention_maps import per_sample
from ppattn.layers.protocol import AttentionBlock

CHANNELS = 32
# every block's defaults fit 32 channels except the groups of PSA (its branches have 8 channels)
# and ShuffleAttention (64 groups need 128 channels)
SPECS = {"psa": {"name": "psa", "conv_groups": [1, 1, 2, 4], "reduction": 1},
         "sa": {"name": "sa", "groups": 4}}
# ContextBlock's 'channel_add' is added to the features, not a gate, so it has no range
NOT_GATES = {"channel_add"}


class TwoPlaces(nn.Layer):
    """A block after the stem (12 x 10) and one inside a stage after a stride-2 conv (6 x 5)."""

    def __init__(self, spec):
        super().__init__()
        self.stem = nn.Conv2D(3, CHANNELS, 3, padding=1)
        self.attn = build_attention(spec, CHANNELS)
        self.stages = nn.LayerList([nn.Sequential(
            nn.Conv2D(CHANNELS, CHANNELS, 3, stride=2, padding=1),
            build_attention(spec, CHANNELS))])

    def forward(self, x):
        return self.stages[0](self.attn(self.stem(x)))


def run(model, x):
    model.eval()
    return collect_maps(model, lambda: model(x))


def test_find_blocks_names_positions_and_leaves_out_blocks_inside_blocks():
    model = TwoPlaces(SPECS["psa"])
    assert [name for name, _ in find_blocks(model)] == ["attn", "stages.0.1"]
    # PSA holds an SELayer, a registered class too; its gate belongs to PSA's maps
    assert any(type(layer).__name__ == "SELayer" for layer in model.attn.sublayers())


@pytest.mark.parametrize("name", sorted(ATTENTIONS))
def test_every_block_gives_per_sample_maps_of_its_input_size_in_gate_range(name):
    model = TwoPlaces(SPECS.get(name, {"name": name}))
    collected = run(model, paddle.randn([2, 3, 12, 10]))
    assert [entry.name for entry in collected] == ["attn", "stages.0.1"]
    for entry, size in zip(collected, [(12, 10), (6, 5)]):
        assert entry.no_maps is None, entry.no_maps
        assert entry.input_shape == [2, CHANNELS, *size]
        assert entry.maps
        for key, value in entry.maps.items():
            assert value.ndim == 4 and value.shape[0] == 2, (key, value.shape)
            assert value.shape[2:] in {(1, 1), (size[0], 1), (1, size[1]), size}, (key,
                                                                                   value.shape)
            if key not in NOT_GATES:
                assert 0.0 <= value.min() and value.max() <= 1.0, (key, value.min(),
                                                                   value.max())


def test_maps_are_the_blocks_own_maps_on_the_input_it_saw():
    model = TwoPlaces({"name": "cbam"})
    model.eval()
    x = paddle.randn([2, 3, 12, 10])
    collected = run(model, x)
    stage_input = model.stages[0][0](model.attn(model.stem(x)))
    want = model.stages[0][1].attention_maps(stage_input)
    np.testing.assert_allclose(collected[1].maps["channel"], want["channel"].numpy(), rtol=1e-6)
    np.testing.assert_allclose(collected[1].maps["spatial"], want["spatial"].numpy(), rtol=1e-6)


def test_hooks_are_removed_after_the_pass_and_after_an_error():
    model = TwoPlaces({"name": "eca"})
    run(model, paddle.randn([1, 3, 8, 8]))
    assert not model.attn._forward_pre_hooks

    def broken():
        model(paddle.randn([1, 3, 8, 8]))
        raise RuntimeError("forward failed")

    with pytest.raises(RuntimeError, match="forward failed"):
        collect_maps(model, broken)
    assert not model.attn._forward_pre_hooks
    assert not model.stages[0][1]._forward_pre_hooks


def test_block_without_maps_is_reported_with_the_reason(no_maps_block):
    model = nn.Sequential(nn.Conv2D(3, 8, 1), build_attention(no_maps_block, 8),
                          build_attention("eca", 8))
    collected = run(model, paddle.randn([1, 3, 6, 6]))
    assert [(entry.name, entry.block) for entry in collected] == [("1", "Plain"),
                                                                  ("2", "ECALayer")]
    assert not collected[0].maps
    assert "Plain lacks attention_maps()" in collected[0].no_maps
    assert collected[1].no_maps is None and collected[1].maps["channel"].shape == (1, 8, 1, 1)


def test_protocol_block_that_does_not_expose_maps_is_reported():
    class Opaque(AttentionBlock):
        def forward(self, x):
            return x

    model = nn.Sequential(nn.Conv2D(3, 4, 1), Opaque())
    collected = collect_maps(model, lambda: model(paddle.randn([1, 3, 4, 4])), [Opaque])
    assert collected[0].no_maps == "Opaque does not expose its attention maps"


def test_block_the_pass_did_not_run_is_reported():
    model = TwoPlaces({"name": "se"})
    collected = collect_maps(model, lambda: model.attn(paddle.randn([1, CHANNELS, 4, 4])))
    assert collected[0].no_maps is None
    assert collected[1].name == "stages.0.1"
    assert collected[1].no_maps == "the forward pass did not run this block"


def test_block_called_twice_gives_one_entry_per_call():
    block = build_attention("cbam", 8)
    model = nn.Sequential(block, nn.Conv2D(8, 8, 3, stride=2, padding=1), block)
    collected = run(model, paddle.randn([1, 8, 8, 8]))
    assert [(e.name, e.input_shape) for e in collected] == [("0#1", [1, 8, 8, 8]),
                                                           ("0#2", [1, 8, 4, 4])]


def test_model_without_blocks_is_an_error_that_says_how_to_add_one():
    model = nn.Sequential(nn.Conv2D(3, 4, 1))
    with pytest.raises(AttentionMapsError, match=r"Sequential has no attention block .*"
                                                 r"AttnCSPResNet.attn: \{name: eca\}"):
        collect_maps(model, lambda: model(paddle.randn([1, 3, 4, 4])))


def test_per_sample_keeps_samples_apart_when_groups_or_branches_are_folded():
    # ShuffleAttention folds G = 2 groups into the batch: row n * G + g belongs to sample n
    folded = np.arange(2 * 2 * 3).reshape(4, 3, 1, 1).astype(np.float32)
    got = per_sample("SA", "channel", paddle.to_tensor(folded), batch=2)
    np.testing.assert_array_equal(got[:, :, 0, 0], [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
    # PSA: [N, 4 branches, C / 4, 1, 1]
    branches = np.arange(2 * 4 * 2).reshape(2, 4, 2, 1, 1).astype(np.float32)
    assert per_sample("PSA", "branch", branches, batch=2).shape == (2, 8, 1, 1)
    assert per_sample("X", "gate", np.zeros((2, 5)), batch=2).shape == (2, 5, 1, 1)


def test_per_sample_rejects_a_map_that_is_not_per_sample():
    with pytest.raises(AttentionMapsError, match=r"attn \(X\): map 'gate' of shape \[3, 4, 1, 1\] "
                                                 r"does not read as 2 sample"):
        per_sample("attn (X)", "gate", np.zeros((3, 4, 1, 1)), batch=2)


def test_per_sample_rejects_nan_maps():
    gate = np.full((1, 4, 1, 1), 0.5)
    gate[0, 2] = np.nan
    with pytest.raises(AttentionMapsError, match="map 'channel' has 1 NaN or infinite values"):
        per_sample("attn (SELayer)", "channel", gate, batch=1)
