"""One module per `opsbook` subcommand, registered explicitly in opsbook.cli."""
