"""European recognizers: national identifiers (with the table of their entity types),
street addresses and national-format phone numbers."""
