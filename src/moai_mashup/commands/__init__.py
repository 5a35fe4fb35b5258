"""One module per `moai` command group; each exposes a click `command`."""
