"""The OData v4 feed that Excel and Power BI refresh by themselves, and its personal tokens."""
