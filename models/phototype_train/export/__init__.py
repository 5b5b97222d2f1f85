"""Export: a run's networks as a model pack (ONNX files, parity vectors, pack.json)."""
