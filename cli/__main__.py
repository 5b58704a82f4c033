"""`python -m cli` is the same as the `loyalty` console script."""
from cli.main import main

main(prog_name="loyalty")
