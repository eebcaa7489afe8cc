"""The feed's ``$metadata``: its entity types and sets in CSDL XML (OData v4.0), which Excel and Power BI
read first to know the columns and their types."""

from __future__ import annotations

from xml.etree import ElementTree

from backend.odata.entities import ENTITY_SETS

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"
NAMESPACE = "Vigie"
CONTAINER = "Container"


def metadata_xml() -> bytes:
    ElementTree.register_namespace("edmx", EDMX)
    ElementTree.register_namespace("", EDM)
    root = ElementTree.Element(f"{{{EDMX}}}Edmx", {"Version": "4.0"})
    services = ElementTree.SubElement(root, f"{{{EDMX}}}DataServices")
    schema = ElementTree.SubElement(services, f"{{{EDM}}}Schema", {"Namespace": NAMESPACE})
    for entity in ENTITY_SETS.values():
        entity_type = ElementTree.SubElement(schema, f"{{{EDM}}}EntityType", {"Name": entity.type_name})
        key = ElementTree.SubElement(entity_type, f"{{{EDM}}}Key")
        ElementTree.SubElement(key, f"{{{EDM}}}PropertyRef", {"Name": entity.key})
        for name, edm_type in entity.properties.items():
            attributes = {"Name": name, "Type": edm_type}
            if name == entity.key:
                attributes["Nullable"] = "false"
            ElementTree.SubElement(entity_type, f"{{{EDM}}}Property", attributes)
    container = ElementTree.SubElement(schema, f"{{{EDM}}}EntityContainer", {"Name": CONTAINER})
    for entity in ENTITY_SETS.values():
        ElementTree.SubElement(
            container,
            f"{{{EDM}}}EntitySet",
            {"Name": entity.name, "EntityType": f"{NAMESPACE}.{entity.type_name}"},
        )
    xml: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml
