import pytest

from bench.run import run


@pytest.fixture(autouse=True)
def _quiet_mlflow(monkeypatch):
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


def test_mlflow_gets_the_records_metrics_and_provenance(make_cfg, tmp_path):
    pytest.importorskip("mlflow")
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    rec = run(make_cfg("experiment=smoke", "logger=mlflow", f"logger.tracking_uri={uri}", "print_table=false"))
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("demo")
    (mrun,) = client.search_runs([exp.experiment_id])
    m, p, t = mrun.data.metrics, mrun.data.params, mrun.data.tags
    assert m["test/main"] == pytest.approx(rec["metrics"]["test"]["main"])
    assert m["dev/pooled/macro_f1"] == pytest.approx(rec["metrics"]["dev"]["pooled"]["macro_f1"])
    assert m["test/russia/f_avg"] == pytest.approx(rec["metrics"]["test"]["per_target"]["russia"]["f_avg"])
    assert p["fingerprint"] == rec["fingerprint"]
    assert p["git_commit"] == str(rec["git"]["commit"]) and p["git_dirty"] == str(rec["git"]["dirty"])
    assert p["config.train.max_steps"] == "4" and p["seed"] == str(rec["seed"])
    assert any(k.startswith("data_sha256.") for k in p) and p["package.torch"] == rec["packages"]["torch"]
    assert (t["task"], t["model"], t["run_id"]) == ("demo", "tiny", rec["run_id"])
    artifacts = {a.path for a in client.list_artifacts(mrun.info.run_id)}
    assert artifacts == {"run.json", "predictions.jsonl"}
    assert (tmp_path / "mlartifacts").is_dir()  # next to the sqlite store, not in the working directory


def test_tensorboard_gets_the_records_scalars_and_provenance(make_cfg, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    # a baseline: every model kind is tracked from the same record
    rec = run(make_cfg("model=majority", "logger=tensorboard", "print_table=false"))
    ea = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    ea.Reload()
    scalars = ea.Tags()["scalars"]
    assert {"test/main", "dev/main", "test/pooled/f_avg", "test/west/accuracy"} <= set(scalars)
    (event,) = ea.Scalars("test/main")
    assert event.value == pytest.approx(rec["metrics"]["test"]["main"])
    (dev,) = ea.Scalars("dev/pooled/accuracy")
    assert dev.value == pytest.approx(rec["metrics"]["dev"]["pooled"]["accuracy"])
    tensors = ea.Tags()["tensors"]
    assert "provenance/text_summary" in tensors
    text = ea.Tensors("provenance/text_summary")[0].tensor_proto.string_val[0].decode()
    assert rec["fingerprint"] in text and rec["run_id"] in text


def test_unknown_logger_kind_fails_before_training(make_cfg):
    from bench.errors import BenchError

    with pytest.raises(BenchError, match="logger.kind='wandb'"):
        run(make_cfg("experiment=smoke", "logger=tensorboard", "logger.kind=wandb"))
