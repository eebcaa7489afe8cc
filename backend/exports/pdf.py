"""The workshop pack: a printable PDF for a structure or a programme with a cover, key figures, charts,
and the observations marked "to discuss in workshop" as cards (category, situation, effect, quote).

Everything in it is pseudonymised like the other exports: observers as O1, O2…, notes masked by the
privacy guard, structures by name or S1, S2….
"""

from __future__ import annotations

import textwrap
from typing import IO
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from backend.dashboards.rate_comparison import RateComparison
from backend.dashboards.rates import Rate
from backend.dashboards.service import ATTRIBUTES_COMPARED, WEEKDAYS_FR, Count, Dashboard
from backend.exports.card_text import card_effect, card_situation
from backend.exports.pdf_document import embedded_styles, write_document
from backend.exports.pdf_fonts import pdf_fonts, printable
from backend.exports.rows import ExportRow
from backend.exports.small_cells import DEFAULT_THRESHOLD, SmallCells
from backend.exports.summary import WorkshopFigures
from backend.grids.terms import UNKNOWN_COLOUR

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 1.8 * cm
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
INK = colors.HexColor("#1F2933")
MUTED = colors.HexColor("#5F6B7A")
ACCENT = colors.HexColor("#1F5FA8")


def _styles() -> dict[str, ParagraphStyle]:
    style, fonts = embedded_styles(), pdf_fonts()
    return {
        "cover_title": style(
            "cover_title", "Title", fontSize=28, leading=34, textColor=INK, alignment=TA_CENTER
        ),
        "cover_subtitle": style(
            "cover_subtitle", "Normal", fontSize=16, leading=22, textColor=ACCENT, alignment=TA_CENTER
        ),
        "h1": style("h1", "Heading1", textColor=INK, spaceAfter=10),
        "h2": style("h2", "Heading2", textColor=INK),
        "body": style("body", "Normal", fontSize=10, leading=14, textColor=INK),
        "muted": style("muted", "Normal", fontSize=9, leading=12, textColor=MUTED),
        "card_title": style("card_title", "Normal", fontName=fonts.bold, fontSize=11, leading=14),
        "quote": style("quote", "Normal", fontName=fonts.italic, fontSize=10.5, leading=14, textColor=INK),
    }


def _text(value: object) -> str:
    return escape(printable(str(value)))


def _number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def _rate_with_interval(slot: Rate) -> str:
    """« 4,12 (3,80–4,46) », and « fragile » when too little time was observed."""
    if slot.per_hour is None or slot.low is None or slot.high is None:
        return "—"
    shown = f"{_number(slot.per_hour, 2)} ({_number(slot.low, 2)}–{_number(slot.high, 2)})"
    return f"{shown} fragile" if slot.fragile else shown


def _cover(figures: WorkshopFigures, total_cards: int, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story: list[Flowable] = [
        Spacer(1, 5 * cm),
        Paragraph("Dossier d'atelier", styles["cover_title"]),
        Spacer(1, 0.6 * cm),
        Paragraph(_text(f"{figures.scope_label} : {figures.title}"), styles["cover_subtitle"]),
        Spacer(1, 2 * cm),
    ]
    lines = [
        ("Édité le", figures.exported_at.strftime("%d/%m/%Y")),
        ("Observations", str(figures.dashboard.observations)),
        ("Observations à discuter", str(total_cards)),
        *figures.filters,
    ]
    table = Table([[_text(a), _text(b)] for a, b in lines], colWidths=[6 * cm, 9 * cm], hAlign="CENTER")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), pdf_fonts().regular),
                ("FONTNAME", (0, 0), (-1, -1), pdf_fonts().regular),
                ("FONTNAME", (0, 0), (0, -1), pdf_fonts().bold),
                ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    story += [
        table,
        Spacer(1, 3 * cm),
        Paragraph(
            "Document pseudonymisé : observateurs désignés O1, O2…, "
            + ("structures désignées S1, S2…, " if figures.anonymous_structures else "")
            + "identifiants de patients masqués dans les notes. À ne pas compléter avec des noms.",
            styles["muted"],
        ),
        PageBreak(),
    ]
    return story


def _key_figures(
    figures: WorkshopFigures, total_cards: int, styles: dict[str, ParagraphStyle]
) -> list[Flowable]:
    dashboard = figures.dashboard
    negative = figures.negative_share
    top = dashboard.by_category[0] if dashboard.by_category and dashboard.by_category[0].count else None
    tiles = [
        (str(dashboard.observations), "observations"),
        (_number(dashboard.observed_hours), "heures observées"),
        (_number(dashboard.per_hour), _text(figures.rate_label)),
        ("—" if negative is None else f"{negative:.0%}".replace("%", "\u202f%"), "à effet négatif"),
        (str(total_cards), "situations à discuter"),
        (_text(top.label) if top else "—", "catégorie la plus fréquente"),
    ]
    cells = [
        Paragraph(
            f'<font size="18" color="#1F5FA8"><b>{value}</b></font><br/>'
            f'<font size="9" color="#5F6B7A">{label}</font>',
            styles["body"],
        )
        for value, label in tiles
    ]
    # Rows as high as their tiles: a fixed height let a long rate label (« observations retenues
    # (statut : …) par heure observée ») or a long category run over the tile's edge.
    grid = Table([cells[0:3], cells[3:6]], colWidths=[TEXT_WIDTH / 3] * 3)
    grid.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), pdf_fonts().regular),
                ("BOX", (0, 0), (-1, -1), 0.5, colors.lightgrey),
                ("INNERGRID", (0, 0), (-1, -1), 0.5, colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 12),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 12),
            ]
        )
    )
    story: list[Flowable] = [Paragraph("Chiffres clés", styles["h1"]), grid, Spacer(1, 0.6 * cm)]
    if len(figures.structures) > 1:
        header = ["Structure", "Visites", "Heures observées", "Observations", "Par heure (IC 95 %)"]
        rows = [
            [
                _text(r.structure),
                str(r.visits),
                _number(r.observed_hours),
                str(r.observations),
                _rate_with_interval(r.rate),
            ]
            for r in figures.structures
        ]
        table = Table(
            [header, *rows], colWidths=[5.0 * cm, 1.8 * cm, 3.2 * cm, 2.6 * cm, 4.8 * cm], repeatRows=1
        )
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), pdf_fonts().regular),
                    ("FONTNAME", (0, 0), (-1, 0), pdf_fonts().bold),
                    ("FONTSIZE", (0, 0), (-1, -1), 9),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE6F0")),
                    ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                ]
            )
        )
        story += [Paragraph("Par structure", styles["h2"]), table]
    return story


# Category labels of the bar charts: wrapped on two lines of this many characters, never cut; a longer
# label ends with "…" on the chart and is given whole in a legend under it.
LABEL_LINE = 30
LABEL_LINES = 2


def _chart_label(label: str) -> tuple[str, bool]:
    """The label as the chart prints it, and whether it had to be shortened."""
    lines = textwrap.wrap(printable(label), LABEL_LINE) or [""]
    if len(lines) <= LABEL_LINES:
        return "\n".join(lines), False
    kept = lines[:LABEL_LINES]
    kept[-1] = kept[-1][: LABEL_LINE - 1] + "…"
    return "\n".join(kept), True


def _bar_chart(title: str, counts: list[Count], colours: dict[str, str] | None = None) -> Flowable:
    """Horizontal bars, the largest on top."""
    fonts = pdf_fonts()
    shown = sorted((c for c in counts if c.count), key=lambda c: -c.count)[:10]
    labels = [_chart_label(c.label) for c in shown]
    bar_height = 26 if any("\n" in label for label, _ in labels) else 22
    height = 40 + bar_height * max(len(shown), 1)
    drawing = Drawing(TEXT_WIDTH, height + 20, initialFontName=fonts.regular)
    drawing.add(String(0, height + 6, printable(title), fontName=fonts.bold, fontSize=11, fillColor=INK))
    if not shown:
        drawing.add(String(0, height - 20, "Aucune observation.", fontName=fonts.regular, fontSize=9))
        return drawing
    chart = HorizontalBarChart()
    chart.x, chart.y = 150, 10
    chart.width, chart.height = int(TEXT_WIDTH) - 180, height - 30
    # The category axis is drawn bottom up: reversed, the largest count comes first, on top.
    chart.data = [[c.count for c in reversed(shown)]]
    chart.categoryAxis.categoryNames = [label for label, _ in reversed(labels)]
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = fonts.regular
        axis.labels.fontSize = 8
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.textAnchor = "end"
    chart.valueAxis.valueMin = 0
    chart.barLabels.fontName = fonts.regular
    chart.barLabels.fontSize = 8
    chart.barLabelFormat = "%d"
    chart.barLabels.nudge = 8
    chart.bars[0].fillColor = ACCENT
    if colours:
        for index, count in enumerate(reversed(shown)):
            chart.bars[(0, index)].fillColor = colors.HexColor(colours.get(count.code, "#1F5FA8"))
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    shortened = [c.label for c, (_label, cut) in zip(shown, labels, strict=True) if cut]
    if not shortened:
        return drawing
    legend = Paragraph(
        "Libellés complets : " + " ; ".join(_text(label) for label in shortened) + ".", _styles()["muted"]
    )
    return KeepTogether([drawing, legend])


FRAGILE_GREY = colors.HexColor("#B8BEC6")


def slot_scale(rates: list[Rate]) -> float:
    """The top of a slot chart's axis: the highest interval of the slots observed long enough, so that a
    few minutes watched (one event in them makes a huge rate) do not flatten the others; their bars are
    cut at the top, marked ▲."""
    solid = [r.high for r in rates if r.high is not None and r.per_hour is not None and not r.fragile]
    every = [r.high for r in rates if r.high is not None and r.per_hour is not None and r.per_hour > 0]
    top = max(solid or every or [0.0])
    return top * 1.05 if top > 0 else 1.0


def _rate_chart(title: str, rates: list[Rate], labels: list[str], plot_height: int = 140) -> Drawing:
    """Events per observed hour by slot (hour of day, weekday), as the web page draws them: a bar per slot
    at its rate, its exact 95 % interval as a whisker, the hours observed under the axis, and the slots
    observed too little in grey (their rate says little)."""
    fonts = pdf_fonts()
    drawing = Drawing(TEXT_WIDTH, plot_height + 74, initialFontName=fonts.regular)
    drawing.add(String(0, plot_height + 60, title, fontName=fonts.bold, fontSize=11))
    chart = VerticalBarChart()
    chart.x, chart.y = 30, 44
    chart.width, chart.height = int(TEXT_WIDTH) - 40, plot_height
    top = slot_scale(rates)
    chart.data = [[min(r.per_hour or 0.0, top) for r in rates]]
    chart.categoryAxis.categoryNames = labels
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = fonts.regular
        axis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    for index, slot in enumerate(rates):
        if slot.fragile:
            chart.bars[(0, index)].fillColor = FRAGILE_GREY
    drawing.add(chart)
    step = chart.width / len(rates)
    scale = chart.height / chart.valueAxis.valueMax
    for index, slot in enumerate(rates):
        middle = chart.x + (index + 0.5) * step
        if slot.per_hour is not None and slot.low is not None and slot.high is not None:
            whisker = MUTED if slot.fragile else INK
            low, high = (chart.y + min(value, top) * scale for value in (slot.low, slot.high))
            drawing.add(Line(middle, low, middle, high, strokeColor=whisker, strokeWidth=0.7))
            for end in (low, high):
                drawing.add(Line(middle - 2, end, middle + 2, end, strokeColor=whisker, strokeWidth=0.7))
            if slot.per_hour > top:
                top_y = chart.y + chart.height + 2
                drawing.add(
                    String(middle, top_y, "▲", fontName=fonts.regular, fontSize=6, textAnchor="middle")
                )
        drawing.add(
            String(
                middle,
                chart.y - 22,
                _number(slot.hours),
                fontName=fonts.regular,
                fontSize=5.5,
                fillColor=MUTED,
                textAnchor="middle",
            )
        )
    drawing.add(String(0, chart.y - 22, "h obs.", fontName=fonts.regular, fontSize=5.5, fillColor=MUTED))
    return drawing


def _slot_charts(dashboard: Dashboard) -> list[Flowable]:
    """Hour of day, then weekday (shorter), and one legend for both."""
    legend = Paragraph(
        "Barres : événements par heure observée dans ce créneau ; trait : intervalle de confiance "
        "exact à 95 % ; sous l'axe : heures observées dans le créneau ; en gris : moins de 2 heures "
        "observées, taux fragile ; ▲ : taux au-delà de l'axe (créneau très peu observé).",
        _styles()["muted"],
    )
    hours = _rate_chart(
        "Événements par heure observée, selon l'heure de la journée (heure locale)",
        dashboard.hour_rates,
        [f"{h}" for h in range(24)],
    )
    weekdays = _rate_chart(
        "Événements par heure observée, selon le jour de la semaine (heure locale)",
        dashboard.weekday_rates,
        list(WEEKDAYS_FR),
        plot_height=90,
    )
    return [hours, KeepTogether([weekdays, legend])]


def _charts(figures: WorkshopFigures, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    dashboard = figures.dashboard
    category_colours = figures.colours  # the programme's grid, not the shipped one
    effect_colours = {"negative": "#B3261E", "ambivalent": "#A15C00", "positive": "#2E7D32"}
    # The charts follow the key figures on their page, the title kept with the first chart: a page
    # break here left most of a page empty.
    return [
        Spacer(1, 0.6 * cm),
        KeepTogether(
            [
                Paragraph("Ce qui a été observé", styles["h1"]),
                _bar_chart("Observations par catégorie", dashboard.by_category, category_colours),
            ]
        ),
        Spacer(1, 0.4 * cm),
        _bar_chart("Observations par effet", dashboard.by_effect, effect_colours),
        Spacer(1, 0.4 * cm),
        _bar_chart("Dimensions du travail touchées par les observations", dashboard.by_dimension),
        Spacer(1, 0.4 * cm),
        _bar_chart("Observations par outil en cause", dashboard.by_tool),
        Spacer(1, 0.4 * cm),
        _bar_chart("Observations par professionnel observé", dashboard.by_role),
        Spacer(1, 0.4 * cm),
        # The attributes the programme added to its grid, one chart each.
        *(
            flowable
            for added in dashboard.by_added_attribute
            for flowable in (
                _bar_chart(f"Observations par {added.label.lower()}", added.counts),
                Spacer(1, 0.4 * cm),
            )
        ),
        *_slot_charts(dashboard),
    ]


def _comparison(comparison: RateComparison, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    """Before/after a milestone, category by category, then by each attribute the programme added to its
    grid (what its own workshops asked to follow): both rates, the ratio and its interval, its reading."""
    milestone = comparison.milestone
    assert milestone is not None
    before, after = comparison.reference, comparison.compared
    shown = [
        r for r in comparison.rows if r.attribute == "category" or r.attribute not in ATTRIBUTES_COMPARED
    ]
    what = "Catégorie" if all(r.attribute == "category" for r in shown) else "Catégorie ou attribut"
    head: list[object] = [what, "Avant (par h)", "Après (par h)", "Rapport (IC 95 %)", "Différence"]
    rows: list[list[object]] = [head]
    for row in shown:
        ratio = row.ratio
        interval = f"{_number(ratio.low, 2)}–{_number(ratio.high, 2) if ratio.high is not None else '∞'}"
        label = row.label if row.attribute == "category" else f"{row.attribute_label} : {row.label}"
        rows.append(
            [
                Paragraph(_text(label), styles["body"]),
                f"{_number(row.reference.per_hour, 2)} ({row.reference.count})",
                f"{_number(row.compared.per_hour, 2)} ({row.compared.count})",
                f"{_number(ratio.ratio, 2)} ({interval})" if ratio.low is not None else "—",
                "établie" if ratio.supported else "non établie",
            ]
        )
    table = Table(rows, colWidths=[5.2 * cm, 2.6 * cm, 2.6 * cm, 3.6 * cm, 2.4 * cm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), pdf_fonts().regular),
                ("FONTNAME", (0, 0), (-1, 0), pdf_fonts().bold),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("LINEBELOW", (0, 0), (-1, 0), 0.75, INK),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return [
        Paragraph(
            _text(f"Avant / après « {milestone.label} » ({milestone.day.strftime('%d/%m/%Y')})"), styles["h2"]
        ),
        Paragraph(
            _text(
                f"Avant : {before.visits} visite(s), {_number(before.observed_hours)} h observées ; "
                f"après : {after.visits} visite(s), {_number(after.observed_hours)} h observées."
            ),
            styles["muted"],
        ),
        Paragraph(_text(comparison.overall.reading), styles["body"]),
        Spacer(1, 0.2 * cm),
        table,
        Spacer(1, 0.5 * cm),
    ]


def _comparisons(figures: WorkshopFigures, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    if not figures.comparisons:
        return []
    story: list[Flowable] = [
        PageBreak(),
        Paragraph("Avant et après les changements numériques", styles["h1"]),
        Paragraph(
            "Taux par heure observée (nombre d'événements entre parenthèses) ; rapport des taux "
            "après / avant avec son intervalle de confiance à 95 % ; « non établie » : l'intervalle "
            "contient 1, les données ne permettent pas de conclure à une différence. Toutes les "
            "observations de la structure sur les dates exportées.",
            styles["muted"],
        ),
        Spacer(1, 0.3 * cm),
    ]
    for comparison in figures.comparisons:
        story += _comparison(comparison, styles)
    return story


def _card(
    row: ExportRow, number: int, styles: dict[str, ParagraphStyle], protected: bool, colours: dict[str, str]
) -> Flowable:
    colour = colours.get(row.category_code, UNKNOWN_COLOUR)
    situation, effect = card_situation(row, protected), card_effect(row)
    # Only a note a facilitator approved for workshops prints its (masked) text.
    if row.note and row.verbatim_approved:
        quote = f"« {_text(row.note)} »"
    else:
        quote = "<i>(note non approuvée pour les ateliers)</i>" if row.note else "<i>(pas de note)</i>"
    body = [
        [Paragraph(f"{number}. {_text(row.category)}", styles["card_title"])],
        [Paragraph(f"<b>Situation</b> : {_text(situation)}", styles["body"])],
        *([[Paragraph(f"<b>Effet</b> : {_text(effect)}", styles["body"])]] if effect else []),
        *(
            [[Paragraph(f"<b>Dimensions</b> : {_text(row.dimensions)}", styles["body"])]]
            if row.dimensions
            else []
        ),
        [Paragraph(quote, styles["quote"])],
        [Paragraph(_text(f"{row.structure} — observé par {row.observer}"), styles["muted"])],
    ]
    card = Table(body, colWidths=[TEXT_WIDTH - 0.4 * cm])
    card.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), pdf_fonts().regular),
                ("BOX", (0, 0), (-1, -1), 0.75, colors.HexColor("#B8C2CC")),
                ("LINEBEFORE", (0, 0), (0, -1), 5, colors.HexColor(colour)),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F3F5F8")),
                ("LEFTPADDING", (0, 0), (-1, -1), 12),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return KeepTogether([card, Spacer(1, 0.45 * cm)])


def _cards(
    cards: list[ExportRow],
    total: int,
    styles: dict[str, ParagraphStyle],
    cells: SmallCells,
    colours: dict[str, str],
) -> list[Flowable]:
    story: list[Flowable] = [PageBreak(), Paragraph("Situations à discuter en atelier", styles["h1"])]
    if not cards:
        story.append(Paragraph("Aucune observation n'est marquée « à discuter en atelier ».", styles["body"]))
        return story
    if total > len(cards):
        story.append(
            Paragraph(
                f"Les {len(cards)} premières sur {total} (les suivantes sont dans l'export XLSX ou CSV).",
                styles["muted"],
            )
        )
        story.append(Spacer(1, 0.3 * cm))
    if cells.protected:
        story.append(
            Paragraph(
                f"Secret statistique : pour {len(cells.protected)} situation(s), ni le professionnel ni "
                f"l'heure ne sont précisés (moins de {cells.threshold} observations pour cette unité, "
                "ce métier et ce moment de la journée : on pourrait reconnaître la personne).",
                styles["muted"],
            )
        )
        story.append(Spacer(1, 0.3 * cm))
    story += [
        _card(row, number, styles, row.observation_id in cells.protected, colours)
        for number, row in enumerate(cards, start=1)
    ]
    return story


def write_pdf(
    figures: WorkshopFigures,
    cards: list[ExportRow],
    total_cards: int,
    destination: str | IO[bytes],
    cells: SmallCells | None = None,
) -> None:
    styles = _styles()
    story = [
        *_cover(figures, total_cards, styles),
        *_key_figures(figures, total_cards, styles),
        *_charts(figures, styles),
        *_comparisons(figures, styles),
        *_cards(
            cards, total_cards, styles, cells or SmallCells(DEFAULT_THRESHOLD, frozenset()), figures.colours
        ),
    ]
    footer = "Vigie — dossier d'atelier — document pseudonymisé"
    write_document(destination, story, f"Dossier d'atelier — {figures.title}", footer, MUTED)
