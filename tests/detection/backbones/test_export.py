"""Every backbone with every block exports with paddle.jit and runs in Paddle Inference."""
import paddle
import pytest

from image_only import ImageOnly
from ppattn import ATTENTIONS
from ppattn.detection.backbones import AttnCSPResNet, AttnResNet
from ppattn.deploy.paddle_inference import create_predictor, run_predictor

# groups that divide the small widths (stage block 24 channels, residual block 12)
PSA_SMALL = {"name": "psa", "conv_groups": [1, 1, 3, 3], "reduction": 1}
# and for ResNet-18's 64 too: defaults that need C divisible by 32 (EMA) or 128 (SA) don't fit
SMALL = {"ema": {"name": "ema", "factor": 4}, "sa": {"name": "sa", "groups": 2}}


def _csp(name: str):
    # one stage of one block: paddle.jit's conversion time grows with the layer count
    spec = PSA_SMALL if name == "psa" else SMALL.get(name, name)
    return AttnCSPResNet(layers=[1], channels=[16, 32], return_idx=[0], attn=spec,
                         block_attn=spec)


def _resnet(name: str):
    position = "replace_conv2" if name == "psa" else "before_add"
    return AttnResNet(depth=18, num_stages=1, return_idx=[0], freeze_at=-1,
                      plugins=[{"attn": SMALL.get(name, name), "position": position}])


@pytest.mark.parametrize("name", sorted(ATTENTIONS))
@pytest.mark.parametrize("build", [_csp, _resnet], ids=["AttnCSPResNet", "AttnResNet"])
def test_exports_and_runs_in_paddle_inference(build, name, tmp_path, parity, rng):
    model = ImageOnly(build(name))
    model.eval()
    spec = [paddle.static.InputSpec([None, 3, None, None], "float32", "image")]
    prefix = str(tmp_path / "model")
    paddle.jit.save(paddle.jit.to_static(model, input_spec=spec, full_graph=True), prefix)
    predictor = create_predictor(prefix, onednn="off")   # oneDNN fusions are not under test
    for shape in ((1, 3, 64, 64), (2, 3, 96, 64)):          # H and W stay dynamic
        x = rng.normal(size=shape).astype("float32")
        with paddle.no_grad():
            want = [y.numpy() for y in model(paddle.to_tensor(x))]
        got = run_predictor(predictor, x)
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want)):
            parity.assert_close(g, w, f"{shape} output {i}", rtol=1e-5)
