"""The semantic mappers: a drawn condition (mask, sketch, scribble, edges) -> proxy-mask logits."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from phototype_train.networks.layers import one_hot
from phototype_train.networks.unet import UNet


class SemanticMapper(nn.Module):
    """Condition -> proxy-mask logits at the feature map's size.

    kind "mask": class ids int64 [B,H,W], one-hot inside (ids outside 0..C-1, e.g. 255, mean "nothing drawn").
    kind "sketch" / "edges": float [B,1,H,W] in 0..1, 1 = stroke.
    """

    def __init__(self, kind, num_classes, k, base=32, depth=4, out_down=1, cluster_part=None, part_of_class=None):
        super().__init__()
        self.kind = kind
        cin = num_classes if kind in ("mask", "scribble") else 1
        self.register_buffer("class_ids", torch.arange(num_classes).view(1, -1, 1, 1))
        self.net = UNet(cin, k, base, depth, out_down)
        # Part-aware proxies (networks/proxy.py::PartProxyAssign): a drawn part picks among its own
        # clusters only, so the drawing decides what goes where and the network only fills in the
        # rest (cells where nothing is drawn, or parts that own no cluster).
        self.follows_drawing = kind == "mask" and cluster_part is not None
        self.cell = 2 ** out_down  # condition pixels per proxy cell, each way
        if self.follows_drawing:
            lut = torch.arange(num_classes) if part_of_class is None else torch.as_tensor(part_of_class).long()
            self.register_buffer("class_to_part", (lut[:, None] == torch.arange(num_classes)[None]).float())  # [classes, parts]
            owned = torch.zeros(num_classes)
            owned[torch.as_tensor(cluster_part).long()] = 1.0
            self.register_buffer("part_owned", owned.view(1, -1, 1, 1))
            self.register_buffer("cluster_part", torch.as_tensor(cluster_part).long().view(1, -1, 1, 1))

    def encode_condition(self, cond):
        if self.kind in ("mask", "scribble"):
            return one_hot(cond, self.class_ids)
        return cond

    def forward(self, cond):
        x = self.encode_condition(cond)
        logits = self.net(x)
        # Training fits the free network (a sample's parsed part and its proxy part can disagree).
        return self.drawn_parts_only(logits, x) if self.follows_drawing and not self.training else logits

    def drawn_parts_only(self, logits, onehot):
        """Logits of clusters other than the drawn part's pushed far down, in cells where a part that
        owns clusters is drawn (the majority of the cell's pixels, as the proxy's labels were pooled)."""
        parts = torch.einsum("bchw,cp->bphw", onehot, self.class_to_part)
        share = F.avg_pool2d(parts, self.cell)  # a fixed kernel: the exported graph keeps dynamic sizes
        drawn = share.argmax(1, keepdim=True)
        owned = ((drawn == self.class_ids).float() * self.part_owned).sum(1, keepdim=True)
        decided = (share.amax(1, keepdim=True) > 0) * (owned > 0)
        allowed = (drawn == self.cluster_part).float()
        return logits - 1e4 * decided.float() * (1.0 - allowed)
