"""Scripts go to phones without comment lines, and nothing else about them changes."""

from __future__ import annotations

from fieldreport.config import PROJECT_ROOT
from fieldreport.scripts_for_phones import strip_script

SCRIPTS = sorted((PROJECT_ROOT / "static" / "js").glob("*.js"))


def test_comment_lines_and_indentation_go_and_code_stays():
    source = (
        "// why this file exists\n"
        "/** A block comment\n"
        " *  over lines. */\n"
        "export function f(a) {\n"
        "  /* one line */ const url = 'http://example.org'; // a trailing comment stays\n"
        "\n"
        "    return `${a} // not a comment ${`/* nor this */`}`;\n"
        "}\n"
        "/* a block that ends */ f(1);\n"
    )

    assert strip_script(source) == (
        "export function f(a) {\n"
        "const url = 'http://example.org'; // a trailing comment stays\n"
        "return `${a} // not a comment ${`/* nor this */`}`;\n"
        "}\n"
        "f(1);\n"
    )


def test_no_script_of_ours_has_a_template_literal_over_several_lines():
    # Stripping indentation and comment lines is safe only outside multi-line template literals.
    for script in SCRIPTS:
        for number, line in enumerate(script.read_text().splitlines(), 1):
            assert line.replace("\\`", "").count("`") % 2 == 0, f"{script.name}:{number}"


def test_served_scripts_are_stripped_cached_by_etag_and_vendored_files_untouched(app):
    client = app.test_client()
    source = (PROJECT_ROOT / "static" / "js" / "outbox.js").read_text()

    served = client.get("/static/js/outbox.js")
    again = client.get("/static/js/outbox.js", headers={"If-None-Match": served.headers["ETag"]})
    vendored = client.get("/static/vendor/leaflet-1.9.4/leaflet.js")

    assert served.status_code == 200 and served.mimetype == "text/javascript"
    assert served.get_data(as_text=True) == strip_script(source)
    assert len(served.get_data()) < 0.9 * len(source.encode())
    assert again.status_code == 304
    shipped = PROJECT_ROOT / "static" / "vendor" / "leaflet-1.9.4" / "leaflet.js"
    assert vendored.get_data() == shipped.read_bytes()
    assert client.get("/static/js/../js/nothing.js").status_code == 404
