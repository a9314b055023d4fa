"""Wrappers that hand a neck its levels as separate tensors, so paddle.jit can export it
(to_static needs a fixed argument list, hence one class per level count).

They live in a file of their own because paddle.jit.to_static reads the forward's source.
"""
import paddle


class ThreeLevels(paddle.nn.Layer):
    """neck([level0, level1, level2]) as a layer of three tensor arguments."""

    def __init__(self, neck: paddle.nn.Layer):
        super().__init__()
        self.neck = neck

    def forward(self, level0, level1, level2):
        return self.neck([level0, level1, level2])


class FourLevels(paddle.nn.Layer):
    """neck([level0, level1, level2, level3]) as a layer of four tensor arguments."""

    def __init__(self, neck: paddle.nn.Layer):
        super().__init__()
        self.neck = neck

    def forward(self, level0, level1, level2, level3):
        return self.neck([level0, level1, level2, level3])
