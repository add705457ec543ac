"""Classifiers behind one interface: fit on train (selecting on dev), predict labels and probabilities."""

from bench.errors import BenchError


def build(cfg, run_dir, checkpoint_dir=None):
    """The classifier named by cfg.model.kind (checkpoint_dir: where a transformer keeps resumable checkpoints)."""
    kind = cfg.model.kind
    if kind == "majority":
        from bench.models.baselines import Majority

        return Majority(cfg)
    if kind == "tfidf_svm":
        from bench.models.baselines import TfidfSvm

        return TfidfSvm(cfg)
    if kind == "transformer" and cfg.model.formulation == "joint":
        from bench.models.joint import JointFineTuner

        return JointFineTuner(cfg, run_dir, checkpoint_dir)
    if kind == "transformer":
        from bench.models.finetune import FineTuner

        return FineTuner(cfg, run_dir, checkpoint_dir)
    raise BenchError(f"model.kind={kind!r} is unknown; use transformer, majority or tfidf_svm")
