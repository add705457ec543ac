"""Untrusted files: pickled weights, remote code, hostile archives; and output folders that cannot be written.

The HTML leaderboard's escaping of strings from run records is tested in tests/test_leaderboard.py.
"""

import io
import stat
import tarfile
import zipfile

import pytest

from bench import run as run_module
from bench.data.sources import extract_archive
from bench.errors import BenchError, DataError
from bench.models import transformer
from bench.records import record

# ---------------------------------------------------------------- weights: safetensors only by default


@pytest.fixture
def bin_only_model(tmp_path):
    """A tiny BERT saved as pytorch_model.bin (a pickle) and nothing else."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=100, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, num_labels=3
    )
    folder = tmp_path / "pickled_model"
    model = BertForSequenceClassification(config)
    model.save_pretrained(folder)  # config.json and model.safetensors (transformers 5 always writes safetensors)
    for f in folder.glob("*.safetensors"):
        f.unlink()
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    assert (folder / "pytorch_model.bin").exists() and not list(folder.glob("*.safetensors"))
    return folder


def test_pickled_weights_are_refused_by_default(make_cfg, bin_only_model):
    mcfg = make_cfg("model=minilm", f"model.pretrained={bin_only_model}", "model.offline_package=null").model
    with pytest.raises(BenchError, match=r"no \.safetensors weights, only pytorch_model\.bin.*use_safetensors=false"):
        transformer.load_model(mcfg, ["favor", "against", "none"], seed=1)


def test_pickled_weights_load_when_the_config_allows_them(make_cfg, bin_only_model):
    mcfg = make_cfg(
        "model=minilm",
        f"model.pretrained={bin_only_model}",
        "model.offline_package=null",
        "model.use_safetensors=false",
    ).model
    model, prov = transformer.load_model(mcfg, ["favor", "against", "none"], seed=1)
    assert model.config.num_labels == 3 and prov["source"] == "local"


def test_weights_for_another_label_count_are_one_clear_error(make_cfg, bin_only_model):
    mcfg = make_cfg(
        "model=minilm",
        f"model.pretrained={bin_only_model}",
        "model.offline_package=null",
        "model.use_safetensors=false",
    ).model
    with pytest.raises(BenchError, match=r"do not fit a 2-label classifier"):
        transformer.load_model(mcfg, ["favor", "against"], seed=1)


# ---------------------------------------------------------------- remote code: off unless the model config says so


@pytest.mark.parametrize("trust", [False, True])
def test_trust_remote_code_is_what_the_model_config_says(make_cfg, monkeypatch, trust):
    import transformers

    seen = {}

    def spy(kind):
        def from_pretrained(source, **kwargs):
            seen[kind] = kwargs
            raise OSError("stop here")

        return from_pretrained

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", spy("tokenizer"))
    monkeypatch.setattr(transformers.AutoModelForSequenceClassification, "from_pretrained", spy("model"))
    overrides = ["model=minilm"] + (["model.trust_remote_code=true"] if trust else [])
    mcfg = make_cfg(*overrides).model
    with pytest.raises(BenchError):
        transformer.load_tokenizer(mcfg)
    with pytest.raises(BenchError):
        transformer.load_model(mcfg, ["favor", "against"], seed=1)
    assert seen["tokenizer"]["trust_remote_code"] is trust
    assert seen["model"]["trust_remote_code"] is trust
    assert seen["model"]["use_safetensors"] is True


def test_every_shipped_model_config_keeps_remote_code_off_and_safetensors_on(make_cfg):
    from conftest import CONFIGS

    encoders = 0
    for path in sorted((CONFIGS / "model").glob("*.yaml")):
        mcfg = make_cfg(f"model={path.stem}").model
        if "trust_remote_code" not in mcfg:  # baselines and prompted models load no weights
            continue
        encoders += 1
        assert mcfg.trust_remote_code is False, path.name
        assert mcfg.use_safetensors is True, path.name
    assert encoders >= 8


# ---------------------------------------------------------------- archives cannot write outside their folder


def _zip(tmp_path, members, name="a.zip"):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        for member, data in members:
            if isinstance(member, zipfile.ZipInfo):
                zf.writestr(member, data)
            else:
                zf.writestr(member, data)
    return path


def _symlink_zipinfo(name):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _tar(tmp_path, members, name="a.tar"):
    path = tmp_path / name
    with tarfile.open(path, "w") as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _tarinfo(name, data=b"x", kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, linkname, len(data) if kind == tarfile.REGTYPE else 0
    return info, data if kind == tarfile.REGTYPE else None


HOSTILE = [
    ("../evil.txt", "escapes"),
    ("data/../../evil.txt", "escapes"),
    ("/tmp/stancebench-evil.txt", "absolute path"),
]


@pytest.mark.parametrize(("name", "message"), HOSTILE)
def test_zip_member_outside_dest_is_refused_and_nothing_written(tmp_path, name, message):
    archive = _zip(tmp_path, [("ok.txt", b"fine"), (name, b"evil")])
    dest = tmp_path / "cache" / "dataset"
    with pytest.raises(DataError, match=message):
        extract_archive(archive, dest)
    assert not dest.exists() and not (tmp_path / "cache" / "evil.txt").exists()


@pytest.mark.parametrize(("name", "message"), HOSTILE)
def test_tar_member_outside_dest_is_refused_and_nothing_written(tmp_path, name, message):
    archive = _tar(tmp_path, [_tarinfo("ok.txt"), _tarinfo(name)])
    dest = tmp_path / "cache" / "dataset"
    with pytest.raises(DataError, match=message):
        extract_archive(archive, dest)
    assert not dest.exists()


def test_links_in_archives_are_refused(tmp_path):
    dest = tmp_path / "dest"
    zip_link = _zip(tmp_path, [(_symlink_zipinfo("link"), b"/etc/passwd")])
    with pytest.raises(DataError, match="'link' is a link"):
        extract_archive(zip_link, dest)
    for kind, name in [(tarfile.SYMTYPE, "sym.tar"), (tarfile.LNKTYPE, "hard.tar")]:
        archive = _tar(tmp_path, [_tarinfo("link", kind=kind, linkname="/etc/passwd")], name=name)
        with pytest.raises(DataError, match="'link' is a link"):
            extract_archive(archive, dest)
    # a symlink followed by a file written "through" it
    archive = _tar(tmp_path, [_tarinfo("d", kind=tarfile.SYMTYPE, linkname="/tmp"), _tarinfo("d/x")], name="via.tar")
    with pytest.raises(DataError, match="'d' is a link"):
        extract_archive(archive, dest)
    assert not dest.exists()


def test_archive_too_large_or_not_an_archive(tmp_path):
    archive = _zip(tmp_path, [("big.txt", b"x" * 1000)])
    with pytest.raises(DataError, match="more than the 100 allowed"):
        extract_archive(archive, tmp_path / "dest", max_bytes=100)
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not an archive at all" * 30)
    with pytest.raises(DataError, match="is not a zip or tar archive"):
        extract_archive(junk, tmp_path / "dest")


def test_well_formed_archives_extract(tmp_path):
    archive = _zip(tmp_path, [("a/b.txt", b"zip"), ("c.txt", b"top")])
    written = extract_archive(archive, tmp_path / "z")
    assert sorted(p.relative_to(tmp_path / "z").as_posix() for p in written) == ["a/b.txt", "c.txt"]
    archive = _tar(tmp_path, [_tarinfo("a/b.txt", b"tar")], name="ok.tar")
    extract_archive(archive, tmp_path / "t")
    assert (tmp_path / "t" / "a" / "b.txt").read_bytes() == b"tar"


# ---------------------------------------------------------------- output folders: writable, with free space
# Tests run as root, where chmod does not stop writes: an unwritable folder is simulated by patching os.access,
# a full disk by patching shutil.disk_usage, and an uncreatable folder is a path under /proc.


@pytest.fixture
def no_training(monkeypatch):
    def fail(*a, **k):
        raise AssertionError("training started")

    monkeypatch.setattr(run_module.registry, "build", fail)
    monkeypatch.setattr(run_module, "prepare", fail)


def test_unwritable_output_folder_fails_before_training(make_cfg, monkeypatch, no_training, tmp_path):
    cfg = make_cfg("experiment=smoke")
    real_access = record.os.access
    monkeypatch.setattr(record.os, "access", lambda p, mode: str(p) != cfg.output_dir and real_access(p, mode))
    with pytest.raises(BenchError, match=rf"output folder {tmp_path / 'run'} is not writable"):
        run_module.run(cfg)


def test_full_disk_fails_before_training_naming_the_folder(make_cfg, monkeypatch, no_training, tmp_path):
    import collections

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(record.shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 50 * 1024**2, 50 * 1024**2))
    with pytest.raises(BenchError, match=rf"output folder {tmp_path / 'run'} has only 50 MB free \(at least 200 MB"):
        run_module.run(make_cfg("experiment=smoke"))


def test_uncreatable_results_folder_fails_before_training(make_cfg, no_training):
    with pytest.raises(BenchError, match=r"cannot create output folder /proc/stancebench"):
        run_module.run(make_cfg("experiment=smoke", "results_db=/proc/stancebench/results.sqlite"))
