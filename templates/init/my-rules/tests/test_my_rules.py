import pytest
from repo_sdk.testing import make_sample

from my_rules.plugin import NoPushAfterAcceptance


@pytest.mark.parametrize(
    ("hotel", "reply", "hits"),
    [
        ("OK, we accept 90 EUR.", "Could you do 80 instead?", 1),
        ("OK, we accept 90 EUR.", "Wonderful, thank you! I'll confirm 90 EUR.", 0),
        ("We can offer 95 EUR.", "Could you do 85 instead?", 0),
    ],
)
def test_no_push_after_acceptance(hotel: str, reply: str, hits: int) -> None:
    sample = make_sample(response=reply, history=[("user", hotel)])
    assert len(NoPushAfterAcceptance().check(sample)) == hits
