# SPDX-License-Identifier: GPL-3.0-or-later
"""Write each role's variable tables into its README.md from its meta/argument_specs.yml.

    python tests/bin/role_docs.py            (make role-docs)    rewrite the READMEs
    python tests/bin/role_docs.py --check    (make role-docs-check) fail if one differs

meta/argument_specs.yml is the one source of every role variable (ansible-core validates
the input against it, ansible-doc -t role shows it); the README gets a table per entry point
between the markers below, and nothing else in the README is touched. A README without the
markers gets them appended under a "## Variables" heading.
"""

import argparse
import difflib
import os
import re
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BEGIN = ("<!-- BEGIN role-docs: generated from meta/argument_specs.yml by tests/bin/role_docs.py;"
         " edit the spec, then run `make role-docs` -->")
END = "<!-- END role-docs -->"

# Ansible's documentation markup (C(), O(), M(), ...) as Markdown.
MARKUP = [
    (re.compile(r"L\(([^)]+?),\s*([^)]+)\)"), r"[\1](\2)"),
    (re.compile(r"U\(([^)]+)\)"), r"<\1>"),
    (re.compile(r"I\(([^)]+)\)"), r"*\1*"),
    (re.compile(r"B\(([^)]+)\)"), r"**\1**"),
    (re.compile(r"\b[CEMOVR]\(([^)]+)\)"), r"`\1`"),
]


def markdown(text):
    for pattern, replacement in MARKUP:
        text = pattern.sub(replacement, text)
    return text


def cell(text):
    """One table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def describe(value):
    if isinstance(value, list):
        return " ".join(markdown(str(item)) for item in value)
    return markdown(str(value or ""))


def show_default(spec):
    if spec.get("required"):
        return "**required**"
    if "default" not in spec or spec["default"] is None:
        return "unset"
    value = spec["default"]
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, dict)):
        text = yaml.safe_dump(value, default_flow_style=True, width=10 ** 6).strip()
    else:
        text = str(value)
        if text == "":
            text = '""'
    return "`%s`" % text.replace("`", "'")


def show_type(spec):
    kind = spec.get("type", "str")
    if kind == "list" and spec.get("elements"):
        kind = "list of %s" % spec["elements"]
    if spec.get("choices"):
        kind += " (%s)" % ", ".join("`%s`" % choice for choice in spec["choices"])
    return kind


def tables(role, specs):
    lines = [BEGIN, ""]
    for entry_point, spec in specs.items():
        how = "the role's default entry point" if entry_point == "main" else \
            "`tasks_from: %s`" % entry_point
        lines.append("### Entry point `%s`" % entry_point)
        lines.append("")
        lines.append("%s (%s)." % (cell(describe(spec.get("short_description", ""))).rstrip("."), how))
        lines.append("")
        options = spec.get("options") or {}
        if not options:
            lines += ["No variables.", ""]
            continue
        lines.append("| variable | type | default | description |")
        lines.append("|---|---|---|---|")
        for name, option in options.items():
            lines.append("| `%s` | %s | %s | %s |" % (
                name, cell(show_type(option)), cell(show_default(option)),
                cell(describe(option.get("description")))))
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def render(readme, generated):
    if BEGIN in readme and END in readme:
        start = readme.index(BEGIN)
        stop = readme.index(END) + len(END)
        return readme[:start] + generated + readme[stop:]
    return readme.rstrip("\n") + "\n\n## Variables\n\n" + generated + "\n"


def roles():
    base = os.path.join(REPO, "roles")
    for name in sorted(os.listdir(base)):
        spec = os.path.join(base, name, "meta", "argument_specs.yml")
        if os.path.isfile(spec):
            yield name, spec, os.path.join(base, name, "README.md")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; fail naming each README that differs")
    options = parser.parse_args(argv)
    stale = []
    for role, spec_path, readme_path in roles():
        with open(spec_path) as handle:
            specs = yaml.safe_load(handle)["argument_specs"]
        old = ""
        if os.path.exists(readme_path):
            with open(readme_path) as handle:
                old = handle.read()
        new = render(old, tables(role, specs))
        relative = os.path.relpath(readme_path, REPO)
        if new == old:
            continue
        if options.check:
            stale.append(relative)
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), new.splitlines(True), relative, relative + " (generated)"))
        else:
            with open(readme_path, "w") as handle:
                handle.write(new)
            print("wrote %s" % relative)
    if stale:
        print("\nout of date with meta/argument_specs.yml: %s\nrun `make role-docs` and commit the result"
              % ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
