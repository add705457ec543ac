"""Model kinds behind one contract (bench.models.contract), found by name in bench.models.registry."""
