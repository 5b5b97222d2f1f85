"""Every metric the evaluation reports, on inputs whose answers can be worked out by hand."""
import math
import shutil

import numpy as np
import pytest
import torch

from phototype_train.evaluation import eval_parser
from phototype_train.common import UserError
from phototype_train.data.designer_shapes import designer_shapes
from phototype_train.evaluation.scores import identity, layout_fidelity, pair_agreement, realism, reference_identity
from phototype_train.evaluation.metrics import confusion, cosine_distance, frechet_distance, kernel_inception_distance, miou, pixel_accuracy, precision_recall


def test_confusion_miou_and_pixel_accuracy_skip_absent_classes():
    pred, target = torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 1, 1])
    conf = confusion(pred, target, 3)  # rows: target, columns: prediction
    assert conf.tolist() == [[1, 0, 0], [1, 2, 0], [0, 0, 0]]
    m, per_class = miou(conf)
    # class 0: 1 / (2 + 1 - 1); class 1: 2 / (2 + 3 - 2); class 2 is in neither and is skipped
    assert per_class[:2].tolist() == pytest.approx([0.5, 2 / 3])
    assert m == pytest.approx((0.5 + 2 / 3) / 2)
    assert pixel_accuracy(conf) == pytest.approx(0.75)


def test_layout_fidelity_of_a_perfect_and_a_swapped_parse():
    masks = torch.tensor([[[0, 1], [2, 2]]])
    assert layout_fidelity(masks, masks)["miou"] == 1.0
    swapped = torch.tensor([[[1, 0], [2, 2]]])
    r = layout_fidelity(swapped, masks)
    assert r["miou"] == pytest.approx(1 / 3)  # classes 0 and 1 score 0, class 2 scores 1
    assert r["pixel_accuracy"] == pytest.approx(0.5)
    assert pair_agreement(swapped, masks) == {"miou": r["miou"], "pixel_accuracy": r["pixel_accuracy"]}


def _exact_gaussian(mean, sd, n=400, seed=0):
    """n points whose sample mean and covariance (ddof=1) are exactly `mean` and diag(sd^2)."""
    x = np.random.default_rng(seed).normal(size=(n, len(mean)))
    x -= x.mean(0)
    x = x @ np.linalg.inv(np.linalg.cholesky(np.cov(x, rowvar=False))).T
    return x * np.asarray(sd) + np.asarray(mean)


def test_frechet_distance_of_two_known_gaussians():
    a = _exact_gaussian([0, 0, 0], [1, 1, 1])
    b = _exact_gaussian([3, 4, 0], [2, 1, 3], seed=1)
    # |mu_a - mu_b|^2 + sum (sd_a - sd_b)^2 for diagonal covariances: 25 + (1 + 0 + 4)
    assert frechet_distance(a, b) == pytest.approx(30.0, rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_kid_by_hand_and_near_zero_for_one_distribution():
    x, y = np.array([[1.0], [-1.0]]), np.array([[2.0], [2.0]])
    # k(u, v) = (uv + 1)^3: k(1,-1) = 0, k(2,2) = 125, k(1,2) = 27, k(-1,2) = -1
    # MMD^2 = 0 + 125 - 2 * (27 + 27 - 1 - 1) / 4 = 99
    assert kernel_inception_distance(x, y) == pytest.approx(99.0)
    rng = np.random.default_rng(0)
    z1, z2 = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    assert abs(kernel_inception_distance(z1, z2, subset=300)) < 0.05  # same distribution: unbiased, near 0
    assert kernel_inception_distance(z1, z2 + 2, subset=100, subsets=5) > 1.0


def test_realism_kid_does_not_depend_on_one_dimension_s_units():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(200, 4)), rng.normal(0.5, 1.0, size=(200, 4))
    scaled = np.array([1000.0, 1, 1, 1])
    a, b = realism(fake, real), realism(fake * scaled, real * scaled)
    assert a["kid"] == pytest.approx(b["kid"], rel=1e-9)
    assert a["kid"] > 0.01  # a shifted distribution is told apart
    assert b["fd"] > 100 * a["fd"]  # FD keeps the raw units, as FID does


def test_precision_recall_on_a_line():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])  # k=1 radius of every real point: 1
    fake = np.array([[0.5], [10.0]])                # each fake's k=1 radius: 9.5
    p, r = precision_recall(real, fake, k=1)
    assert p == pytest.approx(0.5)  # 0.5 is in a real ball, 10 is not
    assert r == pytest.approx(1.0)  # every real point is within 9.5 of 0.5


def test_cosine_distance():
    a = np.array([[1.0, 0], [1, 0], [1, 0], [3, 4]])
    b = np.array([[0.0, 1], [2, 0], [-1, 0], [4, 3]])
    assert cosine_distance(a, b).tolist() == pytest.approx([1.0, 0.0, 2.0, 1 - 24 / 25])


def test_identity_when_the_seed_decides_the_face_and_when_the_layout_does():
    m, s, d = 5, 4, 8
    eye = np.eye(d)
    by_seed = np.stack([[eye[j] for j in range(s)] for _ in range(m)])  # [m, s, d]
    r = identity(by_seed)
    assert (r["same_seed_distance"], r["different_seed_distance"], r["identity_score"]) == pytest.approx((0.0, 1.0, 1.0))
    assert r["margin"] == pytest.approx(1.0)
    assert r["pairs"] == [m * s, m * s]
    by_layout = np.stack([[eye[i] for _ in range(s)] for i in range(m)])
    r = identity(by_layout)
    assert (r["same_seed_distance"], r["different_seed_distance"]) == pytest.approx((1.0, 0.0))


def test_reference_identity():
    e = np.array([[[1.0, 0], [1, 0.0]], [[0, 1.0], [0, 1.0]]])  # two photos, two identical views each
    r = reference_identity(e)
    assert r["same_person_distance"] == pytest.approx(0.0)
    assert r["different_people_distance"] == pytest.approx(1.0)


# ---------------------------------------------------------------- the measuring networks

def _faces(n=6, res=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, res, res, generator=g) * 2 - 1


def test_evaluation_parser_labels_do_not_depend_on_the_batch():
    p = eval_parser.load()
    x = _faces()
    together = p.labels(x)
    alone = torch.cat([p.labels(x[i:i + 1]) for i in range(len(x))])
    assert (together == alone).float().mean() > 0.9999
    # A varied batch must not change one image's labels either (BatchNorm batch statistics would).
    mixed = p.labels(torch.cat([x[:1], -x[1:]]))[0]
    assert (mixed == together[0]).float().mean() > 0.9999


def test_scoring_the_parser_leaves_it_in_eval_mode():
    from phototype_train.stages import parser as train_parser
    p = eval_parser.load()
    x = _faces(4, p.res)
    before = p.labels(x)
    train_parser.evaluate(p.net, ((x + 1) * 127.5).round().byte(), before)
    assert not p.net.training
    assert torch.equal(p.net(x).argmax(1), before)  # the bare network too, not only the wrapper


def test_a_changed_evaluation_parser_is_refused(tmp_path):
    w = tmp_path / "parser.pt"
    shutil.copy(eval_parser.WEIGHTS, w)
    b = bytearray(w.read_bytes())
    b[len(b) // 2] ^= 1
    w.write_bytes(bytes(b))
    with pytest.raises(UserError, match="was changed"):
        eval_parser.load(w, eval_parser.MANIFEST)
    with pytest.raises(UserError, match="is missing"):
        eval_parser.load(tmp_path / "none.pt", eval_parser.MANIFEST)


def test_designer_shapes_are_flat_simple_and_keep_thin_parts():
    from phototype_train.data.classes import NAMES
    mask = np.zeros((256, 256), np.uint8)
    yy, xx = np.mgrid[:256, :256]
    mask[((yy - 128) / 90) ** 2 + ((xx - 128) / 70) ** 2 < 1] = NAMES.index("skin")
    mask[100:103, 80:120] = NAMES.index("l_brow")  # 3 px thin: thickened to a stroke's width
    mask[140:141, 200:201] = NAMES.index("nose")   # a 1-px speck: dropped as detail
    d = designer_shapes(mask)
    brow = d == NAMES.index("l_brow")
    assert brow.any() and brow.sum(0).max() >= 8
    assert not (d == NAMES.index("nose")).any()
    skin = (d == NAMES.index("skin")) | brow
    assert abs(skin.sum() - math.pi * 90 * 70) / (math.pi * 90 * 70) < 0.05
    assert np.array_equal(d, designer_shapes(mask))  # deterministic


def test_conditional_entropy_by_hand():
    from phototype_train.evaluation.metrics import conditional_entropy
    # a is a copy of b: nothing left to know.
    b = torch.tensor([0, 0, 1, 1])
    assert conditional_entropy(b, b) == pytest.approx(0.0)
    # a is a fair coin within each b: one bit; unconditional on a constant b: also one bit.
    a = torch.tensor([0, 1, 0, 1])
    assert conditional_entropy(a, b) == pytest.approx(1.0)
    assert conditional_entropy(a, torch.zeros(4, dtype=torch.long)) == pytest.approx(1.0)
    # Four equally likely values, b splits them in halves: 2 bits -> 1 bit.
    a4 = torch.tensor([0, 1, 2, 3])
    assert conditional_entropy(a4, torch.zeros(4, dtype=torch.long)) == pytest.approx(2.0)
    assert conditional_entropy(a4, torch.tensor([0, 0, 1, 1])) == pytest.approx(1.0)


def test_missing_cluster_rate_by_hand():
    from phototype_train.evaluation.metrics import missing_cluster_rate
    source = torch.tensor([[[0, 0], [1, 1]], [[2, 2], [2, 2]]])
    target = torch.tensor([[[0, 1], [2, 3]], [[2, 2], [2, 0]]])
    # Pair 0: clusters 2 and 3 are missing (2 of 4 cells); pair 1: cluster 0 missing (1 of 4).
    assert missing_cluster_rate(source, target, 4) == pytest.approx(3 / 8)


def test_layout_miou_over_the_set_and_per_image():
    from phototype_train.evaluation.metrics import layout_miou
    target = torch.tensor([[[0, 0], [1, 1]], [[0, 0], [0, 0]]])
    labels = torch.tensor([[[0, 0], [1, 0]], [[0, 0], [0, 0]]])
    got = layout_miou(labels, target, 2)
    # set: class 0 agrees on 6 of the 7 pixels either calls it (6/7), class 1 on 1 of 2 (1/2)
    # image 1: class 0 2/3, class 1 1/2 -> 7/12; image 2: class 0 only, 1 -> mean (7/12 + 1) / 2 = 19/24
    assert abs(got["miou"] - (6 / 7 + 1 / 2) / 2) < 1e-9
    assert abs(got["mean_image_miou"] - 19 / 24) < 1e-9


def test_a_train_split_evaluation_keeps_its_floor_apart_from_the_photos_it_measures(dataset):
    from phototype_train.evaluation.evaluate import floor_photos, real_photos
    real = real_photos(dataset, "train", 32)
    floor = floor_photos(dataset, "train", 32, 1000)
    assert len(real) == 60 and len(floor) == 8  # the synthetic set: 60 train/ photos, 8 unlabeled/
    assert not any(torch.equal(f, r) for f in floor for r in real)
    assert len(floor_photos(dataset, "test", 32, 1000)) == 68  # a test/ run's floor: every training photo
    assert len(floor_photos(dataset, "train", 32, 5)) == 5
