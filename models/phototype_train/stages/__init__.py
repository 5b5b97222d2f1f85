"""The training stages, in pipeline order. Each one resumes from its checkpoint in the run folder
(runs/<config>/<stage>.pt) and reads the checkpoints of the stages before it."""

# (command, module, what it trains), in the order a pack is built.
STAGES = [
    ("parser", "phototype_train.stages.parser", "face parser: labels generated samples (train/ masks only)"),
    ("generator", "phototype_train.stages.generator", "mapping + g1 + g2 against the discriminator, with an EMA copy"),
    ("proxy", "phototype_train.stages.proxy", "k-means proxy masks on the split features F"),
    ("rearranger", "phototype_train.stages.rearranger", "moves F into another proxy layout"),
    ("mapper", "phototype_train.stages.mapper", "condition -> proxy mask, one per --kind (mask, sketch, scribble, edges)"),
    ("encoder", "phototype_train.stages.encoder", "inversion: photo -> (F, style)"),
]
