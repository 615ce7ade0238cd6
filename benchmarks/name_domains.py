"""Names per domain: recall and over-redaction on six domains the first name corpus did not cover.

    python benchmarks/name_domains.py                         # this checkout's layer
    python benchmarks/name_domains.py --layer /tmp/before/layers/common   # another layer (before/after)
    python benchmarks/name_domains.py --presidio              # Presidio beside it (make bench-deps)

Domains: payments and transfers, messaging and sharing, media and directories, listings read aloud by an
assistant, healthcare scheduling, short voice commands. The templates below are the held-out part of each
domain: written for this benchmark and never used in training (training/names/domains.py holds the
training part, phrased differently). Names are held out too: Census names held out of training by hash and
names of ten locales absent from training and the gazetteer, and the word-names ("Grace", "Hope", "Faith",
"Bill", "Rose", ...) are `domains.EVAL_WORD_NAMES`, never in a word-name slot of the training corpus.
Every utterance exists written (cased, punctuated, digits) and spoken (lower case, no punctuation, numbers as
words, fillers), rendered by the training corpus's own renderer. Per domain and form: name recall (a name
counts when every letter of it is inside a finding) and the share of PII-free utterances with any finding.
Not a test: no assertions.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training" / "names"))

SEED = 424
REPEATS = 6  # renderings of each template (each with other names)
FREE_REPEATS = 4  # renderings of each PII-free template (other fillers, amounts, days)

Template = tuple[str | None, str]

PAYMENTS: tuple[Template, ...] = (
    (None, "send {AMT} to {FW}"),
    (None, "Please send {AMT} to {F} for the concert tickets."),
    (None, "Request {AMT} from {F}."),
    (None, "request {AMT} from {FW} for groceries"),
    (None, "Can you pay {F} the {AMT} I owe her?"),
    (None, "I'd like to transfer {AMT} over to {N}."),
    (None, "Give {FW} {AMT} from my checking account."),
    (None, "Has {N} paid the {AMT} yet?"),
    (None, "Schedule {AMT} to {F} every Friday."),
    (None, "Reimburse {FW} for the cab."),
    ("Who is this payment going to?", "{F} {L}."),
    ("Who is this payment going to?", "{FW}"),
    (None, "Payment of {AMT} to {N} is complete."),
    (None, "{FW} requested {AMT} from you."),
)
PAYMENTS_FREE: tuple[Template, ...] = (
    (None, "Send {AMT} to my credit card."),
    (None, "Request a new debit card."),
    (None, "Pay the water bill today."),
    (None, "Move {AMT} into savings."),
    (None, "Send money."),
    (None, "Is there any chance the transfer failed?"),
    (None, "I realised the charge was wrong."),
    (None, "Please write a cheque for the deposit."),
    (None, "I hope the refund shows up soon."),
    (None, "What's the grace period on late fees?"),
    (None, "Bill it to my card on file."),
    (None, "Your payment of {AMT} went through."),
)
MESSAGING: tuple[Template, ...] = (
    (None, "share my location with {FW}"),
    (None, "Share my ETA with {F}."),
    (None, "Send a message to {F} saying happy birthday."),
    (None, "text {FW} good night"),
    (None, "Can you tell {N} the meeting moved?"),
    (None, "Send the screenshot to {F} and {F2}."),
    (None, "Open my chat with {FW}."),
    (None, "Any new texts from {N}?"),
    (None, "Drop {F} a note that dinner is ready."),
    (None, "Stop sharing my location with {F}."),
    ("Who should I send this to?", "{FW}"),
    ("Who should I send this to?", "To {N}."),
    (None, "{N} sent you a voice note."),
    (None, "You missed a message from {FW}."),
)
MESSAGING_FREE: tuple[Template, ...] = (
    (None, "Share my location with my sister."),
    (None, "Text the group I'm on my way."),
    (None, "Read me the last message."),
    (None, "Reply with a thumbs up."),
    (None, "y'know what, just send it"),
    (None, "Write a text to my landlord."),
    (None, "Send."),
    (None, "Tell my husband to pick up bread."),
    (None, "You have two unread messages."),
    (None, "Delete that message please."),
    (None, "Mark it as read."),
    (None, "Send my location to mom."),
)
MEDIA: tuple[Template, ...] = (
    (None, "something with {N} in it please"),
    (None, "Play a movie starring {N}."),
    (None, "Songs by {N}."),
    (None, "play the live album featuring {N}"),
    (None, "Find the talk by {N} about climate."),
    (None, "Any documentaries with {N}?"),
    (None, "Look up {L} in the staff directory."),
    (None, "Get me the desk number for {N}."),
    (None, "Who is {N}'s manager?"),
    (None, "Play that duet with {F} {L}."),
    ("Who are you looking for?", "{N} in marketing."),
    (None, "Here's a radio station featuring {N}."),
    (None, "{N} works on the third floor."),
)
MEDIA_FREE: tuple[Template, ...] = (
    (None, "Play something upbeat."),
    (None, "Play the latest episode."),
    (None, "Find a movie with dragons in it."),
    (None, "Songs for a rainy day."),
    (None, "Look up the help desk in the directory."),
    (None, "Play the album again."),
    (None, "What's the score of the game?"),
    (None, "Put on a podcast about history."),
    (None, "Find a documentary about whales."),
    (None, "Here's a station you might like."),
)
LISTINGS: tuple[Template, ...] = (
    (None, "how about the therapist {LF}"),
    (None, "Next is {LF}, pediatrics."),
    (None, "I see {LF} and {LF2} in your area."),
    (None, "The top match is {LF}, cardiology."),
    (None, "Another option would be {LF}, who has Saturday hours."),
    (None, "Result three: {LF}, internal medicine, accepting patients."),
    (None, "The first provider is {F} {L}, and the second is {LF2}."),
    ("Who's available near me?", "{LF}, about a mile away."),
    ("Can you read me the list?", "{LF}. {LF2}. {LF3}."),
    (None, "We also have {T} {L}, {F}, at the north office."),
    (None, "You could try {LF}."),
)
LISTINGS_FREE: tuple[Template, ...] = (
    (None, "I found four providers near you."),
    (None, "The first option has evening hours."),
    (None, "Next is a clinic about a mile away."),
    (None, "That office is not accepting new patients."),
    (None, "Would you like me to read the list again?"),
    (None, "Result three is an urgent care center."),
    (None, "There's one more option in {PL}."),
    (None, "Both take your insurance."),
)
HEALTHCARE: tuple[Template, ...] = (
    (None, "Can I move my appointment with {T} {L} to {DAY}?"),
    (None, "I'm the caregiver for {N}."),
    (None, "I'd like to book my son {F} for a checkup."),
    (None, "Is {FW} still working in the dental office?"),
    (None, "Last time I saw {F}, the nurse practitioner."),
    (None, "The appointment is for my wife, {FW}."),
    (None, "{T} {L} wants to see me again in a month."),
    ("Who is the patient?", "{N}."),
    ("Who is the patient?", "my daughter {FW}"),
    (None, "Your visit with {T} {L} is confirmed for {DAY}."),
    (None, "{F} from the front desk will call you back."),
    (None, "Should I book you with {F} again?"),
)
HEALTHCARE_FREE: tuple[Template, ...] = (
    (None, "I need to move my appointment."),
    (None, "Is there anything open on {DAY}?"),
    (None, "The doctor wants to see me again."),
    (None, "Can I get a flu shot?"),
    (None, "Your visit is confirmed for {DAY} at {TIME}."),
    (None, "I realised I need a referral."),
    (None, "Is there a chance to come in earlier?"),
    (None, "The front desk will call you back."),
    (None, "I hope it's nothing serious."),
)
COMMANDS: tuple[Template, ...] = (
    (None, "call {FW}"),
    (None, "text {F}"),
    (None, "alexa message {F}"),
    (None, "hey google call {FW}"),
    (None, "ring {N}"),
    (None, "call {F} at home"),
    (None, "send a text to {FW}"),
    (None, "siri call {N}"),
    (None, "facetime {FW}"),
    (None, "directions to {F}'s"),
    ("Who would you like to call?", "{F}"),
    ("Who would you like to call?", "{FW}"),
    (None, "Calling {FW}."),
)
COMMANDS_FREE: tuple[Template, ...] = (
    (None, "alexa stop"),
    (None, "hey google what's on my calendar"),
    (None, "siri set an alarm for {TIME}"),
    (None, "call back"),
    (None, "send"),
    (None, "write that down"),
    (None, "alexa play the radio"),
    (None, "ok google turn up the volume"),
    (None, "text my brother"),
    (None, "call the dentist"),
    (None, "alexa, what's the chance of snow"),
    (None, "hey siri send money"),
    (None, "skip"),
    (None, "pause"),
)

DOMAINS: dict[str, tuple[tuple[Template, ...], tuple[Template, ...]]] = {
    "payments": (PAYMENTS, PAYMENTS_FREE),
    "messaging": (MESSAGING, MESSAGING_FREE),
    "media": (MEDIA, MEDIA_FREE),
    "listings": (LISTINGS, LISTINGS_FREE),
    "healthcare": (HEALTHCARE, HEALTHCARE_FREE),
    "commands": (COMMANDS, COMMANDS_FREE),
}

Case = dict[str, Any]


class EvalPools:
    """Names never used in training examples, with the interface corpus._fill expects."""

    def __init__(self, rng: random.Random) -> None:
        import domains
        import sources

        self.rng = rng
        self.unseen_first = [n for n in sources.faker_first(True) if len(n) > 2 and " " not in n]
        self.unseen_last = [n for n in sources.faker_last(True) if len(n) > 2 and " " not in n]
        self.census_first = [n for n in sources.census_first() if sources.held_out(n)]
        self.census_last = [n for n in sources.census_last()[:20000] if sources.held_out(n)]
        self.word_names = domains.EVAL_WORD_NAMES

    def first(self) -> str:
        return self.rng.choice(self.unseen_first if self.rng.random() < 0.5 else self.census_first)

    def last(self) -> str:
        return self.rng.choice(self.unseen_last if self.rng.random() < 0.5 else self.census_last)

    def full(self) -> str:
        return f"{self.first()} {self.last()}" if self.rng.random() < 0.75 else self.first()

    def word_name(self) -> str:
        return self.rng.choice(self.word_names)

    def listing(self) -> str:
        name = f"{self.last()} {self.first()}"
        r = self.rng.random()
        if r < 0.5:
            name += " " + self.rng.choice("ABCDEFGHJKLMNPRSTW")
        return name

    def synthetic(self) -> str:  # corpus._fill asks for one for made-up businesses and places
        return self.first() + "ton"


def build() -> list[Case]:
    import corpus

    rng = random.Random(SEED)
    pools = EvalPools(rng)
    cases: list[Case] = []
    for domain, (named, free) in DOMAINS.items():
        for kind, templates in (("names", named), ("free", free)):
            for _ in range(REPEATS if kind == "names" else FREE_REPEATS):
                for question, template in templates:
                    pieces = corpus._fill(template, pools, rng)  # type: ignore[arg-type]
                    for form in ("written", "spoken"):
                        text, spans = corpus.render(pieces, form, rng)
                        q = (
                            question
                            if form == "written" or question is None
                            else question.lower().rstrip("?")
                        )
                        cases.append(
                            {
                                "domain": domain,
                                "kind": kind,
                                "form": form,
                                "question": q,
                                "text": text,
                                "names": spans,
                            }
                        )
    return cases


Detector = Callable[[Case], list[tuple[int, int]]]


def score(cases: list[Case], detector: Detector) -> dict[tuple[str, str], dict[str, float]]:
    caught: dict[tuple[str, str], list[bool]] = defaultdict(list)
    touched: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for case in cases:
        key = (case["domain"], case["form"])
        found = detector(case)
        covered = {i for s, e in found for i in range(s, e)}
        text = case["text"]
        if case["kind"] == "free":
            touched[key].append(bool(found))
        for s, e in case["names"]:
            caught[key].append(all(i in covered for i in range(s, e) if text[i].isalnum()))
    out: dict[tuple[str, str], dict[str, float]] = {}
    for key in sorted(set(caught) | set(touched)):
        c, t = caught.get(key, []), touched.get(key, [])
        out[key] = {
            "recall": sum(c) / len(c) if c else float("nan"),
            "names": len(c),
            "touched": sum(t) / len(t) if t else float("nan"),
            "free": len(t),
        }
    return out


def _presidio() -> Detector | None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from redaction import load_presidio

    loaded = load_presidio()
    if loaded is None:
        return None
    engine, _ = loaded

    def detect(case: Case) -> list[tuple[int, int]]:
        return [(r.start, r.end) for r in engine.analyze(text=case["text"], language="en")]

    return detect


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layer", type=Path, default=ROOT / "layers" / "common", help="layer dir to import")
    parser.add_argument("--presidio", action="store_true", help="also score Presidio (make bench-deps)")
    parser.add_argument("--show-misses", type=int, default=0, help="print up to N misses per domain")
    parser.add_argument("--dump", action="store_true", help="print the evaluation set as JSON and stop")
    args = parser.parse_args()
    default_layer = (ROOT / "layers" / "common").resolve()
    if args.dump:
        sys.path.insert(0, str(default_layer))
        json.dump(build(), sys.stdout, ensure_ascii=False)
        return 0
    if args.layer.resolve() == default_layer:
        sys.path.insert(0, str(default_layer))
        cases = build()
    else:  # the set is rendered by this checkout's corpus code; another layer only detects
        out = subprocess.run(
            [sys.executable, __file__, "--dump"], capture_output=True, text=True, check=True
        ).stdout
        cases = json.loads(out)
        sys.path.insert(0, str(args.layer))
    from voicetrail.redaction import Turn, redact_turns

    def voicetrail(case: Case) -> list[tuple[int, int]]:
        turns = [Turn("user", case["text"])]
        if case["question"]:
            turns.insert(0, Turn("assistant", case["question"]))
        return [(f.start, f.end) for f in redact_turns(turns)[-1].findings]

    rows = {"voicetrail": score(cases, voicetrail)}
    if args.presidio:
        detector = _presidio()
        if detector is None:
            print("presidio: not installed (make bench-deps)")
        else:
            rows["presidio"] = score(cases, detector)
    n_names = sum(len(c["names"]) for c in cases)
    n_free = sum(c["kind"] == "free" for c in cases)
    print(f"{len(cases)} utterances ({n_names} names, {n_free} PII-free), layer {args.layer}")
    systems = list(rows)
    head = "".join(f"{s + ' recall w / s':>26}{'touched w / s':>18}" for s in systems)
    print(f"{'domain':<12}{'names':>7}{'free':>6}{head}")
    totals: dict[str, dict[str, list[float]]] = {}
    for domain in DOMAINS:
        w, s = (domain, "written"), (domain, "spoken")
        base = rows["voicetrail"]
        cells = ""
        for system in systems:
            r = rows[system]
            cells += f"{r[w]['recall']:>15.3f} / {r[s]['recall']:.3f}"
            cells += f"{r[w]['touched']:>9.3f} / {r[s]['touched']:.3f}"
            for form in ("written", "spoken"):
                t = totals.setdefault(f"{system} {form}", {"caught": [], "touched": []})
                t["caught"].append(r[(domain, form)]["recall"] * r[(domain, form)]["names"])
                t["touched"].append(r[(domain, form)]["touched"] * r[(domain, form)]["free"])
        print(f"{domain:<12}{base[w]['names']:>7}{base[w]['free']:>6}{cells}")
    per_form_names = {f: sum(len(c["names"]) for c in cases if c["form"] == f) for f in ("written", "spoken")}
    per_form_free = {
        f: sum(c["kind"] == "free" for c in cases if c["form"] == f) for f in ("written", "spoken")
    }
    cells = ""
    for system in systems:
        tw, ts = totals[f"{system} written"], totals[f"{system} spoken"]
        recall_w = sum(tw["caught"]) / per_form_names["written"]
        recall_s = sum(ts["caught"]) / per_form_names["spoken"]
        touched_w = sum(tw["touched"]) / per_form_free["written"]
        touched_s = sum(ts["touched"]) / per_form_free["spoken"]
        cells += f"{recall_w:>15.3f} / {recall_s:.3f}{touched_w:>9.3f} / {touched_s:.3f}"
    print(f"{'all':<12}{per_form_names['written']:>7}{per_form_free['written']:>6}{cells}")
    if args.show_misses:
        shown: dict[str, int] = defaultdict(int)
        for case in cases:
            found = voicetrail(case)
            covered = {i for s, e in found for i in range(s, e)}
            missed = [
                case["text"][s:e]
                for s, e in case["names"]
                if not all(i in covered for i in range(s, e) if case["text"][i].isalnum())
            ]
            extra = case["kind"] == "free" and found
            if (missed or extra) and shown[case["domain"]] < args.show_misses:
                shown[case["domain"]] += 1
                what = f"missed {missed}" if missed else f"touched {[case['text'][s:e] for s, e in found]}"
                print(f"  {case['domain']:<11}{case['form']:<8} {case['text']!r}: {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
