"""Word lists of the e-mail detectors: top-level domains and the words that end or rule out a local part."""

from __future__ import annotations

TLDS = (
    "com|net|org|edu|gov|mil|io|co|us|uk|ca|info|biz|me|ai|app|dev|health|care|de|fr|au|in|mx|es|it|nl|"
    "xyz|online|site|tech|store|email|live|mail|pro|tv|fm|cc|ch|se|pl|br|jp|nz|ie|be|dk|no|fi|pt|za|sg|"
    "hk|ph|ae|ar|cl|club|shop|blog|cloud|page|space|art|design|news|world|agency|team|studio|today|life|"
    "work|systems|solutions|network|digital|global|academy|company|center|family|law|clinic|church|"
    "school|university|services|consulting|group|media|inc|llc|ltd"
)
EMAIL_BACK_STOP = frozenset(
    {
        "is",
        "it's",
        "its",
        "my",
        "email",
        "e-mail",
        "address",
        "the",
        "at",
        "to",
        "me",
        "uh",
        "um",
        "and",
        "or",
        "was",
        "it",
        "that's",
        "send",
        "use",
        "try",
        "reach",
        "under",
        "on",
        "file",
        "new",
        "old",
        "work",
        "personal",
    }
)
EMAIL_PREFIX_SEPARATORS = frozenset({"dot", "period", "underscore", "dash", "hyphen", "at"})
# Words that show what follows the cue is not an address ("my email is the same", "is on file").
EMAIL_PREFIX_NOT = frozenset(
    {
        "the",
        "a",
        "an",
        "on",
        "in",
        "not",
        "still",
        "same",
        "correct",
        "what",
        "changed",
        "no",
        "unchanged",
        "different",
        "wrong",
        "right",
        "fine",
        "above",
        "below",
        "there",
        "here",
        "listed",
        "saved",
        "gone",
    }
)
EMAIL_PREFIX_STOP = frozenset(
    {"and", "or", "but", "please", "thanks", "thank", "so", "if", "because", "okay"}
)
