"""A state's timeout may count business time: the flag is read, kept when published, and a
value that is no boolean is refused where it stands."""

from __future__ import annotations

import pytest

from statemachines import DefinitionError, load_text
from tests.workflows.test_business_timeouts import business_support


def test_a_business_timeout_survives_publishing_and_a_bad_flag_is_located() -> None:
    definition = load_text(business_support())
    timeout = definition.state("waiting_for_customer").timeout
    assert timeout is not None and timeout.business and timeout.seconds == 8 * 3600
    again = load_text(definition.to_json())
    assert again.state("waiting_for_customer").timeout == timeout
    with pytest.raises(DefinitionError) as refused:
        load_text(business_support().replace("business: true", "business: sometimes"))
    assert "states.waiting_for_customer.timeout.business" in str(refused.value)
