"""Publishing process definitions: every check that needs the database, versions, drafts."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from statemachines import DefinitionError, bundled, parse_definition
from tempodesk.core.db import transaction
from tempodesk.core.models import MessageTemplate, ProcessVersion, TemplateText
from tempodesk.messaging import templates
from tempodesk.tickets import processes
from tests.helpers import Stack


def support_copy(name: str | None = None) -> dict:
    data: dict = yaml.safe_load(bundled("support"))
    data["name"] = name or f"copy_{uuid.uuid4().hex[:8]}"
    return data


def problems(stack: Stack, data: dict) -> list[str]:
    with stack.sessions() as session:
        checked = processes.check(session, yaml.safe_dump(data, sort_keys=False))
    return [str(p) for p in checked.problems]


def test_the_bundled_processes_are_published_with_their_templates(stack: Stack) -> None:
    with stack.sessions() as session:
        assert {"support", "returns"} <= set(processes.names(session))
        assert {"assigned_to_you", "closed_no_answer", "repair_quote"} <= {
            t.name for t in templates.all_templates(session)
        }


def test_a_template_that_does_not_exist_is_reported(stack: Stack) -> None:
    data = support_copy()
    data["actions"]["close"]["effects"] = [
        {"type": "send_template", "template": "ghost", "to": "customer"}
    ]
    assert "actions.close.effects[0].template: There is no template 'ghost'." in problems(
        stack, data
    )


def test_a_template_reading_a_field_no_action_sets_is_reported(stack: Stack) -> None:
    name = f"tpl_{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:
        templates.save(
            session,
            name,
            channel="email",
            description="test",
            texts={"en": ("Warranty", "Warranty until {{ ticket.fields.warranty_until }}")},
            author="test",
        )
    data = support_copy()
    data["actions"]["close"]["effects"] = [
        {"type": "send_template", "template": name, "to": "customer"}
    ]
    assert (
        f"actions.close.effects[0].template: The template '{name}' uses the field "
        "'warranty_until', which no action sets." in problems(stack, data)
    )


def test_a_template_failing_against_a_sample_ticket_is_reported(stack: Stack) -> None:
    name = f"broken_{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:
        # Stored behind the editor's back (e.g. an old row): publishing still catches it.
        template = MessageTemplate(name=name, channel="email")
        template.texts.append(
            TemplateText(language="en", subject="x", body="{{ order.items[3].name }}")
        )
        session.add(template)
    data = support_copy()
    data["actions"]["close"]["effects"] = [
        {"type": "send_template", "template": name, "to": "customer"}
    ]
    [problem] = [p for p in problems(stack, data) if name in p]
    assert problem.startswith(
        f"actions.close.effects[0].template: The template '{name}' (en body) does not render "
        "against a sample ticket: "
    )


def test_rights_naming_an_unknown_group_are_reported(stack: Stack) -> None:
    data = support_copy()
    data["states"]["spam"]["visible_to"] = ["Moderators"]
    assert "states.spam.visible_to: Unknown group 'Moderators'." in problems(stack, data)


def test_publishing_makes_immutable_versions_and_the_same_document_twice_is_one(
    stack: Stack,
) -> None:
    data = support_copy()
    with transaction(stack.sessions) as session:
        first = processes.publish(session, yaml.safe_dump(data), author="admin")
        again = processes.publish(session, yaml.safe_dump(data), author="admin")
        data["states"]["open"]["label"] = "In progress"
        second = processes.publish(session, yaml.safe_dump(data), author="admin")
        assert (first.version, again.version, second.version) == (1, 1, 2)
        assert processes.definition(session, data["name"], 1).state("open").label == "Open"
        diff = processes.diff(session, data["name"], 1, 2)
    assert "-    label: Open" in diff and "+    label: In progress" in diff


def test_a_definition_with_problems_is_not_published(stack: Stack) -> None:
    data = support_copy()
    data["actions"]["reply"]["target"] = "limbo"
    with transaction(stack.sessions) as session, pytest.raises(DefinitionError):
        processes.publish(session, yaml.safe_dump(data), author="admin")
    with stack.sessions() as session:
        assert processes.latest(session, data["name"]) is None


def test_drafts_keep_unfinished_work_and_report_its_problems(stack: Stack) -> None:
    data = support_copy()
    with transaction(stack.sessions) as session:
        processes.publish(session, yaml.safe_dump(data), author="admin")
        data["actions"]["reply"]["target"] = "limbo"
        checked = processes.save_draft(session, data["name"], yaml.safe_dump(data), "admin")
        assert "actions.reply.target: Unknown target state 'limbo'." in [
            str(p) for p in checked.problems
        ]
        assert "limbo" in processes.draft_text(session, data["name"])
        processes.discard_draft(session, data["name"])
        assert "limbo" not in processes.draft_text(session, data["name"])


def test_export_reads_back_as_the_same_version(stack: Stack) -> None:
    with stack.sessions() as session:
        text = processes.export(session, "returns")
        checked = processes.check(session, text)
    assert checked.ok and checked.definition is not None and checked.definition.name == "returns"


def test_bundled_processes_never_replace_an_admins_version(stack: Stack) -> None:
    data = yaml.safe_load(bundled("returns"))
    data["name"] = name = f"bundled_{uuid.uuid4().hex[:6]}"
    with transaction(stack.sessions) as session:
        processes.publish(session, yaml.safe_dump(data, sort_keys=False), author="alice")
        before = processes.latest(session, name)
        processes.ensure_bundled(session)
        assert processes.latest(session, name) == before


def test_the_diagram_is_drawn_by_python_statemachine() -> None:
    diagram = processes.diagram(bundled("returns"))
    assert diagram.startswith("stateDiagram-v2")
    assert "inspecting --> awaiting_payment : Quote repair" in diagram


def test_a_state_label_longer_than_its_column_is_refused_at_save(stack: Stack) -> None:
    data = support_copy()
    data["states"]["new"]["label"] = "N" * 101
    found = problems(stack, data)
    assert found == ["states.new: The label is too long: At most 100 characters."]
    with transaction(stack.sessions) as session, pytest.raises(DefinitionError):
        processes.publish(session, yaml.safe_dump(data, sort_keys=False), author="tests")


def test_a_published_definition_is_read_once_per_database_and_kept_apart_from_others(
    tmp_path: Path,
) -> None:
    """Versions never change once published: the second look-up reads no document, and a
    second database's version of the same name and number is its own."""

    def published(label: str) -> tuple[Engine, sessionmaker[Session]]:
        engine = create_engine(f"sqlite:///{tmp_path / label}.db")
        ProcessVersion.__table__.create(engine)
        data = support_copy("probe")
        data["states"]["new"]["label"] = label
        sessions = sessionmaker(engine)
        with transaction(sessions) as session:
            document = parse_definition(data).to_json()
            session.add(ProcessVersion(name="probe", version=1, document=document, checksum=label))
        return engine, sessions

    first_engine, first = published("First")
    _second_engine, second = published("Second")
    reads: list[str] = []
    event.listen(
        first_engine,
        "before_cursor_execute",
        lambda *args: reads.append(args[2]) if "process_versions" in args[2] else None,
    )
    with first() as session:
        assert processes.definition(session, "probe", 1).state("new").label == "First"
    with first() as session:
        assert processes.definition(session, "probe", 1).state("new").label == "First"
    assert len(reads) == 1
    with second() as session:
        assert processes.definition(session, "probe", 1).state("new").label == "Second"
