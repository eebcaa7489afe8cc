"""XLSX export: the observations sheet (frozen header, filters, column widths) and summary sheets with
native Excel charts, which the facilitator can restyle in Excel or LibreOffice.

The observation rows are written as sheet XML to a temporary file as they come from the database, so
memory stays flat, and put into the workbook XlsxWriter built around them (header, widths, frozen pane,
filter, summary sheets, charts).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any, NamedTuple

import xlsxwriter
from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_range_abs
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from backend.dashboards.rates import Rate
from backend.dashboards.service import WEEKDAYS_FR, Count
from backend.exports.comparison_xlsx import add_comparison_sheet
from backend.exports.rows import COLUMN_HEADERS, ExportRow
from backend.exports.summary import WorkshopFigures

OBSERVATIONS_SHEET = "Observations"
OBSERVATIONS_PART = "xl/worksheets/sheet1.xml"  # the first sheet added
SUMMARY_SHEETS = {
    "by_category": "Par catégorie",
    "by_role": "Par professionnel",
    "by_tool": "Par outil",
    "by_dimension": "Par dimension",
    "by_effect": "Par effet",
}
# Each summary's column label, and its chart's title: a sentence.
SUMMARY_TITLES = {
    "by_category": ("Catégorie", "Observations par catégorie"),
    "by_role": ("Professionnel observé", "Observations par professionnel observé"),
    "by_tool": ("Outil en cause", "Observations par outil en cause"),
    "by_dimension": ("Dimension du travail", "Observations par dimension du travail touchée"),
    "by_effect": ("Effet", "Répartition des observations par effet"),
}
HOUR_SHEET = "Par heure"
WEEKDAY_SHEET = "Par jour"
CHART_BLUE, CHART_GREY = "#1F5FA8", "#B8BEC6"
RATE_SHEET = "Taux par heure observée"
ABOUT_SHEET = "À propos"

# Column widths in characters, by column key; the rest get DEFAULT_WIDTH.
WIDTHS = {
    "observation_id": 38,
    "structure": 28,
    "unit": 22,
    "occurred_at": 17,
    "ended_at": 17,
    "resumed_at": 17,
    "interrupted_id": 38,
    "category": 30,
    "role": 22,
    "tool": 26,
    "interruption_source": 24,
    "dimensions": 36,
    "dimension_codes": 24,
    "impacts": 36,
    "impact_codes": 24,
    "review_status": 22,
    "note": 70,
}
DEFAULT_WIDTH = 14

# Start and end are Excel dates in the structure's time zone (the other formats give ISO 8601 text with
# its offset); a start generalised to its day (small cells) is a date without a time.
DATE_COLUMNS = frozenset({"occurred_at", "ended_at", "resumed_at"})
DATE_TIME_FORMAT = "dd/mm/yyyy hh:mm"
DATE_FORMAT = "dd/mm/yyyy"
_EXCEL_EPOCH = datetime(1899, 12, 30)
_SECONDS_PER_DAY = 86_400


class DateStyles(NamedTuple):
    """Indexes of the cell formats of a date with its time, and of a date alone."""

    date_time: int
    date_only: int


def excel_serial(local_iso: str) -> float:
    """ISO 8601 local time (with or without offset, or a date alone) as Excel's serial number: days
    since 1899-12-30, the time of day as the fraction, in the time the text gives (its offset dropped)."""
    moment = datetime.fromisoformat(local_iso).replace(tzinfo=None)
    return (moment - _EXCEL_EPOCH).total_seconds() / _SECONDS_PER_DAY


def _observations(workbook: Workbook, rows: Iterable[ExportRow], body: IO[bytes]) -> int:
    """The observations sheet: XlsxWriter lays out its header, widths, frozen pane and filter; the rows
    themselves are written as sheet XML into ``body`` and put in place by ``_with_rows``.

    XlsxWriter spends ~10 µs per cell, a minute per 100,000 observations; the rows' XML written here
    directly, inline strings only, takes about a second.
    """
    sheet = workbook.add_worksheet(OBSERVATIONS_SHEET)
    header = workbook.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1, "text_wrap": True})
    date_time = workbook.add_format({"num_format": DATE_TIME_FORMAT})
    date_only = workbook.add_format({"num_format": DATE_FORMAT})
    for index, key in enumerate(COLUMN_HEADERS):
        column_format = date_time if key in DATE_COLUMNS else None
        sheet.set_column(index, index, WIDTHS.get(key, DEFAULT_WIDTH), column_format)
    # The rows' date cells refer to these formats by index, which XlsxWriter gives a format on its first
    # use; the rows are not written through XlsxWriter, so it is asked for the index here.
    dates = DateStyles(date_time._get_xf_index(), date_only._get_xf_index())
    count = _write_rows_xml(rows, body, dates)
    sheet.freeze_panes(1, 0)
    _row(sheet, 0, COLUMN_HEADERS.values(), header)
    sheet.autofilter(0, 0, max(count, 1), len(COLUMN_HEADERS) - 1)
    return count


# What text needs before it goes into the sheet's XML: characters XML 1.0 cannot hold (dropped), the
# three markup characters (escaped), and text that looks like Excel's own _xHHHH_ escapes (its
# underscore escaped as _x005F_, as XlsxWriter does, so Excel shows it as typed).
_NEEDS_WORK = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")
_COLUMNS = [xl_col_to_name(index) for index in range(len(COLUMN_HEADERS))]
_CELL_STARTS = tuple(f'<c r="{name}' for name in _COLUMNS)
# Columns whose values repeat (codes, labels, names): their cells' XML is computed once per value.
_REPEATING = tuple(
    key
    not in {"observation_id", "occurred_at", "ended_at", "note", "comments", "interrupted_id", "resumed_at"}
    for key in COLUMN_HEADERS
)
_IS_DATE = tuple(key in DATE_COLUMNS for key in COLUMN_HEADERS)
_MAX_REMEMBERED = 10_000
_ROWS_PER_WRITE = 500
# Excel's limit on a cell's text, in UTF-16 units; notes are far shorter (NOTE_MAX_LENGTH).
_MAX_CELL_TEXT = 32_767


def _string_cell_end(value: str) -> str:
    """An inline-string cell after its reference: ``" t="inlineStr"><is><t>…</t></is></c>``."""
    if len(value) > _MAX_CELL_TEXT // 2 and len(value.encode("utf-16-le")) > 2 * _MAX_CELL_TEXT:
        value = value.encode("utf-16-le")[: 2 * _MAX_CELL_TEXT].decode("utf-16-le", "ignore")
    text = value
    if _NEEDS_WORK.search(text) is not None:
        text = _EXCEL_ESCAPE.sub(r"_x005F_\1", _ILLEGAL.sub("", text))
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text[:1].isspace() or text[-1:].isspace():
        return f'" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f'" t="inlineStr"><is><t>{text}</t></is></c>'


_BOOLEAN_CELL_ENDS = {True: _string_cell_end("oui"), False: _string_cell_end("non")}


def _write_rows_xml(rows: Iterable[ExportRow], body: IO[bytes], dates: DateStyles) -> int:
    """Rows 2… of the sheet as ``<row>`` elements, UTF-8. Each column's type is known: strings stay
    strings (a note like "=1+1" is never a formula), integers are numbers, booleans "oui"/"non", start
    and end dates (cell formats ``dates``); empty values leave no cell. Returns the number of rows."""
    count = 0
    remembered: dict[str, str] = {}
    columns = tuple(zip(_CELL_STARTS, _REPEATING, _IS_DATE, strict=True))
    date_time_end = f'" s="{dates.date_time}"><v>'
    date_only_end = f'" s="{dates.date_only}"><v>'
    serial = excel_serial
    booleans = _BOOLEAN_CELL_ENDS
    parts: list[str] = []
    add, add_all = parts.append, parts.extend
    plain_string = str
    for count, row in enumerate(rows, start=1):
        number = str(count + 1)
        add_all(('<row r="', number, '">'))
        for (start, repeating, is_date), value in zip(columns, row, strict=True):
            # Nearly every value is a plain string: that case is tested first, by class.
            if value.__class__ is plain_string:
                if not value:
                    continue
                if is_date:
                    style = date_time_end if len(value) > 10 else date_only_end
                    end = f"{style}{serial(value)!r}</v></c>"
                elif repeating:
                    known = remembered.get(value)
                    if known is None:
                        if len(remembered) >= _MAX_REMEMBERED:
                            remembered.clear()
                        known = remembered[value] = _string_cell_end(value)
                    end = known
                else:
                    end = _string_cell_end(value)
            elif value is None:
                continue
            elif isinstance(value, bool):
                end = booleans[value]
            elif isinstance(value, int):
                end = f'"><v>{value}</v></c>'
            else:
                end = _string_cell_end(str(value))
            add_all((start, number, end))
        add("</row>")
        if count % _ROWS_PER_WRITE == 0:
            body.write("".join(parts).encode())
            parts.clear()
    body.write("".join(parts).encode())
    return count


def _with_rows(workbook_file: IO[bytes], body: IO[bytes], count: int, destination: str | IO[bytes]) -> None:
    """Copy the workbook, putting the observation rows into the first sheet's (header-only) XML.

    The rows are compressed at level 1 (the parts XlsxWriter made keep theirs): three times faster than
    zlib's default, for a file 8 % larger.
    """
    body_size = body.tell()
    workbook_file.seek(0)
    body.seek(0)
    header_range = f'<dimension ref="A1:{_COLUMNS[-1]}1"/>'
    with (
        zipfile.ZipFile(workbook_file) as source,
        zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename != OBSERVATIONS_PART:
                target.writestr(item, data)
                continue
            head, end_tag, tail = data.partition(b"</sheetData>")
            if not end_tag or header_range.encode() not in head:
                raise RuntimeError(f"unexpected layout of {OBSERVATIONS_PART} from XlsxWriter")
            head = head.replace(
                header_range.encode(), f'<dimension ref="A1:{_COLUMNS[-1]}{count + 1}"/>'.encode(), 1
            )
            size = len(head) + body_size + len(end_tag) + len(tail)
            with target.open(item.filename, "w", force_zip64=size > zipfile.ZIP64_LIMIT) as sheet:
                sheet.write(head)
                shutil.copyfileobj(body, sheet, 1 << 20)
                sheet.write(end_tag + tail)


def _cell(sheet: Worksheet, row: int, column: int, value: object, cell_format: Any = None) -> None:
    """The one way a value goes into a cell XlsxWriter writes. Text is written as text, never through
    XlsxWriter's generic ``write``, which makes a formula of "=…", a link of "http…" or a number of
    "12": a structure named ``=HYPERLINK(…)`` or a filter typed as one stays what it is. (The observation
    rows do not come through here: ``_write_rows_xml`` writes them as inline strings, never formulas.)"""
    if value is None:
        sheet.write_blank(row, column, None, cell_format)
    elif isinstance(value, bool):
        sheet.write_string(row, column, "oui" if value else "non", cell_format)
    elif isinstance(value, int | float):
        sheet.write_number(row, column, value, cell_format)
    else:
        sheet.write_string(row, column, str(value), cell_format)


def _row(sheet: Worksheet, row: int, values: Iterable[object], cell_format: Any = None) -> None:
    for column, value in enumerate(values):
        _cell(sheet, row, column, value, cell_format)


def _header(sheet: Worksheet, bold: Any, titles: list[str]) -> None:
    _row(sheet, 0, titles, bold)


_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(wanted: str, taken: set[str]) -> str:
    """A name Excel accepts (31 characters, none of []:*?/\\), unlike the others of the workbook."""
    base = " ".join(_NOT_IN_SHEET_NAMES.sub(" ", wanted).split())[:31].strip("' ") or "Attribut"
    name, number = base, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name)
    return name


def _count_sheet(
    workbook: Workbook, name: str, label: str, counts: list[Count], bold: Any, chart_type: str, title: str
) -> None:
    sheet = workbook.add_worksheet(name)
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, 5, 16)
    headers = ["Code", label, "Nombre", "Par heure observée", "IC 95 % bas", "IC 95 % haut", "Taux fragile"]
    _header(sheet, bold, headers)
    rate_format = workbook.add_format({"num_format": "0.00"})
    counts = sorted(counts, key=lambda c: -c.count)  # largest first, in the table as in the chart
    for index, count in enumerate(counts, start=1):
        _row(sheet, index, [count.code, count.label, count.count])
        for column, value in enumerate((count.per_hour, count.low, count.high), start=3):
            if value is not None:
                _cell(sheet, index, column, value, rate_format)
        if count.fragile:
            _cell(sheet, index, 6, count.fragile)
    if not counts:
        return
    chart = workbook.add_chart({"type": chart_type})
    chart.add_series(
        {
            "name": label,
            "categories": [name, 1, 1, len(counts), 1],
            "values": [name, 1, 2, len(counts), 2],
            **({"data_labels": {"percentage": True}} if chart_type == "pie" else {}),
        }
    )
    chart.set_title({"name": title})
    if chart_type == "bar":
        chart.set_x_axis({"reverse": True})  # Excel draws a bar chart's first category at the bottom
    if chart_type != "pie":
        chart.set_legend({"none": True})
    chart.set_size({"width": 640, "height": 380})
    sheet.insert_chart(1, 5, chart)


def _slots(
    workbook: Workbook,
    name: str,
    slot_header: str,
    labels: list[str],
    counts: list[int],
    rates: list[Rate],
    bold: Any,
    title: str,
) -> None:
    """Events by slot (hour of day, weekday) with the hours observed in each and their rate per observed
    hour: the chart draws the rates (not the counts: a busy Saturday may only be a long-observed one),
    with their 95 % intervals as error bars and the slots observed too little in grey."""
    sheet = workbook.add_worksheet(name)
    _header(
        sheet,
        bold,
        [
            slot_header,
            "Observations",
            "Heures observées",
            "Par heure observée",
            "IC 95 % bas",
            "IC 95 % haut",
            "Taux fragile",
            "Écart bas (graphique)",
            "Écart haut (graphique)",
        ],
    )
    rate_format = workbook.add_format({"num_format": "0.00"})
    for index, (label, count, slot) in enumerate(zip(labels, counts, rates, strict=True), start=1):
        _row(sheet, index, [label, count])
        for column, value in enumerate((slot.hours, slot.per_hour, slot.low, slot.high), start=2):
            if value is not None:
                _cell(sheet, index, column, value, rate_format)
        if slot.fragile:
            _cell(sheet, index, 6, slot.fragile)
        if slot.per_hour is not None and slot.low is not None and slot.high is not None:
            _cell(sheet, index, 7, slot.per_hour - slot.low, rate_format)
            _cell(sheet, index, 8, slot.high - slot.per_hour, rate_format)
    last = len(labels)
    chart = workbook.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": "Par heure observée",
            "categories": [name, 1, 0, last, 0],
            "values": [name, 1, 3, last, 3],
            "fill": {"color": CHART_BLUE},
            "points": [{"fill": {"color": CHART_GREY}} if r.fragile else None for r in rates],
            "y_error_bars": {
                "type": "custom",
                "minus_values": f"={quote_sheetname(name)}!{xl_range_abs(1, 7, last, 7)}",
                "plus_values": f"={quote_sheetname(name)}!{xl_range_abs(1, 8, last, 8)}",
                "end_style": 1,
            },
        }
    )
    chart.set_title({"name": title, "name_font": {"size": 12}})
    chart.set_y_axis({"name": "Événements par heure observée", "min": 0})
    chart.set_legend({"none": True})
    chart.set_size({"width": 720, "height": 380})
    sheet.insert_chart(1, 10, chart)
    note = "En gris : moins de 2 heures observées dans le créneau, taux fragile. Barres d'erreur : IC 95 %."
    _cell(sheet, 0, 10, note)  # above the chart


def _hours(workbook: Workbook, figures: WorkshopFigures, bold: Any) -> None:
    dashboard = figures.dashboard
    _slots(
        workbook,
        HOUR_SHEET,
        "Heure (locale)",
        [f"{hour:02d} h" for hour in range(24)],
        dashboard.by_hour,
        dashboard.hour_rates,
        bold,
        "Événements par heure observée, par heure de la journée (heure locale)",
    )
    _slots(
        workbook,
        WEEKDAY_SHEET,
        "Jour (heure locale)",
        list(WEEKDAYS_FR),
        dashboard.by_weekday,
        dashboard.weekday_rates,
        bold,
        "Événements par heure observée, par jour de la semaine",
    )


def _rates(workbook: Workbook, figures: WorkshopFigures, bold: Any) -> None:
    sheet = workbook.add_worksheet(RATE_SHEET)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 7, 18)
    _header(
        sheet,
        bold,
        [
            "Structure",
            "Visites",
            "Heures observées",
            "Observations",
            "Par heure observée",
            "IC 95 % bas",
            "IC 95 % haut",
            "Taux fragile",
        ],
    )
    rate_format = workbook.add_format({"num_format": "0.00"})

    def interval(row: int, with_interval: Rate, number_format: Any) -> None:
        for column, value in enumerate((with_interval.low, with_interval.high), start=5):
            if value is not None:
                _cell(sheet, row, column, value, number_format)
        if with_interval.fragile:
            _cell(sheet, row, 7, with_interval.fragile)

    for index, structure in enumerate(figures.structures, start=1):
        _row(
            sheet,
            index,
            [structure.structure, structure.visits, structure.observed_hours, structure.observations],
        )
        if structure.per_hour is not None:
            _cell(sheet, index, 4, structure.per_hour, rate_format)
        interval(index, structure.rate, rate_format)
    total_row = len(figures.structures) + 1
    dashboard = figures.dashboard
    _row(
        sheet,
        total_row,
        ["Ensemble", dashboard.visits, round(dashboard.observed_hours, 2), dashboard.observations],
        bold,
    )
    total_format = workbook.add_format({"bold": True, "num_format": "0.00"})
    if dashboard.per_hour is not None:
        _cell(sheet, total_row, 4, dashboard.per_hour, total_format)
    interval(total_row, dashboard.rate, total_format)
    if figures.structures:
        chart = workbook.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": "Observations par heure observée",
                "categories": [RATE_SHEET, 1, 0, len(figures.structures), 0],
                "values": [RATE_SHEET, 1, 4, len(figures.structures), 4],
            }
        )
        chart.set_title({"name": "Observations par heure observée, par structure"})
        chart.set_x_axis({"reverse": True})  # the structures top to bottom, in the table's order
        chart.set_legend({"none": True})
        chart.set_size({"width": 640, "height": 380})
        sheet.insert_chart(total_row + 2, 0, chart)


def _about(workbook: Workbook, figures: WorkshopFigures, rows: int, bold: Any) -> None:
    sheet = workbook.add_worksheet(ABOUT_SHEET)
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 80)
    lines: list[tuple[str, str]] = [
        (figures.scope_label, figures.title),
        ("Exporté le", figures.exported_at.strftime("%d/%m/%Y %H:%M UTC")),
        ("Observations exportées", str(rows)),
        *figures.filters,
        ("Observateurs", "pseudonymisés (O1, O2…) ; les tablettes ne sont jamais exportées"),
        ("Structures", "pseudonymisées (S1, S2…)" if figures.anonymous_structures else "nommées"),
        ("Notes", "noms et identifiants masqués, remplacés par ce qu'ils étaient : [nom], [téléphone]…"),
        (
            "Heures",
            "dates Excel à l'heure locale de chaque structure (CSV et JSON : ISO 8601, avec décalage)",
        ),
    ]
    for index, (label, value) in enumerate(lines):
        _cell(sheet, index, 0, label, bold)
        _cell(sheet, index, 1, value)


def write_xlsx(rows: Iterable[ExportRow], figures: WorkshopFigures, destination: str | IO[bytes]) -> int:
    """Write the workbook to a path or a binary file; returns the number of observation rows."""
    with (
        tempfile.TemporaryFile() as body,
        tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024) as workbook_file,
    ):
        # Text is written with write_string anyway (_cell); these say so once more, should a write() slip in.
        options = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
        workbook = xlsxwriter.Workbook(workbook_file, {**options, "in_memory": True})
        try:
            bold = workbook.add_format({"bold": True})
            count = _observations(workbook, rows, body)
            dashboard = figures.dashboard
            charts = {"by_effect": "pie", "by_category": "bar", "by_tool": "bar"}
            for attribute, sheet_name in SUMMARY_SHEETS.items():
                counts: list[Count] = getattr(dashboard, attribute)
                label, title = SUMMARY_TITLES[attribute]
                _count_sheet(
                    workbook, sheet_name, label, counts, bold, charts.get(attribute, "column"), title
                )
            taken = set(SUMMARY_SHEETS.values()) | {OBSERVATIONS_SHEET, HOUR_SHEET, RATE_SHEET, ABOUT_SHEET}
            for added in dashboard.by_added_attribute:  # the attributes the programme added to its grid
                name = _sheet_name(f"Par {added.label.lower()}", taken)
                title = f"Observations par {added.label.lower()}"
                _count_sheet(workbook, name, added.label, added.counts, bold, "column", title)
            _hours(workbook, figures, bold)
            _rates(workbook, figures, bold)
            for number, comparison in enumerate(figures.comparisons, start=1):
                add_comparison_sheet(workbook, f"Avant-après {number}", comparison, bold)
            _about(workbook, figures, count, bold)
        finally:
            workbook.close()
        _with_rows(workbook_file, body, count, destination)
    return count
