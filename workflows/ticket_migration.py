"""Moving a ticket to another published version of its process (the ``migrate_process``
Update a process migration sends through the one door)."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from statemachines import (
        CompiledProcess,
        DefinitionError,
        MigrationRefused,
        compile_pinned,
        migration_target,
    )
    from tempodesk.contracts import MigrateProcessInput, MigrateProcessResult
    from workflows.ticket_core import TicketCore


class TicketMigration(TicketCore):
    @workflow.update
    async def migrate_process(self, input: MigrateProcessInput) -> MigrateProcessResult:
        """Move the ticket to another published process version with an explicit state map."""
        async with self._lock:
            compiled, target = self._check_migration(input)
            before_version, before_state = self._pinned.version, self._t.state
            self._pinned, self._process = input.process, compiled
            self._machine, _ = compiled.machine(target)
            self._t.process_name = input.process.name
            self._t.process_version = input.process.version
            self._enter(target, force=True)
            self._record(
                "migrated",
                actor=input.actor.username,
                from_state=before_state,
                to_state=target,
                data={
                    "from_version": before_version,
                    "to_version": input.process.version,
                    "process": input.process.name,
                    "migration": input.migration_id,
                },
            )
            await self._project()
            return MigrateProcessResult(
                before_version, input.process.version, before_state, target, self._t.seq
            )

    @migrate_process.validator
    def _validate_migrate_process(self, input: MigrateProcessInput) -> None:
        self._check_migration(input)

    def _check_migration(self, input: MigrateProcessInput) -> tuple[CompiledProcess, str]:
        if not self._ready:
            raise ApplicationError("The ticket is still being created.", type="NotReady")
        if not input.actor.is_admin:
            raise ApplicationError("Only admins may migrate tickets.", type="ActionForbidden")
        if (input.process.name, input.process.version) == (self._pinned.name, self._pinned.version):
            raise ApplicationError(
                f"The ticket is already on {input.process.name} v{input.process.version}.",
                type="AlreadyMigrated",
            )
        try:
            compiled = compile_pinned(input.process.document)
        except (DefinitionError, ValueError) as exc:
            raise ApplicationError(
                f"The new version cannot run: {exc}", type="InvalidDefinition"
            ) from None
        try:
            target = migration_target(compiled.definition, self._t.state, input.state_map)
        except MigrationRefused as exc:
            raise ApplicationError(str(exc), type="UnmappedState") from None
        return compiled, target
