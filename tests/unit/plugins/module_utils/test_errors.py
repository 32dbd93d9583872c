import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import scrub


@pytest.mark.parametrize(
    "text, secrets, expected",
    [
        ("FATAL: password authentication failed for user \"x\"", [], "FATAL: password authentication failed for user \"x\""),
        ("dsn host=db password=hunter2 user=x", [], "dsn host=db password=******** user=x"),
        ("dsn password='a b' user=x", [], "dsn password=******** user=x"),
        ("redis://app:s3cret@cache:6379/0 refused", [], "redis://app:********@cache:6379/0 refused"),
        ("sasl.password=topsecret", [], "sasl.password=********"),
        ("sent AUTH hunter2", [], "sent AUTH ********"),
        ("value hunter2 leaked", ["hunter2"], "value ******** leaked"),
        ("nothing here", [None, ""], "nothing here"),
    ],
)
def test_scrub(text, secrets, expected):
    assert scrub(text, secrets) == expected
