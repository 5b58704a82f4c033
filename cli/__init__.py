"""The `loyalty` operator command line."""
