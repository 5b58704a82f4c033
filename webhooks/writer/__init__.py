"""The inbox writer, an optional process that checks and commits the webhooks of every web process.

Off unless LOYALTY_INBOX_SOCKET is set (`make run` sets it on SQLite; LOYALTY_INBOX_WRITER=on|off overrides).
Without it each web process checks and commits its own webhooks (webhooks.views.receive_here, with
webhooks.group_commit), and nothing of this package is imported.

- `protocol`: the frames on the Unix socket (a delivery, an answer), shared by both sides;
- `client`: the web side (`deliverer`), wired in by the composition root (runtime.web) only when a
  socket is configured;
- `server`: the writer process (`python -m webhooks.writer`), which the web never imports.
"""
