"""Data: the dataset on disk, augmentation, face classes, designer shapes, drawn conditions, synthetic faces."""
