"""The form editor's model: a process document <-> the flat HTML form, and the form's operations.

Pure (no Flask, no database), so every rule here is unit-tested on plain dicts. The form
names every input by position (``s2-label`` is the third state's label, ``a0-f1-type`` the
first action's second field's type) and carries each state's and action's id as it was shown
(``s2-orig``), so an id renamed in the form is followed everywhere in the same document. A
document that the form cannot show faithfully (a list where a mapping belongs, ...) is left
to the expert editor: ``not_editable`` says why.

The document written back is in the canonical form of ``ProcessDefinition.to_document``
(optional keys only when they differ from their default), so a form that was not touched
gives back exactly the document it showed.

Its parts: ``to_form`` (document -> form), ``to_document`` (form -> document), ``operations``
(the buttons), ``problems`` (placing each problem), ``new_process`` (a first draft) and
``common`` (what they share). Callers use this package: ``from web.admin import process_form``.
"""

from __future__ import annotations

from web.admin.process_form.common import (
    EFFECT_ARGS,
    FIELD_ARGS,
    STYLES,
    Form,
    dump,
    effect_args,
    options,
    posted_text,
    text_field,
)
from web.admin.process_form.new_process import new_document
from web.admin.process_form.operations import apply, operation
from web.admin.process_form.problems import Placement, place
from web.admin.process_form.to_document import FormResult, document_from_form
from web.admin.process_form.to_form import (
    ActionRow,
    EditorForm,
    EffectRow,
    FieldRow,
    OfferRow,
    StateRow,
    editor_form,
    not_editable,
)

__all__ = [
    "EFFECT_ARGS",
    "FIELD_ARGS",
    "STYLES",
    "ActionRow",
    "EditorForm",
    "EffectRow",
    "FieldRow",
    "Form",
    "FormResult",
    "OfferRow",
    "Placement",
    "StateRow",
    "apply",
    "document_from_form",
    "dump",
    "editor_form",
    "effect_args",
    "new_document",
    "not_editable",
    "operation",
    "options",
    "place",
    "posted_text",
    "text_field",
]
