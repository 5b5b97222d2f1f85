"""Evaluation: metrics, the committed evaluation parser, MobileNetV2 features, scores, the report, the generator monitor."""
