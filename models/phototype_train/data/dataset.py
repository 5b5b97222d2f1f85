"""The celebamask-mini dataset, checked and cached as tensors at a training resolution.

Never hands out `test/` for training: `load_split` refuses it unless `evaluation=True`.
"""
import hashlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from phototype_train.data.classes import NUM_CLASSES, flip_lut
from phototype_train.common import REPO, UserError
from phototype_train.networks.layers import one_hot

TRAINING_SPLITS = ("train", "unlabeled")


def _check_root(root: Path):
    if not root.is_dir():
        raise UserError(f"dataset folder {root} does not exist: pass --data or set PHOTOTYPE_DATA to celebamask-mini")
    if not (root / "train" / "images").is_dir():
        raise UserError(f"{root} has no train/images folder: is it celebamask-mini?")


def _read_image(path: Path, res: int) -> np.ndarray:
    try:
        im = Image.open(path).convert("RGB")
    except (UnidentifiedImageError, OSError) as e:
        raise UserError(f"image {path} cannot be read: {e}")
    if im.size != (res, res):
        im = im.resize((res, res), Image.LANCZOS)
    return np.asarray(im, dtype=np.uint8)


def read_mask(path: Path, expect_size: int | None = None) -> np.ndarray:
    """A class-index mask (8-bit greyscale PNG); refuses wrong size or class range."""
    try:
        im = Image.open(path)
    except (UnidentifiedImageError, OSError) as e:
        raise UserError(f"mask {path} cannot be read: {e}")
    if im.mode not in ("L", "P", "I;16", "I"):
        raise UserError(f"mask {path} is {im.mode}; expected 8-bit greyscale with one class index a pixel")
    m = np.asarray(im).astype(np.int64)
    if expect_size and m.shape != (expect_size, expect_size):
        raise UserError(f"mask {path} is {m.shape[1]}x{m.shape[0]}; expected {expect_size}x{expect_size} like its image")
    if m.max() >= NUM_CLASSES or m.min() < 0:
        raise UserError(f"mask {path} has class {int(m.max())}; classes run 0..{NUM_CLASSES - 1}")
    return m


def downsample_mask(mask: torch.Tensor, res: int, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """Majority vote per block, so thin parts (brows, lips) survive better than nearest sampling."""
    if mask.shape[-1] == res:
        return mask
    return F.adaptive_avg_pool2d(one_hot(mask.long(), num_classes), res).argmax(1)


def load_split(root: Path, split: str, res: int, with_masks: bool, evaluation: bool = False, cache: bool = True):
    """Returns (images uint8 [N,3,res,res], masks int64 [N,res,res] or None, ids)."""
    if split == "test" and not evaluation:
        raise UserError("the test split is for evaluation only and is never used for training")
    _check_root(root)
    img_dir = root / split / "images"
    if not img_dir.is_dir():
        raise UserError(f"{img_dir} does not exist")
    key = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:10]
    cache_file = REPO / ".cache" / f"{key}-{split}-{res}-{int(with_masks)}.pt"
    ids = sorted(p.stem for p in img_dir.glob("*.jpg"))
    if not ids:
        raise UserError(f"{img_dir} holds no .jpg images")
    if cache and cache_file.is_file():
        c = torch.load(cache_file)
        if c["ids"] == ids:
            return c["images"], c["masks"], ids
    images = torch.from_numpy(np.stack([_read_image(img_dir / f"{i}.jpg", res) for i in ids])).permute(0, 3, 1, 2).contiguous()
    masks = None
    if with_masks:
        mask_dir = root / split / "masks"
        if not mask_dir.is_dir():
            raise UserError(f"{mask_dir} does not exist")
        full = []
        for i in ids:
            p = mask_dir / f"{i}.png"
            if not p.is_file():
                raise UserError(f"image {i} has no mask {p}")
            full.append(torch.from_numpy(read_mask(p, Image.open(img_dir / f"{i}.jpg").size[0])))
        masks = torch.cat([downsample_mask(m[None], res) for m in full])
    if cache:
        cache_file.parent.mkdir(exist_ok=True)
        torch.save({"ids": ids, "images": images, "masks": masks}, cache_file)
    return images, masks, ids


def training_images(root: Path, res: int) -> torch.Tensor:
    return torch.cat([load_split(root, s, res, with_masks=False)[0] for s in TRAINING_SPLITS])


def to_float(images: torch.Tensor) -> torch.Tensor:
    return images.float().div(127.5).sub(1.0)


def flip_batch(images: torch.Tensor, masks: torch.Tensor | None, which: torch.Tensor):
    """Flip the chosen items left-right; masks swap left/right classes too."""
    images = torch.where(which[:, None, None, None], images.flip(-1), images)
    if masks is not None:
        flipped = flip_lut()[masks.flip(-1)]
        masks = torch.where(which[:, None, None], flipped, masks)
    return images, masks
