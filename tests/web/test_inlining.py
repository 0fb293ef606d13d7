"""geoapp.web.inlining: stylesheets and scripts of static/ written into a page."""

import pytest

from geoapp.web import inlining

CSS = "vendor/pkg/dist/pkg.css"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            ".a { background: url(images/x.png); }",
            ".a { background: url(/static/vendor/pkg/dist/images/x.png); }",
        ),
        (
            ".a { background: url('x.svg') }",
            ".a { background: url('/static/vendor/pkg/dist/x.svg') }",
        ),
        (
            '.a { background: url( "../y/z.png" ) }',
            '.a { background: url("/static/vendor/pkg/y/z.png") }',
        ),
        (".a { behavior: url(#default#VML) }", ".a { behavior: url(#default#VML) }"),
        (".a { b: url(/static/own.png) }", ".a { b: url(/static/own.png) }"),
        (".a { b: url(data:image/png;base64,AAAA) }", ".a { b: url(data:image/png;base64,AAAA) }"),
        (".a { b: URL(i.png) }", ".a { b: url(/static/vendor/pkg/dist/i.png) }"),
    ],
)
def test_a_stylesheet_points_its_relative_urls_at_its_own_folder(text, expected):
    assert inlining.style_text(CSS, text) == expected


@pytest.mark.parametrize("text", [".a{}</style><script>x()</script>", ".a{} </STYLE >"])
def test_a_stylesheet_that_could_close_the_element_is_refused(text):
    with pytest.raises(ValueError, match="cannot be inlined"):
        inlining.style_text(CSS, text)


FILES = {
    "vendor/lib/lib.js": "var lib = 1;",
    "vendor/lib/lib.css": ".lib { background: url(i.png) }",
    "vendor/plugin/plugin.js": 'var s = "</b>" + lib;',
    "vendor/plugin/plugin.css": ".p{}",
}
HEADER = (
    '<script src="/static/vendor/lib/lib.js"></script>\n'
    '<link rel="stylesheet" href="/static/vendor/lib/lib.css"/>\n'
    "<script>L_NO_TOUCH = false;</script>\n"
    '<script src="/static/vendor/plugin/plugin.js"></script>\n'
    '<link rel="stylesheet" href="/static/vendor/plugin/plugin.css"/>\n'
    '<script src="https://cdn.example.org/x.js"></script>\n'
    '<script src="/static/vendor/plugin/plugin.js?v=2"></script>\n'
)


def test_the_header_inlines_its_local_files_in_place_except_those_kept():
    read_names = []

    def read(name):
        read_names.append(name)
        return FILES[name]

    out = inlining.inline_header(HEADER, read, keep={"vendor/lib/lib.js"})
    assert out.splitlines() == [
        '<script src="/static/vendor/lib/lib.js"></script>',
        "<style>.lib { background: url(/static/vendor/lib/i.png) }</style>",
        "<script>L_NO_TOUCH = false;</script>",
        '<script>var s = "<\\/b>" + lib;</script>',
        "<style>.p{}</style>",
        # another host, or a URL with a query, is left as it is
        '<script src="https://cdn.example.org/x.js"></script>',
        '<script src="/static/vendor/plugin/plugin.js?v=2"></script>',
    ]
    assert "vendor/lib/lib.js" not in read_names


def test_a_header_script_that_cannot_be_inlined_is_refused():
    header = '<script src="/static/vendor/bad.js"></script>'
    with pytest.raises(ValueError, match="cannot be inlined"):
        inlining.inline_header(header, lambda name: "// <!-- old")
