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


def layout_miou(labels: torch.Tensor, target: torch.Tensor, n: int) -> dict:
    """Layout agreement of label maps [N,H,W] with their targets: mIoU over the whole set (one
    confusion matrix) and the mean of each image's own mIoU."""
    per_image = [miou(confusion(labels[i], target[i], n))[0] for i in range(len(labels))]
    return {"miou": miou(confusion(labels, target, n))[0], "mean_image_miou": float(np.mean(per_image)) if per_image else 0.0}


def pixel_accuracy(conf: torch.Tensor) -> float:
    return float(conf.diag().sum() / conf.sum().clamp(min=1))


def purity(clusters: torch.Tensor, labels: torch.Tensor, k: int, n: int) -> float:
    """Share of pixels whose cluster's majority label is their label."""
    table = torch.bincount(clusters.flatten() * n + labels.flatten(), minlength=k * n).view(k, n)
    return float(table.max(1).values.sum() / table.sum().clamp(min=1))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (FID's formula; which features
    it is computed on must always be named with it)."""
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


def kernel_inception_distance(a: np.ndarray, b: np.ndarray, subset: int = 1000, subsets: int = 50, seed: int = 0) -> float:
    """KID's estimator (Bińkowski et al. 2018) on any features: unbiased MMD^2 with the cubic polynomial
    kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets of min(subset, |a|, |b|) points each.
    Unlike FD it is unbiased for small sets, which matters with 100 real test photos."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = a.shape[1]
    m = min(subset, len(a), len(b))
    rng = np.random.default_rng(seed)
    whole = m == len(a) == len(b)
    vals = []
    for _ in range(1 if whole else subsets):
        x = a if m == len(a) else a[rng.choice(len(a), m, replace=False)]
        y = b if m == len(b) else b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        off = lambda k: (k.sum() - np.trace(k)) / (m * (m - 1))
        vals.append(off(kxx) + off(kyy) - 2 * kxy.mean())
    return float(np.mean(vals))


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise 1 - cos(a_i, b_i)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    return 1 - (a * b).sum(-1) / np.maximum(na * nb, 1e-12)


def conditional_entropy(a: torch.Tensor, b: torch.Tensor) -> float:
    """H(a | b) in bits over paired integer labels (H(a) when b is constant)."""
    a, b = a.flatten().long(), b.flatten().long()
    na, nb = int(a.max()) + 1, int(b.max()) + 1
    joint = torch.bincount(b * na + a, minlength=na * nb).view(nb, na).double()
    p_b = joint.sum(1, keepdim=True)
    p = joint / joint.sum()
    cond = torch.where(joint > 0, joint / p_b.clamp(min=1), torch.ones_like(joint))
    return float(-(p * torch.log2(cond)).sum())


def missing_cluster_rate(source: torch.Tensor, target: torch.Tensor, k: int) -> float:
    """Share of target cells whose cluster appears nowhere in the paired source sample.

    source, target: [N, H, W] cluster maps; pair i's target cells read from source i."""
    present = torch.zeros(len(source), k, dtype=torch.bool)
    present.scatter_(1, source.flatten(1).long(), True)
    hit = present.gather(1, target.flatten(1).long())
    return float(1.0 - hit.float().mean())


def pairwise_layout_miou(labels: torch.Tensor, n: int, pairs: int = 2000, seed: int = 0) -> float:
    """Mean over random pairs (i != j) of the mIoU between two label maps [N,H,W] (classes present in
    either map of the pair; each pair weighs the same). High: the images share one layout."""
    g = torch.Generator().manual_seed(seed)
    i = torch.randint(len(labels), (pairs,), generator=g)
    j = (i + 1 + torch.randint(len(labels) - 1, (pairs,), generator=g)) % len(labels)
    scores = []
    for x, y in zip(labels[i], labels[j]):
        m, _ = miou(confusion(x, y, n))
        scores.append(m)
    return float(np.mean(scores))


def area_spread(labels: torch.Tensor, n: int) -> np.ndarray:
    """Per class, the standard deviation across images of the share of the image it covers [n]."""
    areas = torch.stack([torch.bincount(l.flatten(), minlength=n)[:n] for l in labels]).double() / labels[0].numel()
    return areas.std(0, unbiased=False).numpy()


def vertical_extent(labels: torch.Tensor, cls: int) -> np.ndarray:
    """Per image, the rows from the first to the last that hold `cls` (0 where it is absent) [N]."""
    rows = (labels == cls).any(2)
    out = []
    for r in rows:
        idx = torch.nonzero(r).flatten()
        out.append(int(idx[-1] - idx[0] + 1) if len(idx) else 0)
    return np.array(out, dtype=np.float64)
