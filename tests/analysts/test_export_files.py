"""Export queries read against a schema, nodes flattened into rows, files written with
checkpoints that a resumed export continues from exactly."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from graphql import build_schema

from analysts.export_query import ExportQueryError, read_export_query
from analysts.flatten import rows_of
from analysts.sinks import Checkpoint, ExportFileError, open_sink

SCHEMA = build_schema(
    """
    type Query { people(provinceCode: String, first: Int!, after: String): PersonConnection!
                 person(spid: ID!): Person }
    type PersonConnection { edges: [PersonEdge!]! pageInfo: PageInfo! totalCount: Int! }
    type PersonEdge { cursor: String! node: Person! }
    type PageInfo { hasNextPage: Boolean! endCursor: String }
    type Person { spid: ID! sex: String birthYear: Int idpoor: IdPoor
                  payments: [Payment!]! tags: [String!] }
    type IdPoor { level: Int cardValidToday: Boolean }
    type Payment { programme: String! amountKhr: Float! }
    """
)
QUERY = """
query Export($area: String, $first: Int!, $after: String) {
  people(provinceCode: $area, first: $first, after: $after) {
    edges { node { spid born: birthYear idpoor { level cardValidToday }
                   payments { programme amountKhr } } }
  }
}
"""
NODE = {
    "spid": "S1",
    "born": 1980,
    "idpoor": {"level": 1, "cardValidToday": True},
    "payments": [
        {"programme": "CASH", "amountKhr": 10.5},
        {"programme": "=HYPERLINK()", "amountKhr": 2.0},
    ],
}


def test_columns_come_from_the_selection_named_by_path_and_alias() -> None:
    query = read_export_query(QUERY, SCHEMA)
    assert [(c.name, c.kind) for c in query.columns] == [
        ("spid", "text"),
        ("born", "int"),
        ("idpoor.level", "int"),
        ("idpoor.cardValidToday", "bool"),
        ("payments", "json"),
    ]
    assert query.node_path == ("edges", "node") and query.total == "exportTotal"
    assert (
        "exportPageInfo: pageInfo" in query.document and "exportTotal: totalCount" in query.document
    )


def test_a_list_is_one_json_column_or_one_row_per_element() -> None:
    as_json = read_export_query(QUERY, SCHEMA, "json")
    [row] = rows_of(NODE, as_json.node)
    assert json.loads(row["payments"])[1]["programme"] == "=HYPERLINK()"
    as_rows = read_export_query(QUERY, SCHEMA, "rows")
    rows = rows_of(NODE, as_rows.node)
    assert [(r["spid"], r["payments.programme"], r["idpoor.level"]) for r in rows] == [
        ("S1", "CASH", 1),
        ("S1", "=HYPERLINK()", 1),
    ]
    # no payments, no idpoor: still one row, of nulls where nothing came
    [empty] = rows_of({"spid": "S2", "payments": [], "idpoor": None}, as_rows.node)
    assert empty == {
        "spid": "S2",
        "born": None,
        "idpoor.level": None,
        "idpoor.cardValidToday": None,
        "payments.programme": None,
        "payments.amountKhr": None,
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("query { people(first: 1) { edges { node { spid } } } }", "declare $first"),
        ('query($first: Int!, $after: String) { person(spid: "1") { spid } }', "not a connection"),
        (
            "query($first: Int!, $after: String) { people(first: $first, after: $after) { edges { node { nssf } } } }",
            "Person.nssf is not in the schema",
        ),
        (
            "query($first: Int!, $after: String) { people(first: $first, after: $after) { totalCount } }",
            "select the rows",
        ),
        ("mutation { x }", "exactly one query"),
        (
            'query($first: Int!, $after: String) { people(first: $first, after: $after) { edges { node { spid } } } person(spid: "1") { spid } }',
            "exactly one root field",
        ),
        (
            "query($first: Int!, $after: String) { people(first: $first, after: $after) { edges { node { a: spid a: sex } } } }",
            "two columns would be named a",
        ),
        ("query { people( }", "does not parse"),
    ],
)
def test_a_query_that_cannot_be_exported_says_what_to_change(text: str, says: str) -> None:
    with pytest.raises(ExportQueryError, match=re.escape(says)):
        read_export_query(text, SCHEMA)


def rows(n: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {
            "spid": f"S{i}",
            "born": 1950 + i,
            "idpoor.level": None,
            "idpoor.cardValidToday": i % 2 == 0,
            "payments": "[]",
        }
        for i in range(start, start + n)
    ]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_page_written_after_the_last_checkpoint_is_cut_off_on_resume(
    tmp_path: Path, fmt: str
) -> None:
    columns = read_export_query(QUERY, SCHEMA).columns
    out = tmp_path / f"people.{fmt}"
    sink = open_sink(out, fmt, columns, None)
    sink.write(rows(3))
    good = sink.length()
    Checkpoint("d", {}, fmt, "c1", 1, 3, 3, good).write(out)
    sink.write(rows(2, 3))  # killed before its checkpoint: this page must not count
    resumed = open_sink(out, fmt, columns, Checkpoint.read(out).length)  # type: ignore[union-attr]
    resumed.write(rows(2, 3))
    resumed.finish()
    if fmt == "csv":
        with out.open(newline="") as file:
            got = [r["spid"] for r in csv.DictReader(file)]
    else:
        got = pq.read_table(out).column("spid").to_pylist()
    assert got == ["S0", "S1", "S2", "S3", "S4"]


def test_csv_cells_a_spreadsheet_would_run_are_neutralised_and_numbers_stay_numbers(
    tmp_path: Path,
) -> None:
    query = read_export_query(QUERY, SCHEMA, "rows")
    out = tmp_path / "p.csv"
    sink = open_sink(out, "csv", query.columns, None)
    sink.write(rows_of({**NODE, "spid": "@SUM(A1)", "born": -3}, query.node))
    sink.finish()
    with out.open(newline="") as file:
        got = list(csv.DictReader(file))
    assert [r["payments.programme"] for r in got] == ["CASH", "'=HYPERLINK()"]
    assert got[0]["spid"] == "'@SUM(A1)" and got[0]["born"] == "-3"
    assert got[0]["idpoor.cardValidToday"] == "true"


def test_parquet_columns_have_the_schemas_types(tmp_path: Path) -> None:
    query = read_export_query(QUERY, SCHEMA)
    out = tmp_path / "p.parquet"
    sink = open_sink(out, "parquet", query.columns, None)
    sink.write(rows_of(NODE, query.node))
    sink.finish()
    table = pq.read_table(out)
    assert [str(t) for t in table.schema.types] == ["string", "int64", "int64", "bool", "string"]
    assert not (tmp_path / "p.parquet.parts").exists()


def test_resuming_without_the_partial_file_says_to_start_again(tmp_path: Path) -> None:
    columns = read_export_query(QUERY, SCHEMA).columns
    with pytest.raises(ExportFileError, match="without --resume"):
        open_sink(tmp_path / "gone.csv", "csv", columns, 120)
    (tmp_path / "bad.csv.checkpoint.json").write_text("{not json")
    with pytest.raises(ExportFileError, match="delete it"):
        Checkpoint.read(tmp_path / "bad.csv")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("moved", [True, False])
async def test_an_export_killed_while_finishing_resumes_without_asking_again(
    tmp_path: Path, fmt: str, moved: bool
) -> None:
    # The last page is written and checkpointed as done; the kill came before (moved=False)
    # or after (moved=True) the file was put in place. --resume finishes, asking nothing.
    from analysts.export import ExportRequest, run_export

    query = read_export_query(QUERY, SCHEMA)
    out = tmp_path / f"people.{fmt}"
    sink = open_sink(out, fmt, query.columns, None)
    sink.write(rows(3))
    asked = {"area": "12", "first": 10}
    Checkpoint(query.digest, asked, fmt, "c1", 1, 3, 3, sink.length(), done=True).write(out)
    if moved:
        sink.finish()
    elif fmt == "csv":
        sink.file.close()  # type: ignore[attr-defined]
    request = ExportRequest(query, {"area": "12"}, out, fmt, page_size=10, resume=True)
    await run_export(None, request)  # type: ignore[arg-type]  # no gateway: nothing is asked
    if fmt == "csv":
        with out.open(newline="") as file:
            got = [r["spid"] for r in csv.DictReader(file)]
    else:
        got = pq.read_table(out).column("spid").to_pylist()
    assert got == ["S0", "S1", "S2"]
    assert not Checkpoint.path_for(out).exists()
    assert not out.with_name(out.name + ".parts").exists()
    assert not out.with_name(out.name + ".partial").exists()
