"""Given names and surnames of many countries, from the `names-dataset` package.

The package holds 730k given names and 980k surnames with per-country ranks, but loading it
takes seconds and about 1.8 GB of memory: the gateway never loads it. Instead the top names
of each country in `COUNTRIES` are written once (at `make install`, from the installed
package, offline) to a small JSON file in the user's cache folder, named after the
dataset's version; `world_names()` reads that file in a fraction of a second. When it is
missing (a fresh clone, a cleaned cache) the first caller builds it under a file lock, so
concurrent processes build it once.

Given names that are also frequent German or English words ("Bitte", "Server": the
dataset's rarer entries hold such mis-parsed tokens) are left out, and surnames that are
stop words of the languages cogate reads; the rules ask more of a given name that is a stop
word ("Per", "Anders").

Run `python -m cogate.policies.recognizers.world.names` to build the file (Makefile).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import platformdirs

# Europe, Israel, Turkey, the Caucasus and Central Asia (Cyrillic), and the Spanish- and
# Portuguese-speaking Americas. The dataset has no Ukraine and no Thailand (their names are
# in `scripts.py`); Russia's lists hold Cyrillic, Israel's Hebrew and Greece's Greek names.
_COUNTRIES_TEXT = (
    "AT BE BG CH CY CZ DE DK EE ES FI FR GB GR HR HU IE IS IT LT LU MD MT NL NO PL PT RS "
    "RU SE SI AL IL TR GE KZ AZ BR MX AR CL CO PE UY US CA"
)
COUNTRIES = tuple(_COUNTRIES_TEXT.split())
# Top given names and surnames per country: enough to cover the names people carry (the
# first ranks hold most people) while the rarest entries, which are often words or
# mis-parsed tokens, stay out.
TOP_GIVEN = 1500
TOP_SURNAMES = 3000
# Given names that are everyday words at least this frequent in German or English, whose
# nouns or headings are capitalised, are left out unless they are among the first
# `HOME_RANK` names of a country speaking that language (wordfreq's Zipf scale, lower case:
# 4 is once in 10,000 words; names reach 4.8 in German: "Friedrich", "Wolfgang").
COMMON_ZIPF = 4.3
HOME_RANK = 300
_HOME_COUNTRIES = ("DE", "AT", "CH", "GB", "US", "IE", "CA")
FORMAT = 2
# Surnames that are frequent English words ("Letters", "Green") confirm no given name
# outside the Census list: "Hedvig Letters Sans" is a typeface.
ENGLISH_ZIPF = 4.0
_MODULE = "cogate.policies.recognizers.world.names"
_STOPWORD_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv")


@dataclass(frozen=True)
class WorldNames:
    """Folded (`fold`) given names and surnames of every script; and, as spelt, those in
    scripts without Latin letters, whose rules build case forms from them (Greek,
    Cyrillic, Hebrew)."""

    given: frozenset[str]
    surnames: frozenset[str]
    given_spelt: frozenset[str]
    surnames_spelt: frozenset[str]
    surname_words: frozenset[str]


def fold(word: str) -> str:
    """Upper case without accents ("Sofía" → "SOFIA"), as the Census lists spell names."""
    decomposed = unicodedata.normalize("NFKD", word.upper())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def dataset_version() -> str:
    try:
        return metadata.version("names-dataset")
    except metadata.PackageNotFoundError:
        raise RuntimeError(
            "cogate's names of every country come from the `names-dataset` package, which is "
            "not installed; run `make install` (or pip install names-dataset)"
        ) from None


def default_path() -> Path:
    folder = Path(platformdirs.user_cache_dir("cogate", appauthor=False)) / "names"
    return folder / f"names-dataset-{dataset_version()}-top-v{FORMAT}.json"


@lru_cache(maxsize=1)
def world_names() -> WorldNames:
    """The names of every country, built into the cache on first use if missing."""
    return load(default_path())


def load(path: Path) -> WorldNames:
    """Read the compact file at `path`, building it first when it does not exist."""
    if not path.exists():
        build_locked(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise RuntimeError(f"{path} is not a names file of format {FORMAT}; delete it")
    given = {n for names in data["given"].values() for n in names}
    surnames = {n for names in data["surnames"].values() for n in names}
    return WorldNames(
        given=frozenset(fold(n) for n in given),
        surnames=frozenset(fold(n) for n in surnames),
        given_spelt=frozenset(n for n in given if not _latin(n)),
        surnames_spelt=frozenset(n for n in surnames if not _latin(n)),
        surname_words=frozenset(fold(n) for n in data["surname_words"]),
    )


def _latin(name: str) -> bool:
    return all(ord(c) < 0x250 for c in name)


def build_locked(path: Path) -> None:
    """Build `path` once even when several processes find it missing together."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not path.exists():  # another process may have built it while we waited
                # In a child process: the gigabyte the dataset takes is returned to the
                # system when it exits, not kept by the gateway's allocator.
                subprocess.run([sys.executable, "-m", _MODULE, "--into", str(path)], check=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(path: Path, data: dict) -> None:
    # Written to a temporary file and renamed: a reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, separators=(",", ":"))
    os.replace(tmp, path)


def build() -> dict:
    """The top names per country from the installed `names-dataset` (about 10 s and a
    gigabyte of memory while it runs; first names and surnames are loaded in turn)."""
    from names_dataset import NameDataset

    stop = stop_words()
    # A surname counts only after a given name, so "Koch" or "Wolf" may stay one; a given
    # name that is a stop word ("Per", "Anders") is kept and the rules ask more of it.
    common = {"given": frozenset(), "surnames": stop}
    out: dict = {"format": FORMAT, "source": f"names-dataset {dataset_version()}"}
    for key, top in (("given", TOP_GIVEN), ("surnames", TOP_SURNAMES)):
        first = key == "given"
        dataset = NameDataset(load_first_names=first, load_last_names=not first)
        table = dataset.first_names if first else dataset.last_names
        out[key] = _top_per_country(table, top, common[key])
        del dataset, table
    out["given"] = _without_words(out["given"])
    out["surname_words"] = _english_words(out["surnames"])
    return out


def _english_words(surnames: dict[str, list[str]]) -> list[str]:
    """Surnames of the dataset and of the Census list that are frequent English words."""
    from importlib import resources

    from wordfreq import zipf_frequency

    raw = resources.files("names").joinpath("dist.all.last").read_bytes()
    census = raw.decode("ascii", errors="ignore")
    every = {n for names in surnames.values() for n in names}
    every |= {line.split()[0].title() for line in census.splitlines() if line.strip()}
    return sorted(n for n in every if zipf_frequency(n.lower(), "en") >= ENGLISH_ZIPF)


def _without_words(given: dict[str, list[str]]) -> dict[str, list[str]]:
    """Given names without frequent German or English words, unless the name is among the
    first `HOME_RANK` of a German- or English-speaking country ("Wolfgang" and "Frank"
    stay; "Bitte", "Server", "Firma" from mis-parsed entries go) or a stop word."""
    from wordfreq import zipf_frequency

    home = {n for c in _HOME_COUNTRIES for n in given.get(c, [])[:HOME_RANK]}

    def frequent(name: str) -> bool:
        word = name.lower()
        return max(zipf_frequency(word, "de"), zipf_frequency(word, "en")) >= COMMON_ZIPF

    # Stop words ("Per", "Anders") are in lower case mid-sentence in every language: they
    # stay, and the rules take them only mid-sentence (`name_list._world_name`).
    stop = stop_words()
    keep = [n for names in given.values() for n in names]
    kept = {n for n in keep if n in home or fold(n).lower() in stop or not frequent(n)}
    return {c: [n for n in names if n in kept] for c, names in given.items()}


def _top_per_country(table: dict, top: int, common: frozenset[str]) -> dict[str, list[str]]:
    ranked: dict[str, list[tuple[int, str]]] = {c: [] for c in COUNTRIES}
    for name, info in table.items():
        if not _name_shaped(name) or fold(name).lower() in common:
            continue
        for country, rank in (info.get("rank") or {}).items():
            if country in ranked and rank is not None and rank <= top:
                ranked[country].append((rank, name))
    return {c: [n for _, n in sorted(names)] for c, names in ranked.items() if names}


def _name_shaped(name: str) -> bool:
    """One word of letters (inner hyphens and apostrophes allowed), capitalised where the
    script has case: "Jean-Luc", "O'Brien", "משה"; not "De Luca" (particles are handled by
    the rules) nor "A" or "Ka"."""
    if len(name) < 3 or " " in name:
        return False
    if not all(c.isalpha() or c in "-'" for c in name):
        return False
    return not name[0].islower() and not name.isupper()


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """The stop words spaCy ships for each language cogate reads ("per", "con", "och")."""
    from importlib import import_module

    words: set[str] = set()
    for lang in _STOPWORD_LANGUAGES:
        words |= import_module(f"spacy.lang.{lang}.stop_words").STOP_WORDS
    return frozenset(fold(w).lower() for w in words)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--into"]:  # the child `build_locked` starts, under its lock
        _write(Path(args[1]), build())
        return
    path = default_path()
    if path.exists():
        print(f"names of every country: {path} (exists)")
        return
    build_locked(path)
    print(f"names of every country: built {path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
