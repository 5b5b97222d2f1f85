"""The networks, one file per family; layers.py and unet.py hold what several families share."""
