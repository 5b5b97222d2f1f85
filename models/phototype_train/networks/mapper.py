"""The semantic mappers: a drawn condition (mask, sketch, scribble, edges) -> proxy-mask logits."""
import torch
import torch.nn as nn

from phototype_train.networks.layers import one_hot
from phototype_train.networks.unet import UNet


class SemanticMapper(nn.Module):
    """Condition -> proxy-mask logits at the feature map's size.

    kind "mask": class ids int64 [B,H,W], one-hot inside (ids outside 0..C-1, e.g. 255, mean "nothing drawn").
    kind "sketch" / "edges": float [B,1,H,W] in 0..1, 1 = stroke.
    """

    def __init__(self, kind, num_classes, k, base=32, depth=4, out_down=1):
        super().__init__()
        self.kind = kind
        cin = num_classes if kind in ("mask", "scribble") else 1
        self.register_buffer("class_ids", torch.arange(num_classes).view(1, -1, 1, 1))
        self.net = UNet(cin, k, base, depth, out_down)

    def encode_condition(self, cond):
        if self.kind in ("mask", "scribble"):
            return one_hot(cond, self.class_ids)
        return cond

    def forward(self, cond):
        return self.net(self.encode_condition(cond))
