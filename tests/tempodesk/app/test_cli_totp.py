"""`tempodesk reset-totp`: the way back in for an admin who lost their authenticator."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tempodesk.app.cli import main
from tempodesk.core.db import make_engine, make_session_factory, transaction
from tempodesk.core.models import User


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TEMPODESK_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("TEMPODESK_DATABASE_URL", raising=False)
    return CliRunner()


def test_reset_totp_turns_the_second_factor_off(runner: CliRunner, tmp_path: Path) -> None:
    runner.invoke(main, ["seed-demo"])
    sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'tempodesk.db'}"))
    with transaction(sessions) as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        admin.totp_secret = "sealed-secret"
    result = runner.invoke(main, ["reset-totp", "admin"])
    assert result.exit_code == 0, result.output
    assert "admin signs in with the password alone" in result.output
    with sessions() as session:
        assert session.scalar(select(User.totp_secret).where(User.username == "admin")) == ""
    unknown = runner.invoke(main, ["reset-totp", "ghost"])
    assert unknown.exit_code != 0 and "No user 'ghost'" in unknown.output
