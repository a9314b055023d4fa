"""AttnCustomCSPPAN: PP-YOLOE's CustomCSPPAN with attention on its inputs and after its stages."""
from typing import Callable, List, Optional, Sequence, Union

import paddle
import paddle.nn.functional as F
from ppdet.modeling.necks.custom_pan import CustomCSPPAN

from .levels import LevelAttention, LevelSpecs, check_level_specs, register_neck

Activation = Union[None, str, dict, Callable]   # as ppdet's get_act_fn takes it


@register_neck
class AttnCustomCSPPAN(CustomCSPPAN):
    """CustomCSPPAN (PP-YOLOE's PAN) with an attention block in three slots.

    Xu et al., "PP-YOLOE: An evolved version of YOLO", 2022. https://arxiv.org/abs/2203.16250

    Every argument of ppdet 2.6.0's `CustomCSPPAN` keeps its meaning and default, and ppdet's
    constructor builds every layer, so `from_config` and `out_shape` are ppdet's. With the three
    specs left at None the state-dict keys, shapes and outputs are ppdet's. The forward is
    ppdet's with the slots added.

    A spec is None, 'none', a registered name, `{name: ..., **arguments}` (which may add
    `init: identity`), or a list with one such spec per level. Each block keeps its feature's
    shape and sees that feature's channels.

    Args:
        input_attn: a block on each backbone feature before the neck uses it (before the
            transformer encoder too, with use_trans). Sublayer `input_attn.{i}` on the backbone's
            level i (a list is in backbone order: strides 8, 16, 32 for PP-YOLOE), in_channels[i]
            channels.
        fpn_attn: a block after each top-down stage `fpn_stages.{i}`, before its route conv.
            Sublayer `fpn_attn.{i}`, out_channels[i] channels (scaled by width_mult).
        pan_attn: a block after each bottom-up stage `pan_stages.{i}`, and on the top-down
            output that the neck returns as it is (i = len(in_channels) - 1), so every returned
            level i has block `pan_attn.{i}` with out_channels[i] channels. The bottom-up path
            continues from the block's output.

    fpn_attn and pan_attn lists are in ppdet's stage order, the order the neck returns: deepest
    level first (strides 32, 16, 8 for PP-YOLOE).

    Shape:
        blocks: a list, per level i, of [N, in_channels[i], H_i, W_i], each level half the size
        of the one before -> a list, deepest first, of [N, out_channels[i], H, W].
    """

    def __init__(self, in_channels: Sequence[int] = (256, 512, 1024),
                 out_channels: Sequence[int] = (1024, 512, 256), norm_type: str = "bn",
                 act: Activation = "leaky", stage_fn: str = "CSPStage",
                 block_fn: str = "BasicBlock", stage_num: int = 1, block_num: int = 3,
                 drop_block: bool = False, block_size: int = 3, keep_prob: float = 0.9,
                 spp: bool = False, data_format: str = "NCHW", width_mult: float = 1.0,
                 depth_mult: float = 1.0, use_alpha: bool = False, trt: bool = False,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation: str = "gelu",
                 nhead: int = 4, num_layers: int = 4, attn_dropout: Optional[float] = None,
                 act_dropout: Optional[float] = None, normalize_before: bool = False,
                 use_trans: bool = False, eval_size: Optional[Sequence[int]] = None,
                 input_attn: LevelSpecs = None, fpn_attn: LevelSpecs = None,
                 pan_attn: LevelSpecs = None):
        num_levels = len(in_channels)
        for slot, specs in (("input_attn", input_attn), ("fpn_attn", fpn_attn),
                            ("pan_attn", pan_attn)):
            check_level_specs(specs, num_levels, f"AttnCustomCSPPAN.{slot}")
        super().__init__(
            list(in_channels), list(out_channels), norm_type=norm_type, act=act,
            stage_fn=stage_fn, block_fn=block_fn, stage_num=stage_num, block_num=block_num,
            drop_block=drop_block, block_size=block_size, keep_prob=keep_prob, spp=spp,
            data_format=data_format, width_mult=width_mult, depth_mult=depth_mult,
            use_alpha=use_alpha, trt=trt, dim_feedforward=dim_feedforward, dropout=dropout,
            activation=activation, nhead=nhead, num_layers=num_layers,
            attn_dropout=attn_dropout, act_dropout=act_dropout,
            normalize_before=normalize_before, use_trans=use_trans, eval_size=eval_size)
        self.input_attn = LevelAttention(input_attn, list(in_channels),
                                         "AttnCustomCSPPAN.input_attn")
        self.fpn_attn = LevelAttention(fpn_attn, self._out_channels, "AttnCustomCSPPAN.fpn_attn")
        self.pan_attn = LevelAttention(pan_attn, self._out_channels, "AttnCustomCSPPAN.pan_attn")

    def _encode_deepest(self, feat: paddle.Tensor) -> paddle.Tensor:
        """ppdet's transformer encoder (use_trans) over the deepest feature's pixels."""
        n, c, h, w = feat.shape
        tokens = feat.flatten(2).transpose([0, 2, 1])      # [N, H * W, C]
        if self.eval_size is not None and not self.training:
            pos_embed = self.pos_embed
        else:
            pos_embed = self.build_2d_sincos_position_embedding(w=w, h=h,
                                                                embed_dim=self.hidden_dim)
        memory = self.encoder(tokens, pos_embed=pos_embed)
        return memory.transpose([0, 2, 1]).reshape([n, c, h, w])

    def forward(self, blocks: List[paddle.Tensor], for_mot: bool = False) -> List[paddle.Tensor]:
        feats = []
        for i, feat in enumerate(blocks):
            feats.append(self.input_attn(feat, i))
        if self.use_trans:
            feats[-1] = self._encode_deepest(feats[-1])

        # top-down, deepest level first
        fpn_feats = []
        for i, feat in enumerate(feats[::-1]):
            if i > 0:
                feat = paddle.concat([route, feat], axis=1)
            route = self.fpn_attn(self.fpn_stages[i](feat), i)
            fpn_feats.append(route)
            if i < self.num_blocks - 1:
                route = F.interpolate(self.fpn_routes[i](route), scale_factor=2.,
                                      data_format=self.data_format)

        # bottom-up, from the finest top-down output
        last = self.num_blocks - 1
        route = self.pan_attn(fpn_feats[last], last)
        pan_feats = [route]
        for i in reversed(range(last)):
            feat = paddle.concat([self.pan_routes[i](route), fpn_feats[i]], axis=1)
            route = self.pan_attn(self.pan_stages[i](feat), i)
            pan_feats.append(route)
        return pan_feats[::-1]
