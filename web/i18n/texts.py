"""The English texts the pure modules make, listed as msgids so that extraction finds them.

``statemachines``, ``workflows`` and ``tempodesk`` keep making English texts (field errors,
the workflow's rejections, built-in list names, labels of a definition's ids) because they
end in history, logs and the API. Each is marked here with ``N_``; ``web.i18n.translate``
shows them in the request's language.
"""

from __future__ import annotations


def N_(text: str) -> str:
    """Mark a text for extraction without translating it here (it is translated later)."""
    return text


#: statemachines.PRIORITIES and the built-in lists and sorts (tempodesk.tickets.lists), view
#: modes (tempodesk.tickets.panel), ways a request comes in (tempodesk.tickets.entry),
#: canned answer sharing (tempodesk.messaging.canned), template variables
#: (tempodesk.messaging.templates) and effect descriptions (statemachines.EFFECTS):
#: shown in menus, tables and help texts. A test checks that every
#: one of them is listed here.
LABELS = [
    # priorities
    N_("Low"),
    N_("Normal"),
    N_("High"),
    N_("Urgent"),
    # built-in lists
    N_("Mine"),
    N_("Unassigned"),
    N_("My groups"),
    N_("Unread"),
    N_("Followed"),
    N_("All open"),
    N_("Waiting for customer"),
    N_("SLA at risk"),
    N_("Breached"),
    N_("Spam"),
    N_("All tickets"),
    # sorts and view modes
    N_("Newest first"),
    N_("Oldest first"),
    N_("Recently updated"),
    N_("Highest priority"),
    N_("Table"),
    N_("Compact list"),
    N_("Split view"),
    # how a request came in (an agent's new ticket)
    N_("Phone call"),
    N_("Walk-in"),
    N_("Returned parcel"),
    N_("Email"),
    N_("Web form"),
    N_("Other (API)"),
    # who sees a canned answer
    N_("Everyone"),
    N_("Chosen groups"),
    N_("One agent (personal)"),
    # outcomes of an orders CSV import; delivery of a mail
    N_("created"),
    N_("updated"),
    N_("error"),
    N_("skipped"),
    N_("sent"),
    N_("failed"),
    # delivery of an SMS (and a mail on its way)
    N_("queued"),
    N_("sending"),
    N_("unknown"),
    N_("delivered"),
    N_("This action sends no reply."),
    N_("An SMS carries no files."),
    # the SMS gateway's settings (tempodesk.telephony.sms, sms_net)
    N_("The host %(host)s leads to a link-local or metadata address."),
    N_("The host %(host)s leads to a reserved address."),
    N_("The host %(host)s leads to an internal or loopback address."),
    N_("The host %(host)s cannot be resolved."),
    N_("Use an http:// or https:// URL with a host name."),
    N_("Put credentials in their own fields, not in the URL."),
    N_("Choose Twilio or generic HTTP."),
    N_("Enter the sender's phone number."),
    N_("Enter the Account SID."),
    N_("Too long."),
    # template variables
    N_("The ticket number, e.g. HD-2026-000123"),
    N_("The subject of the request"),
    N_("The state as agents see it"),
    N_("The state as the customer sees it"),
    N_("Low, Normal, High or Urgent"),
    N_("Username of the assignee (empty if none)"),
    N_("The group the ticket is assigned to"),
    N_("web, api, email, phone or walk_in"),
    N_("When the ticket was created (UTC)"),
    N_("The ticket on the agent desk"),
    N_("A field stored on the ticket by a set_field effect"),
    N_("The customer"),
    N_("The linked order, if any"),
    N_("The agent who pressed the action (or the assignee)"),
    N_("The action that sent the template and its fields"),
    N_("The reply text, for portal replies"),
    N_("Where the customer reads the ticket in the portal"),
    N_("Where the customer rates the answer (set by an ask_rating effect), one link per score"),
    N_("The name of the helpdesk (the sender name)"),
    N_("Where the customer refuses non-essential mail (one click)"),
    # what each effect of a process action does
    N_("Reply to the customer by email with the text of a long-text field."),
    N_("Post the reply in the customer portal only; the email (from a template) just links to it."),
    N_(
        "Send an email or SMS template to the customer, the assignee, the group, a supervisor "
        "or the followers."
    ),
    N_("Send a template to everyone following the ticket."),
    N_(
        "Ask the customer to rate the answer (1-5): a template whose links rate it, about "
        "the assignee (else whoever pressed the action)."
    ),
    N_("Add an internal note (agents only) from a long-text field."),
    N_("Assign to the agent or group chosen in a field."),
    N_("Forward to a specialist or a group with a note for them."),
    N_(
        "The agent who performs the action becomes the assignee (customers and the system "
        "never do)."
    ),
    N_("Set the priority from a field."),
    N_(
        "Store a field's value on the ticket (its type or any custom field), searchable; "
        "'name' is the ticket field (the field's id by default)."
    ),
    N_(
        "Call the customer through the PBX: the extension of whoever pressed (the assignee "
        "when the system does) rings first, then the customer's number is dialled."
    ),
    N_(
        "Record how the ticket's latest call went ('outcome': agreed, not_reached or "
        "no_agreement), with notes from a long-text field ('notes_field'), on the timeline "
        "and on the contact's call record."
    ),
]


#: Identifiers of process definitions shown with a name in the UI (the id stays the value).
CATEGORY_LABELS = {
    "new": N_("new"),
    "open": N_("open"),
    "pending": N_("pending"),
    "resolved": N_("resolved"),
    "closed": N_("closed"),
    "merged": N_("merged"),
}


FIELD_TYPE_LABELS = {
    "text": N_("short text"),
    "longtext": N_("long text"),
    "select": N_("choice"),
    "multiselect": N_("several choices"),
    "checkbox": N_("checkbox"),
    "number": N_("number"),
    "date": N_("date"),
    "agent": N_("agent"),
    "group": N_("group"),
    "recipient": N_("agent or group"),
    "priority": N_("priority"),
}


STYLE_LABELS = {"default": N_("default"), "primary": N_("primary"), "danger": N_("danger")}


#: What a linked ticket is to the ticket shown (tempodesk.contracts.LINK_KINDS).
LINK_KIND_LABELS = {
    "related": N_("related"),
    "duplicate_of": N_("the original (this one duplicates it)"),
    "duplicated_by": N_("a duplicate of this one"),
    "parent": N_("parent"),
    "child": N_("child"),
}
RECIPIENT_LABELS = {
    "customer": N_("customer"),
    "assignee": N_("assignee"),
    "group": N_("group"),
    "supervisor": N_("supervisor"),
    "followers": N_("followers"),
}


#: What became of an inbound mail (tempodesk.mail.inbound), as the admin pages say it.
INBOUND_STATUSES = {
    "stored": N_("stored"),
    "ticket": N_("ticket"),
    "follow_up": N_("follow up"),
    "ignored": N_("ignored"),
    "quarantined": N_("quarantined"),
}


MIGRATION_STATUSES = {
    "pending": N_("pending"),
    "migrated": N_("migrated"),
    "rejected": N_("rejected"),
}


#: Field errors of action forms (statemachines.rules.clean_fields), of the public form and
#: new tickets (tempodesk.tickets.intake), of contacts, organisations and orders
#: (tempodesk.people), of saved filters, the panel, lists and bulk actions
#: (tempodesk.tickets.saved_filters, panel, lists, bulk), and
#: the workflow's reasons to refuse an action (workflows.ticket, tempodesk.tickets.actions).
MESSAGES = [
    # statemachines.rules.clean_fields
    N_("This field is required."),
    N_("Enter some text."),
    N_("Enter text."),
    N_("At most %(max)s characters."),
    N_("Choose one of the offered values."),
    N_("Choose among the offered values."),
    N_("Expected true or false."),
    N_("Enter a number."),
    N_("Enter a date as YYYY-MM-DD."),
    N_("Enter a real date as YYYY-MM-DD."),
    N_("Choose an agent."),
    N_("Choose a group."),
    N_("Choose an agent or a group."),
    N_("Choose a priority."),
    N_("The action '%(action)s' has no field '%(field)s'."),
    # tempodesk.tickets.intake
    N_("Enter a subject."),
    N_("Enter a message."),
    N_("Enter a valid email address."),
    N_("Enter an email address (or a phone number)."),
    N_("Enter a valid phone number."),
    N_("There is no process '%(process)s'."),
    # tempodesk.sla.entitlements (refused by the web form and the API)
    N_(
        "Your contract's entitlement is used up: no new requests can be filed this way. "
        "Please contact us by email or phone."
    ),
    # tempodesk.telephony.records and agents' extensions (tempodesk.people.users)
    N_("Use in or out."),
    N_("Use digits, *, # or + (at most 32), e.g. 101."),
    N_("The extension %(extension)s is another agent's."),
    # tempodesk.people.users and roles (groups within groups, roles)
    N_("There is no role %(role)s."),
    N_("There is no right %(right)s."),
    N_("There is a role '%(name)s' already."),
    N_("There is no group '%(name)s'."),
    N_("'%(name)s' is %(group)s or a group under it: that makes a cycle."),
    N_("Groups nest at most %(depth)s levels deep."),
    N_("A role Tempodesk ships cannot be deleted."),
    N_("You cannot remove your own admin rights."),
    N_("Start with a letter a-z; use a-z, digits, '_' and '-' (at most 64 characters)."),
    # tempodesk.tickets.actions
    N_("Write a text to go with the files."),
    N_("The ticket engine did not answer in time."),
    # tempodesk.people (contacts, organisations, orders, merge) and tempodesk.tickets.entry
    N_("Another contact has this email address (merge them instead)."),
    N_("Enter an email address or a phone number."),
    N_("There is no such organisation."),
    N_("There is no active agent '%(agent)s'."),
    N_("A contact cannot be merged into itself."),
    # tempodesk.tickets.relations and workflows.ticket_relations (merging tickets)
    N_("There is no such ticket (or you may not see it)."),
    N_("A ticket cannot be merged into itself."),
    N_("A ticket cannot be linked to itself."),
    N_("Only agents may split tickets."),
    N_("The ticket's first message cannot be split off."),
    N_("This ticket is closed; it cannot be split."),
    N_("There is no such message on this ticket."),
    N_("Only a customer's message can be split off."),
    N_("Ticket %(ticket)s is closed; it cannot take the message."),
    N_("Only agents may change this."),
    N_("This ticket is closed; it cannot be changed."),
    N_("Only the admins' tags may be given: %(tags)s."),
    N_("Give at least one tag."),
    N_("Choose a kind of link: related, duplicate_of, duplicated_by, parent or child."),
    N_("This ticket is closed; it cannot be merged."),
    N_("That ticket is closed; it cannot take another ticket."),
    N_("Ticket %(ticket)s is closed; it cannot take another ticket."),
    N_("Only agents may merge tickets."),
    N_("The ticket is still being created."),
    N_("Merged"),
    N_("Choose an existing contact."),
    N_("One of the contacts was removed meanwhile."),
    N_("Enter a name."),
    N_("There is an organisation with this name already."),
    N_("Choose how the request came in."),
    N_("There is no order %(order)s."),
    N_("The file is not UTF-8 text."),
    N_("Missing column(s): %(columns)s."),
    N_("At most %(max)s rows per file."),
    N_("The order %(order)s is on line %(line)s already."),
    N_("The file has no orders."),
    N_("Not imported: the file has errors."),
    N_("Enter the order number."),
    N_("Use letters, digits and . _ - (no spaces)."),
    N_("Give the customer's email address (or phone)."),
    N_("Use an ISO date, e.g. 2026-11-02 or 2026-11-02T10:15:00Z."),
    # tempodesk.tickets.saved_filters, panel, lists and bulk
    N_("Give the filter a name."),
    N_("You may share a filter only with groups you belong to."),
    N_("Only its owner (or an admin, if it is shared) may change this filter."),
    N_("Only its owner (or an admin) may delete this filter."),
    N_("There is no list '%(list)s'."),
    N_("The panel holds at most %(max)s lists."),
    N_("Unknown state category: %(categories)s."),
    N_("The cursor is not valid."),
    N_("The cursor is not valid for this list."),
    N_("Sort by one of %(sorts)s."),
    N_("No such ticket (or you may not see it)."),
    N_("It cannot be assigned while it is “%(state)s”."),
    N_("The ticket engine did not answer; try it again."),
    N_("Done: the ticket is now “%(state)s”."),
    N_("Routed to %(agent)s (%(group)s)."),
    N_("Routed to the queue of %(group)s."),
    # tempodesk.routing.channels
    N_("There is no such agent."),
    N_("There is no such group."),
    N_("There is no such process."),
    # tempodesk.tickets.forms and form_fields (web forms per site, their fields and checks)
    N_("At most %(max)s fields."),
    N_("Use a-z, 0-9 and _, starting with a letter (at most 32)."),
    N_("This key belongs to the form itself; choose another."),
    N_("Each field needs its own key."),
    N_("Use 1 to %(max)s."),
    N_("Give the choices, one per line."),
    N_("At most %(count)s choices of %(max)s characters."),
    N_("At most %(max)s links, please."),
    N_("Your request could not be sent."),
    N_("Please describe your request in words, not only links."),
    N_("This form takes no files."),
    N_("'%(file)s' is larger than %(size)s."),
    N_("'%(file)s': allowed are %(types)s."),
    N_("'%(file)s' is not what its name says."),
    N_("Use a-z, 0-9 and - (at most 48); not new, submitted or embed."),
    N_("Another form has this address."),
    N_("A form's address stays (its tickets name it)."),
    N_("Not an origin like https://shop.example.com: %(origin)s"),
    N_("An internal form cannot be embedded in another site."),
    N_("Use 0 to %(max)s."),
    N_("Use some of: %(types)s."),
    # tempodesk.people.users (an agent's own profile)
    N_("Use one of: %(languages)s."),
    # statemachines.checks.language_warnings (a process text lacking an enabled language)
    N_("No text in %(languages)s."),
    # statemachines.texts (a process text in several languages)
    N_("This must be text, or a mapping of language codes to texts."),
    N_("'%(code)s' is not a language code (like en, cs, de)."),
    N_("The text in '%(language)s' must be non-empty text."),
    # tempodesk.knowledge (articles, categories, pages, the help centre's look)
    N_("Enter a title."),
    N_("Enter a name."),
    N_("Enter a slug (letters, digits and hyphens)."),
    N_("Use lower-case letters, digits and hyphens only."),
    N_("Another article in this language has this slug."),
    N_("Another category in this language has this slug."),
    N_("Another page in this language has this slug."),
    N_("There is no such category."),
    N_("The category is in another language."),
    N_("The text is too complex; simplify its formatting."),
    N_("Use a colour like #1f6feb."),
    N_("At most %(max)s KB."),
    N_("Use a PNG, JPEG or GIF image."),
    # the timeline (workflows.ticket, activities)
    N_("the spam filter flagged it"),
    N_("timeout after %(after)s"),
    N_("No order %(order)s was found."),
    N_("Order %(order)s belongs to another customer."),
    N_("nobody to send to as %(role)s"),
    N_("automatic mail cap reached for the customer"),
    N_("no ticket or no template '%(template)s'"),
    N_("the template failed: %(problem)s"),
    # tempodesk.webhooks (subscriptions, sending)
    N_("Choose at least one event."),
    N_("Unknown events: %(events)s"),
    N_("Only http and https URLs."),
    N_("The URL names no host."),
    N_("No credentials in the URL, please: receivers check the signature."),
    # tempodesk.reports.filters
    N_("The period starts after it ends."),
    N_("A period is at most %(days)s days."),
    N_("Use one of %(values)s."),
    N_("You do not supervise this group."),
    N_("Write a day as YYYY-MM-DD."),
]


#: What each right of ``statemachines.rights.RIGHTS`` lets an agent do (the roles pages).
RIGHT_LABELS = {
    "act": N_("Act on tickets: perform actions, open and merge tickets"),
    "see_all_queues": N_("See every queue: tickets in every state, whatever the process says"),
    "manage_customers": N_(
        "Manage customers: see every contact, organisation and order; merge and import them"
    ),
    "view_reports": N_("Read the reports of their groups"),
    "delete_tickets": N_("Delete tickets (spam, tests)"),
    "admin": N_("Admin: the admin area and every other right"),
}


#: Why the workflow (or the web, asking the same ``statemachines.check_action``) refused an
#: action, by the rejection's code. The texts equal ``statemachines.REJECTION_TEXTS`` (a test
#: keeps them so); the web translates by the code, never by matching the English.
REJECTIONS = {
    "not_ready": N_("The ticket is still being created; try again in a moment."),
    "state_changed": N_(
        "The ticket has meanwhile moved to '%(state)s'; reload it to see what changed."
    ),
    "not_available": N_(
        "The action '%(action)s' is not available while the ticket is '%(state)s'."
    ),
    "forbidden": N_("You may not '%(action)s' tickets in state '%(state)s'."),
    "assignee_only": N_(
        "You may not '%(action)s' tickets in state '%(state)s'. Only %(assignee)s, the "
        "assignee, may act on this ticket."
    ),
    "no_customer_email": N_("This customer has no email address to reply to."),
    "invalid_fields": N_("Some fields are not filled in correctly."),
    "closed": N_("This ticket is closed; it takes no more actions."),
    "read_only": N_("Your role lets you read tickets, not act on them."),
    "children_open": N_(
        "This ticket waits for its child tickets to be resolved first: %(children)s."
    ),
}
