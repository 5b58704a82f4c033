"""The merchant-facing side of the app: install and auth now, the embedded admin pages later."""
