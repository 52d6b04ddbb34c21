"""Wire-API surfaces: one module per API the gateway speaks (request fields, answers, streams)."""
