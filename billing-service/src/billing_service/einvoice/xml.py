"""What the CII and UBL builders share: prefixed element building and the number formats."""

from __future__ import annotations

import re
from decimal import Decimal

from lxml import etree

Element = etree._Element
# What XML 1.0 cannot carry (C0 controls but tab and newlines, lone surrogates, U+FFFE/FFFF):
# the API refuses most on write, but stored text is not re-checked, and lxml would raise.
NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    return NOT_XML.sub("\ufffd", value)


class Namespaced:
    """Builds elements named `prefix:local` in a fixed set of namespaces; the `default`
    prefix's namespace is written as the document's default one."""

    def __init__(self, namespaces: dict[str, str], default: str | None = None) -> None:
        self.namespaces = namespaces
        self.nsmap = {(None if p == default else p): uri for p, uri in namespaces.items()}

    def name(self, prefixed: str) -> str:
        prefix, local = prefixed.split(":")
        return f"{{{self.namespaces[prefix]}}}{local}"

    def root(self, prefixed: str) -> Element:
        return etree.Element(self.name(prefixed), nsmap=self.nsmap)

    def sub(self, parent: Element, prefixed: str, text: str | None = None, **attrs: str) -> Element:
        clean = {name: xml_text(value) for name, value in attrs.items()}
        element = etree.SubElement(parent, self.name(prefixed), clean)
        if text is not None:
            element.text = xml_text(text)
        return element

    def optional(self, parent: Element, prefixed: str, text: str | None, **attrs: str) -> None:
        """The element only when there is something to say (EN 16931 forbids empty ones)."""
        if text is not None and text.strip():
            self.sub(parent, prefixed, text.strip(), **attrs)


def decimal_text(value: Decimal) -> str:
    """A plain decimal without exponent or trailing zeros: 19, 2.5, 0.3333."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def amount_text(value: Decimal) -> str:
    """An amount as the model holds it (already at the currency's minor units): 1725.00."""
    return format(value, "f")


def serialize(root: Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
