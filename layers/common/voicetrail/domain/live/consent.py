"""Negation-aware consent detection for the caller's answer to the recording disclosure.

`detect_consent("no, I don't mind")` -> GRANTED; `"yes... wait, no"` -> DENIED;
`detect_consent("what is it for?")` -> UNCLEAR.

Rules, in order of what they protect against (a false grant is the worst error):
  * the utterance is split into clauses at punctuation and correction markers ("wait", "actually", "I mean");
  * each clause yields grant/deny signals from a phrase lexicon; a grant word under negation ("not okay",
    "don't agree") is a denial, a denial word under negation ("don't mind", "no problem") is a grant;
  * the last clause with a signal decides ("last answer wins");
  * a grant is downgraded to UNCLEAR when it is hedged ("I guess", "maybe"), conditional ("as long as",
    "only if"), followed by a question, or mixed with a denial in the same clause;
  * questions, hesitations and anything without a signal are UNCLEAR.
"""

from __future__ import annotations

import re
from enum import StrEnum


class ConsentDecision(StrEnum):
    """A `str` enum: values are stored and compared as plain strings."""

    GRANTED = "granted"
    DENIED = "denied"
    UNCLEAR = "unclear"


_CONTRACTIONS = (
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bcannot\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bain't\b"), "is not"),
    (re.compile(r"\b(\w+)n't\b"), r"\1 not"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"\bi'd\b"), "i would"),
    (re.compile(r"\b(it|that|what|there)'s\b"), r"\1 is"),
    (re.compile(r"\bdont\b"), "do not"),
    (re.compile(r"\bim\b"), "i am"),
)

# Markers after which the caller changes their answer: the clause after wins.
_CORRECTION = re.compile(
    r"(?<![-\w])(?:wait|actually|on second thought|i mean|scratch that|"
    r"hold on|no wait|hmm+|then again|sorry)\b"
)
_CLAUSE_SPLIT = re.compile(r"[.!?;,\u2026]+|\s-+\s|\bbut\b|\bthough\b")

# Signal tables. At one position the first group wins, so phrases that contain another group's word
# ("of course not", "i do not mind", "not a problem") come before that word's group.
_AMBIGUOUS = (
    r"not at all|not sure|unsure|make sure|i am (?:fine|good|ok(?:ay)?|"
    r"alright)(?!\s+with)|no comment|no idea|"
    r"no clue|i do not know|i do not care|whatever"
)
_STRONG_DENY = (
    r"of course not|absolutely not|definitely not|certainly not|sure not|i do not think so|"
    r"(?:yes,? )?i do mind|yes i mind|i mind|please do not|do not record"
)
_GRANT_PHRASES = (
    r"i (?:do|would|will) not mind|do not mind|would not mind|(?:does|will) not bother me|no problem|"
    r"not a problem|no worries|no objections?|(?:i )?do not (?:have (?:a|"
    r"any) )?(?:problem|issue|objection)s?|"
    r"(?:i )?(?:have|got) no (?:problem|issue|objection)s?(?: with (?:it|that|this))?|(?:i )?do not object|"
    r"go ahead|go for it|of course|by all means|please do|that is (?:fine|ok(?:ay)?|alright)|"
    r"it is (?:fine|ok(?:ay)?|alright)|fine by me|fine with me|ok(?:ay)? (?:by|"
    r"with) me|works for me|that works|"
    r"sounds good|i am (?:fine|ok(?:ay)?|good|cool|alright|happy|"
    r"comfortable) with (?:it|that|this|being recorded|"
    r"the recording|recording)|you (?:can|may) record|you have my (?:consent|permission)|"
    r"i give (?:my )?(?:consent|permission)|record away|sure thing|yes please|why not|uh[- ]?huh|mm[- ]?hmm|"
    r"i do consent|i do agree|i do(?=\s*$)"
)
_DENY_PHRASES = (
    r"i would rather not|would rather not|rather not|i would prefer not|prefer not|"
    r"(?:prefer|rather) (?:that |if )?you (?:did|do|would) not|no thanks|no thank you|not really|no way|"
    r"not at this time|not now|not today|do not record|(?:can|may|"
    r"should) not record|stop recording|please do not|"
    r"i object|i refuse|i decline|i disagree|opt out|no recording|not comfortable|uncomfortable|"
    r"i (?:do|would|will) not(?=\s*$)|hell no|nope|nah|never"
)
_GRANT_WORDS = (
    r"yes|yeah|yep|yup|ya|yea|sure|ok(?:ay)?|o\.?k\.?|alright|all right|fine|absolutely|definitely|certainly|"
    r"agree[ds]?|consent|accept|allow|affirmative|totally|gladly|correct"
)
_DENY_WORDS = r"no|negative|refuse|decline|object|disagree|deny"
_HEDGES = re.compile(
    r"\b(?:maybe|i guess|i suppose|probably|perhaps|i think so|not sure|unsure|let me think|depends|"
    r"i do not know|dunno|kind of|sort of|possibly|might)\b"
)
# Conditions make the whole answer conditional: never a clean grant.
_CONDITIONS = re.compile(r"\b(?:as long as|only if|if|unless|provided|so long as|on condition)\b")
_QUESTION_START = re.compile(
    r"^(?:(?:um+|uh+|so|and|well|wait|oh)\s+)*(?:what|why|who|whom|whose|how|where|when|which|is|are|do|does|"
    r"did|can|could|will|would|should|may|am|was|were|have|has)\b(?!\s+not\b)"
)

_SIGNAL = re.compile(
    rf"\b(?:(?P<ag>{_AMBIGUOUS})|(?P<sd>{_STRONG_DENY})|(?P<gp>{_GRANT_PHRASES})|(?P<dp>{_DENY_PHRASES})|"
    rf"(?P<neg>not|no|never)\s+(?:\w+\s+){{0,2}}?(?:{_GRANT_WORDS}|comfortable|happy|want|like)|"
    rf"(?P<gw>{_GRANT_WORDS})|(?P<dw>{_DENY_WORDS}))\b"
)


def _normalise(utterance: str) -> str:
    text = utterance.lower().replace("\u2019", "'").replace("`", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text


def _clause_decision(clause: str) -> ConsentDecision | None:
    """GRANTED/DENIED/UNCLEAR for a clause with a signal, None for a clause without one.
    Within a clause the last signal wins ("no I don't mind"), hedges turn a grant into UNCLEAR."""
    last: ConsentDecision | None = None
    for m in _SIGNAL.finditer(clause):
        if m.group("ag"):
            last = last or ConsentDecision.UNCLEAR
        elif m.group("gp") or m.group("gw"):
            last = ConsentDecision.GRANTED
        else:  # strong/plain deny phrase, deny word, or negated grant word ("not okay")
            last = ConsentDecision.DENIED
    if last is ConsentDecision.GRANTED and _HEDGES.search(clause):
        return ConsentDecision.UNCLEAR
    if last is None and _HEDGES.search(clause):
        return ConsentDecision.UNCLEAR
    return last


def _is_question(raw_clause: str, clause: str) -> bool:
    stripped = clause.strip()
    if stripped.endswith("why not"):
        return False
    return raw_clause.rstrip().endswith("?") or _QUESTION_START.search(stripped) is not None


def detect_consent(utterance: str) -> ConsentDecision:
    """Classify a final user transcript answering the recording-consent question."""
    if not utterance or not utterance.strip():
        return ConsentDecision.UNCLEAR
    text = _normalise(utterance[:2000])
    # Correction markers start a new answer: only the last segment that says anything counts.
    for segment in reversed(_CORRECTION.split(text)):
        decision = _segment_decision(segment)
        if decision is not None:
            return decision
    return ConsentDecision.UNCLEAR


def _segment_decision(segment: str) -> ConsentDecision | None:
    """Decision of one answer (text between correction markers); None if it carries no answer at all."""
    decisions: list[ConsentDecision] = []
    pos = 0
    bounds = [(m.start(), m.end()) for m in _CLAUSE_SPLIT.finditer(segment)] + [(len(segment), len(segment))]
    for start, end in bounds:
        raw, clause = segment[pos:end], segment[pos:start]
        pos = end
        if not clause.strip():
            continue
        decision = _clause_decision(clause)
        if _is_question(raw, clause):
            decisions.append(ConsentDecision.UNCLEAR)
        elif decision is not None:
            decisions.append(decision)
    if not decisions:
        return None
    last = decisions[-1]
    if last is ConsentDecision.GRANTED:
        # a grant with a condition anywhere in the answer is not consent
        return ConsentDecision.UNCLEAR if _CONDITIONS.search(segment) else last
    if ConsentDecision.DENIED in decisions:
        return ConsentDecision.DENIED  # "no ... why would you record?" stays a refusal
    return last
