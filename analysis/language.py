"""Which language a text is in: read from the text itself, the page's declaration as a hint.

`<html lang>` is often a CMS default (`lang="en"` on Zulu, Xhosa and Swahili pages of
one South African publisher), so a page's declared language is kept only when the text
does not clearly say otherwise. py3langid (142 languages, a naive Bayes model over byte
n-grams, numpy only) reads 1,000 characters in about 0.4 ms; loading its model takes
0.2 s once per process (`warm_up`), once its uncompressed copy is cached.
"""

from __future__ import annotations

import contextlib
import functools
import lzma
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

# Enough text to tell languages apart; more only costs time.
SAMPLE_CHARS = 1000
# Below this probability the text is too short or too mixed to overrule the page.
CONFIDENT = 0.9
# A detected macrolanguage and the declared member it includes: keep the member.
_MEMBERS = {"no": {"nb", "nn"}, "zh": {"yue", "wuu"}, "ms": {"id"}, "sr": {"hr", "bs"}}


@functools.cache
def _identifier() -> Any:
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    ptc, pc, classes, nextmove, row, output = _model(MODEL_DIR / MODEL_FILE)
    return LanguageIdentifier(
        np.asarray(ptc), np.asarray(pc), classes, nextmove, output, norm_probs=True, tk_row=row
    )


def _model(packed: Path) -> tuple[Any, ...]:
    """py3langid's model arrays. It ships them xz-compressed, and decompressing takes 0.6 s
    of the second a process spends loading them; an uncompressed copy in the user's cache
    folder loads in 0.2 s. Without a writable cache, the shipped file is read as it is."""
    import numpy as np
    from py3langid import __version__, modelio

    cached = _cache_dir() / f"py3langid-{__version__}-model.npz"
    partial = cached.with_suffix(f".{os.getpid()}.partial")
    try:
        if not cached.exists():
            cached.parent.mkdir(parents=True, exist_ok=True)
            with lzma.open(packed) as source, partial.open("wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
            partial.replace(cached)  # whole or not at all, whichever process gets there first
        with np.load(cached, allow_pickle=False) as data:  # the layout modelio.load_model reads
            return (
                data["ptc"],
                data["pc"],
                data["classes"].tolist(),
                modelio._to_array(data["nextmove"]),
                modelio._to_array(data["nextmove_row"]),
                data["out_feat"].tolist(),
            )
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        for leftover in (partial, cached):  # a damaged copy (a full disk, say) is made again
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
        return tuple(modelio.load_model(packed))


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "newsmon"


def warm_up() -> None:
    """Load the model now (worker processes call this when they start)."""
    _identifier()


def detect(text: str) -> tuple[str, float]:
    """(ISO 639 code, probability) of the language `text` is written in."""
    code, probability = _identifier().classify(text[:SAMPLE_CHARS])
    return str(code), float(probability)


def text_language(text: str, declared: str | None) -> str | None:
    """The language of `text`: what it reads as, unless that is unsure and the page
    declared one; the declared code where the detected one is its macrolanguage."""
    if not text.strip():
        return declared
    code, probability = detect(text)
    if probability < CONFIDENT and declared:
        return declared
    if declared and (code == declared or declared in _MEMBERS.get(code, ())):
        return declared
    return code
