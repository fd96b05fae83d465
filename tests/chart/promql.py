"""Reading metric names out of the chart's PromQL (alert rules and Grafana dashboard), standard library only.

Not a PromQL parser: it removes what cannot be a metric name (strings, label matchers, ranges, grouping
clauses, numbers, keywords, functions) and keeps the identifiers that remain.
"""
import re

# The chart fills these in (templates/prometheusrule.yaml); defaults from values.yaml.
RULE_PLACEHOLDERS = {
    "__SELECTOR__": 'namespace="anf-cmk",service="anf-cmk-operator-metrics"',
    "__KEY_EXPIRY_WARNING_DAYS__": "30",
    "__NOT_READY_FOR__": "15m",
}

# Series Prometheus itself makes for every scrape target.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}

_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
             "group_right", "inf", "nan", "Inf", "NaN"}


def fill_rule_placeholders(text):
    for placeholder, value in RULE_PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    return text


def check_balanced(expr):
    """Raises ValueError unless (), {} and [] nest properly outside strings."""
    stack = []
    pairs = {")": "(", "}": "{", "]": "["}
    for ch in re.sub(r'"(?:\\.|[^"\\])*"', '""', expr):
        if ch in "({[":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                raise ValueError(f"unbalanced {ch!r} in: {expr}")
    if stack:
        raise ValueError(f"unclosed {stack[-1]!r} in: {expr}")


def metric_names(expr):
    """The metric names an expression selects."""
    e = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        name = m.group(0)
        if name in _KEYWORDS or e[m.end():].lstrip().startswith("("):
            continue
        names.add(name)
    return names


def dashboard_expressions(dashboard):
    """Every query of a Grafana dashboard: panel targets (rows included) and template variable queries."""
    exprs = []

    def panels(items):
        for p in items:
            exprs.extend(t["expr"] for t in p.get("targets", []) if t.get("expr"))
            panels(p.get("panels", []))

    panels(dashboard.get("panels", []))
    for var in dashboard.get("templating", {}).get("list", []):
        query = var.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if var.get("type") == "query" and query:
            # label_values(metric{...}, label): only the metric is a series name.
            m = re.match(r"\s*label_values\(\s*([^,]+),\s*\w+\s*\)\s*$", query)
            exprs.append(m.group(1) if m else query)
    return exprs


def registered_names(source_texts):
    """Names the C++ sources register with prometheus-cpp (`prometheus::BuildGauge().Name("x")`), with the
    _bucket/_sum/_count series of histograms and summaries."""
    names = set()
    pattern = re.compile(r"Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\(\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\"")
    for text in source_texts:
        for kind, name in pattern.findall(text):
            names.add(name)
            if kind in ("Histogram", "Summary"):
                names |= {name + s for s in ("_bucket", "_sum", "_count")}
    return names


def exposition_names(text):
    """Series names in a Prometheus text exposition: every sample's name and every # TYPE'd family
    (with the _bucket/_sum/_count series of histograms and summaries)."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) >= 4:
                names.add(parts[2])
                if parts[3] in ("histogram", "summary"):
                    names |= {parts[2] + s for s in ("_bucket", "_sum", "_count")}
        elif line and not line.startswith("#"):
            m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
            if m:
                names.add(m.group(0))
    return names
