"""A wrapper that feeds a backbone {'image': x}, so paddle.jit can export it with one input.

It lives in a file of its own because paddle.jit.to_static reads the forward's source.
"""
import paddle


class ImageOnly(paddle.nn.Layer):
    """backbone({'image': image}) as a one-tensor layer."""

    def __init__(self, backbone: paddle.nn.Layer):
        super().__init__()
        self.backbone = backbone

    def forward(self, image):
        return self.backbone({"image": image})
