"""SQLAlchemy models: the projection of tickets plus the reference data around them.

Tickets, their events and the metadata of their messages are written only by the
workflow's projection activity (see activities/tickets.py). The web process writes
reference data (users, tokens), and *claim checks*: a message body stored before the
workflow is asked to attach it, so bodies never travel through workflow history.

One module per concept; every model is imported here, so ``from tempodesk.core.models
import X`` works for each and every mapper (relationships across modules name their target)
is known to ``Base`` before the first query. Alembic compares ``Base.metadata``.
"""

from .audit import AuditEntry
from .base import Base, utcnow
from .channels import (
    AcknowledgementClaim,
    AutoMailLog,
    Channel,
    InboundMessage,
    Mailbox,
    SmtpAlert,
)
from .desk import DeskLayout, Draft, Follow, Presence, SavedFilter, TicketRead
from .forms import WebForm
from .knowledge import KbArticle, KbArticleLink, KbCategory, KbPage, KbSettings
from .messaging import (
    BulkMessage,
    BulkRecipient,
    CannedAnswer,
    MessageTemplate,
    TemplateRevision,
    TemplateText,
)
from .people import (
    ApiToken,
    Contact,
    ContactChange,
    Group,
    GroupRole,
    Membership,
    Order,
    Organisation,
    PortalLink,
    Role,
    User,
    UserRole,
)
from .processes import ProcessDraft, ProcessMigration, ProcessMigrationItem, ProcessVersion
from .relations import CuratedTag, TagPolicy, TicketLink, TicketTag
from .routing import AgentRouting, AgentSkill, GroupRouting, RoutingRule, Trigger
from .sla import (
    BusinessCalendar,
    Contract,
    CustomerType,
    Entitlement,
    EntitlementUse,
    SlaPolicy,
)
from .sms import SmsGateway
from .telephony import CommRecord
from .tickets import (
    DELIVERY_RANK,
    Attachment,
    Message,
    PendingStart,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketRating,
)
from .webhooks import WebhookDelivery, WebhookSubscription

__all__ = [
    "DELIVERY_RANK",
    "AcknowledgementClaim",
    "AgentRouting",
    "AgentSkill",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "AutoMailLog",
    "Base",
    "BulkMessage",
    "BulkRecipient",
    "BusinessCalendar",
    "CannedAnswer",
    "Channel",
    "CommRecord",
    "Contact",
    "ContactChange",
    "Contract",
    "CuratedTag",
    "CustomerType",
    "DeskLayout",
    "Draft",
    "Entitlement",
    "EntitlementUse",
    "Follow",
    "Group",
    "GroupRole",
    "GroupRouting",
    "InboundMessage",
    "KbArticle",
    "KbArticleLink",
    "KbCategory",
    "KbPage",
    "KbSettings",
    "Mailbox",
    "Membership",
    "Message",
    "MessageTemplate",
    "Order",
    "Organisation",
    "PendingStart",
    "PortalLink",
    "Presence",
    "ProcessDraft",
    "ProcessMigration",
    "ProcessMigrationItem",
    "ProcessVersion",
    "Role",
    "RoutingRule",
    "SavedFilter",
    "SlaPolicy",
    "SmsGateway",
    "SmtpAlert",
    "TagPolicy",
    "TemplateRevision",
    "TemplateText",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "TicketLink",
    "TicketRating",
    "TicketRead",
    "TicketTag",
    "Trigger",
    "User",
    "UserRole",
    "WebForm",
    "WebhookDelivery",
    "WebhookSubscription",
    "utcnow",
]
