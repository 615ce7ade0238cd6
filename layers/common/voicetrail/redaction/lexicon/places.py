"""Word lists of the address and location detectors: street suffixes, units, US states, stop words."""

from __future__ import annotations

ADDRESS_FIRST = frozenset(
    [
        "my",
        "the",
        "our",
        "his",
        "her",
        "their",
        "i",
        "we",
        "they",
        "he",
        "she",
        "send",
        "ship",
        "mail",
        "residing",
    ]
)
ADDRESS_STOP = frozenset({"and", "but", "so", "because", "please", "thanks", "thank", "which", "where", "if"})
DIRECTIONS = frozenset({"n", "s", "e", "w", "ne", "nw", "se", "sw", "north", "south", "east", "west"})
MILITARY_POST = frozenset({"apo", "fpo", "dpo"})
MILITARY_REGION = frozenset({"aa", "ae", "ap"})
MILITARY_UNIT = frozenset({"unit", "psc", "cmr"})
# Lower-case two-letter words that are state codes only with a ZIP right after; these never are.
NOT_LOWER_CODES = frozenset({"in", "me", "or", "oh", "hi", "ok", "id"})
STATE_SECOND = frozenset({"york", "jersey", "hampshire", "mexico", "carolina", "dakota", "island"})
# Words that end the walk back from a ZIP to the house number: the address has not started yet.
ADDRESS_WALK_STOP = frozenset(
    {
        "is",
        "are",
        "was",
        "were",
        "in",
        "at",
        "to",
        "we",
        "i",
        "my",
        "the",
        "live",
        "lives",
        "moved",
        "from",
        "it's",
        "its",
        "that's",
        "send",
        "ship",
        "mail",
        "deliver",
        "address",
        "with",
        "for",
        "have",
        "has",
        "had",
    }
    | ADDRESS_STOP
)
STREET_PREFIXES = frozenset({"avenida", "calle", "camino", "paseo", "rua", "rue", "via"})
DIRECTIONS_LONG = frozenset(
    {"north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest"}
)
LOCATION_FOLLOWERS = frozenset({"county", "parish", "city", "township", "borough"})
STREET_SUFFIXES = frozenset(
    {
        "street",
        "st",
        "avenue",
        "ave",
        "av",
        "road",
        "rd",
        "boulevard",
        "blvd",
        "lane",
        "ln",
        "drive",
        "dr",
        "court",
        "ct",
        "way",
        "place",
        "pl",
        "circle",
        "cir",
        "terrace",
        "ter",
        "parkway",
        "pkwy",
        "highway",
        "hwy",
        "trail",
        "trl",
        "square",
        "sq",
        "loop",
        "crescent",
        "alley",
        "plaza",
        "pike",
        "row",
        "run",
        "path",
        "point",
        "ridge",
        "heights",
    }
)
UNIT_WORDS = frozenset(
    {"apt", "apartment", "unit", "suite", "ste", "#", "number", "no", "floor", "fl", "building", "bldg"}
)
US_STATES = frozenset(
    {
        "alabama",
        "alaska",
        "arizona",
        "arkansas",
        "california",
        "colorado",
        "connecticut",
        "delaware",
        "florida",
        "georgia",
        "hawaii",
        "idaho",
        "illinois",
        "indiana",
        "iowa",
        "kansas",
        "kentucky",
        "louisiana",
        "maine",
        "maryland",
        "massachusetts",
        "michigan",
        "minnesota",
        "mississippi",
        "missouri",
        "montana",
        "nebraska",
        "nevada",
        "ohio",
        "oklahoma",
        "oregon",
        "pennsylvania",
        "tennessee",
        "texas",
        "utah",
        "vermont",
        "virginia",
        "washington",
        "wisconsin",
        "wyoming",
    }
)
US_STATE_CODES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
    ]
)

# A secondary unit that is an address on its own ("Apt. 414", "Suite 160").
SECONDARY_UNITS = frozenset({"apt", "apartment", "suite", "ste", "unit"})
# Lower-case words inside a capitalised street name ("Rue de Rivoli", "Calle de la Paz").
STREET_PARTICLES = frozenset(
    {"de", "del", "la", "las", "los", "le", "du", "des", "di", "da", "do", "dos", "das"}
)
# Countries that may end an address before its postal code, as token sequences (lower case).
COUNTRIES: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        (
            tuple(name.split())
            for name in (
                "united states of america",
                "united states",
                "united kingdom",
                "u . s . a .",
                "u . s . a",
                "u . s .",
                "u . s",
                "usa",
                "us",
                "america",
                "uk",
                "canada",
                "mexico",
                "france",
                "germany",
                "spain",
                "italy",
                "ireland",
                "netherlands",
                "belgium",
                "switzerland",
                "austria",
                "portugal",
                "poland",
                "sweden",
                "norway",
                "denmark",
                "finland",
                "australia",
                "india",
                "brazil",
                "japan",
                "philippines",
                "puerto rico",
            )
        ),
        key=len,
        reverse=True,
    )
)
