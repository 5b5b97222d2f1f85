"""Left and right by position on training masks (data/sides.py), on maps whose answers can be read off."""
import numpy as np
import torch

from phototype_train.data.classes import NAMES
from phototype_train.data.sides import place_sides, sides_by_position

BG, SKIN, NOSE = 0, NAMES.index("skin"), NAMES.index("nose")
L_EYE, R_EYE, L_EAR, R_EAR = (NAMES.index(n) for n in ("l_eye", "r_eye", "l_ear", "r_ear"))


def test_each_region_takes_the_class_of_its_side_of_the_nose():
    m = np.zeros((8, 20), np.int64)
    m[4:6, 9:11] = NOSE  # midline x = 9.5
    m[2, 2:5] = L_EYE  # on the image's left, labelled as the person's left: mirrored
    m[2, 14:17] = L_EYE
    m[5, 0] = L_EAR
    out = place_sides(m)
    assert (out[2, 2:5] == R_EYE).all() and (out[2, 14:17] == L_EYE).all() and out[5, 0] == R_EAR
    assert (out[4:6, 9:11] == NOSE).all() and (out == BG).sum() == (m == BG).sum()  # nothing else moves


def test_the_skin_then_the_parts_then_the_centre_mark_the_midline():
    m = np.zeros((4, 20), np.int64)
    m[:, 0:4] = SKIN  # skin's mean column 1.5: both eyes lie to its right
    m[1, 6] = R_EYE
    m[1, 12] = R_EYE
    assert (place_sides(m)[1, [6, 12]] == L_EYE).all()
    m = np.zeros((4, 20), np.int64)
    m[1, 2] = L_EYE  # no nose, no skin: halfway between the two regions (x 2 and 17) is 9.5
    m[1, 17] = R_EYE
    out = place_sides(m)
    assert out[1, 2] == R_EYE and out[1, 17] == L_EYE
    m = np.zeros((4, 21), np.int64)
    m[1, 15] = R_EYE  # one region alone: the image centre (x 10)
    assert place_sides(m)[1, 15] == L_EYE


def test_a_region_on_the_midline_keeps_its_classes_and_diagonals_connect():
    m = np.zeros((6, 21), np.int64)
    m[5, 10] = NOSE  # midline x = 10
    m[1, 9:12] = L_EYE  # a unibrow-like region centred on the midline
    m[1, 10] = R_EYE
    out = place_sides(m)
    assert (out[1, 9:12] == m[1, 9:12]).all()
    m = np.zeros((6, 21), np.int64)
    m[5, 10] = NOSE
    m[1, 2] = R_EYE
    m[2, 3] = L_EYE  # touches (1, 2) diagonally: one region, mean x 2.5, the image's left
    assert (place_sides(m)[[1, 2], [2, 3]] == R_EYE).all()


def test_batch_keeps_dtype_and_shape():
    m = torch.zeros((2, 4, 20), dtype=torch.long)
    m[0, 1, 15] = R_EYE
    out = sides_by_position(m)
    assert out.dtype == m.dtype and out.shape == m.shape and out[0, 1, 15] == L_EYE
