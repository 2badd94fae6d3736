"""channels.twilio.signed_by_twilio accepts exactly the signatures Twilio's own library
computes (tests.fakes.twilio_signing signs with it), for any form: repeated fields, empty
values, any characters, the URL with or without its default port."""

from __future__ import annotations

import random

from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from channels.twilio import signed_by_twilio
from webhooks.hot import Form

TOKEN = "twilio-test-auth-token"
URLS = [
    "https://relay.example.org/webhooks/twilio",
    "https://relay.example.org:443/webhooks/twilio",
]
CHARACTERS = "aZ09 +=&%:é€🗳️\u202e"


def _random_items(rng: random.Random) -> list[tuple[str, str]]:
    names = ["Body", "From", "MediaUrl0", "x", "X", "a b", "é"]
    return [
        (rng.choice(names), "".join(rng.choice(CHARACTERS) for _ in range(rng.randrange(0, 8))))
        for _ in range(rng.randrange(0, 8))
    ]


def test_the_librarys_signatures_and_only_those_are_accepted() -> None:
    rng = random.Random(7)
    library = RequestValidator(TOKEN)
    for _ in range(2000):
        items = _random_items(rng)
        multidict = MultiDict(items)
        grouped: dict[str, list[str]] = {}
        for name, value in items:
            grouped.setdefault(name, []).append(value)
        signed_url = rng.choice(URLS)
        signature = library.compute_signature(signed_url, multidict)
        for form in (multidict, Form(grouped)):
            for url in URLS:  # signed with or without the port: either is accepted
                assert signed_by_twilio(TOKEN, url, form, signature), items
            assert not signed_by_twilio("another token", URLS[0], form, signature)
            assert not signed_by_twilio(TOKEN, URLS[0] + "?x", form, signature)
        tampered = MultiDict([*items, ("Body", "1")])
        assert not signed_by_twilio(TOKEN, URLS[0], tampered, signature) or (
            ("Body", "1") in items  # the same value again: the signed string is the same
        )
