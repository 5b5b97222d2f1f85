"""Off-habit layouts and their measures, on small hand-made masks whose answers can be counted."""
import numpy as np

from phototype_train.evaluation import off_habit as oh


def face_mask(W=64):
    """Background; hair rows 4-11 over cols 16-47; skin rows 12-43 over cols 20-43 (24 wide); eyes at
    row 22 (cols 24-27 and 36-39); brows at row 19; nose rows 26-31 cols 30-33."""
    m = np.zeros((W, W), np.int64)
    m[4:12, 16:48] = oh.HAIR
    m[12:44, 20:44] = oh.SKIN
    m[19, 24:28] = oh.NAMES.index("r_brow")
    m[19, 36:40] = oh.NAMES.index("l_brow")
    m[22, 24:28] = oh.NAMES.index("r_eye")
    m[22, 36:40] = oh.NAMES.index("l_eye")
    m[26:32, 30:34] = oh.NOSE
    return m


def test_face_width_counts_the_span_of_face_rows():
    assert oh.face_width(face_mask()) == 24.0
    m = face_mask()
    m[30, 5] = oh.SKIN  # one stray pixel row does not set the width: 90th percentile of 32 rows
    assert oh.face_width(m) == 24.0
    assert oh.face_width(np.zeros((8, 8), np.int64)) == 0.0


def test_widen_draws_the_face_at_the_asked_share():
    m = oh.widen(face_mask(), share=0.75)
    assert abs(oh.face_width(m) - 48) <= 1  # 0.75 of 64
    nose = np.argwhere(m == oh.NOSE)[:, 1]
    assert abs(nose.mean() - 31.5) <= 1  # about the face's centre: the nose stays put
    assert not (m[:, 0] == oh.SKIN).any()


def test_remove_hair_leaves_no_hair():
    m = oh.remove_hair(face_mask())
    assert not (m == oh.HAIR).any() and (m[4:12, 16:48] == oh.BACKGROUND).all()


def test_ears_sit_outside_the_face_on_both_sides_with_sided_classes():
    m0 = face_mask()
    m = oh.add_ears(m0)
    assert (m[m0 == oh.SKIN] == oh.SKIN).all()  # the face is not drawn over
    left = np.argwhere(m == oh.R_EAR)[:, 1]
    right = np.argwhere(m == oh.L_EAR)[:, 1]
    assert left.max() < 20 and right.min() > 43  # r_ear on the image's left, l_ear on its right
    # each ear is about half an ellipse of semi-axes 0.11 x 0.055 of the side (the rest is under the face)
    full = np.pi * (0.11 * 64) * (0.055 * 64)
    assert 0.3 * full < len(left) < full and 0.3 * full < len(right) < full


def test_hat_covers_the_crown_and_reaches_past_the_head():
    m0 = face_mask()
    m = oh.add_hat(m0)
    # top of the head row 4, brows row 19: the cut is row 4 + 0.55 * 15 = 12 (int); head rows above it are hat
    assert (m[4:12, 16:48] == oh.HAT).all()
    assert (m[12:20][m0[12:20] == oh.SKIN] == oh.SKIN).all()
    # bald: the head starts at row 12, the cut is row 12 + int-part of 0.55 * 7 = 15; the brim is the
    # row above it (3 % of 64 = 1 row), 3 px (6 %) past the skin's cols 20-43 on each side
    bald = oh.add_hat(oh.remove_hair(m0))
    assert (bald[12:15, 20:44] == oh.HAT).all() and (bald[15, 20:44] == oh.SKIN).all()
    assert (bald[14, 17:47] == oh.HAT).all() and bald[14, 16] == oh.BACKGROUND and bald[14, 47] == oh.BACKGROUND


def test_make_layouts_is_kind_major_and_skips_unusable_masks():
    blank = np.zeros((64, 64), np.int64)
    masks = np.stack([blank, face_mask(), face_mask()])
    made, chosen = oh.make_layouts(masks, 5)
    assert chosen == [1, 2] and made.shape == (len(oh.KINDS) * 2, 64, 64)
    assert not (made[oh.KINDS.index("no-hair") * 2] == oh.HAIR).any()
    assert (made[oh.KINDS.index("hat") * 2] == oh.HAT).any()


def test_pooled_iou_and_share_by_hand():
    a = np.zeros((2, 4, 4), np.int64)
    b = np.zeros((2, 4, 4), np.int64)
    a[0, :2, :2] = oh.HAT  # 4 px
    b[0, :2, :1] = oh.HAT  # 2 px inside a's
    b[1, 3, 3] = oh.HAT  # 1 px a lacks
    assert oh.pooled_iou(a, b, [oh.HAT]) == 2 / 5
    assert oh.share(a, [oh.HAT]) == 4 / 32
    assert oh.pooled_iou(np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), [oh.HAT]) == 0.0


def test_score_compares_each_kind_with_its_unchanged_layouts():
    drawn_src = np.stack([face_mask()])
    made, _ = oh.make_layouts(drawn_src, 1)
    # outputs that copy the drawing exactly score IoU 1 and "out" equal to "drawn"
    parsed = made[:, None]
    rows = oh.score(made, parsed, 1, drawn_src, drawn_src[:, None])
    assert rows["ears"]["iou"] == 1.0 and rows["hat"]["iou"] == 1.0
    assert rows["no-hair"]["out"] == 0.0 and rows["no-hair"]["unchanged"]["out"] == rows["no-hair"]["unchanged"]["drawn"] > 0
    assert rows["wide"]["out"] == rows["wide"]["drawn"] and rows["wide"]["unchanged"]["drawn"] == 24 / 64
