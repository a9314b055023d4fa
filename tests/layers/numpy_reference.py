"""Float64 NumPy references for the attention blocks, written from the papers and the contract.

Nothing here imports Paddle or ppattn. Every block function takes `x` ([N, C, H, W]) and `w`, a dict
of NumPy arrays keyed exactly like the block's state dict, and returns the output in float64.
Gradients come from central differences on these functions (`central_difference_grad` in
tests/conftest.py). The one hand-written backward is `conv2d_input_grad`, the adjoint of a conv:
PSA's gradient is differenced through `psa_head` only and then carried back through its convs,
because differencing through four large convs would take minutes.

Notation: p = mean_hw(x) is the [N, C, 1, 1] spatial mean; `*` between a map and p broadcasts.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

BN_EPS = 1e-5


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": _sigmoid,
    # Paddle's hardsigmoid: clip(z / 6 + 1 / 2, 0, 1)
    "hardsigmoid": lambda z: np.clip(z / 6.0 + 0.5, 0.0, 1.0),
    "swish": lambda z: z * _sigmoid(z),
    "silu": lambda z: z * _sigmoid(z),
    "hardswish": lambda z: z * np.clip(z + 3.0, 0.0, 6.0) / 6.0,
    "tanh": np.tanh,
    "identity": lambda z: z,
}


# ---------------------------------------------------------------------------------- primitives
def mean_hw(x):
    """p[n, c] = 1 / (H W) * sum_{h, w} x[n, c, h, w], kept as [N, C, 1, 1]."""
    return x.mean(axis=(2, 3), keepdims=True)


def conv2d(x, weight, bias=None, stride=1, padding=0, groups=1):
    """Grouped 2-D cross-correlation with zero padding.

    out[n, o, i, j] = b[o] + sum_{c, u, v} weight[o, c, u, v] * xpad[n, g(o) * Cin/G + c,
                                                                   i * s + u, j * s + v]
    """
    n, cin, height, width = x.shape
    cout, cin_g, kh, kw = weight.shape
    assert cin == cin_g * groups and cout % groups == 0
    ho = (height + 2 * padding - kh) // stride + 1
    wo = (width + 2 * padding - kw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    xp = xp.reshape(n, groups, cin_g, height + 2 * padding, width + 2 * padding)
    wg = weight.reshape(groups, cout // groups, cin_g, kh, kw)
    out = np.zeros((n, groups, cout // groups, ho, wo))
    for u in range(kh):                        # one tap at a time keeps memory at one input
        for v in range(kw):
            rows = slice(u, u + stride * (ho - 1) + 1, stride)
            cols = slice(v, v + stride * (wo - 1) + 1, stride)
            patch = xp[:, :, :, rows, cols]
            out += np.einsum("ngchw,goc->ngohw", patch, wg[:, :, :, u, v], optimize=True)
    out = out.reshape(n, cout, ho, wo)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out


def conv2d_input_grad(grad_out, weight, input_shape, stride=1, padding=0, groups=1):
    """Adjoint of `conv2d` in its input: each tap's gradient is added back where the tap read.

    dx[n, g(o) * Cin/G + c, i * s + u - pad, j * s + v - pad] += weight[o, c, u, v] * dy[n, o, i, j]
    """
    n, cin, height, width = input_shape
    cout, cin_g, kh, kw = weight.shape
    ho, wo = grad_out.shape[2:]
    dxp = np.zeros((n, groups, cin_g, height + 2 * padding, width + 2 * padding))
    dy = grad_out.reshape(n, groups, cout // groups, ho, wo)
    wg = weight.reshape(groups, cout // groups, cin_g, kh, kw)
    for u in range(kh):
        for v in range(kw):
            rows = slice(u, u + stride * (ho - 1) + 1, stride)
            cols = slice(v, v + stride * (wo - 1) + 1, stride)
            dxp[:, :, :, rows, cols] += np.einsum("ngohw,goc->ngchw", dy, wg[:, :, :, u, v],
                                                  optimize=True)
    dx = dxp[:, :, :, padding:padding + height, padding:padding + width]
    return dx.reshape(n, cin, height, width)


def conv1x1(z, weight, bias):
    """A 1x1 conv on [N, C, 1, 1] (or any H, W): out[n, o] = sum_c weight[o, c] z[n, c] + b[o]."""
    return np.einsum("oc,nchw->nohw", weight[:, :, 0, 0], z) + bias.reshape(1, -1, 1, 1)


def batch_norm_eval(x, w, b, mean, var, eps=BN_EPS):
    """y = (x - mean) / sqrt(var + eps) * w + b, per channel, with running statistics."""
    shape = (1, -1, 1, 1)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * w.reshape(shape) \
        + b.reshape(shape)


def _pool_windows(x, kernel, stride, padding, fill):
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)),
                constant_values=fill)
    return sliding_window_view(xp, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride]


def avg_pool(x, kernel, stride, padding):
    """Average over each window's in-image pixels only (padding excluded from the count)."""
    total = _pool_windows(x, kernel, stride, padding, 0.0).sum(axis=(-2, -1))
    ones = np.ones((1, 1) + x.shape[2:])
    count = _pool_windows(ones, kernel, stride, padding, 0.0).sum(axis=(-2, -1))
    return total / count


def max_pool(x, kernel, stride, padding):
    """Max over each window; padding never wins (it is -inf)."""
    return _pool_windows(x, kernel, stride, padding, -np.inf).max(axis=(-2, -1))


def resize_nearest(z, height, width):
    """Nearest-neighbour resize, PyTorch/Paddle convention: src = floor(dst * in / out)."""
    rows = np.arange(height) * z.shape[2] // height
    cols = np.arange(width) * z.shape[3] // width
    return z[:, :, rows][:, :, :, cols]


# -------------------------------------------------------------------------------------- blocks
def se(x, w, act="relu", gate="sigmoid", fc="conv"):
    """Squeeze-and-Excitation (Hu et al., CVPR 2018).

    y = x * gate(W2 act(W1 p + b1) + b2),   W1: [rd, C], W2: [C, rd].
    fc='conv' stores W1, W2 as 1x1 conv weights fc1/fc2 ([out, in, 1, 1]); fc='linear' stores
    them as Paddle Linear weights squeeze/extract ([in, out]), as ppdet's ResNet SELayer does.
    """
    p = mean_hw(x)[:, :, 0, 0]                                     # [N, C]
    if fc == "conv":
        w1, b1 = w["fc1.weight"][:, :, 0, 0], w["fc1.bias"]
        w2, b2 = w["fc2.weight"][:, :, 0, 0], w["fc2.bias"]
    else:
        w1, b1 = w["squeeze.weight"].T, w["squeeze.bias"]
        w2, b2 = w["extract.weight"].T, w["extract.bias"]
    hidden = ACTIVATIONS[act](p @ w1.T + b1)
    scale = ACTIVATIONS[gate](hidden @ w2.T + b2)
    return x * scale[:, :, None, None]


def effective_se(x, w, act="hardsigmoid"):
    """Effective SE (Lee & Park, CenterMask, CVPR 2020): y = x * act(W p + b), W: [C, C]."""
    return x * ACTIVATIONS[act](conv1x1(mean_hw(x), w["fc.weight"], w["fc.bias"]))


def eca_kernel_size(channels, gamma=2, b=1):
    """ECA-Net eq. 12: t = int(|(log2 C + b) / gamma|); k = t if t is odd else t + 1."""
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 else t + 1


def eca(x, w):
    """Efficient Channel Attention (Wang et al., CVPR 2020).

    s[n, c] = sum_{j=0}^{k-1} k_w[j] * p[n, c + j - (k - 1) / 2]   (p zero outside 0..C-1)
    y = x * sigmoid(s)
    """
    kernel = w["conv.weight"].reshape(-1)
    k = kernel.size
    pad = (k - 1) // 2
    p = np.pad(mean_hw(x)[:, :, 0, 0], ((0, 0), (pad, pad)))
    s = sliding_window_view(p, k, axis=1) @ kernel                  # [N, C]
    return x * _sigmoid(s)[:, :, None, None]


def ge_rd_channels(channels, rd_ratio=1 / 16, rd_divisor=1):
    """MLP width: C * rd_ratio rounded to the nearest multiple of rd_divisor, >= rd_divisor."""
    return max(rd_divisor, int(channels * rd_ratio + rd_divisor / 2) // rd_divisor * rd_divisor)


def _ge_param_gather(x, w, extent, feat_size, norm, act):
    """Learned gather: depthwise convs gather.conv{i} (i from 1), each then BN gather.norm{i}."""
    channels = x.shape[1]
    if extent == 0:
        steps = [(feat_size, 1, 0)]                  # kernel, stride, padding: one global conv
    else:
        steps = [(3, 2, 1)] * int(math.log2(extent))
    out = x
    for i, (_, stride, padding) in enumerate(steps, start=1):
        if i > 1:
            out = ACTIVATIONS[act](out)
        out = conv2d(out, w[f"gather.conv{i}.weight"], stride=stride, padding=padding,
                     groups=channels)
        if norm:
            out = batch_norm_eval(out, *(w[f"gather.norm{i}.{name}"]
                                         for name in ("weight", "bias", "_mean", "_variance")))
    return out


def gather_excite(x, w, feat_size=None, extra_params=False, extent=0, use_mlp=True,
                  add_maxpool=False, act="relu", norm=True, gate="sigmoid"):
    """Gather-Excite (Hu et al., NeurIPS 2018), BN in eval mode.

    gather g(x):
      no params, extent 0:  mean_hw(x)               (add_maxpool: 0.5 mean + 0.5 max)
      no params, extent e:  avg_pool(k=2e-1, s=e, pad=e-1, pad not counted)  (+ max_pool alike)
      params, extent e:     log2(e) x [dwconv3x3 s2 p1 -> BN], act between steps
      params, extent 0:     dwconv feat_size x feat_size, no padding -> BN
    excite: c = fc2(act(fc1(g))) if use_mlp else g;  c resized (nearest) to H x W unless 1x1;
    y = x * gate(c)
    """
    height, width = x.shape[2:]
    if extra_params:
        ctx = _ge_param_gather(x, w, extent, feat_size, norm, act)
    elif extent == 0:
        ctx = mean_hw(x)
        if add_maxpool:
            ctx = 0.5 * ctx + 0.5 * x.max(axis=(2, 3), keepdims=True)
    else:
        ctx = avg_pool(x, 2 * extent - 1, extent, extent - 1)
        if add_maxpool:
            ctx = 0.5 * ctx + 0.5 * max_pool(x, 2 * extent - 1, extent, extent - 1)
    if use_mlp:
        hidden = ACTIVATIONS[act](conv1x1(ctx, w["mlp.fc1.weight"], w["mlp.fc1.bias"]))
        ctx = conv1x1(hidden, w["mlp.fc2.weight"], w["mlp.fc2.bias"])
    if ctx.shape[2:] != (1, 1):
        ctx = resize_nearest(ctx, height, width)
    return x * ACTIVATIONS[gate](ctx)


def psa_branches(x, w, conv_kernels=(3, 5, 7, 9), conv_groups=(1, 4, 8, 16), stride=1):
    """F_i = conv_i(x) (kernel k_i, padding k_i // 2, groups G_i, the stride), stacked on axis 1:
    [N, 4, out / 4, H', W']."""
    return np.stack([conv2d(x, w[f"conv_{i}.weight"], stride=stride, padding=kernel // 2,
                            groups=groups)
                     for i, (kernel, groups) in enumerate(zip(conv_kernels, conv_groups), start=1)],
                    axis=1)


def _psa_se(feat, w):
    """sigmoid(fc2(relu(fc1(mean_hw(feat))))): [N, out / 4, H', W'] -> [N, out / 4, 1, 1]."""
    hidden = np.maximum(conv1x1(mean_hw(feat), w["se.fc1.weight"], w["se.fc1.bias"]), 0.0)
    return _sigmoid(conv1x1(hidden, w["se.fc2.weight"], w["se.fc2.bias"]))


def psa_head(feats, w):
    """PSA after the convs, on F = psa_branches(...):

    Z_i = sigmoid(fc2(relu(fc1(mean_hw(F_i)))))       one SE shared by the four branches
    A_i = exp(Z_i) / sum_j exp(Z_j)                    softmax over branches, per channel
    y = concat(F_4 A_4, F_3 A_3, F_2 A_2, F_1 A_1)     reverse order, as the authors' code
    """
    z = np.stack([_psa_se(feats[:, i], w) for i in range(feats.shape[1])], axis=1)
    attn = np.exp(z - z.max(axis=1, keepdims=True))
    attn = attn / attn.sum(axis=1, keepdims=True)
    weighted = feats * attn
    return np.concatenate([weighted[:, i] for i in reversed(range(feats.shape[1]))], axis=1)


def psa(x, w, conv_kernels=(3, 5, 7, 9), conv_groups=(1, 4, 8, 16), stride=1):
    """Pyramid Split Attention (Zhang et al., EPSANet, arXiv 2105.14447):
    psa_head(psa_branches(x)); see those two for the equations."""
    return psa_head(psa_branches(x, w, conv_kernels, conv_groups, stride), w)


def psa_input_grad(feats_grad, w, input_shape, conv_kernels=(3, 5, 7, 9),
                   conv_groups=(1, 4, 8, 16), stride=1):
    """dL/dx = sum_i conv_i^T(dL/dF_i), given dL/dF ([N, 4, out / 4, H', W'])."""
    return sum(conv2d_input_grad(feats_grad[:, i - 1], w[f"conv_{i}.weight"], input_shape,
                                 stride=stride, padding=kernel // 2, groups=groups)
               for i, (kernel, groups) in enumerate(zip(conv_kernels, conv_groups), start=1))
