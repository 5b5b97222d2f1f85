"""Studies: measurements, ablations, benchmarks and figures. Nothing here builds a pack."""
