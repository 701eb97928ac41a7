"""The agreement editor's model (no I/O): a policy document's agreement as the editor shows
it (``form``, drawn from ``rows``), a submitted form applied back (``apply``), the other
changes to a draft (``edits``), the draft at a glance (``summary``); ``controls`` holds
what they share.
"""

from __future__ import annotations

from policies.console.drafting.apply import apply_agreement_form
from policies.console.drafting.controls import (
    AREA,
    AREAS,
    ARGUMENT,
    DEFAULT,
    DIGEST,
    EVERYONE,
    FIELD,
    KEEP,
    LIMIT,
    LIMIT_LABELS,
    NO,
    OWN,
    REMOVE,
    SCOPE,
    STALE,
    TEXTS,
    TRUSTED,
    USABLE,
    YES,
    Applied,
    Form,
    FormProblem,
)
from policies.console.drafting.edits import (
    add_agreement,
    remove_agreement,
    remove_purpose,
    set_guardrails,
    set_purpose,
)
from policies.console.drafting.form import agreement_form, form_values, ordered_types
from policies.console.drafting.rows import (
    AgreementForm,
    AreaRow,
    ArgumentRow,
    Choice,
    FieldRow,
    InputRow,
    LimitRow,
    StaleRow,
    TypeRow,
)
from policies.console.drafting.summary import (
    AgreementSummary,
    agreement_changes,
    describe_scope,
    summarise,
)

__all__ = [
    "AREA",
    "AREAS",
    "ARGUMENT",
    "DEFAULT",
    "DIGEST",
    "EVERYONE",
    "FIELD",
    "KEEP",
    "LIMIT",
    "LIMIT_LABELS",
    "NO",
    "OWN",
    "REMOVE",
    "SCOPE",
    "STALE",
    "TEXTS",
    "TRUSTED",
    "USABLE",
    "YES",
    "AgreementForm",
    "AgreementSummary",
    "Applied",
    "AreaRow",
    "ArgumentRow",
    "Choice",
    "FieldRow",
    "Form",
    "FormProblem",
    "InputRow",
    "LimitRow",
    "StaleRow",
    "TypeRow",
    "add_agreement",
    "agreement_changes",
    "agreement_form",
    "apply_agreement_form",
    "describe_scope",
    "form_values",
    "ordered_types",
    "remove_agreement",
    "remove_purpose",
    "set_guardrails",
    "set_purpose",
    "summarise",
]
