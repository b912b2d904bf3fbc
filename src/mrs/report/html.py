"""The report's pages: Jinja templates (autoescaped) with the charts inlined as SVG and the CSS
inline, so every page opens offline from the file system with no request to anywhere."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0; background: #fafafa; }
header { background: #1f4e79; color: #fff; padding: 14px 28px; }
header a { color: #fff; }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 4px 0 0; opacity: .85; }
main { padding: 12px 28px 40px; max-width: 1100px; }
h2 { margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
table { border-collapse: collapse; background: #fff; margin: 8px 0 16px; }
th, td { border: 1px solid #e2e2e2; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f3f7; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { background: #fff; border: 1px solid #e2e2e2; padding: 8px; display: inline-block; margin: 6px 0; }
.chart svg { display: block; max-width: 100%; height: auto; }
.muted { color: #777; }
.pill { display: inline-block; padding: 0 6px; border-radius: 8px; background: #eef; font-size: 12px; }
.breach { background: #fde2e2; }
nav.links a { margin-right: 16px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; \
background: #fff; padding: 8px 12px; border: 1px solid #e2e2e2; }
dl.facts dt { font-weight: 600; color: #555; }
dl.facts dd { margin: 0; }
"""

_BASE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} - MRS report</title>
<style>{{ style }}</style>
</head>
<body>
<header>
  <h1>{{ title }}</h1>
  <p>MRS report &middot; {{ generated_from }}\
{% if not is_index %} &middot; <a href="{{ root }}index.html">all reports</a>{% endif %}</p>
</header>
<main>
{% block content %}{% endblock %}
</main>
</body>
</html>
"""

_INDEX = """{% extends "base" %}
{% block content %}
<nav class="links">
  <a href="{{ links.data_docs }}" id="link-data-docs">Great Expectations Data Docs</a>
  <a href="{{ links.dbt_docs }}" id="link-dbt-docs">dbt docs</a>
  <a href="#minority-reports">Minority reports</a>
  <a href="#products">Products</a>
</nav>
{% if missing %}<p class="muted">Not in the warehouse yet: {{ missing | join(", ") }}.</p>{% endif %}
<p>{{ reports | length }} <a href="#minority-reports">minority reports</a> \
&middot; {{ products | length }} <a href="#products">products</a></p>

<h2 id="models">Models</h2>
<h3>Drift signals per model over builds</h3>
{% if drift_svg %}<div class="chart" id="chart-drift">{{ drift_svg | safe }}</div>\
{% else %}<p class="muted">No monitoring evaluations yet.</p>{% endif %}
<h3>Which model versions were active when</h3>
{% if activation_svg %}<div class="chart" id="chart-activations">{{ activation_svg | safe }}</div>\
{% else %}<p class="muted">No builds recorded yet.</p>{% endif %}
{% if activation_rows %}
<table id="activation-periods">
<tr><th>model</th><th>version</th><th>first build</th><th>last build</th><th>builds</th></tr>
{% for a in activation_rows %}<tr><td>{{ a.model_name }}</td><td>{{ a.model_version }}</td>\
<td>{{ a.first }}</td><td>{{ a.last }}</td><td class="num">{{ a.builds }}</td></tr>{% endfor %}
</table>
{% endif %}

<h2 id="minority-reports">Minority reports ({{ reports | length }})</h2>
{% if reports %}
<table id="minority-report-list">
<tr><th>anomaly</th><th>store</th><th>SKU</th><th>window</th><th>cluster</th><th>proposed cause</th><th>confidence</th></tr>
{% for r in reports %}
<tr>
  <td><a href="{{ r.href }}">{{ r.title }}</a></td>
  <td>{{ r.store }}</td><td>{{ r.sku }}</td><td>{{ r.window }}</td>
  <td>{{ r.cluster }}</td><td>{{ r.cause }}</td><td class="num">{{ r.confidence }}</td>
</tr>
{% endfor %}
</table>
{% else %}<p class="muted">No minority reports.</p>{% endif %}

<h2 id="products">Products ({{ products | length }})</h2>
{% if products %}
<table id="product-list">
<tr><th>product</th><th>as of</th><th>price</th><th>next week [low .. high]</th>\
<th>sellout risk</th><th>hype</th><th>model</th><th>stale</th></tr>
{% for p in products %}
<tr>
  <td><a href="{{ p.href }}">{{ p.title }}</a></td><td>{{ p.as_of }}</td><td class="num">{{ p.price }}</td>
  <td class="num">{{ p.forecast }}</td><td class="num">{{ p.risk }}</td><td class="num">{{ p.hype }}</td>
  <td>{{ p.model }}</td><td>{{ p.stale }}</td>
</tr>
{% endfor %}
</table>
{% else %}<p class="muted">No products.</p>{% endif %}

{% endblock %}
"""

_DETAIL = """{% extends "base" %}
{% block content %}
{% if summary %}<p>{{ summary }}</p>{% endif %}
{% if chart_svg %}<div class="chart" id="chart-main">{{ chart_svg | safe }}</div>\
{% else %}<p class="muted">{{ no_chart }}</p>{% endif %}
{% for section in sections %}
<h2>{{ section.title }}</h2>
<dl class="facts">
{% for key, value in section.facts %}<dt>{{ key }}</dt><dd>{{ value }}</dd>{% endfor %}
</dl>
{% endfor %}
{% endblock %}
"""

_ENV = jinja2.Environment(
    loader=jinja2.DictLoader({"base": _BASE, "index": _INDEX, "detail": _DETAIL}),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def render(template: str, context: Mapping[str, Any]) -> str:
    """One page; ``template`` is ``index`` or ``detail``."""
    return _ENV.get_template(template).render(style=STYLE, is_index=template == "index", **context)
