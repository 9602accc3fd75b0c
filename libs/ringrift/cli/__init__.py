"""The ``ringrift`` command line: one entry point, one subcommand per area."""
