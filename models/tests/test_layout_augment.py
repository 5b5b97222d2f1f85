"""Off-habit layout transforms on hand-made label maps."""
import torch

from phototype_train.data.layout_augment import DonorPool, PartIds, grow_hair, paste, remove_hair, stretch, stretch_theta

IDS = PartIds(background=0, hair=2, pasted=(5,))


def test_stretch_widens_about_the_centre():
    m = torch.zeros(1, 8, 8, dtype=torch.long)
    m[0, :, 3:5] = 1  # a 2-px stripe in the middle
    theta = torch.tensor([[[0.5, 0.0, 0.0], [0.0, 1.0, 0.0]]])  # twice as wide, no shift
    out, = stretch([m], theta)
    assert out[0, 0].tolist() == [0, 0, 1, 1, 1, 1, 0, 0]


def test_stretch_theta_stays_within_its_limits():
    th = stretch_theta(500, torch.Generator().manual_seed(0), widen=0.25, shift=0.15, tall=0.1)
    sx = 1 / th[:, 0, 0]
    assert sx.min() >= 1 / 1.25 - 1e-6 and sx.max() <= 1.25 + 1e-6 and sx.min() < 0.85 and sx.max() > 1.2
    shift = -th[:, 0, 2] * sx / 2  # back to a fraction of the image side
    assert shift.abs().max() <= 0.15 + 1e-6


def test_hair_removed_and_grown_in_every_map():
    m = torch.zeros(1, 5, 5, dtype=torch.long)
    m[0, 2, 2] = 2
    m[0, 2, 3] = 1  # skin next to the hair stays skin
    assert (remove_hair([m], [IDS])[0] == 0).sum() == 24
    grown, = grow_hair([m], [IDS], reach=0.2)  # one pixel each way
    assert grown[0, 1:4, 1:4].tolist() == [[2, 2, 2], [2, 2, 1], [2, 2, 2]]
    assert grown[0, 0].tolist() == [0] * 5
    other = PartIds(background=0, hair=-1, pasted=())
    assert torch.equal(grow_hair([m], [other], 0.2)[0], m)  # a map without hair is left alone


def test_paste_writes_the_donors_parts_in_every_map():
    small = torch.zeros(1, 2, 2, dtype=torch.long)   # a proxy: part ids 0..
    big = torch.ones(1, 4, 4, dtype=torch.long)      # its classes at twice the size
    d_small = torch.zeros(1, 2, 2, dtype=torch.long)
    d_small[0, 0, 0] = 7                             # the donor's ear cluster
    d_big = torch.zeros(1, 4, 4, dtype=torch.long)
    d_big[0, :2, :2] = 5                             # the donor's ear class
    out_small, out_big = paste([small, big], [d_small, d_big], [PartIds(0, -1, (7,)), PartIds(0, 2, (5,))])
    assert out_small[0].tolist() == [[7, 0], [0, 0]]
    assert out_big[0].tolist() == [[5, 5, 1, 1], [5, 5, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]


def test_donor_pool_keeps_samples_with_enough_of_a_lent_part():
    maps = torch.zeros(3, 10, 10, dtype=torch.long)
    maps[1, 0, :5] = 5   # 5 % of the image
    maps[2, 0, 0] = 5    # 1 %
    pool = DonorPool([maps], [IDS], min_share=0.02)
    assert len(pool) == 1 and pool.maps[0][0, 0, 0] == 5
