"""Segmentation and distribution metrics shared by the stages and the tests."""
import numpy as np
import torch


def confusion(pred: torch.Tensor, target: torch.Tensor, n: int) -> torch.Tensor:
    idx = target.flatten().long() * n + pred.flatten().long()
    return torch.bincount(idx, minlength=n * n).view(n, n)


def miou(conf: torch.Tensor):
    """Mean IoU over classes present in prediction or target (classes absent from both are skipped)."""
    conf = conf.double()
    inter = conf.diag()
    union = conf.sum(0) + conf.sum(1) - inter
    valid = union > 0
    iou = torch.where(valid, inter / union.clamp(min=1), torch.zeros_like(inter))
    return float(iou[valid].mean()) if valid.any() else 0.0, iou


def pixel_accuracy(conf: torch.Tensor) -> float:
    return float(conf.diag().sum() / conf.sum().clamp(min=1))


def purity(clusters: torch.Tensor, labels: torch.Tensor, k: int, n: int) -> float:
    """Share of pixels whose cluster's majority label is their label."""
    table = torch.bincount(clusters.flatten() * n + labels.flatten(), minlength=k * n).view(k, n)
    return float(table.max(1).values.sum() / table.sum().clamp(min=1))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (same formula as FID)."""
    from scipy import linalg
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3):
    """Improved precision/recall (Kynkäänniemi et al. 2019): k-NN balls around each set's points.

    precision: share of fakes inside some real point's k-NN ball; recall: share of reals inside some fake's.
    """
    real_t, fake_t = torch.from_numpy(real).double(), torch.from_numpy(fake).double()

    def radii(x):
        d = torch.cdist(x, x)
        return d.kthvalue(k + 1, dim=1).values  # +1: the point itself is at distance 0

    r_real, r_fake = radii(real_t), radii(fake_t)
    d = torch.cdist(fake_t, real_t)
    precision = float((d <= r_real[None, :]).any(1).double().mean())
    recall = float((d.t() <= r_fake[None, :]).any(1).double().mean())
    return precision, recall
