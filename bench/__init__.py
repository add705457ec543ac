"""StanceBench: stance and sentiment classification of news, from data to a recorded, comparable result."""

__version__ = "0.1.0"
