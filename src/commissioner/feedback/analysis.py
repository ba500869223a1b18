"""Themes and sentiment of a story from the trained classifier (classifier.py), loaded lazily, once per
process, from ``settings.FEEDBACK_MODEL_PATH``.

When the model file is missing (or built with another scikit-learn or other data), nothing fails:
``classify`` returns None, the story is stored "not classified yet", and ``classify_pending`` (run by
the retention command, or after ``make feedback-model``) fills it in later.
"""

import logging
import threading
from dataclasses import dataclass

from django.conf import settings

from commissioner.feedback import classifier
from commissioner.feedback.themes import THEMES

log = logging.getLogger(__name__)
_lock = threading.Lock()
_cache: dict = {}


@dataclass(frozen=True)
class Result:
    sentiment: str
    themes: list
    model_version: str


def model():
    """The model, or None when there is none to load (the reason is logged once)."""
    path = str(settings.FEEDBACK_MODEL_PATH)
    with _lock:
        if path not in _cache:
            try:
                _cache[path] = classifier.load(path)
            except classifier.ModelVersionError as e:
                log.warning("feedback themes not classified: %s", e)
                _cache[path] = None
        return _cache[path]


def forget():
    """Drop the loaded model (after a rebuild, and in tests)."""
    with _lock:
        _cache.clear()


def version_of(m) -> str:
    return f"{m.data_version} scikit-learn {m.sklearn_version}"


def classify(text: str) -> Result | None:
    m = model()
    if m is None:
        return None
    p = m.predict(text)
    if p.sentiment is None:
        return Result("", [], version_of(m))
    return Result(p.sentiment, list(p.themes), version_of(m))


def theme_label(key: str) -> str:
    return THEMES[key][0] if key in THEMES else key
