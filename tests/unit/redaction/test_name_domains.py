"""Names in payments, messaging, media and directories, listings, healthcare scheduling and voice commands
(the miss classes an evaluation found), and the ordinary words and wake words of those domains that are no
names."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from voicetrail.redaction import Turn, redact, redact_turns

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # a lone first name as the object of a money, message or sharing verb
        ("send sixty dollars to Grace", "Grace"),
        ("send sixty dollars to grace", "grace"),
        ("request 40 from Omar", "Omar"),
        ("Request $75 from Jeffie.", "Jeffie"),  # "from" + a capital is not taken for a place over a person
        ("share my location with Theo", "Theo"),
        ("share my location with theo for an hour", "theo"),
        ("Zelle 20 bucks to Hope.", "Hope"),
        ("pay Bill back forty dollars", "Bill"),
        ("text Faith good night", "Faith"),
        ("call will on speaker", "will"),
        ("Open my chat with Rose.", "Rose"),
        ("give Will 150 bucks from my checking account", "Will"),
        ("text Grace good night", "Grace"),
        ("tell Will I'm late", "Will"),
        ("Dawn requested 30 dollars from you.", "Dawn"),
        ("ok. Mark sent you a file", "Mark"),
        ("Thanks Hope!", "Hope"),
        ("ok, hi will, it's me", "will"),
        # media and directory requests
        ("something with Dev Patel in it", "Dev Patel"),
        ("play a movie starring dev patel", "dev patel"),
        ("Put on songs featuring Nneka Okoye.", "Nneka Okoye"),
        ("Look up Okafor in the staff directory.", "Okafor"),
        # listings read aloud, surname first with an initial
        ("how about the therapist Okafor Chidi A", "Okafor Chidi A"),
        ("how about the therapist okafor chidi a", "okafor chidi a"),
        # relations on a cased line
        ("The appointment is for my daughter Hope.", "Hope"),
        # a given name capitalised mid-sentence in written text
        ("Is Joy still working in the dental office?", "Joy"),
        ("I think Will already signed it.", "Will"),
    ],
)
def test_names_in_the_new_domains_are_redacted(text: str, name: str) -> None:
    out = redact(text).text
    for word in name.split():
        assert word not in out.split() and word + "." not in out.split(), (text, out)
    assert "[NAME]" in out


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Who would you like to call?", "Will"),
        ("who would you like to call", "faith"),
        ("Who is this payment going to?", "Grace."),
    ],
)
def test_a_bare_name_answering_who_is_redacted(question: str, answer: str) -> None:
    assert redact_turns([Turn("assistant", question), Turn("user", answer)])[1].findings


@pytest.mark.parametrize(
    "text",
    [
        "Send money.",
        "send",
        "Send it to my savings account.",
        "Is there a chance the payment bounced?",
        "Please write a cheque for the deposit.",
        "I realised I paid twice.",
        "y'know, just send it",
        "I hope the refund shows up soon.",
        "Pay the water bill today.",
        "What's the grace period on late fees?",
        "call back",
        "call mom",
        "text my brother",
        "alexa turn off the lights",
        "alexa, what's the chance of snow",
        "hey google set a timer for ten minutes",
        "ok google call the office",
        "siri what's the weather",
        "hey siri send money",
        "Share my location with my sister.",
        "Play a movie with dragons in it.",
        "give it a chance",
        "Hello, may I speak to someone in billing?",
        "hi there",
        "thanks, will do",
        "text will be sent shortly",
        "remind me to call back",
        "Let's meet in May, or on Sunday.",
        "There's one more option in Houston.",
        "We Will Rock You Is A Great Song",
        "Next is a clinic about a mile away.",
    ],
)
def test_ordinary_words_and_wake_words_are_not_names(text: str) -> None:
    assert redact(text).findings == (), redact(text).text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alexa call Theo", "alexa call [NAME]"),
        ("hey google message Grace", "hey google message [NAME]"),
        ("Siri, text Omar I'm outside", "Siri, text [NAME] I'm outside"),
    ],
)
def test_a_wake_word_is_kept_and_the_person_after_it_redacted(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # a given name as the subject of a question whose predicate only a person takes
        ("did june call back", "june"),
        ("is frank still working there", "frank"),
        ("has rusty replied yet", "rusty"),
        ("does sandy still work weekends", "sandy"),
        ("was miles home last night", "miles"),
        ("ok. did pearl ever email you", "pearl"),
        # a surname after a title in a transcript, in no list or also a word
        ("doctor mbeki will see you now", "mbeki"),
        ("we saw dr castellanos on friday", "castellanos"),
        ("mister oyelaran called this morning", "oyelaran"),
        ("mrs fairweather said it was fine", "fairweather"),
        ("ms brightwell wants a call back", "brightwell"),
        ("missus tabbot left a message", "tabbot"),
        # a spoken amount between the verb and the person
        ("wire two hundred fifty so dollars over to sandy for the tickets", "sandy"),
        # a common given name after a preposition stays a name, even when it is a place too
        ("please talk to jordan about it", "jordan"),
        ("send the gift to georgia", "georgia"),
        ("mister long called about the invoice", "long"),
        # a name said twice is redacted twice
        ("call theo theo", "theo theo"),
        ("share my location with omar uh omar", "omar omar"),
    ],
)
def test_spoken_subjects_titles_and_repeats_are_redacted(text: str, name: str) -> None:
    out = redact(text).text
    for word in name.split():
        assert word not in out.split(), (text, out)
    assert "[NAME]" in out


@pytest.mark.parametrize(
    "text",
    [
        # stutters: a word said twice is read once, never as a first name and a surname
        "in houston houston",
        "we moved to denver denver last year",
        "no no no",
        "the the",
        "i i need to move it",
        "we drove to to the store",
        "is there there a fee",
        "bye bye",
        # questions whose subject is a thing, or whose predicate a thing takes
        "is the bill still due",
        "is will still valid",
        "did the bill come in the mail",
        "is it still working",
        "is everything still working",
        "is may still available",
        "did bill go through",
        # titles before ordinary words
        "i miss home",
        "i miss you so much",
        "the doctor said to rest",
        "the doctor will call you back",
        "i need a doctor note for work",
        "mr and mrs",
        # a degree word makes the next word an adjective; a preposition before a well-known place
        "how long is the queue right now",
        "how long would shipping take",
        "that is way too long",
        "we are driving to boston on sunday",
        "what time is it in tokyo",
        "flights from manila to dubai",
        "the weather of australia in march",
        # contractions and ordinary words the tagger met too rarely
        "We'd like a table by the window.",
        "they'd know the answer",
        "you'd think so",
        "he fell and hurt his knee",
        "is there wifi on the train",
    ],
)
def test_stutters_things_and_titles_before_words_are_not_names(text: str) -> None:
    assert redact(text).findings == (), redact(text).text


def test_held_out_domain_benchmark_meets_the_targets() -> None:
    """The benchmark's held-out templates and names (benchmarks/name_domains.py): every domain's name recall
    and its share of PII-free utterances touched, written and spoken."""
    pytest.importorskip("faker")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import name_domains
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))

    def detect(case: dict[str, object]) -> list[tuple[int, int]]:
        turns = [Turn("user", str(case["text"]))]
        if case["question"]:
            turns.insert(0, Turn("assistant", str(case["question"])))
        return [(f.start, f.end) for f in redact_turns(turns)[-1].findings]

    rows = name_domains.score(name_domains.build(), detect)
    assert len(rows) == 12
    for (domain, form), row in rows.items():
        assert row["recall"] >= 0.9, (domain, form, row)
        assert row["touched"] <= 0.03, (domain, form, row)


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("rejected: InvalidSignature", False),
        ("the field tableName was empty", False),
        ("Please pay DeShawn McDonald.", True),
        ("Send it to MacArthur.", True),
    ],
)
def test_code_identifiers_are_no_names_but_inner_capitals_of_names_are(text: str, redacted: bool) -> None:
    assert bool(redact(text).findings) is redacted, redact(text).text


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        (  # a name found once is found again where nothing marks it ("theo never answered")
            ["share my location with Theo", "done", "theo never answered though"],
            ["share my location with [NAME]", "done", "[NAME] never answered though"],
        ),
        (  # a name that is also a word does not spread: "grace" stays in "grace period"
            ["send sixty dollars to Grace", "ok", "what's the grace period"],
            ["send sixty dollars to [NAME]", "ok", "what's the grace period"],
        ),
        (  # nor does an ordinary word the tagger might take once
            ["Noted. Press 5 for the pharmacy.", "Noted."],
            ["Noted. Press 5 for the pharmacy.", "Noted."],
        ),
    ],
)
def test_the_calls_own_names_are_found_again(turns: list[str], expected: list[str]) -> None:
    roles = ["user", "assistant"]
    out = redact_turns([Turn(roles[i % 2], t) for i, t in enumerate(turns)])
    assert [r.text for r in out] == expected


def test_pii_free_utterances_are_almost_never_touched() -> None:
    """214 PII-free utterances written for this check (tests/data/pii_free_utterances.json): at most 3 get
    any finding (today 3: an unknown wake word, "olly", read as a name; "my phone jack"; "pay summer
    fees")."""
    data = json.loads((ROOT / "tests" / "data" / "pii_free_utterances.json").read_text())
    touched = [out.text for out in map(redact, data["utterances"]) if out.findings]
    assert len(data["utterances"]) == 214
    assert len(touched) <= 3, touched


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # names that are also words, where the words around them make them a person
        ("pay grace sixty dollars", "pay [NAME] sixty dollars"),
        ("Pay Grace sixty dollars", "Pay [NAME] sixty dollars"),
        ("thank you grace", "thank you [NAME]"),
        ("Thank you, Grace.", "Thank you, [NAME]."),
        ("give faith a call tomorrow", "give [NAME] a call tomorrow"),
        # the person as the first object, the thing the second
        ("Send Will the file", "Send [NAME] the file"),
        ("pay alpha the 150", "pay [NAME] the 150"),
        ("send grace the sixty dollars", "send [NAME] the sixty dollars"),
        ("send will the file", "send will the file"),  # in a transcript only an amount tells
        ("pay bill the 150", "pay bill the 150"),
        ("thanks bill", "thanks [NAME]"),
        # and where they make them a word
        ("thank you honey", "thank you honey"),
        ("Thank you, sir.", "Thank you, sir."),
        ("give it a call tomorrow", "give it a call tomorrow"),
        ("we got a grant for the new clinic", "we got a grant for the new clinic"),
        ("to be frank the service has been slow", "to be frank the service has been slow"),
        ("can you page the nurse on duty", "can you page the nurse on duty"),
        ("I'll pay cash at the front desk", "I'll pay cash at the front desk"),
        ("is this chatgpt or a human", "is this chatgpt or a human"),
        # a capital on a written line keeps the person
        ("I'll pay Grant at the front desk", "I'll pay [NAME] at the front desk"),
    ],
)
def test_the_words_around_a_word_name(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Vapi writes a call's transcript with "AI:" before the assistant's turns
        (
            "User: hi there\nAI: Is there anything else I can help you with today?\nUser: no",
            "User: hi there\nAI: Is there anything else I can help you with today?\nUser: no",
        ),
        (
            "AI: Thank you for calling, this is Rosa. How can I help you today?",
            "AI: Thank you for calling, this is [NAME]. How can I help you today?",
        ),
        ("Is this an AI?", "Is this an AI?"),
        ("are you an ai or a real person", "are you an ai or a real person"),
        (
            "AI: How can I help? User: What's the weather? AI: Sunny. User: Thanks AI.",
            "AI: How can I help? User: What's the weather? AI: Sunny. User: Thanks AI.",
        ),
        # the name Ai stays a name with a surname or after a cue
        ("my name is Ai Tanaka", "my name is [NAME]"),
        ("Ai Tanaka called yesterday", "[NAME] called yesterday"),
        ("AI: hello\nUser: my daughter Ai will call", "AI: hello\nUser: my daughter [NAME] will call"),
    ],
)
def test_ai_is_a_word_in_a_voice_ai_call(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a surname that is also a word, after a given name found alone, is part of the name
        ("I'm the caregiver for Horacio Link.", "I'm the caregiver for [NAME]."),
        ("i'm the caregiver for horacio link", "i'm the caregiver for [NAME]"),
        ("Please transfer me to Tom Wood.", "Please transfer me to [NAME]."),
        ("can i speak with sarah hill please", "can i speak with [NAME] please"),
        # but not a word written otherwise, a word that ends a request, a time or an endearment
        ("call maria back please", "call [NAME] back please"),
        ("I spoke with Maria today.", "I spoke with [NAME] today."),
        ("thank you maria love you", "thank you [NAME] love you"),
        ("tom won the raffle", "[NAME] won the raffle"),
        ("Tell Maria the hunt is on.", "Tell [NAME] the hunt is on."),
    ],
)
def test_a_surname_that_is_a_word_after_a_given_name(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a given name's possessive is the name
        ("is this Theo's phone?", "is this [NAME] phone?"),
        ("get directions to Mistie's", "get directions to [NAME]"),
        ("this is john's wife", "this is [NAME] wife"),
        ("it's my son Theo\u2019s prescription", "it's my son [NAME] prescription"),
        # a business or a day named so is not, nor an ordinary possessive
        ("I was at Wendy's when you called", "I was at Wendy's when you called"),
        ("I was at wendy's when you called", "I was at wendy's when you called"),
        ("order from papa john's", "order from papa john's"),
        ("I shop at Trader Joe's", "I shop at Trader Joe's"),
        ("Sam's Club membership", "Sam's Club membership"),
        (
            "my mother's prescription is ready at the doctor's office",
            "my mother's prescription is ready at the doctor's office",
        ),
        ("what's today's date", "what's today's date"),
    ],
)
def test_possessives(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a company, service or product named alone is no person
        (
            "Your package will be delivered by FedEx tomorrow.",
            "Your package will be delivered by FedEx tomorrow.",
        ),
        ("AI: I can text you a link from Vapi.", "AI: I can text you a link from Vapi."),
        (
            "User: my plan is with Humana, and Medicare part B",
            "User: my plan is with Humana, and Medicare part B",
        ),
        ("i paid with paypal yesterday", "i paid with paypal yesterday"),
        ("Thank you for choosing Hilton.", "Thank you for choosing Hilton."),
        # but a person bearing the name is still a person
        ("Ann Hilton called", "[NAME] called"),
        ("Mr. Hilton is here", "Mr. [NAME] is here"),
        ("my name is Hilton", "my name is [NAME]"),
        # brands that are also common names stay names alone
        ("I bank with Chase.", "I bank with Chase."),
        ("tell Chase I said hi", "tell [NAME] I said hi"),
        # "w/" is "with"
        ("just had lunch w/ priya, so good", "just had lunch w/ [NAME], so good"),
    ],
)
def test_brands(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "a" and "i" are letters inside a spelling, words elsewhere
        ("it's k o w a l s k i", "it's [NAME]"),
        ("okay so it's oluwaseun o l u w a s e u n adeyemi", "okay so it's [NAME]"),
        ("it is spelled a n a", "it is spelled [NAME]"),
        ("it's spelled i v a n", "it's spelled [NAME]"),
        ("spelled i think with two ls", "spelled i think with two ls"),
        ("i need a ride", "i need a ride"),
        ("plan a is fine", "plan a is fine"),
    ],
)
def test_spelled_names_keep_their_a_and_i(text: str, expected: str) -> None:
    assert redact(text).text == expected
