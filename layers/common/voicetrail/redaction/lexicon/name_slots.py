"""Contexts that hold a person whatever the word is ("call Will", "send sixty dollars to Grace"), and the
few word pairs where the same shape holds no person ("pay bill", "call back")."""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Verbs whose object, right after them or after to/with/from a few words on, is a person.
PERSON_VERBS = _words(
    "call calling ring dial facetime text texting message messaging email e-mail dm pay paying venmo "
    "zelle wire send sending request requesting remind invite thank tell ask share sharing reimburse "
    "refund owe owes charge chat give gave"
)
# Verbs whose object is followed by the message itself ("text Grace good night", "tell Will I'm late").
MESSAGE_VERBS = _words("text texting message messaging tell email e-mail dm remind")
# Words after "will", "may", "can" that show them used as verbs, not names ("text will be sent").
AUX_FOLLOWERS = _words("be been have not never you i we it get go do need help arrive take come")
# Verbs that follow a person opening a turn or a sentence ("Dawn requested $30", "Mark texted you").
SUBJECT_VERBS = _words(
    "requested sent paid texted called replied shared messaged wrote emailed asked invited left mentioned "
    "wants needs says said tagged liked commented accepted declined"
)
# A question about a person opens with one of these, then the person ("did june call back").
QUESTION_AUX = _words("is was did does has had can could will would")
# What may stand between that person and the predicate ("is frank still working").
SUBJECT_ADVERBS = _words("still already ever even really actually also finally just not never yet")
# Predicates only a person takes ("did june call back", "is frank working today"), not a bill or a will:
# no "come", "go", "get" or "pay" ("did the bill come", "did chase pay the interest").
PERSON_PREDICATES = _words(
    "working work works call called calling text texted texting reply replied respond responded answer "
    "answered email emailed message messaged say tell told ask asked mention mentioned pick picked sign "
    "signed arrive arrived show showed agree agreed want wanted know knew remember hear heard meet met "
    "visit visited book booked finish finished home awake around coming leaving"
)
# Greetings and thanks addressing the person after them ("thanks Hope", "hi Will, it's me").
GREETINGS = _words("hi hello hey thanks thank bye goodbye dear morning evening afternoon cheers")
# What a greeting or a thank-you calls someone that is no name, though some name lists hold it ("thank you
# love", "thanks honey").
ENDEARMENTS = _words("love honey dear sweetie sweetheart darling hun hon babe baby sir madam buddy mate pal")
# The prepositions that introduce the person after such a verb: "send $60 to X", "share it with X".
OBJECT_PREPOSITIONS = frozenset(("to", "with", "from", "for"))
# Words that may follow the person at the end of such a request ("call Will on speaker", "text Hope now").
AFTER_PERSON = _words(
    "on at in now today tonight tomorrow back again please and for about that saying mobile cell home "
    "work later asap right"
)
# Verb + word pairs that are ordinary phrases, not a person ("pay bill", "ask will"): never taken by the rule.
NOT_A_PERSON_AFTER = {
    "pay": frozenset(("bill", "bills", "rent", "cash", "chase")),
    "paying": frozenset(("bill", "bills", "rent", "cash")),
    "charge": frozenset(("bill", "cash")),
    "ask": frozenset(("will", "may")),
    "tell": frozenset(("will", "may")),
    "send": frozenset(("will", "may")),
    "give": frozenset(("will", "may", "chance")),
    "gave": frozenset(("will", "may", "chance")),
}
# Words the name lists hold that a voice-AI call says as words: "AI" labels the assistant's turns in a
# transcript ("AI: ..."), and callers ask "am I talking to an AI?" or "is this chatgpt?". Names people
# also bear ("Claude", "Jarvis") are not here. The tagger's name of this one word alone
# is dropped; with a surname ("Ai Tanaka") or after a cue ("my name is Ai", "my daughter Ai") it stays.
NOT_A_NAME_ALONE = frozenset(("ai", "chatgpt", "gpt", "gemini", "cortana", "bixby", "siri", "alexa"))
# Wake words of voice assistants, and what may stand between them and the command.
WAKE_WORDS = frozenset(("alexa", "siri", "google", "cortana", "bixby", "computer"))
WAKE_LEADS = frozenset(("hey", "ok", "okay", "hi", "yo"))
