"""Exports of a neighbourhood or ring, and case reports."""

import sys
import tempfile
from pathlib import Path

import click

from fraudgraph.cli.main import cli
from fraudgraph.cli.render import audit_reveal, echo_wrapped, identifier_options, shower


@cli.command()
@click.option("--account", "account_id", default=None, help="Centre on this account.")
@click.option(
    "--hops",
    type=click.IntRange(0, 4),
    default=1,
    show_default=True,
    help="Account -> identifier -> account steps around --account.",
)
@click.option("--ring", "ring_id", default=None, help="Export this ring.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["graphml", "gexf", "json", "csv", "cypher", "html", "png"]),
    default=None,
    help="Output format (default: from the file suffix).",
)
@click.option(
    "--max-nodes",
    type=click.IntRange(min=2),
    default=500,
    show_default=True,
    help="Stop a neighbourhood that would grow past this.",
)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=True), help="Output file.")
@identifier_options
@click.pass_obj
def export(obj, account_id, hops, ring_id, fmt, max_nodes, output):
    """Export a ring or an account's neighbourhood for Gephi, Cytoscape, Neo4j, a browser or a spreadsheet.

    Hubs (identifiers shared by very many accounts) are shown but not expanded. Identifiers are
    masked unless --reveal; --pseudonymize writes keyed pseudonyms, for files that leave the team.

    \b
    Example:
      fraudgraph export --ring R-000004 -o ring.html
      fraudgraph export --account A0001234 --hops 2 -o hood.graphml
      FRAUDGRAPH_PSEUDONYM_KEY=... fraudgraph export --ring R-000004 --pseudonymize -o ring.csv
    """
    from fraudgraph.app.investigate import subgraph
    from fraudgraph.outputs.export import export_graph, format_from_path
    from fraudgraph.outputs.shown import shown_graph

    sh = shower()

    if (account_id is None) == (ring_id is None):
        raise click.UsageError("give exactly one of --account or --ring")
    if output == "-" and not fmt:
        raise click.UsageError("with -o - (standard output), say the format with --format")
    if output == "-" and fmt == "csv":
        raise click.UsageError("csv writes two files (nodes and edges); give -o FILE.csv")
    try:
        fmt = fmt or format_from_path(output)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    G = subgraph(
        obj.workspace(),
        account=account_id,
        ring=ring_id,
        hops=hops,
        max_nodes=max_nodes,
        hub_threshold=obj.hub_cap(),
    )
    G = shown_graph(G, sh)
    accounts = [d["account_id"] for _, d in G.nodes(data=True) if d.get("node_type") == "account"]
    audit_reveal(obj, accounts, f"export --{'ring ' + ring_id if ring_id else 'account ' + str(account_id)}")
    for note in G.graph.get("notes", []):
        echo_wrapped(f"Note: {note}", err=True)
    if output == "-":
        _export_to_stdout(G, fmt)
        return
    files = export_graph(G, output, fmt)
    n_acc = sum(1 for _, d in G.nodes(data=True) if d["node_type"] == "account")
    echo_wrapped(
        f"Wrote {', '.join(str(f) for f in files)}: {n_acc} accounts, "
        f"{G.number_of_nodes() - n_acc} identifiers, {G.number_of_edges()} edges ({fmt})."
    )


@cli.command()
@click.option("--ring", "ring_id", required=True, help="The ring to report on.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="report.html or report.md")
@identifier_options
@click.pass_obj
def report(obj, ring_id, output):
    """Write a case report for one ring (HTML or Markdown, by suffix).

    \b
    Example:
      fraudgraph report --ring R-000004 -o case-R-000004.html
    """
    from fraudgraph.app.investigate import case_report_inputs
    from fraudgraph.outputs.report import write_report
    from fraudgraph.outputs.shown import shown_report_inputs

    if Path(output).suffix.lower() not in (".html", ".htm", ".md"):
        raise click.UsageError(f"report file {output!r} must end in .html or .md")
    sh = shower()
    inputs = case_report_inputs(obj.workspace(), ring_id, hub_threshold=obj.hub_cap())
    audit_reveal(obj, inputs["members"]["account_id"], f"report --ring {ring_id}")
    written = write_report(output, **shown_report_inputs(inputs, sh))
    echo_wrapped(f"Wrote {', '.join(str(p) for p in written) if written else output}")


def _export_to_stdout(G, fmt: str) -> None:
    """``-o -``: the export on standard output (bytes as written, so a PNG pipes unchanged)."""
    from fraudgraph.outputs.export import export_graph

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export.{fmt}"
        export_graph(G, path, fmt)
        sys.stdout.buffer.write(path.read_bytes())
        sys.stdout.flush()
