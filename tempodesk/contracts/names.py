"""Names the workflows, the web and the worker share: task queues, workflows, updates, signals,
queries, activities and search attributes."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

TICKET_TASK_QUEUE = "tempodesk-tickets"
MAIL_TASK_QUEUE = "tempodesk-mail"
TELEPHONY_TASK_QUEUE = "tempodesk-telephony"
# The mailbox workflows and their IMAP activities: their tasks never queue behind the tickets
# a burst of mail starts (a worker polling the tickets' queue polls this one too).
MAILBOX_TASK_QUEUE = "tempodesk-mailboxes"

TICKET_WORKFLOW = "TicketWorkflow"
UPDATE_PERFORM_ACTION = "perform_action"
UPDATE_CONFIRM_CREATED = "confirm_created"
UPDATE_MIGRATE_PROCESS = "migrate_process"
UPDATE_MERGE_INTO = "merge_into"  # this ticket goes into another (relations)
UPDATE_LINK_TICKET = "link_ticket"  # link this ticket to another, or unlink (relations)
UPDATE_TAG_TICKET = "tag_ticket"  # add or remove tags (relations)
UPDATE_SPLIT_MESSAGE = "split_message"  # a message goes to a new ticket (relations)
MIGRATION_WORKFLOW = "ProcessMigrationWorkflow"
SIGNAL_CUSTOMER_MESSAGE = "customer_message"
SIGNAL_RELINK_CONTACT = "relink_contact"
SIGNAL_RATE = "rate"  # the customer rated an answer (CSAT)
SIGNAL_SLA_CHANGED = "sla_changed"  # a policy or calendar changed: select again
SIGNAL_TRIGGERS_CHANGED = "triggers_changed"  # the admins changed the triggers
SIGNAL_ABSORB_TICKET = "absorb_ticket"  # another ticket was merged into this one
SIGNAL_LINKED = "linked"  # another ticket linked itself to this one (or unlinked)
SIGNAL_CHILD_SETTLED = "child_settled"  # a child ticket was resolved, or reopened
SIGNAL_SPLIT_IN = "split_in"  # this ticket was split off another
QUERY_SNAPSHOT = "snapshot"  # the ticket as its workflow has it (the Temporal UI shows it)

# Activity names: workflows refer to activities by these names only (see ARCHITECTURE.md).
ACT_OPEN_TICKET = "open_ticket"
# The error type of an opening the database refused (non-retryable: retried, it fails again).
OPENING_FAILED = "OpeningFailed"
ACT_PROJECT = "project_ticket"
ACT_SELECT_SLA = "select_sla"
# An action's projection with its SLA policy chosen again, in one transaction.
ACT_PROJECT_ACTION = "project_action"
# Before the one-step opening: still registered, for tickets whose first task replays them.
ACT_LINK_CUSTOMER = "link_customer"
ACT_CHOOSE_ASSIGNEE = "choose_assignee"
ACT_SEND_MAIL = "send_mail"
ACT_SEND_TEMPLATE = "send_template"
ACT_MIGRATION_ITEMS = "migration_items"
ACT_MIGRATE_TICKET = "migrate_ticket"
ACT_FINISH_MIGRATION = "finish_migration"
ACT_FETCH_MAIL = "fetch_mail"
ACT_ACK_MAIL = "ack_mail"
ACT_RESTART = "restart_ticket"
ACT_PREPARE_TEMPLATE = "prepare_template"
ACT_SEND_NOTICE = "send_notice"
ACT_START_CALL = "start_call"  # click-to-call through the PBX (telephony queue)
ACT_REDIRECT = "redirect_message"
ACT_SEND_SMS = "send_sms"
# Before workflows drove the tickets themselves: for runs that replay them (activities.dispatch).
ACT_MIGRATE_TICKETS = "migrate_tickets"
ACT_POLL_MAILBOX = "poll_mailbox"
MAILBOX_WORKFLOW = "MailboxWorkflow"
SIGNAL_POLL_NOW = "poll_now"
SIGNAL_STOP = "stop"


SA_STATE = SearchAttributeKey.for_keyword("TicketState")
SA_STATE_CATEGORY = SearchAttributeKey.for_keyword("TicketStateCategory")
SA_NUMBER = SearchAttributeKey.for_keyword("TicketNumber")
SA_ASSIGNEE = SearchAttributeKey.for_keyword("Assignee")
SA_GROUP = SearchAttributeKey.for_keyword("AssignedGroup")
SA_PRIORITY = SearchAttributeKey.for_int("Priority")
SA_CUSTOMER_EMAIL = SearchAttributeKey.for_keyword("CustomerEmail")
SA_PROCESS = SearchAttributeKey.for_keyword("TicketProcess")
SA_SLA_BREACHED = SearchAttributeKey.for_bool("SlaBreached")
SA_SLA_DUE_AT = SearchAttributeKey.for_datetime("SlaDueAt")
#: What the workflow keeps indexed: every search attribute, set by the workflow alone.
TICKET_SEARCH_ATTRIBUTES = (
    SA_NUMBER,
    SA_STATE,
    SA_STATE_CATEGORY,
    SA_ASSIGNEE,
    SA_GROUP,
    SA_PRIORITY,
    SA_CUSTOMER_EMAIL,
    SA_PROCESS,
    SA_SLA_BREACHED,
    SA_SLA_DUE_AT,
)

#: name -> type, as `temporal server start-dev --search-attribute` and the operator CLI want it.
SEARCH_ATTRIBUTES: dict[str, str] = {
    SA_STATE.name: "Keyword",
    SA_STATE_CATEGORY.name: "Keyword",
    SA_NUMBER.name: "Keyword",
    SA_ASSIGNEE.name: "Keyword",
    SA_GROUP.name: "Keyword",
    SA_PRIORITY.name: "Int",
    SA_CUSTOMER_EMAIL.name: "Keyword",
    SA_PROCESS.name: "Keyword",
    SA_SLA_BREACHED.name: "Bool",
    SA_SLA_DUE_AT.name: "Datetime",
}
