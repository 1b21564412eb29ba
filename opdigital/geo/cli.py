"""`opdigital regions boundaries FILE.geojson`: import the regions' outlines.

Exit status: 0 imported (or nothing to change), 1 the file or some of its features are bad
(nothing is stored then), 2 a usage error (no such file, a bad option).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("regions")
def regions_group() -> None:
    """Manage the city's regions."""


@regions_group.command("boundaries")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option(
    "--approximate",
    is_flag=True,
    help="Label the outlines as approximate (every map says so under it).",
)
@click.option(
    "--source",
    default=None,
    help="Where the outlines come from, shown under every map (default: the file's name).",
)
@click.option("--dry-run", is_flag=True, help="Check and report; store nothing.")
@with_appcontext
def boundaries_command(file: Path, approximate: bool, source: str | None, dry_run: bool) -> None:
    """Store the boundaries in FILE (a GeoJSON FeatureCollection) on their regions.

    Each feature names its region by properties.slug or properties.name (accents and case
    aside) and has a Polygon or MultiPolygon geometry in WGS 84 longitude/latitude. Every bad
    feature is listed with its index and the reason, and then nothing is stored. Regions the
    file does not name keep their boundary.

    \b
    Example:
      opdigital regions boundaries --source "PBH, limites das regionais (2024)" regionais.geojson
    """
    from opdigital.geo.boundaries import (
        BoundariesRefused,
        BoundaryFileError,
        check_source,
        import_boundaries,
        read_collection,
    )

    context = click.get_current_context()
    try:
        source = check_source(file.name if source is None else source)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--source") from e
    try:
        collection, digest = read_collection(file)
        report = import_boundaries(
            collection, source=source, approximate=approximate, dry_run=dry_run, digest=digest
        )
    except BoundaryFileError as e:
        click.echo(f"Error: {e} Nothing was stored.", err=True)
        context.exit(1)
    except BoundariesRefused as e:
        for problem in e.problems:
            click.echo(str(problem), err=True)
        bad = len({p.index for p in e.problems})
        click.echo(f"Error: {bad} bad feature(s), listed above. Nothing was stored.", err=True)
        context.exit(1)

    for overlap in report.overlaps:
        click.echo(f"Warning: {overlap}.", err=True)
    verb = "would be updated" if dry_run else "updated"
    label = "approximate" if approximate else "not approximate"
    click.echo(
        f"Boundaries: {report.features} features read, {len(report.updated)} regions {verb}, "
        f"{len(report.unchanged)} unchanged (source: {source or '-'}; {label})."
    )
    if report.without_boundary:
        click.echo("Regions without a boundary: " + ", ".join(report.without_boundary) + ".")
    if dry_run:
        click.echo("Dry run: nothing was stored.")
