"""Phototype's training code: the networks, their data, the stages that train them in order, the
evaluation, the export to model packs, and the studies (one-off measurements, not part of a pack).

  python -m phototype_train --help
"""
