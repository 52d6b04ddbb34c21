"""One module per wire API the gateway serves; `SURFACES` is the list the app is built from."""
