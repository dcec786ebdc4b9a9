#!/usr/bin/env python3
"""Writes Sources/BegawiHub/OpenAPIDocument.swift from docs/openapi.yaml (`make openapi`)."""
import pathlib
root = pathlib.Path(__file__).resolve().parent.parent
text = (root / "docs/openapi.yaml").read_text()
assert '"""' not in text and "\\" not in text, "the document may not contain triple quotes or backslashes"
lines = text.rstrip("\n").split("\n")
body = "\n".join(("        " + l) if l else "" for l in lines)
(root / "Sources/BegawiHub/OpenAPIDocument.swift").write_text(
    "/// The hub API's OpenAPI description, served at `/v1/openapi.yaml`. Generated from\n"
    "/// `docs/openapi.yaml` by `make openapi`; a test keeps the two equal.\n"
    "enum OpenAPIDocument {\n"
    '    static let text = """\n' + body + "\n\n" + '        """\n'
    "}\n")
