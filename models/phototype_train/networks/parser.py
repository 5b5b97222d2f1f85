"""The face parser: RGB -> 19 face-part classes."""
import torch.nn as nn

from phototype_train.networks.unet import UNet


class FaceParser(nn.Module):
    """RGB in [-1, 1] -> 19 class logits at the same size."""

    def __init__(self, num_classes=19, base=32, depth=4):
        super().__init__()
        self.net = UNet(3, num_classes, base, depth)

    def forward(self, x):
        return self.net(x)
