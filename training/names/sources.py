"""Name lists for the name tagger: where each comes from, its licence, and the held-out split.

Sources (pinned in requirements/dev.txt; read at build time only, nothing here ships in the layer):

* `names` 0.3.0: the 1990 US Census first-name (female, male) and surname lists with frequencies.
  Code MIT; the Census data is a US-government work in the public domain.
* `Faker` 40.63.0: person-name providers for many locales (Latin-script lists, plus the romanised Chinese and
  Japanese lists). MIT licence.
* SCOWL via the Debian packages `wamerican` and `wbritish` (/usr/share/dict/american-english and
  british-english): used only to flag names that are also ordinary English words ("will", "grace", "bill",
  "white") and words that are no name at all ("cheque", "realised"). Permissive SCOWL licence (copyright
  Kevin Atkinson; use, copy, modify, distribute and sell permitted with the notice kept).

Held out for evaluation (never in training examples, never in the gazetteer): every name of the locales in
HELD_OUT_LOCALES. Held out from training examples only (still in the gazetteer, as any real name list would
be): one name in ten by a stable hash (`held_out`).
"""

from __future__ import annotations

import importlib
import unicodedata
import zlib
from functools import cache
from pathlib import Path

import names as census_names

CENSUS_DIR = Path(census_names.__file__).parent
DICTIONARY = Path("/usr/share/dict/american-english")
# SCOWL's British spellings ("cheque", "realised", "colour"), Debian package `wbritish`, same licence.
DICTIONARY_GB = Path("/usr/share/dict/british-english")
# Spoken and informal forms that are no one's name and in neither list (written by the project).
COLLOQUIAL = frozenset(
    [
        "y'know",
        "ya",
        "yall",
        "y'all",
        "gonna",
        "wanna",
        "gotta",
        "kinda",
        "sorta",
        "dunno",
        "lemme",
        "gimme",
        "ain't",
        "cuz",
        "'cause",
        "innit",
        "okay",
        "alright",
        "lol",
        "omg",
        "btw",
        "idk",
        "tbh",
        "thx",
        "pls",
        "plz",
        "ur",
        "yup",
        "uh-huh",
        "mhm",
        "nah",
    ]
)

# Locales whose names are never seen in training or in the gazetteer: the benchmark's "unseen names" slice.
HELD_OUT_LOCALES = ("fi_FI", "hu_HU", "lv_LV", "et_EE", "sw", "zu_ZA", "tw_GH", "ha_NG", "az_AZ", "sl_SI")
# Latin-script locales used for the gazetteer and training (plus romanised zh/ja).
TRAIN_LOCALES = (
    "cs_CZ",
    "da_DK",
    "de_AT",
    "de_CH",
    "de_DE",
    "en_GB",
    "en_IE",
    "en_IN",
    "en_KE",
    "en_NG",
    "en_NZ",
    "en_PK",
    "en_US",
    "es_AR",
    "es_CL",
    "es_CO",
    "es_ES",
    "es_MX",
    "fr_BE",
    "fr_CA",
    "fr_FR",
    "ga_IE",
    "hr_HR",
    "id_ID",
    "ig_NG",
    "it_IT",
    "lt_LT",
    "nl_NL",
    "no_NO",
    "pl_PL",
    "pt_BR",
    "pt_PT",
    "ro_RO",
    "sk_SK",
    "sv_SE",
    "tr_TR",
    "vi_VN",
    "yo_NG",
    "zh_CN",
    "zh_TW",
    "ja_JP",
)
FIRST_ATTRS = ("first_names", "first_names_male", "first_names_female", "first_romanized_names")
LAST_ATTRS = ("last_names", "last_names_male", "last_names_female", "last_romanized_names")


def fold(word: str) -> str:
    """ASCII form of a name as an ASR transcript writes it ("Tomás" -> "Tomas")."""
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()


def _latin(name: str) -> bool:
    return bool(name) and all(c in " -'." or "LATIN" in unicodedata.name(c, "") for c in name)


def _title(name: str) -> str:
    """Some lists are upper case ("KUO-HSIUNG"); names are written title case."""
    return "-".join(p.capitalize() for p in name.split("-")) if name.isupper() and len(name) > 2 else name


def held_out(name: str) -> bool:
    return zlib.crc32(name.lower().encode()) % 10 == 0


def _census(file: str) -> list[str]:
    out = []
    for line in (CENSUS_DIR / file).read_text().splitlines():
        parts = line.split()
        if parts:
            out.append(parts[0].capitalize())
    return out  # in frequency order


@cache
def census_first() -> list[str]:
    female, male = _census("dist.female.first"), _census("dist.male.first")
    merged: list[str] = []
    seen: set[str] = set()
    for pair in zip(female, male, strict=False):
        for n in pair:
            if n not in seen:
                seen.add(n)
                merged.append(n)
    for n in female[len(male) :] + male[len(female) :]:
        if n not in seen:
            seen.add(n)
            merged.append(n)
    return merged


@cache
def census_last() -> list[str]:
    return [_mac(n) for n in _census("dist.all.last")]


def _mac(name: str) -> str:
    if name.startswith("Mc") and len(name) > 3:
        return "Mc" + name[2:].capitalize()
    if name.startswith("O") and len(name) > 2 and name[1] == "'":
        return "O'" + name[2:].capitalize()
    return name


def _faker_lists(locales: tuple[str, ...], attrs: tuple[str, ...]) -> list[str]:
    out: set[str] = set()
    for loc in locales:
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr in attrs:
            values = provider.__dict__.get(attr)
            if isinstance(values, (list, tuple, dict)):
                out |= {_title(v.strip()) for v in values if _latin(v.strip())}
    return sorted(out)


@cache
def faker_first(held: bool = False) -> list[str]:
    return _faker_lists(HELD_OUT_LOCALES if held else TRAIN_LOCALES, FIRST_ATTRS)


@cache
def faker_last(held: bool = False) -> list[str]:
    return _faker_lists(HELD_OUT_LOCALES if held else TRAIN_LOCALES, LAST_ATTRS)


@cache
def dictionary_words() -> frozenset[str]:
    """Lower-case entries of the SCOWL American English list (ordinary words, not proper nouns)."""
    for path, package in ((DICTIONARY, "wamerican"), (DICTIONARY_GB, "wbritish")):
        if not path.exists():
            raise SystemExit(f"{path} missing: apt-get install {package} (SCOWL word list)")
    words = {
        w
        for path in (DICTIONARY, DICTIONARY_GB)
        for w in path.read_text(encoding="utf-8").split()
        if w.islower() and "'" not in w
    }
    return frozenset(words | COLLOQUIAL)
