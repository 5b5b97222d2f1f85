"""ImageNet MobileNetV2 features for realism metrics (Fréchet distance, KID, precision/recall).

No Inception weights exist offline, so the weights come from the nsfwjs devDependency: its Keras MobileNetV2
(alpha 1.0, 224 px) was fine-tuned only from block_11_expand on (the layer config marks blocks 0-10 trainable:
false), so blocks 0-10 are the ImageNet weights, as tfjs stores them (uint8-quantized).

Features: global-average-pooled output of block_5 (32 channels, stride 8) and block_10 (96 channels, stride 16),
concatenated: D = 128. block_10 is the deepest ImageNet-only layer (parts, shapes); block_5 is the last stride-8
layer and keeps texture and sharpness, which block_10 pools away (blur, noise and checkerboard artifacts show up
there first). More channels (e.g. the 384-wide expansions) would make the D x D covariance that FD needs
unreliable from ~1000 samples and rank-deficient from the 100 test images.
"""
import base64
import functools
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from phototype_train.common import REPO, UserError

MODEL_DIR = REPO / "node_modules" / "nsfwjs" / "dist" / "models" / "mobilenet_v2"
INPUT_SIZE = 224  # the size the ImageNet weights (and their BN statistics) were trained at
TAPS = (5, 10)  # blocks whose pooled outputs make the feature vector
DIM = 32 + 96
BN_EPS = 1e-3  # Keras BatchNormalization default, as in the model's layer config

# (expansion, output channels, stride) of Keras MobileNetV2 blocks 0..10 (alpha 1.0)
BLOCKS = [(1, 16, 1), (6, 24, 2), (6, 24, 1), (6, 32, 2), (6, 32, 1), (6, 32, 1),
          (6, 64, 2), (6, 64, 1), (6, 64, 1), (6, 64, 1), (6, 96, 1)]

# --- reading the tfjs model: browserify bundles whose module 1 exports a JS literal --------------------------

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)'
                    r'|(?P<bool>!0|!1)|(?P<word>[A-Za-z_$][\w$]*)|(?P<punct>[{}\[\]:,]))')


def _js_literal(text: str, start: int):
    """Parse the minified JS literal at text[start:] (unquoted keys, !0/!1, .5 numbers) by rewriting it to JSON."""
    out, depth, pos = [], 0, start
    while True:
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"unexpected JS at offset {pos}: {text[pos:pos + 40]!r}")
        pos, kind, tok = m.end(), m.lastgroup, m.group(m.lastgroup)
        if kind == "num":
            tok = re.sub(r"^(-?)\.", r"\g<1>0.", tok)
        elif kind == "bool":
            tok = "true" if tok == "!0" else "false"
        elif kind == "word":
            if re.match(r"\s*:", text[pos:pos + 64]):
                tok = json.dumps(tok)
            elif tok != "null":
                raise ValueError(f"unsupported JS token {tok!r} at offset {m.start()}")
        elif tok in "{[":
            depth += 1
        elif tok in "}]":
            depth -= 1
        out.append(tok)
        if depth == 0:
            return json.loads("".join(out))


def _bundle_export(path: Path):
    text = path.read_text()
    start = text.find(".exports=", text.find("{1:[function("))
    if start < 0:
        raise UserError(f"{path} is not a browserify model bundle (nsfwjs changed its format?)")
    return _js_literal(text, start + len(".exports="))


def load_weights(model_dir: Path = MODEL_DIR) -> tuple[dict, dict[str, np.ndarray]]:
    """(Keras layer configs by name, weights by name) from a tfjs model whose model.json and shards are .min.js bundles."""
    if not (model_dir / "model.min.js").is_file():
        raise UserError(f"MobileNetV2 weights not found at {model_dir}: run `npm install` in the repo root (nsfwjs devDependency)")
    model = _bundle_export(model_dir / "model.min.js")
    layers = {l["name"]: l for l in model["modelTopology"]["model_config"]["config"]["layers"]}
    weights = {}
    for group in model["weightsManifest"]:
        data = b"".join(base64.b64decode(_bundle_export(model_dir / f"{p}.min.js")) for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            n, q = int(np.prod(spec["shape"])), spec.get("quantization")
            if spec["dtype"] != "float32":
                raise UserError(f"weight {spec['name']} is {spec['dtype']}; expected float32")
            if q is None:
                raw = np.frombuffer(data, "<f4", n, offset)
                values = raw
            elif q["dtype"] in ("uint8", "uint16"):  # affine: value = q * scale + min, in doubles like tfjs
                raw = np.frombuffer(data, "<u1" if q["dtype"] == "uint8" else "<u2", n, offset)
                values = (raw * q["scale"] + q["min"]).astype(np.float32)
            elif q["dtype"] == "float16":
                raw = np.frombuffer(data, "<f2", n, offset)
                values = raw.astype(np.float32)
            else:
                raise UserError(f"weight {spec['name']} has unknown quantization {q['dtype']}")
            offset += raw.nbytes
            weights[spec["name"]] = values.reshape(spec["shape"])
        if offset != len(data):
            raise UserError(f"{model_dir}: shards hold {len(data)} bytes, the manifest describes {offset}")
    return layers, weights


# --- the network ---------------------------------------------------------------------------------------------

def _conv_bn(weights, conv: str, bn: str, depthwise: bool = False, stride: int = 1) -> nn.Conv2d:
    """A Keras conv (no bias) followed by inference-mode BatchNormalization, folded into one conv with bias."""
    k = weights[f"{conv}/depthwise_kernel" if depthwise else f"{conv}/kernel"].astype(np.float64)
    g, b, mean, var = (weights[f"{bn}/{n}"].astype(np.float64) for n in ("gamma", "beta", "moving_mean", "moving_variance"))
    scale = g / np.sqrt(var + BN_EPS)
    if depthwise:  # Keras [kh, kw, C, 1] -> torch [C, 1, kh, kw], one group per channel
        k = k.transpose(2, 3, 0, 1)
        cin = cout = groups = k.shape[0]
    else:  # Keras [kh, kw, in, out] -> torch [out, in, kh, kw]
        k = k.transpose(3, 2, 0, 1)
        cout, cin, groups = k.shape[0], k.shape[1], 1
    pad = 1 if k.shape[-1] == 3 and stride == 1 else 0  # 'same'; stride 2 pads explicitly (_pad_stride2)
    c = nn.Conv2d(cin, cout, k.shape[-1], stride, pad, groups=groups, bias=True)
    c.weight.data = torch.from_numpy((k * scale[:, None, None, None]).astype(np.float32))
    c.bias.data = torch.from_numpy((b - mean * scale).astype(np.float32))
    return c


def _pad_stride2(x):
    # Keras' ZeroPadding2D(((0, 1), (0, 1))) before each stride-2 'valid' conv: bottom/right only
    return F.pad(x, (0, 1, 0, 1))


class InvertedResidual(nn.Module):
    """Keras MobileNetV2 block: 1x1 expand + ReLU6, 3x3 depthwise + ReLU6, linear 1x1 project, residual when shapes match."""

    def __init__(self, weights, index: int, cin: int, expansion: int, cout: int, stride: int):
        super().__init__()
        p = "expanded_conv_" if index == 0 else f"block_{index}_"
        self.expand = _conv_bn(weights, p + "expand", p + "expand_BN") if expansion != 1 else None
        self.depthwise = _conv_bn(weights, p + "depthwise", p + "depthwise_BN", depthwise=True, stride=stride)
        self.project = _conv_bn(weights, p + "project", p + "project_BN")
        self.stride, self.residual = stride, stride == 1 and cin == cout

    def forward(self, x):
        h = F.relu6(self.expand(x)) if self.expand is not None else x
        h = F.relu6(self.depthwise(_pad_stride2(h) if self.stride == 2 else h))
        h = self.project(h)
        return x + h if self.residual else h


class MobileNetV2Trunk(nn.Module):
    """Keras MobileNetV2 from the [-1, 1] RGB input to block `last`; forward returns the outputs of `taps`."""

    def __init__(self, layers: dict, weights: dict, last: int = max(TAPS)):
        super().__init__()
        _check_topology(layers, last)
        self.stem = _conv_bn(weights, "Conv1", "bn_Conv1", stride=2)
        blocks, cin = [], 32
        for i, (t, cout, s) in enumerate(BLOCKS[:last + 1]):
            blocks.append(InvertedResidual(weights, i, cin, t, cout, s))
            cin = cout
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x, taps=TAPS) -> list[torch.Tensor]:
        x = F.relu6(self.stem(_pad_stride2(x)))
        out = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in taps:
                out.append(x)
        return out


def _check_topology(layers: dict, last: int):
    """Refuse a model whose layer configs differ from what MobileNetV2Trunk hard-codes."""
    names = ["Conv1_pad"] + [f"block_{i}_pad" for i, b in enumerate(BLOCKS[:last + 1]) if b[2] == 2]
    for n in names:
        if layers.get(n, {}).get("config", {}).get("padding") != [[0, 1], [0, 1]]:
            raise UserError(f"nsfwjs MobileNetV2: layer {n} is not ZeroPadding2D ((0, 1), (0, 1))")
    for n, l in layers.items():
        c = l["config"]
        if l["class_name"] == "BatchNormalization" and c["epsilon"] != BN_EPS:
            raise UserError(f"nsfwjs MobileNetV2: {n} has epsilon {c['epsilon']}, expected {BN_EPS}")
    for i in range(last + 1):
        n = f"block_{i}_project" if i else "expanded_conv_project"
        if layers[n]["config"]["trainable"]:
            raise UserError(f"nsfwjs MobileNetV2: {n} was fine-tuned; only frozen ImageNet blocks are used")


@functools.lru_cache(maxsize=1)
def describe() -> str:
    """One line naming the feature space, for reports next to every number measured in it."""
    if not (MODEL_DIR / "model.min.js").is_file():
        load_weights()  # raises the UserError
    pkg = json.loads((MODEL_DIR.parents[2] / "package.json").read_text())
    h = hashlib.sha256()
    for p in sorted(MODEL_DIR.glob("*.min.js")):
        h.update(p.read_bytes())
    return (f"MobileNetV2 ImageNet blocks (nsfwjs {pkg['version']} tfjs weights, sha256 {h.hexdigest()[:12]}), "
            f"{INPUT_SIZE} px bilinear, pooled blocks {'+'.join(map(str, TAPS))}, D={DIM}")


@functools.lru_cache(maxsize=1)
def trunk() -> MobileNetV2Trunk:
    net = MobileNetV2Trunk(*load_weights()).eval()
    net.requires_grad_(False)
    return net


@torch.no_grad()
def features(images: torch.Tensor, batch_size: int = 25) -> np.ndarray:
    """[N, 3, H, W] RGB floats in [-1, 1] (data.to_float) -> [N, DIM] float64 pooled MobileNetV2 features.

    Images are clamped to [-1, 1] (as they would be saved), resized to INPUT_SIZE (bilinear; antialiased when
    shrinking) and fed as is: Keras' MobileNetV2 preprocessing maps pixels to [-1, 1].
    """
    if images.ndim != 4 or images.shape[1] != 3 or not images.is_floating_point():
        raise ValueError(f"features() wants float images [N, 3, H, W] in [-1, 1]; got {images.dtype} {tuple(images.shape)}")
    net, out = trunk(), []
    for i in range(0, len(images), batch_size):
        x = images[i:i + batch_size].float().clamp(-1, 1)
        if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False,
                              antialias=max(x.shape[-2:]) > INPUT_SIZE)
        out.append(torch.cat([t.mean((2, 3)) for t in net(x)], 1))
    return torch.cat(out).double().numpy() if out else np.zeros((0, DIM))
