"""One module per subcommand of `lambdalab`."""
