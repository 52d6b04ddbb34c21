"""cogate's recognizers, one module per family (names, scripts, identifiers, numbers, phones,
secrets, addresses, contacts), Presidio style: patterns, context words and a validation step.
They import nothing from the detection machinery (`policies/detect/`)."""
