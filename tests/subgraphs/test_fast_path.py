"""The column path answers exactly what graphql-core's own executor answers.

Hypothesis draws entities whose fields hold anything a resolver can hand back — values,
nulls where none may be, values of the wrong type, exceptions — and operations over them
(aliases, fragments, ``__typename``, ``@skip``/``@include``, arguments), and runs each
operation through strawberry with graphql-core's executor and with
:class:`~subgraphs.fast_path.ColumnarExecutor`. The data must be the same, key order
included, and so must the errors (message, locations, path, extensions).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
import strawberry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from subgraphs.entities import CheckedEntities
from subgraphs.fast_path import ColumnarExecutor, batch_resolver


class Boom(Exception):
    """A fault of a resolver."""


@strawberry.enum
class Kind(enum.Enum):
    SMALL = "small"
    LARGE = "large"


@strawberry.type
class Item:
    code: str
    size: int | None


@strawberry.type
class Detail:
    label: str
    note: str | None
    items: list[Item | None] | None
    strict_items: list[Item] | None = strawberry.field(name="strictItems")

    @strawberry.field
    def loud(self) -> str:
        if self.label == "raise":
            raise Boom("loud failed")
        return self.label.upper()


# Every value a Thing's fields answer, by id; set per example.
DATA: dict[str, dict[str, Any]] = {}


def _value(thing_id: str, name: str) -> Any:
    value = DATA[thing_id][name]
    if isinstance(value, Exception):
        raise value
    return value


def _many(things: Sequence[Thing], name: str) -> list[Any]:
    return [DATA[thing.id][name] for thing in things]


def _details_of_each(things: Sequence[Thing], info: Any) -> list[Any]:
    return _many(things, "detail")


def _required_of_each(things: Sequence[Thing], info: Any) -> list[Any]:
    return _many(things, "required")


def _all_of_each(things: Sequence[Thing], info: Any) -> list[Any]:
    return _many(things, "all_details")


def _label_of_each(things: Sequence[Thing], info: Any, prefix: str = "") -> list[Any]:
    return [
        value if isinstance(value, Exception) or value is None else prefix + str(value)
        for value in _many(things, "label")
    ]


@strawberry.federation.type(keys=["id"])
class Thing:
    id: str
    name: str | None = None
    code: str = ""
    count: int | None = None
    kind: Kind | None = None
    when: dt.date | None = None
    tags: list[str] | None = None
    ranks: list[int] = strawberry.field(default_factory=list)

    @strawberry.field
    def shout(self) -> str | None:
        return _value(self.id, "shout")  # type: ignore[no-any-return]

    @strawberry.field(metadata=batch_resolver(_details_of_each))
    def detail(self, info: strawberry.Info) -> Detail | None:
        return _value(self.id, "detail")  # type: ignore[no-any-return]

    @strawberry.field(metadata=batch_resolver(_required_of_each))
    def required(self, info: strawberry.Info) -> Detail:
        return _value(self.id, "required")  # type: ignore[no-any-return]

    @strawberry.field(metadata=batch_resolver(_all_of_each))
    def all_details(self, info: strawberry.Info) -> list[Detail | None] | None:
        return _value(self.id, "all_details")  # type: ignore[no-any-return]

    @strawberry.field(metadata=batch_resolver(_label_of_each))
    def label(self, info: strawberry.Info, prefix: str = "") -> str | None:
        value = _value(self.id, "label")
        return None if value is None else prefix + str(value)

    @strawberry.field
    def echo(self, info: strawberry.Info, text: str) -> str:
        if text == "raise":
            raise Boom("echo failed")
        return f"{self.id}:{text}"

    @classmethod
    def resolve_reference(cls, id: str) -> Thing | None:
        if id not in DATA:
            return None
        fields = DATA[id]["fields"]
        return cls(id=id, **fields)


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [Thing.resolve_reference(thing_id) for thing_id in DATA]  # type: ignore[misc]


def _schema(executor: type) -> CheckedEntities:
    return CheckedEntities(query=Query, types=[Thing], execution_context_class=executor)


NORMAL = _schema(StrawberryGraphQLCoreExecutionContext)
COLUMNS = _schema(ColumnarExecutor)

# -- what a field can hand back -------------------------------------------------------------

texts = st.sampled_from(["a", "b", "raise", "Ünï", ""])
faults = st.builds(Boom, st.sampled_from(["boom", "other boom"]))


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, st.none(), faults, st.integers(), st.floats(allow_nan=False))


items = st.builds(
    Item,
    code=st.one_of(texts, st.none(), st.just(12)),
    size=st.one_of(st.integers(-5, 5), st.none(), st.just("x"), st.just(2**40)),
)
item_lists = st.one_of(st.lists(st.one_of(items, st.none()), max_size=3), st.none(), st.just(5))
details = st.builds(
    Detail,
    label=st.one_of(texts, st.none()),
    note=st.one_of(texts, st.none()),
    items=item_lists,
    strict_items=item_lists,
)
thing_fields = st.fixed_dictionaries(
    {
        "name": st.one_of(texts, st.none(), st.just(3)),
        "code": st.one_of(texts, st.none()),
        "count": st.one_of(st.integers(-3, 3), st.none(), st.just("seven"), st.just(1.5)),
        "kind": st.one_of(st.sampled_from(list(Kind)), st.none(), st.just("medium")),
        "when": st.one_of(st.just(dt.date(2026, 1, 2)), st.none(), st.just("soon")),
        "tags": st.one_of(st.lists(st.one_of(texts, st.none()), max_size=3), st.none()),
        "ranks": st.one_of(st.lists(st.integers(0, 9), max_size=3), st.just([1, None])),
    }
)
things = st.fixed_dictionaries(
    {
        "fields": thing_fields,
        "shout": st.one_of(texts, st.none(), faults),
        "detail": st.one_of(details, st.none(), faults, st.just("not an object")),
        "required": st.one_of(details, st.none(), faults),
        "all_details": st.one_of(
            st.lists(st.one_of(details, st.none(), faults), max_size=3), st.none()
        ),
        "label": maybe(texts),
    }
)

DETAIL_SELECTIONS = [
    "label",
    "note",
    "loud",
    "__typename",
    "items { code size }",
    "strictItems { code }",
    "l2: label",
    "... on Detail { note label }",
]
THING_SELECTIONS = [
    "id",
    "name",
    "code",
    "count",
    "kind",
    "when",
    "tags",
    "ranks",
    "shout",
    "__typename",
    "again: name",
    "label",
    'label(prefix: "p-")',
    "echo(text: $text)",
    'echo(text: "raise")',
    "name @skip(if: $flag)",
    "count @include(if: $flag)",
    "... on Thing { code kind }",
    "...More",
]


@st.composite
def selections(draw: st.DrawFn, choices: list[str], nested: bool) -> str:
    """Fields of ``choices`` (each once), aliased so that no two response keys conflict."""
    picked = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=6, unique=True))
    parts = []
    for n, choice in enumerate(picked):
        # a field with arguments under its own key: two argument sets may not share one
        alias = f"a{n}: " if "(" in choice.split("@")[0] else ""
        parts.append(alias + choice)
    if nested:
        fields = draw(st.lists(st.sampled_from(["detail", "required", "allDetails"]), max_size=3))
        for n, field in enumerate(fields):
            inner = draw(selections(DETAIL_SELECTIONS, nested=False))
            alias = draw(st.sampled_from(["", f"{field}{n}: "]))
            parts.append(f"{alias}{field} {{ {inner} }}")
    return " ".join(parts)


def _run(schema: CheckedEntities, query: str, variables: dict[str, Any]) -> bytes:
    result = asyncio.run(schema.execute(query, variable_values=variables))
    errors = sorted(
        (orjson.dumps(e.formatted, option=orjson.OPT_SORT_KEYS) for e in result.errors or ()),
    )
    return orjson.dumps({"data": result.data, "errors": [orjson.loads(e) for e in errors]})


def _same(query: str, variables: dict[str, Any]) -> None:
    fresh = [dict(r) for r in variables.get("representations", ())]
    normal = _run(NORMAL, query, {**variables, "representations": fresh})
    fresh = [dict(r) for r in variables.get("representations", ())]
    columns = _run(COLUMNS, query, {**variables, "representations": fresh})
    _ran(normal)
    assert columns == normal


def _declared(selection: str) -> str:
    """The variables ``selection`` uses, declared (an unused one fails validation)."""
    used = [("$flag", "Boolean!"), ("$text", "String!")]
    return "".join(f", {name}: {type_}" for name, type_ in used if name in selection)


def _fragment(selection: str) -> str:
    return "fragment More on Thing { tags ranks when }" if "...More" in selection else ""


def _ran(answer: bytes) -> None:
    """The operation was valid and ran (else both paths would agree trivially)."""
    assert all("path" in error for error in orjson.loads(answer)["errors"]), answer


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(things, min_size=0, max_size=5),
    selection=selections(THING_SELECTIONS, nested=True),
    flag=st.booleans(),
    text=st.sampled_from(["hi", "raise"]),
    extra=st.lists(
        st.one_of(
            st.just({"__typename": "Thing", "id": "nobody"}),
            st.just({"__typename": "Thing"}),
            st.just({"id": "t0"}),
            st.just({"__typename": "Nothing", "id": "t0"}),
        ),
        max_size=2,
    ),
)
def test_entities_answer_as_graphql_core_does(
    data: list[dict[str, Any]], selection: str, flag: bool, text: str, extra: list[dict[str, Any]]
) -> None:
    DATA.clear()
    DATA.update({f"t{n}": thing for n, thing in enumerate(data)})
    representations = [{"__typename": "Thing", "id": thing_id} for thing_id in DATA] + extra
    query = (
        f"query($representations: [_Any!]!{_declared(selection)}) {{"
        " _entities(representations: $representations) { __typename ... on Thing { "
        + selection
        + " } } } "
        + _fragment(selection)
    )
    _same(query, {"representations": representations, "flag": flag, "text": text})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(things, min_size=0, max_size=4),
    selection=selections(THING_SELECTIONS, nested=True),
    flag=st.booleans(),
)
def test_root_lists_answer_as_graphql_core_does(
    data: list[dict[str, Any]], selection: str, flag: bool
) -> None:
    DATA.clear()
    DATA.update({f"t{n}": thing for n, thing in enumerate(data)})
    declared = _declared(selection)
    query = (
        f"query{'(' + declared.lstrip(', ') + ')' if declared else ''} {{ a: things {{ "
        + selection
        + " } b: things { id } } "
        + _fragment(selection)
    )
    _same(query, {"flag": flag, "text": "x"})


def test_a_thousand_entities_answer_the_same() -> None:
    """A larger list, with a failure here and there, as one request of the gateway's."""
    DATA.clear()
    for n in range(1000):
        detail = Detail(label=f"l{n}", note=None, items=[Item(code="c", size=n)], strict_items=None)
        DATA[f"t{n}"] = {
            "fields": {"name": f"n{n}", "code": "x" if n % 97 else None, "count": n},
            "shout": "s",
            "detail": detail if n % 13 else Boom("down"),
            "required": detail if n % 101 else None,
            "all_details": [detail, None],
            "label": n,
        }
    query = (
        "query($representations: [_Any!]!) { _entities(representations: $representations) {"
        " ... on Thing { id name code count shout label detail { label loud items { size } }"
        " required { note } allDetails { label } } } }"
    )
    representations = [{"__typename": "Thing", "id": thing_id} for thing_id in DATA]
    _same(query, {"representations": representations})


# -- the operator subgraphs' own schemas, with an operator that fails now and then ---------


class _Operator:
    """Answers like an operator's system; a call fails when one of its keys ends in '77'.

    The two paths ask for the same keys in another order, so whether a call fails must
    not depend on the order.
    """

    def __init__(self, answer: Any, failing: bool) -> None:
        self.answer = answer
        self.failing = failing
        self.calls = 0

    async def batch(self, path: str, key: str, items: Sequence[Any], **_: Any) -> list[Any]:
        from subgraphs.operator import OPERATOR_UNAVAILABLE, OperatorError

        self.calls += 1
        keys = [item if isinstance(item, str) else item["khmer_id"] for item in items]
        if self.failing and any(k.endswith("77") for k in keys):
            raise OperatorError("the system answered HTTP 503", OPERATOR_UNAVAILABLE)
        return [self.answer(item) for item in items]


def _spids(count: int) -> list[str]:
    import random

    from identity_store.spid import new_spid

    rng = random.Random(7)
    spids = [new_spid(rng) for _ in range(count)]
    return [*spids, "12345", "not a spid"]


def _member(spid: str) -> dict[str, Any]:
    member = None
    if hash(spid) % 3 == 0:
        member = {
            "member_id": "M" + spid,
            "employer": {"employer_id": "E1", "name": "Acme"},
            "schemes": ["pension", "health_care"],
            "status": "active" if hash(spid) % 2 else "suspended",
            "months_of_contributions": 12,
            "last_contribution_date": "2026-10-01",
        }
    return {"spid": spid, "member": member}


def _payments(spid: str) -> dict[str, Any]:
    return {
        "spid": spid,
        "payments": [
            {
                "payment_id": f"P{spid}{n}",
                "programme": "family_package" if n % 2 else "disability_allowance",
                "period": f"2026-0{n + 1}",
                "amount_khr": 40000,
                "certified_at": "2026-03-05T10:00:00+07:00",
                "status": "certified",
            }
            for n in range(hash(spid) % 3)
        ],
    }


def _household(spid: str) -> dict[str, Any]:
    household = None
    if hash(spid) % 4 == 0:
        household = {
            "household_id": "H" + spid,
            "level": 1,
            "equity_card_number": "12-000000001",
            "valid_from": "2025-01-01",
            "valid_until": "2028-01-01",
            "round": "regular",
        }
    return {"spid": spid, "household": household}


def _verification(check: dict[str, str]) -> dict[str, Any]:
    if check["family_name"] == "Sok":
        return {"khmer_id": check["khmer_id"], "result": "match", "mismatches": []}
    return {"khmer_id": check["khmer_id"], "result": "mismatch", "mismatches": ["family_name"]}


async def _operator_answers(
    subgraph: Any, answer: Any, query: str, reps: list[Any], failing: bool
) -> bytes:
    from policies import Caller
    from subgraphs.operator import OperatorCall

    answers = []
    original = subgraph.schema.execution_context_class
    for executor in (StrawberryGraphQLCoreExecutionContext, ColumnarExecutor):
        subgraph.schema.execution_context_class = executor
        operator = _Operator(answer, failing)
        context = subgraph.make_context(OperatorCall(operator, Caller()))  # type: ignore[arg-type]
        result = await subgraph.schema.execute(
            query, variable_values={"r": [dict(r) for r in reps]}, context_value=context
        )
        errors = sorted(
            orjson.dumps(e.formatted, option=orjson.OPT_SORT_KEYS) for e in result.errors or ()
        )
        answers.append((orjson.dumps(result.data), errors, operator.calls))
    subgraph.schema.execution_context_class = original
    assert answers[0] == answers[1]
    return answers[1][0]


@pytest.mark.parametrize(("count", "failing"), [(1, False), (350, False), (350, True)])
async def test_operator_subgraphs_answer_the_same_on_either_path(count: int, failing: bool) -> None:
    from subgraphs.idpoor import IDPOOR
    from subgraphs.moi import MOI
    from subgraphs.nssf import NSSF
    from subgraphs.pca import PCA

    spids = _spids(count)
    people = [{"__typename": "Person", "spid": spid} for spid in spids]
    entities = (
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Person { %s } } }"
    )
    await _operator_answers(
        NSSF,
        _member,
        entities % "spid nssf { memberId employer { name } schemes status active "
        "monthsOfContributions lastContributionDate } again: nssf { active }",
        people,
        failing,
    )
    await _operator_answers(
        PCA,
        _payments,
        entities % "pcaPayments { programme period amountKhr certifiedAt status } "
        'fp: pcaPayments(programme: "family_package", sincePeriod: "2026-02") { paymentId }',
        people,
        failing,
    )
    await _operator_answers(
        IDPOOR,
        _household,
        entities % "idpoor { level equityCardNumber validFrom validUntil round cardValidToday }",
        people,
        failing,
    )
    checked = [
        {
            **person,
            "khmerId": None if n % 5 == 0 else f"{100000000 + n}",
            "familyName": "Sok" if n % 2 else "Chan",
            "givenName": "Dara",
            "birthDate": "1990-05-17",
        }
        for n, person in enumerate(people)
    ]
    await _operator_answers(
        MOI,
        _verification,
        entities % "khmerIdVerification { result mismatchedFields } "
        'other: khmerIdVerification(familyName: "Sok") { result }',
        checked,
        failing,
    )
