"""The 19 CelebAMask-HQ classes and the palette designers draw with.

Colours are picked to be told apart by eye and by nearest-colour matching
(every pair differs by at least 40 in RGB); skin-like parts get skin-like tones.
"l_" and "r_" are the person's left and right: l_eye sits on the image's right.
"""

CLASSES = [
    ("background", "#AEC6E8"),
    ("skin", "#F5CBA7"),
    ("nose", "#E59866"),
    ("eye_g", "#4B4B4B"),
    ("l_eye", "#2E86DE"),
    ("r_eye", "#0ABDE3"),
    ("l_brow", "#6E2C00"),
    ("r_brow", "#A0522D"),
    ("l_ear", "#E08E0B"),
    ("r_ear", "#A66A00"),
    ("mouth", "#7B1F5A"),
    ("u_lip", "#E74C3C"),
    ("l_lip", "#FF8FA3"),
    ("hair", "#1C1C1C"),
    ("hat", "#8E44AD"),
    ("ear_r", "#F4D03F"),
    ("neck_l", "#D5D8DC"),
    ("neck", "#C08552"),
    ("cloth", "#16A085"),
]
NAMES = [n for n, _ in CLASSES]
NUM_CLASSES = len(CLASSES)
# The parts that come in two classes, one a side, by the side of the image each lies on:
# (label, class on the image's left, class on the image's right). pack.json carries them as
# "sidePairs", so the palette shows one Eye, Brow and Ear and the server picks the side by position.
SIDE_PAIRS = [("Eye", "r_eye", "l_eye"), ("Brow", "r_brow", "l_brow"), ("Ear", "r_ear", "l_ear")]
# Horizontal flip swaps the person's left and right parts.
FLIP_SWAP = {4: 5, 5: 4, 6: 7, 7: 6, 8: 9, 9: 8}


def flip_lut():
    import torch
    lut = torch.arange(NUM_CLASSES)
    for a, b in FLIP_SWAP.items():
        lut[a] = b
    return lut


def hex_rgb(h: str):
    return tuple(int(h[i:i + 2], 16) for i in (1, 3, 5))


def palette_tensor():
    import torch
    return torch.tensor([hex_rgb(c) for _, c in CLASSES], dtype=torch.uint8)


def side_merge_lut():
    """Class id -> part id with each r_ part folded into its l_ part (eye, brow, ear as one part each):
    which side a part is on follows from where it is, so a proxy part need not carry it."""
    lut = list(range(NUM_CLASSES))
    for a, b in FLIP_SWAP.items():
        lut[max(a, b)] = min(a, b)
    return lut


def sides_merged(labels):
    import torch
    return torch.tensor(side_merge_lut())[labels]
