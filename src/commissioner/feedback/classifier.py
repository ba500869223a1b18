"""Themes and sentiment of residents' feedback: a scikit-learn model trained offline on labelled comments.

Training data: ``data/feedback/v6framework_230831.csv``, 6,327 NHS Friends and Family
Test comments labelled by people (see ``data/feedback/PROVENANCE.md``). Nothing is
downloaded, ever: the features are TF-IDF word 1-2-grams (words after a negation
marked ``not_``, see ``mark_negation``) and character 2-5-grams (within word
boundaries) fitted on the training text, plus two counts of evaluative words
(``NEGATIVE_WORDS``, ``POSITIVE_WORDS``) whose weights are learned, and the classifiers are
logistic regressions fitted by stochastic gradient descent with a fixed seed, on
rows sorted by comment id, so the same data and scikit-learn version give the same
model and the same predictions.

* Sentiment, 3 classes, from the labeller's 1-5 score: positive = 1-2,
  neutral/mixed = 3, negative = 4-5. Rows whose score is blank (1,395) or whose text
  is empty (413) are left out of sentiment training: a blank score is unknown, not
  neutral. The classes are weighted (``SENTIMENT_CLASS_WEIGHTS``) so that the
  rarer negative comments are not swamped by thanks.
* Themes, multi-label: one logistic regression per theme (one-vs-rest) on every
  row with text; a row's themes come from its NHS labels through
  ``themes.LABEL_TO_THEME``. A theme is predicted when its probability is at least
  ``THEME_THRESHOLD``.

The model file is written by ``scripts/train_feedback_model.py`` (``make
feedback-model``) to ``var/models/`` and is not shipped: it is rebuilt in seconds,
and a pickled scikit-learn model is only safe with the version that made it.
``load`` refuses a model built from other data or another scikit-learn version,
and says how to rebuild it. Only load model files you built yourself: joblib
files are pickles.

No Django here: the feedback app calls ``load(...).predict(text)``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .themes import LABEL_TO_THEME, THEME_KEYS, themes_for_labels

DATA_FILE_NAME = "v6framework_230831.csv"
# The data version the code, the model and docs/feedback-model.md refer to: the
# sha256 of the labelled CSV (also in data/feedback/PROVENANCE.md).
DATA_VERSION = "sha256:138d8260104ed66b87e865a10e8e568a72ae2a19a3ee67e651f9c10d9c11dbb2"
MODEL_FORMAT = 1
RANDOM_STATE = 0
THEME_THRESHOLD = 0.5
# L2 penalties, chosen by the cross-validation recorded in docs/feedback-model.md.
SENTIMENT_ALPHA = 1e-4
THEME_ALPHA = 2e-5
# Sentiment class weights: between none and inverse frequency ("balanced" would be
# positive 0.53, neutral 2.9, negative 1.27), so that mixed comments do not absorb
# short complaints; negative recall matters most to a council.
SENTIMENT_CLASS_WEIGHTS = {"positive": 0.6, "neutral": 1.5, "negative": 1.5}
LEXICON_WEIGHT = 2.0
REBUILD_HINT = "Rebuild it with `make feedback-model` (or `.venv/bin/python scripts/train_feedback_model.py`)."

SENTIMENTS: tuple[str, ...] = ("positive", "neutral", "negative")
SENTIMENT_FROM_SCORE = {"1": "positive", "2": "positive", "3": "neutral", "4": "negative", "5": "negative"}

ID_COLUMN = "Comment ID"
TEXT_COLUMN = "FFT answer"
SENTIMENT_COLUMN = "Comment sentiment"


def repo_root() -> Path:
    """The project directory: COMMISSIONER_HOME if set (as in settings), else the checkout."""
    return Path(os.environ.get("COMMISSIONER_HOME", Path(__file__).resolve().parents[3])).resolve()


def default_data_path() -> Path:
    return repo_root() / "data" / "feedback" / DATA_FILE_NAME


def default_model_path() -> Path:
    return repo_root() / "var" / "models" / "feedback-model.joblib"


class FeedbackDataError(ValueError):
    """The labelled file is not what training expects; the message names the row or column."""


class ModelVersionError(RuntimeError):
    """A saved model that does not match this data or this scikit-learn; the message says how to rebuild."""


@dataclass(frozen=True)
class Comment:
    """One labelled comment: sentiment is None when the labeller left it blank."""

    comment_id: str
    text: str
    sentiment: str | None
    themes: tuple[str, ...]


@dataclass(frozen=True)
class Prediction:
    """What the model says about one text; sentiment None (and nothing else) when there is no text.

    Unpacks as ``sentiment, probabilities, themes = model.predict(text)``; the
    probability of every theme is in ``theme_probabilities``.
    """

    sentiment: str | None
    probabilities: dict[str, float]
    themes: tuple[str, ...]
    theme_probabilities: dict[str, float] = field(default_factory=dict)

    def __iter__(self):
        return iter((self.sentiment, self.probabilities, self.themes))


def file_sha256(path: str | Path) -> str:
    """``sha256:<hex>`` of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def read_labelled(path: str | Path | None = None) -> list[Comment]:
    """Read the labelled CSV into comments sorted by id; any unexpected value raises FeedbackDataError."""
    path = Path(path) if path is not None else default_data_path()
    if not path.is_file():
        raise FeedbackDataError(f"labelled feedback file not found: {path}")
    with open(path, encoding="utf-8", newline="") as fh:
        try:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in (ID_COLUMN, TEXT_COLUMN, SENTIMENT_COLUMN) if c not in header]
            if missing:
                raise FeedbackDataError(f"{path.name}: missing column(s) {', '.join(map(repr, missing))}")
            label_columns = header[header.index(SENTIMENT_COLUMN) + 1:]
            unknown = [c for c in label_columns if c not in LABEL_TO_THEME]
            if unknown:
                raise FeedbackDataError(
                    f"{path.name}: label column(s) {', '.join(map(repr, unknown))} have no theme in themes.LABEL_TO_THEME")
            comments, seen = [], set()
            for line, row in enumerate(reader, start=2):
                if None in row or any(v is None for v in row.values()):
                    raise FeedbackDataError(f"{path.name} row {line}: wrong number of fields")
                cid = row[ID_COLUMN].strip()
                if not cid:
                    raise FeedbackDataError(f"{path.name} row {line}: {ID_COLUMN!r} is empty")
                if cid in seen:
                    raise FeedbackDataError(f"{path.name} row {line}: duplicate {ID_COLUMN!r} {cid!r}")
                seen.add(cid)
                score = row[SENTIMENT_COLUMN].strip()
                if score and score not in SENTIMENT_FROM_SCORE:
                    raise FeedbackDataError(
                        f"{path.name} row {line} ({cid}): {SENTIMENT_COLUMN!r} is {score!r}, expected 1-5 or blank")
                labels = []
                for col in label_columns:
                    value = row[col].strip()
                    if value == "1":
                        labels.append(col)
                    elif value not in ("", "0"):
                        raise FeedbackDataError(
                            f"{path.name} row {line} ({cid}): label {col!r} is {value!r}, expected 1 or blank")
                comments.append(Comment(cid, row[TEXT_COLUMN], SENTIMENT_FROM_SCORE.get(score), themes_for_labels(labels)))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise FeedbackDataError(f"{path.name}: not a readable UTF-8 CSV ({exc})") from None
    comments.sort(key=lambda c: c.comment_id)
    return comments


def has_text(text: str) -> bool:
    return bool(text and text.strip())


_NEGATORS = frozenset({
    "not", "no", "never", "nobody", "noone", "nothing", "none", "nowhere", "neither", "nor", "without", "hardly",
    "cannot", "cant", "dont", "didnt", "doesnt", "isnt", "arent", "wasnt", "werent", "wont", "wouldnt", "couldnt",
    "shouldnt", "havent", "hasnt", "hadnt",
})
_TOKENS = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[.,!?;:()]")


def mark_negation(text: str) -> str:
    """Lower-case, fold accents and prefix words after a negation with ``not_`` up to the next punctuation.

    "nobody called me back." -> "nobody not_called not_me not_back": a bag of words
    otherwise reads "nobody called me back" like "they called me back".
    """
    text = unicodedata.normalize("NFKD", text.replace("\u2019", "'").lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    out, negated = [], False
    for token in _TOKENS.findall(text):
        if token in ".,!?;:()":
            negated = False
            continue
        word = token.replace("'", "")
        if word in _NEGATORS:
            out.append(word)
            negated = True
        else:
            out.append("not_" + word if negated else word)
    return " ".join(out)


# Evaluative words whose counts are two extra features. Each word alone is rare in
# the labelled comments ("terrible" 8 times, "useless" 7, "rude" 5), too rare for its
# own weight; pooled, their weight is learned from the data like any other feature.
# A word after a negation counts the other way for praise ("not helpful" is
# negative); a negated complaint ("not rude") counts for neither.
NEGATIVE_WORDS = frozenset({
    "angry", "appalling", "awful", "bad", "cancelled", "careless", "chaotic", "delayed", "dirty",
    "disappointed", "disappointing", "disgraceful", "disgusting", "dismissive", "dreadful", "fail", "failed",
    "filthy", "frustrated", "frustrating", "hopeless", "horrendous", "horrible", "ignored", "incompetent",
    "joke", "late", "lied", "missed", "neglected", "nightmare", "pathetic", "poor", "rubbish", "rude",
    "shambles", "shocking", "slow", "terrible", "unacceptable", "uncaring", "unhelpful", "unprofessional",
    "unsafe", "upset", "useless", "waste", "worst"
})
POSITIVE_WORDS = frozenset({
    "amazing", "brilliant", "caring", "compassionate", "efficient", "excellent", "fab", "fabulous", "fantastic",
    "friendly", "good", "grateful", "great", "happy", "helpful", "kind", "lovely", "outstanding", "perfect",
    "pleased", "polite", "professional", "prompt", "quick", "reassuring", "respectful", "superb", "supportive",
    "thank", "thanks", "wonderful"
})


def lexicon_counts(text: str) -> tuple[int, int]:
    """(negative, positive) evaluative words in a text, after negation marking."""
    neg = pos = 0
    for token in mark_negation(text).split():
        if token.startswith("not_"):
            neg += token[4:] in POSITIVE_WORDS
        elif token in NEGATIVE_WORDS:
            neg += 1
        elif token in POSITIVE_WORDS:
            pos += 1
    return neg, pos


def _lexicon_transformer():
    """A stateless transformer: log(1 + count) of negative and positive words (picklable by reference)."""
    from sklearn.preprocessing import FunctionTransformer

    return FunctionTransformer(_lexicon_matrix, validate=False, accept_sparse=True)


def _lexicon_matrix(texts):
    import numpy as np
    import scipy.sparse as sp

    return sp.csr_matrix(np.log1p(np.array([lexicon_counts(t) for t in texts], dtype=np.float64).reshape(-1, 2)))


def _features():
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion([
        ("words", TfidfVectorizer(analyzer="word", preprocessor=mark_negation, token_pattern=r"\S+",
                                  ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float32)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
                                  strip_accents="unicode", lowercase=True, dtype=np.float32)),
        ("lexicon", _lexicon_transformer()),
    ], transformer_weights={"words": 1.0, "chars": 1.0, "lexicon": LEXICON_WEIGHT})


def _logistic(random_state: int, alpha: float, class_weight="balanced"):
    from sklearn.linear_model import SGDClassifier

    # Logistic regression (log loss) by SGD: a fixed number of epochs and seed, so the fit is deterministic.
    return SGDClassifier(loss="log_loss", alpha=alpha, class_weight=class_weight, max_iter=50, tol=None,
                         random_state=random_state)


@dataclass
class FeedbackModel:
    """The fitted features and classifiers, with what they were trained on."""

    features: object
    sentiment_classifier: object
    theme_classifier: object
    theme_keys: tuple[str, ...]
    data_version: str
    sklearn_version: str
    trained_on: dict = field(default_factory=dict)
    theme_threshold: float = THEME_THRESHOLD

    def predict(self, text: str) -> Prediction:
        """Sentiment, its class probabilities and themes of one text (plain text: markup is not interpreted)."""
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """Predictions for many texts, in order; an empty text gets Prediction(None, {}, ())."""
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {i} is {type(text).__name__}, expected str")
        out: list[Prediction | None] = [None] * len(texts)
        idx = [i for i, t in enumerate(texts) if has_text(t)]
        if idx:
            x = self.features.transform([texts[i] for i in idx])
            sent_proba = self.sentiment_classifier.predict_proba(x)
            sent_classes = [str(c) for c in self.sentiment_classifier.classes_]
            theme_proba = self.theme_classifier.predict_proba(x)
            for row, i in enumerate(idx):
                probs = {c: float(sent_proba[row][sent_classes.index(c)]) for c in SENTIMENTS}
                best = max(SENTIMENTS, key=lambda c: (probs[c], -SENTIMENTS.index(c)))
                tprobs = {k: float(theme_proba[row][j]) for j, k in enumerate(self.theme_keys)}
                themes = tuple(k for k in self.theme_keys if tprobs[k] >= self.theme_threshold)
                out[i] = Prediction(best, probs, themes, tprobs)
        return [p if p is not None else Prediction(None, {}, (), {}) for p in out]

    def meta(self) -> dict:
        return {"model_format": MODEL_FORMAT, "data_version": self.data_version,
                "sklearn_version": self.sklearn_version, "theme_keys": list(self.theme_keys),
                "trained_on": dict(self.trained_on)}

    def save(self, path: str | Path | None = None) -> Path:
        """Write the model with joblib (written to a temporary file, then renamed); returns the path."""
        import joblib

        path = Path(path) if path is not None else default_model_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        inner = io.BytesIO()
        joblib.dump({"features": self.features, "sentiment": self.sentiment_classifier,
                     "themes": self.theme_classifier, "theme_threshold": self.theme_threshold}, inner)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        # The metadata is readable without unpickling any scikit-learn object, so a
        # mismatch is refused before scikit-learn sees a model from another version.
        joblib.dump({"meta": self.meta(), "payload": inner.getvalue()}, tmp, compress=3)
        os.replace(tmp, path)
        return path


def fit(comments: Sequence[Comment], *, data_version: str, random_state: int = RANDOM_STATE) -> FeedbackModel:
    """Fit the features on every comment with text, then the sentiment and theme classifiers."""
    import numpy as np
    import sklearn
    from sklearn.multiclass import OneVsRestClassifier

    with_text = [c for c in comments if has_text(c.text)]
    with_sentiment = [c for c in with_text if c.sentiment is not None]
    if not with_sentiment or len({c.sentiment for c in with_sentiment}) < len(SENTIMENTS):
        raise FeedbackDataError("training needs comments with text in each sentiment class (positive, neutral, "
                                "negative)")
    features = _features()
    x_all = features.fit_transform([c.text for c in with_text])
    for vec in features.transformer_list:
        vec[1].stop_words_ = None  # terms dropped by min_df: not needed to predict, and large
    pos = {c.comment_id: i for i, c in enumerate(with_text)}
    x_sent = x_all[[pos[c.comment_id] for c in with_sentiment]]
    sentiment = _logistic(random_state, SENTIMENT_ALPHA, dict(SENTIMENT_CLASS_WEIGHTS)).fit(x_sent, [c.sentiment for c in with_sentiment])
    y_themes = np.array([[k in c.themes for k in THEME_KEYS] for c in with_text], dtype=np.int8)
    themes = OneVsRestClassifier(_logistic(random_state, THEME_ALPHA)).fit(x_all, y_themes)
    return FeedbackModel(
        features=features, sentiment_classifier=sentiment, theme_classifier=themes, theme_keys=THEME_KEYS,
        data_version=data_version, sklearn_version=sklearn.__version__,
        trained_on={"comments": len(comments), "with_text": len(with_text), "with_sentiment": len(with_sentiment),
                    "sentiment_counts": dict(sorted(Counter(c.sentiment for c in with_sentiment).items())),
                    "random_state": random_state},
    )


def train(path: str | Path | None = None, *, random_state: int = RANDOM_STATE) -> FeedbackModel:
    """Read the labelled file and fit a model whose data version is the file's sha256."""
    path = Path(path) if path is not None else default_data_path()
    return fit(read_labelled(path), data_version=file_sha256(path), random_state=random_state)


def load(path: str | Path | None = None, *, data_version: str = DATA_VERSION) -> FeedbackModel:
    """Load a saved model, refusing one built from other data or with another scikit-learn version."""
    import joblib
    import sklearn

    path = Path(path) if path is not None else default_model_path()
    if not path.exists():
        raise ModelVersionError(f"no feedback model at {path}. {REBUILD_HINT}")
    try:
        outer = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 -- unpickling a truncated or foreign file can raise anything
        raise ModelVersionError(f"{path} is not a readable feedback model ({exc}). {REBUILD_HINT}") from None
    meta = outer.get("meta") if isinstance(outer, dict) else None
    if not isinstance(meta, dict) or meta.get("model_format") != MODEL_FORMAT:
        raise ModelVersionError(f"{path} is not a feedback model in format {MODEL_FORMAT}. {REBUILD_HINT}")
    problems = []
    if meta.get("data_version") != data_version:
        problems.append(f"it was trained on data version {meta.get('data_version')}, expected {data_version}")
    if meta.get("sklearn_version") != sklearn.__version__:
        problems.append(f"it was built with scikit-learn {meta.get('sklearn_version')}, "
                        f"this installation has {sklearn.__version__}")
    if list(meta.get("theme_keys") or []) != list(THEME_KEYS):
        problems.append("its themes differ from commissioner.feedback.themes.THEMES")
    if problems:
        raise ModelVersionError(f"refusing to load the feedback model at {path}: {'; '.join(problems)}. "
                                f"{REBUILD_HINT}")
    inner = joblib.load(io.BytesIO(outer["payload"]))
    return FeedbackModel(
        features=inner["features"], sentiment_classifier=inner["sentiment"], theme_classifier=inner["themes"],
        theme_keys=tuple(meta["theme_keys"]), data_version=meta["data_version"],
        sklearn_version=meta["sklearn_version"], trained_on=meta.get("trained_on", {}),
        theme_threshold=inner.get("theme_threshold", THEME_THRESHOLD),
    )


def cross_validate(comments: Sequence[Comment], *, folds: int = 5, random_state: int = RANDOM_STATE) -> dict:
    """Stratified k-fold cross-validation of the whole training recipe; returns the metrics.

    Folds are drawn over the comments with text, stratified by sentiment class (a
    blank score is its own stratum), and every fold refits features and both
    classifiers on the other folds. Sentiment metrics are over comments with a
    score; theme metrics over all comments with text.
    """
    import numpy as np
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
        recall_score,
    )
    from sklearn.model_selection import StratifiedKFold

    with_text = [c for c in comments if has_text(c.text)]
    strata = [c.sentiment or "unscored" for c in with_text]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    pred_sent: list[str | None] = [None] * len(with_text)
    pred_themes = np.zeros((len(with_text), len(THEME_KEYS)), dtype=np.int8)
    for train_idx, test_idx in splitter.split(np.zeros(len(with_text)), strata):
        model = fit([with_text[i] for i in train_idx], data_version="cv", random_state=random_state)
        for i, p in zip(test_idx, model.predict_many([with_text[i].text for i in test_idx]), strict=True):
            pred_sent[i] = p.sentiment
            pred_themes[i] = [k in p.themes for k in THEME_KEYS]

    scored = [i for i, c in enumerate(with_text) if c.sentiment is not None]
    y_true = [with_text[i].sentiment for i in scored]
    y_pred = [pred_sent[i] for i in scored]
    labels = list(SENTIMENTS)
    prec, rec, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    majority = Counter(y_true).most_common(1)[0]
    true_themes = np.array([[k in c.themes for k in THEME_KEYS] for c in with_text], dtype=np.int8)
    t_prec, t_rec, t_f1, t_support = precision_recall_fscore_support(true_themes, pred_themes, zero_division=0)
    return {
        "folds": folds,
        "random_state": random_state,
        "comments": len(comments),
        "with_text": len(with_text),
        "sentiment": {
            "n": len(scored),
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro")),
            "negative_recall": float(recall_score(y_true, y_pred, labels=["negative"], average="macro")),
            "majority_class": majority[0],
            "majority_accuracy": majority[1] / len(y_true),
            "per_class": {c: {"precision": float(prec[j]), "recall": float(rec[j]), "f1": float(f1[j]),
                              "support": int(support[j])} for j, c in enumerate(labels)},
            "labels": labels,
            "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        },
        "themes": {
            k: {"precision": float(t_prec[j]), "recall": float(t_rec[j]), "f1": float(t_f1[j]),
                "support": int(t_support[j])}
            for j, k in enumerate(THEME_KEYS)
        },
        "themes_micro_f1": float(f1_score(true_themes, pred_themes, average="micro", zero_division=0)),
    }


def label_counts(path: str | Path | None = None) -> dict[str, int]:
    """How many rows carry each NHS label (for the documentation)."""
    path = Path(path) if path is not None else default_data_path()
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        cols = header[header.index(SENTIMENT_COLUMN) + 1:]
        counts = dict.fromkeys(cols, 0)
        for row in reader:
            for col in cols:
                if row[col].strip() == "1":
                    counts[col] += 1
    return counts


def themes_of(comments: Iterable[Comment]) -> Counter:
    """How many comments carry each theme."""
    return Counter(t for c in comments for t in c.themes)
