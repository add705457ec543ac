"""Data: sources (local copy, pinned download, checksums), readers (one per file format, registered by name), task
loading and validation, article import for prediction."""

from bench.data.tasks import TaskData, load_task, subsample

__all__ = ["TaskData", "load_task", "subsample"]
