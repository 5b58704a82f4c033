"""`python -m webhooks.writer`: the inbox writer process (webhooks.writer.server.main)."""
from webhooks.writer.server import main

main()
